// The panels of Applications / Performance over queries.libsonnet, laid out by ../application-performance.libsonnet:
// each says what good looks like, has a unit, and names the alerts whose thresholds it draws.
function(c)
  local d = (import '../../../lib/dashboards.libsonnet')(c);
  local q = (import 'queries.libsonnet')(c);

  {
    rateTotal: d.stat(
      'Requests', 'Requests per second to the selected services. Good: steady with the usual daily shape; a drop to 0 is an outage upstream.', 'reqps', [q.rateTotal]
    ),
    errorRatioTotal: d.stat(
      'Server errors',
      'Share of requests to the selected services answered with a 5xx. Good: green, below the ServiceErrorRatioHigh threshold.',
      'percentunit',
      [q.errorRatioTotal],
      thresholds=d.above([c.serviceErrorRatioThreshold]),
      alerts=['ServiceErrorRatioHigh'],
    ),
    p99Max: d.stat(
      'Slowest p99 latency',
      'p99 latency of the slowest selected service. Good: green, below the ServiceLatencyP99High threshold.',
      's',
      [q.p99Max],
      thresholds=d.above([c.serviceLatencyP99ThresholdSeconds]),
      alerts=['ServiceLatencyP99High'],
    ),
    rate: d.timeseries(
      'Rate by service', 'Requests per second per service. Good: each service keeps its usual shape; a service dropping to 0 receives no traffic.', 'reqps', [q.rate]
    ),
    errorRatio: d.timeseries(
      'Errors: 5xx ratio by service',
      'Share of requests answered with a 5xx, per service. Good: every line below the dashed alert line (5xx ratio alerts of the services).',
      'percentunit',
      [q.errorRatio],
      thresholds=d.above([c.serviceErrorRatioThreshold]),
      alerts=['ServiceErrorRatioHigh'],
      min=0,
    ),
    latency: d.timeseries(
      'Duration: p50 / p95 / p99 by service',
      'Request latency quantiles per service. Good: p99 below the dashed ServiceLatencyP99High line and p50 flat.',
      's',
      [q.latency('50'), q.latency('95'), q.latency('99')],
      thresholds=d.above([c.serviceLatencyP99ThresholdSeconds]),
      alerts=['ServiceLatencyP99High'],
      min=0,
    ),
    heatmap: d.heatmap(
      'Latency distribution', 'Requests per latency bucket over time (selected services). Good: mass in the low buckets, no band creeping upwards.', 's', [q.latencyHeatmap]
    ),
    gatewayP99: d.timeseries(
      'API gateway p99 latency',
      'p99 latency of the API gateway. Good: below the dashed ApiGatewayLatencyP99High line.',
      's',
      [q.serviceLatency(c.apiGatewayService, '99'), q.serviceLatency(c.apiGatewayService, '95')],
      thresholds=d.above([c.apiGatewayLatencyP99ThresholdSeconds]),
      alerts=['ApiGatewayLatencyP99High'],
      min=0,
    ),
    gatewayErrors: d.timeseries(
      'API gateway 5xx ratio',
      'Share of API gateway requests answered with a 5xx. Good: below the dashed ApiGatewayErrorRatioHigh line.',
      'percentunit',
      [q.serviceErrorRatio(c.apiGatewayService)],
      thresholds=d.above([c.apiGatewayErrorRatioThreshold]),
      alerts=['ApiGatewayErrorRatioHigh'],
      min=0,
    ),
    odooLatency: d.timeseries(
      'Odoo p95 / p99 latency',
      'Odoo backend latency. Good: p95 below the first dashed line (OdooLatencyP95High), p99 below the second (OdooLatencyP99High).',
      's',
      [q.serviceLatency(c.odooService, '95'), q.serviceLatency(c.odooService, '99')],
      thresholds=d.above([c.odooLatencyP95ThresholdSeconds, c.odooLatencyP99ThresholdSeconds]),
      alerts=['OdooLatencyP95High', 'OdooLatencyP99High'],
      min=0,
    ),
    odooErrors: d.timeseries(
      'Odoo 5xx ratio',
      'Share of Odoo requests answered with a 5xx. Good: below the dashed OdooErrorRatioHigh line.',
      'percentunit',
      [q.serviceErrorRatio(c.odooService)],
      thresholds=d.above([c.odooErrorRatioThreshold]),
      alerts=['OdooErrorRatioHigh'],
      min=0,
    ),
    odooJobs: d.timeseries(
      'Odoo job queue by state',
      'Odoo queue_job jobs per state. Good: pending below the dashed OdooJobQueueBacklog line and draining; failed near 0.',
      'short',
      [q.odooJobs],
      thresholds=d.above([c.odooJobQueuePendingThreshold]),
      alerts=['OdooJobQueueBacklog'],
      min=0,
    ),
    n8nRate: d.timeseries(
      'n8n executions by workflow', 'Finished n8n workflow executions per second. Good: each workflow at its usual rate.', 'ops', [q.n8nRate], min=0
    ),
    n8nFailures: d.timeseries(
      'n8n failure ratio by workflow',
      'Share of executions that ended in error, per workflow. Good: below the dashed N8nWorkflowFailureRatioHigh line.',
      'percentunit',
      [q.n8nFailureRatio],
      thresholds=d.above([c.n8nWorkflowFailureRatioThreshold]),
      alerts=['N8nWorkflowFailureRatioHigh'],
      min=0,
    ),
    n8nOldest: d.timeseries(
      'n8n oldest running execution',
      'Age of the oldest execution still running, per workflow. Good: a saw-tooth well below the dashed N8nWorkflowExecutionStuck line; a line that only grows is stuck.',
      's',
      [q.n8nOldest],
      thresholds=d.above([c.n8nStuckExecutionThresholdSeconds]),
      alerts=['N8nWorkflowExecutionStuck'],
      min=0,
    ),
    authRate: d.timeseries(
      'Auth: sign-in attempts by method', 'Sign-in attempts per second per method (password, oauth, api_key). Good: the usual daily shape; a spike may be credential stuffing.', 'ops', [q.authRate], min=0
    ),
    authFailures: d.timeseries(
      'Auth: failure ratio by method',
      'Share of sign-in attempts that failed. Good: below the dashed AuthFailureRatioHigh line.',
      'percentunit',
      [q.authFailureRatio],
      thresholds=d.above([c.authFailureRatioThreshold]),
      alerts=['AuthFailureRatioHigh'],
      min=0,
    ),
    billingErrors: d.timeseries(
      'Billing 5xx ratio',
      'Share of billing requests answered with a 5xx. Good: below the dashed BillingErrorRatioHigh line.',
      'percentunit',
      [q.serviceErrorRatio(c.billingService)],
      thresholds=d.above([c.billingErrorRatioThreshold]),
      alerts=['BillingErrorRatioHigh'],
      min=0,
    ),
    subscriptionErrors: d.timeseries(
      'Billing: failed subscription events',
      'Subscription errors and failed payments per minute. Good: below the dashed SubscriptionErrorsHigh line, ideally 0.',
      'cpm',
      [q.subscriptionErrors],
      thresholds=d.above([c.subscriptionErrorsPerMinuteThreshold]),
      alerts=['SubscriptionErrorsHigh'],
      min=0,
    ),
    collaborationLatency: d.timeseries(
      'Collaboration sync latency p95',
      'Time for an edit to reach the other participants (p95). Good: below the dashed CollaborationSyncLatencyP95High line.',
      's',
      [q.collaborationP95],
      thresholds=d.above([c.collaborationSyncLatencyP95ThresholdSeconds]),
      alerts=['CollaborationSyncLatencyP95High'],
      min=0,
    ),
    collaborationSessions: d.timeseries(
      'Collaboration sessions', 'Open real-time collaboration sessions. Good: the usual daily shape; a sudden drop to 0 means clients cannot connect.', 'short', [q.collaborationSessions], min=0
    ),
    notificationQueue: d.timeseries(
      'Notification queue by channel',
      'Notifications waiting to be sent per channel. Good: near 0 and draining, below the dashed NotificationQueueBacklog line.',
      'short',
      [q.notificationQueue],
      thresholds=d.above([c.notificationQueueDepthThreshold]),
      alerts=['NotificationQueueBacklog'],
      min=0,
    ),
    notificationFailures: d.timeseries(
      'Notification failure ratio by channel',
      'Share of notifications the provider refused. Good: below the dashed NotificationDeliveryFailureRatioHigh line.',
      'percentunit',
      [q.notificationFailureRatio],
      thresholds=d.above([c.notificationFailureRatioThreshold]),
      alerts=['NotificationDeliveryFailureRatioHigh'],
      min=0,
    ),
  }

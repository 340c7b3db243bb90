// Applications: the platform's own services, from the metrics contract (lib/metrics.libsonnet):
//   http_requests_total / http_request_duration_seconds       every HTTP service (label `service`)
//   n8n_workflow_*                                            n8n workflow hooks
//   creativeflow_collaboration_*, creativeflow_notification*  collaboration, notifications
//   creativeflow_odoo_job_queue_jobs                          Odoo queue_job
//   creativeflow_auth_attempts_total, creativeflow_subscription_event_total
//   creativeflow_web_client_*, creativeflow_external_service_call_*
// Recording rules aggregate per service / workflow / channel / dependency (always keeping cluster
// and environment) so alerts and dashboards read small, cheap series. The `-downsampled` group
// turns the 5m series into 1h aggregates (avg, sum, max) for long-range panels and long-term
// storage; it reads only the recorded series, never the raw ones, so a year of history stays cheap.
local config = import '../../lib/config.libsonnet';
local selectors = import '../../lib/selectors.libsonnet';

{
  _config+:: config {

    // Extra matchers ANDed into every selector on the raw HTTP metrics,
    // e.g. 'namespace=~"creativeflow-.*"'. Empty: every service exposing the contract.
    httpSelector: '',
    // The same for every other application metric of the contract.
    applicationSelector: '',

    // `service` label values (the pods' app.kubernetes.io/name) of the services with their own alerts.
    apiGatewayService: 'api-gateway',
    odooService: 'odoo',
    billingService: 'billing',
    // `service` label of alerts on metrics that are not one service's HTTP traffic.
    authService: 'auth',
    n8nService: 'n8n',
    collaborationService: 'collaboration',
    notificationsService: 'notifications',
    webClientService: 'web-client',
    externalDependenciesService: 'external-dependencies',
    // Services whose HTTP errors / latency have a dedicated alert: the generic
    // ServiceErrorRatioHigh / ServiceLatencyP99High leave them out (no duplicate notifications).
    dedicatedErrorRatioServices: [self.apiGatewayService, self.odooService, self.billingService],
    dedicatedLatencyServices: [self.apiGatewayService, self.odooService],

    // Defaults of the declared alert parameters (overridable per environment in Helm values).
    apiGatewayErrorRatioThreshold: 0.05,
    apiGatewayLatencyP99ThresholdSeconds: 0.5,
    odooErrorRatioThreshold: 0.05,
    odooLatencyP95ThresholdSeconds: 1,
    odooLatencyP99ThresholdSeconds: 2.5,
    odooJobQueuePendingThreshold: 100,
    n8nWorkflowFailureRatioThreshold: 0.05,
    n8nStuckExecutionThresholdSeconds: 1800,
    authFailureRatioThreshold: 0.25,
    subscriptionErrorsPerMinuteThreshold: 1,
    billingErrorRatioThreshold: 0.05,
    collaborationSyncLatencyP95ThresholdSeconds: 2,
    notificationQueueDepthThreshold: 1000,
    notificationFailureRatioThreshold: 0.1,
    webClientErrorsPer100PageViewsThreshold: 5,
    externalDependencyErrorRatioThreshold: 0.1,
    serviceErrorRatioThreshold: 0.05,
    serviceLatencyP99ThresholdSeconds: 1,
  },

  local c = $._config,
  local rules = (import '../../lib/rules.libsonnet')(c),
  // `{a, b}` from a configured selector plus extra matchers; '' when there are none.
  local selectorFrom(base, extra) = selectors.of([base] + extra),
  local selector(extra=[]) = selectorFrom(c.httpSelector, extra),
  local appSelector(extra=[]) = selectorFrom(c.applicationSelector, extra),
  local by(extra=[]) = rules.by(['service'] + extra),
  // Anchored alternation of label values for a `!~` matcher.
  local oneOf(values) = std.join('|', values),

  // Ratio `errors / total` that is 0 (not absent) while `total` exists and `errors` has no series.
  local ratio(errors, total) = '(%s or %s * 0) / %s' % [errors, total, total],
  // The same over the last hour of two recorded 5m rates (missing samples count as 0 errors).
  local ratio1h(errors, total) =
    '(sum_over_time(%s[1h]) or sum_over_time(%s[1h]) * 0) / sum_over_time(%s[1h])'
    % [errors, total, total],

  prometheusRules+:: {
    groups+: [
      // RED per HTTP service, in two groups: the rates and mean latency, and the latency buckets
      // with their quantiles. Each reads one of the largest raw families of a cluster, and
      // Prometheus evaluates groups side by side but a group's rules one after another.
      rules.group('applications-recording', [
        rules.record(
          'service:http_requests:rate5m',
          'sum %s (rate(http_requests_total%s[5m]))' % [by(), selector()],
        ),
        rules.record(
          'service:http_requests_errors:rate5m',
          'sum %s (rate(http_requests_total%s[5m]))' % [by(), selector(['status=~"5.."'])],
        ),
        // A service that never returned a 5xx has no errors series; `or ... * 0` makes its ratio
        // 0 instead of absent, so dashboards show 0% and absence means "no traffic".
        rules.record(
          'service:http_requests_errors:ratio_rate5m',
          ratio('service:http_requests_errors:rate5m', 'service:http_requests:rate5m'),
        ),
        rules.record(
          'service:http_request_duration_seconds:mean_rate5m',
          'sum %s (rate(http_request_duration_seconds_sum%s[5m]))' % [by(), selector()]
          + ' / sum %s (rate(http_request_duration_seconds_count%s[5m]))' % [by(), selector()],
        ),
      ]),
      rules.group('applications-recording-latency', [
        rules.record(
          'service_le:http_request_duration_seconds_bucket:rate5m',
          'sum %s (rate(http_request_duration_seconds_bucket%s[5m]))' % [by(['le']), selector()],
        ),
      ] + [
        rules.record(
          'service:http_request_duration_seconds:p%s_rate5m' % q,
          'histogram_quantile(0.%s, service_le:http_request_duration_seconds_bucket:rate5m)' % q,
        )
        for q in ['50', '90', '95', '99']
      ]),

      // n8n workflows, per workflow.
      rules.group('applications-recording-n8n', [
        rules.record(
          'workflow:n8n_workflow_executions:rate5m',
          'sum %s (rate(n8n_workflow_executions_total%s[5m]))'
          % [rules.by(['workflow']), appSelector()],
        ),
        rules.record(
          'workflow:n8n_workflow_executions_errors:rate5m',
          'sum %s (rate(n8n_workflow_executions_total%s[5m]))'
          % [rules.by(['workflow']), appSelector(['status="error"'])],
        ),
        rules.record(
          'workflow:n8n_workflow_executions_errors:ratio_rate5m',
          ratio('workflow:n8n_workflow_executions_errors:rate5m', 'workflow:n8n_workflow_executions:rate5m'),
        ),
        rules.record(
          'workflow_le:n8n_workflow_duration_seconds_bucket:rate5m',
          'sum %s (rate(n8n_workflow_duration_seconds_bucket%s[5m]))'
          % [rules.by(['workflow', 'le']), appSelector()],
        ),
      ] + [
        rules.record(
          'workflow:n8n_workflow_duration_seconds:p%s_rate5m' % q,
          'histogram_quantile(0.%s, workflow_le:n8n_workflow_duration_seconds_bucket:rate5m)' % q,
        )
        for q in ['50', '90', '99']
      ] + [
        rules.record(
          'workflow:n8n_workflow_running_executions:sum',
          'sum %s (n8n_workflow_running_executions%s)' % [rules.by(['workflow']), appSelector()],
        ),
        rules.record(
          'workflow:n8n_workflow_oldest_running_execution_seconds:max',
          'max %s (n8n_workflow_oldest_running_execution_seconds%s)'
          % [rules.by(['workflow']), appSelector()],
        ),
      ]),

      // Collaboration, notifications, Odoo's job queue, auth, subscriptions, web client.
      rules.group('applications-recording-services', [
        rules.record(
          'cluster_le:creativeflow_collaboration_sync_latency_seconds_bucket:rate5m',
          'sum %s (rate(creativeflow_collaboration_sync_latency_seconds_bucket%s[5m]))'
          % [rules.by(['le']), appSelector()],
        ),
      ] + [
        rules.record(
          'cluster:creativeflow_collaboration_sync_latency_seconds:p%s_rate5m' % q,
          'histogram_quantile(0.%s, cluster_le:creativeflow_collaboration_sync_latency_seconds_bucket:rate5m)' % q,
        )
        for q in ['90', '95']
      ] + [
        rules.record(
          'channel:creativeflow_notification_queue_depth:sum',
          'sum %s (creativeflow_notification_queue_depth%s)' % [rules.by(['channel']), appSelector()],
        ),
        rules.record(
          'channel:creativeflow_notifications_sent:rate5m',
          'sum %s (rate(creativeflow_notifications_sent_total%s[5m]))'
          % [rules.by(['channel']), appSelector()],
        ),
        rules.record(
          'channel:creativeflow_notifications_sent_failures:ratio_rate5m',
          ratio(
            'sum %s (rate(creativeflow_notifications_sent_total%s[5m]))'
            % [rules.by(['channel']), appSelector(['outcome="failure"'])],
            'channel:creativeflow_notifications_sent:rate5m'
          ),
        ),
        rules.record(
          'state:creativeflow_odoo_job_queue_jobs:sum',
          'sum %s (creativeflow_odoo_job_queue_jobs%s)' % [rules.by(['state']), appSelector()],
        ),
        rules.record(
          'method:creativeflow_auth_attempts:rate5m',
          'sum %s (rate(creativeflow_auth_attempts_total%s[5m]))'
          % [rules.by(['method']), appSelector()],
        ),
        rules.record(
          'method:creativeflow_auth_attempts_failures:ratio_rate5m',
          ratio(
            'sum %s (rate(creativeflow_auth_attempts_total%s[5m]))'
            % [rules.by(['method']), appSelector(['outcome="failure"'])],
            'method:creativeflow_auth_attempts:rate5m'
          ),
        ),
        rules.record(
          'event:creativeflow_subscription_event:rate5m',
          'sum %s (rate(creativeflow_subscription_event_total%s[5m]))'
          % [rules.by(['event']), appSelector()],
        ),
        rules.record(
          'cluster:creativeflow_web_client_errors:rate5m',
          'sum %s (rate(creativeflow_web_client_errors_total%s[5m]))' % [rules.by(), appSelector()],
        ),
        rules.record(
          'cluster:creativeflow_web_client_page_views:rate5m',
          'sum %s (rate(creativeflow_web_client_page_views_total%s[5m]))' % [rules.by(), appSelector()],
        ),
        rules.record(
          'cluster:creativeflow_web_client_errors_per_page_view:ratio_rate5m',
          ratio('cluster:creativeflow_web_client_errors:rate5m', 'cluster:creativeflow_web_client_page_views:rate5m'),
        ),
      ]),
      // External dependencies: every caller's calls, per dependency and latency bucket (a group of
      // its own, as the services' RED records above).
      rules.group('applications-recording-dependencies', [
        rules.record(
          'dependency:creativeflow_external_service_call_duration_seconds_count:rate5m',
          'sum %s (rate(creativeflow_external_service_call_duration_seconds_count%s[5m]))'
          % [rules.by(['dependency']), appSelector()],
        ),
        rules.record(
          'dependency:creativeflow_external_service_call_errors:rate5m',
          'sum %s (rate(creativeflow_external_service_call_errors_total%s[5m]))'
          % [rules.by(['dependency']), appSelector()],
        ),
        rules.record(
          'dependency:creativeflow_external_service_call_errors:ratio_rate5m',
          ratio(
            'dependency:creativeflow_external_service_call_errors:rate5m',
            'dependency:creativeflow_external_service_call_duration_seconds_count:rate5m'
          ),
        ),
        rules.record(
          'dependency_le:creativeflow_external_service_call_duration_seconds_bucket:rate5m',
          'sum %s (rate(creativeflow_external_service_call_duration_seconds_bucket%s[5m]))'
          % [rules.by(['dependency', 'le']), appSelector()],
        ),
        rules.record(
          'dependency:creativeflow_external_service_call_duration_seconds:p95_rate5m',
          'histogram_quantile(0.95, dependency_le:creativeflow_external_service_call_duration_seconds_bucket:rate5m)',
        ),
      ]),

      // 1h aggregates of the 5m series, evaluated every minute (not every 15s): what long-range
      // panels and a long-term store (remote-write of `:.*1h$` names) keep.
      rules.group('applications-recording-downsampled', [
        rules.record(
          'service:http_requests:rate1h',
          'avg_over_time(service:http_requests:rate5m[1h])',
        ),
        rules.record(
          'service:http_requests_errors:ratio_rate1h',
          ratio1h('service:http_requests_errors:rate5m', 'service:http_requests:rate5m'),
        ),
        rules.record(
          'service_le:http_request_duration_seconds_bucket:rate1h',
          'avg_over_time(service_le:http_request_duration_seconds_bucket:rate5m[1h])',
        ),
      ] + [
        rules.record(
          'service:http_request_duration_seconds:p%s_rate1h' % q,
          'histogram_quantile(0.%s, service_le:http_request_duration_seconds_bucket:rate1h)' % q,
        )
        for q in ['50', '90', '95', '99']
      ] + [
        rules.record(
          'workflow:n8n_workflow_executions:rate1h',
          'avg_over_time(workflow:n8n_workflow_executions:rate5m[1h])',
        ),
        rules.record(
          'workflow:n8n_workflow_executions_errors:ratio_rate1h',
          ratio1h('workflow:n8n_workflow_executions_errors:rate5m', 'workflow:n8n_workflow_executions:rate5m'),
        ),
        rules.record(
          'cluster:creativeflow_collaboration_sync_latency_seconds:p95_rate1h',
          'histogram_quantile(0.95, avg_over_time(cluster_le:creativeflow_collaboration_sync_latency_seconds_bucket:rate5m[1h]))',
        ),
        rules.record(
          'channel:creativeflow_notification_queue_depth:max1h',
          'max_over_time(channel:creativeflow_notification_queue_depth:sum[1h])',
        ),
        rules.record(
          'state:creativeflow_odoo_job_queue_jobs:max1h',
          'max_over_time(state:creativeflow_odoo_job_queue_jobs:sum[1h])',
        ),
        rules.record(
          'dependency:creativeflow_external_service_call_errors:ratio_rate1h',
          ratio1h(
            'dependency:creativeflow_external_service_call_errors:rate5m',
            'dependency:creativeflow_external_service_call_duration_seconds_count:rate5m'
          ),
        ),
        rules.record(
          'cluster:creativeflow_web_client_errors_per_page_view:ratio_rate1h',
          ratio1h('cluster:creativeflow_web_client_errors:rate5m', 'cluster:creativeflow_web_client_page_views:rate5m'),
        ),
      ], interval='1m'),
    ],
  },

  // `<recorded ratio / latency of one service> > threshold`, the shape of the per-service alerts.
  local httpErrorAlert(name, service, severity, priority, forDuration, summary, default) =
    rules.alert({
      name: name,
      expr: 'service:http_requests_errors:ratio_rate5m{service="%s"} > %s'
            % [service, rules.param('threshold')],
      'for': forDuration,
      severity: severity,
      priority: priority,
      labels: { service: service },
      summary: summary,
      description: '{{ $value | humanizePercentage }} of requests to {{ $labels.service }} in '
                   + '{{ $labels.environment }}/{{ $labels.cluster }} failed with a 5xx status '
                   + 'over the last 5 minutes (threshold {{ %s | humanizePercentage }}).'
                     % rules.param('threshold'),
      params: { threshold: default },
    }),
  local httpLatencyAlert(name, service, quantile, priority, forDuration, summary, default) =
    rules.alert({
      name: name,
      expr: 'service:http_request_duration_seconds:p%s_rate5m{service="%s"} > %s'
            % [quantile, service, rules.param('thresholdSeconds')],
      'for': forDuration,
      severity: 'warning',
      priority: priority,
      labels: { service: service },
      summary: summary,
      description: 'p%s latency of {{ $labels.service }} in ' % quantile
                   + '{{ $labels.environment }}/{{ $labels.cluster }} is {{ $value | humanizeDuration }} '
                   + 'over the last 5 minutes (threshold {{ %s | humanizeDuration }}).'
                     % rules.param('thresholdSeconds'),
      params: { thresholdSeconds: default },
    }),

  prometheusAlerts+:: {
    groups+: [
      rules.group('applications-alerts-gateway', [
        httpErrorAlert(
          'ApiGatewayErrorRatioHigh',
          c.apiGatewayService,
          'critical',
          'P1',
          '5m',
          'The API gateway answers too many requests with a server error.',
          c.apiGatewayErrorRatioThreshold,
        ),
        httpLatencyAlert(
          'ApiGatewayLatencyP99High',
          c.apiGatewayService,
          '99',
          'P2',
          '10m',
          'The API gateway is slow for its slowest requests.',
          c.apiGatewayLatencyP99ThresholdSeconds,
        ),
      ]),

      rules.group('applications-alerts-odoo', [
        httpErrorAlert(
          'OdooErrorRatioHigh',
          c.odooService,
          'critical',
          'P2',
          '5m',
          'Odoo answers too many requests with a server error.',
          c.odooErrorRatioThreshold,
        ),
        httpLatencyAlert(
          'OdooLatencyP95High',
          c.odooService,
          '95',
          'P3',
          '10m',
          'Odoo is slow for a noticeable share of its requests.',
          c.odooLatencyP95ThresholdSeconds,
        ),
        httpLatencyAlert(
          'OdooLatencyP99High',
          c.odooService,
          '99',
          'P3',
          '10m',
          'Odoo is slow for its slowest requests.',
          c.odooLatencyP99ThresholdSeconds,
        ),
        rules.alert({
          name: 'OdooJobQueueBacklog',
          expr: 'state:creativeflow_odoo_job_queue_jobs:sum{state="pending"} > %s'
                % rules.param('threshold'),
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          labels: { service: c.odooService },
          summary: 'Odoo background jobs are piling up.',
          description: '{{ $value | humanize }} Odoo queue jobs are pending in '
                       + '{{ $labels.environment }}/{{ $labels.cluster }} '
                       + '(threshold {{ %s | humanize }}).' % rules.param('threshold'),
          params: { threshold: c.odooJobQueuePendingThreshold },
        }),
      ]),

      rules.group('applications-alerts-n8n', [
        rules.alert({
          name: 'N8nWorkflowFailureRatioHigh',
          expr: 'workflow:n8n_workflow_executions_errors:ratio_rate5m > %s' % rules.param('threshold'),
          'for': '15m',
          severity: 'warning',
          priority: 'P2',
          labels: { service: c.n8nService },
          summary: 'An n8n workflow fails too often.',
          description: '{{ $value | humanizePercentage }} of the executions of n8n workflow '
                       + '{{ $labels.workflow }} in {{ $labels.environment }}/{{ $labels.cluster }} '
                       + 'ended in error over the last 5 minutes (threshold {{ %s | humanizePercentage }}).'
                         % rules.param('threshold'),
          params: { threshold: c.n8nWorkflowFailureRatioThreshold },
        }),
        rules.alert({
          name: 'N8nWorkflowExecutionStuck',
          expr: 'workflow:n8n_workflow_oldest_running_execution_seconds:max > %s'
                % rules.param('thresholdSeconds'),
          'for': '5m',
          severity: 'warning',
          priority: 'P3',
          labels: { service: c.n8nService },
          summary: 'An n8n workflow execution has been running for too long.',
          description: 'The oldest running execution of n8n workflow {{ $labels.workflow }} in '
                       + '{{ $labels.environment }}/{{ $labels.cluster }} started '
                       + '{{ $value | humanizeDuration }} ago (threshold {{ %s | humanizeDuration }}).'
                         % rules.param('thresholdSeconds'),
          params: { thresholdSeconds: c.n8nStuckExecutionThresholdSeconds },
        }),
      ]),

      rules.group('applications-alerts-accounts', [
        rules.alert({
          name: 'AuthFailureRatioHigh',
          expr: 'method:creativeflow_auth_attempts_failures:ratio_rate5m > %s' % rules.param('threshold'),
          'for': '10m',
          severity: 'warning',
          priority: 'P2',
          labels: { service: c.authService },
          summary: 'Too many sign-in attempts fail.',
          description: '{{ $value | humanizePercentage }} of {{ $labels.method }} sign-in attempts in '
                       + '{{ $labels.environment }}/{{ $labels.cluster }} failed over the last 5 minutes '
                       + '(threshold {{ %s | humanizePercentage }}).' % rules.param('threshold'),
          params: { threshold: c.authFailureRatioThreshold },
        }),
        rules.alert({
          name: 'SubscriptionErrorsHigh',
          expr: 'event:creativeflow_subscription_event:rate5m{event=~"error|payment_failed"} * 60 > %s'
                % rules.param('thresholdPerMinute'),
          'for': '15m',
          severity: 'warning',
          priority: 'P2',
          labels: { service: c.billingService },
          summary: 'Subscription operations fail.',
          description: '{{ $value | humanize }} subscription events of type {{ $labels.event }} per minute in '
                       + '{{ $labels.environment }}/{{ $labels.cluster }} over the last 5 minutes '
                       + '(threshold {{ %s | humanize }} per minute).' % rules.param('thresholdPerMinute'),
          params: { thresholdPerMinute: c.subscriptionErrorsPerMinuteThreshold },
        }),
        httpErrorAlert(
          'BillingErrorRatioHigh',
          c.billingService,
          'critical',
          'P2',
          '5m',
          'The billing service answers too many requests with a server error.',
          c.billingErrorRatioThreshold,
        ),
      ]),

      rules.group('applications-alerts-realtime', [
        rules.alert({
          name: 'CollaborationSyncLatencyP95High',
          expr: 'cluster:creativeflow_collaboration_sync_latency_seconds:p95_rate5m > %s'
                % rules.param('thresholdSeconds'),
          'for': '10m',
          severity: 'warning',
          priority: 'P2',
          labels: { service: c.collaborationService },
          summary: 'Collaborative edits take too long to reach the other participants.',
          description: 'p95 collaboration sync latency in {{ $labels.environment }}/{{ $labels.cluster }} is '
                       + '{{ $value | humanizeDuration }} over the last 5 minutes '
                       + '(threshold {{ %s | humanizeDuration }}).' % rules.param('thresholdSeconds'),
          params: { thresholdSeconds: c.collaborationSyncLatencyP95ThresholdSeconds },
        }),
        rules.alert({
          name: 'NotificationQueueBacklog',
          expr: 'channel:creativeflow_notification_queue_depth:sum > %s' % rules.param('threshold'),
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          labels: { service: c.notificationsService },
          summary: 'Notifications are waiting to be sent.',
          description: '{{ $value | humanize }} {{ $labels.channel }} notifications are queued in '
                       + '{{ $labels.environment }}/{{ $labels.cluster }} '
                       + '(threshold {{ %s | humanize }}).' % rules.param('threshold'),
          params: { threshold: c.notificationQueueDepthThreshold },
        }),
        rules.alert({
          name: 'NotificationDeliveryFailureRatioHigh',
          expr: 'channel:creativeflow_notifications_sent_failures:ratio_rate5m > %s'
                % rules.param('threshold'),
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          labels: { service: c.notificationsService },
          summary: 'Notifications fail to be delivered.',
          description: '{{ $value | humanizePercentage }} of {{ $labels.channel }} notifications in '
                       + '{{ $labels.environment }}/{{ $labels.cluster }} failed over the last 5 minutes '
                       + '(threshold {{ %s | humanizePercentage }}).' % rules.param('threshold'),
          params: { threshold: c.notificationFailureRatioThreshold },
        }),
      ]),

      rules.group('applications-alerts-clients', [
        rules.alert({
          name: 'WebClientErrorRateHigh',
          expr: 'cluster:creativeflow_web_client_errors_per_page_view:ratio_rate5m * 100 > %s'
                % rules.param('thresholdPer100PageViews'),
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          labels: { service: c.webClientService },
          summary: 'The web client reports many JavaScript errors.',
          description: 'The web client in {{ $labels.environment }}/{{ $labels.cluster }} reports '
                       + '{{ $value | humanize }} JavaScript errors per 100 page views over the last 5 minutes '
                       + '(threshold {{ %s | humanize }}).' % rules.param('thresholdPer100PageViews'),
          params: { thresholdPer100PageViews: c.webClientErrorsPer100PageViewsThreshold },
        }),
        rules.alert({
          name: 'ExternalDependencyErrorRatioHigh',
          expr: 'dependency:creativeflow_external_service_call_errors:ratio_rate5m > %s'
                % rules.param('threshold'),
          'for': '10m',
          severity: 'warning',
          priority: 'P2',
          labels: { service: c.externalDependenciesService },
          summary: 'Calls to an external service fail too often.',
          description: '{{ $value | humanizePercentage }} of the calls to {{ $labels.dependency }} from '
                       + '{{ $labels.environment }}/{{ $labels.cluster }} failed over the last 5 minutes '
                       + '(threshold {{ %s | humanizePercentage }}).' % rules.param('threshold'),
          params: { threshold: c.externalDependencyErrorRatioThreshold },
        }),
      ]),

      // Every other HTTP service; the alert's `service` label is the failing service's.
      rules.group('applications-alerts-services', [
        rules.alert({
          name: 'ServiceErrorRatioHigh',
          expr: 'service:http_requests_errors:ratio_rate5m{service!~"%s"} > %s'
                % [oneOf(c.dedicatedErrorRatioServices), rules.param('threshold')],
          'for': '10m',
          severity: 'warning',
          priority: 'P2',
          labels: { service: '{{ $labels.service }}' },
          summary: 'A service answers too many requests with a server error.',
          description: '{{ $value | humanizePercentage }} of requests to {{ $labels.service }} in '
                       + '{{ $labels.environment }}/{{ $labels.cluster }} failed with a 5xx status '
                       + 'over the last 5 minutes (threshold {{ %s | humanizePercentage }}).'
                         % rules.param('threshold'),
          params: { threshold: c.serviceErrorRatioThreshold },
        }),
        rules.alert({
          name: 'ServiceLatencyP99High',
          expr: 'service:http_request_duration_seconds:p99_rate5m{service!~"%s"} > %s'
                % [oneOf(c.dedicatedLatencyServices), rules.param('thresholdSeconds')],
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          labels: { service: '{{ $labels.service }}' },
          summary: 'A service is slow for its slowest requests.',
          description: 'p99 latency of {{ $labels.service }} in '
                       + '{{ $labels.environment }}/{{ $labels.cluster }} is {{ $value | humanizeDuration }} '
                       + 'over the last 5 minutes (threshold {{ %s | humanizeDuration }}).'
                         % rules.param('thresholdSeconds'),
          params: { thresholdSeconds: c.serviceLatencyP99ThresholdSeconds },
        }),
      ]),
    ],
  },

  dashboardFolder:: 'Applications',
  grafanaDashboards+:: {
    'application-performance.json': (import 'application-performance.libsonnet')(c),
  },
}

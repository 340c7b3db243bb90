// The queries of Applications / Performance, one object of d.target(expr, legend);
// panels.libsonnet draws them and ../application-performance.libsonnet lays the panels out.
// `c` is the mixin's _config.
function(c)
  local d = (import '../../../lib/dashboards.libsonnet')(c);
  local s = d.selector();
  local svc = d.selector(['service=~"$service"']);
  local one(service) = d.selector(['service="%s"' % service]);

  {
    rate: d.target('sum by (service) (service:http_requests:rate5m%s)' % svc, '{{service}}'),
    rateTotal: d.target('sum (service:http_requests:rate5m%s)' % svc, 'requests'),
    errorRatio: d.target('service:http_requests_errors:ratio_rate5m%s' % svc, '{{service}}'),
    errorRatioTotal: d.target(
      'sum (service:http_requests_errors:rate5m%s) / sum (service:http_requests:rate5m%s)' % [svc, svc], 'errors'
    ),
    p99Max: d.target('max (service:http_request_duration_seconds:p99_rate5m%s)' % svc, 'slowest p99'),
    latency(quantile): d.target(
      'service:http_request_duration_seconds:p%s_rate5m%s' % [quantile, svc], '{{service}} p%s' % quantile
    ),
    latencyHeatmap: d.target(
      'sum by (le) (service_le:http_request_duration_seconds_bucket:rate5m%s)' % svc, '{{le}}', format='heatmap'
    ),
    serviceLatency(service, quantile): d.target(
      'service:http_request_duration_seconds:p%s_rate5m%s' % [quantile, one(service)], 'p%s' % quantile
    ),
    serviceErrorRatio(service): d.target('service:http_requests_errors:ratio_rate5m%s' % one(service), '5xx ratio'),
    odooJobs: d.target('state:creativeflow_odoo_job_queue_jobs:sum%s' % s, '{{state}}'),
    n8nRate: d.target('sum by (workflow) (workflow:n8n_workflow_executions:rate5m%s)' % s, '{{workflow}}'),
    n8nFailureRatio: d.target('workflow:n8n_workflow_executions_errors:ratio_rate5m%s' % s, '{{workflow}}'),
    n8nOldest: d.target('workflow:n8n_workflow_oldest_running_execution_seconds:max%s' % s, '{{workflow}}'),
    authRate: d.target('method:creativeflow_auth_attempts:rate5m%s' % s, '{{method}}'),
    authFailureRatio: d.target('method:creativeflow_auth_attempts_failures:ratio_rate5m%s' % s, '{{method}}'),
    subscriptionErrors: d.target(
      'event:creativeflow_subscription_event:rate5m%s * 60' % d.selector(['event=~"error|payment_failed"']), '{{event}}'
    ),
    collaborationP95: d.target('cluster:creativeflow_collaboration_sync_latency_seconds:p95_rate5m%s' % s, 'p95'),
    collaborationSessions: d.target('sum (creativeflow_collaboration_active_sessions%s)' % s, 'sessions'),
    notificationQueue: d.target('channel:creativeflow_notification_queue_depth:sum%s' % s, '{{channel}}'),
    notificationFailureRatio: d.target(
      'channel:creativeflow_notifications_sent_failures:ratio_rate5m%s' % s, '{{channel}}'
    ),
  }

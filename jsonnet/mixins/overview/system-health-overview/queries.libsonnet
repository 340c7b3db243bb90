// The queries of Overview / System Health, one object of d.target(expr, legend);
// panels.libsonnet draws them and ../system-health-overview.libsonnet lays the panels out.
// `c` is the mixin's _config.
function(c)
  local d = (import '../../../lib/dashboards.libsonnet')(c);
  local apps = c.applications;
  local postgres = c.postgres;
  local rabbitmq = c.rabbitmq;

  local s = d.selector();
  local by = std.join(', ', c.aggregationLabels + ['instance']);
  // The role of each node (kube-state-metrics kube_node_role, from node-role.kubernetes.io/<role>
  // labels), as {instance="<node>", role}; nodes without a role label get role="none". `series`
  // is a per-instance series of the same nodes (the nodes to label).
  local roles(series) =
    '(label_replace(topk by (cluster, environment, node) (1, kube_node_role%s), "instance", "$1", "node", "(.+)")' % s
    + ' or on (%s) label_replace(group by (%s) (%s), "role", "none", "", ""))' % [by, by, series];
  // `agg` by role of a per-instance series.
  local byRole(agg, series) =
    '%s by (role) (%s * on (%s) group_left (role) %s)' % [agg, series, by, roles(series)];
  local critical = d.selector(['queue=~"%s"' % rabbitmq.rabbitmqCriticalQueues]);
  local gateway = d.selector(['service="%s"' % apps.apiGatewayService]);

  {
    gatewayRate: d.target('sum (service:http_requests:rate5m%s)' % gateway, 'requests'),
    gatewayErrors: d.target('sum (service:http_requests_errors:ratio_rate5m%s)' % gateway, '5xx ratio'),
    gatewayP95: d.target('max (service:http_request_duration_seconds:p95_rate5m%s)' % gateway, 'p95'),
    aiThroughput: d.target('sum (cluster:creativeflow_ai_generation_requests:rate5m%s)' % s, 'generations'),
    aiSuccess: d.target('cluster:creativeflow_ai_generation_requests_success:ratio_rate1h%s' % s, 'success (1h)'),
    sessions: d.target('sum (creativeflow_collaboration_active_sessions%s)' % s, 'sessions'),
    cpu: d.target(byRole('avg', 'instance:node_cpu_utilisation:rate5m%s' % s), '{{role}}'),
    memory: d.target(byRole('avg', 'instance:node_memory_utilisation:ratio%s' % s), '{{role}}'),
    disk: d.target(
      byRole('min', 'min by (%s) (instance_mountpoint:node_filesystem_avail:ratio%s)' % [by, s]), '{{role}}'
    ),
    pgConnectionsRatio: d.target('instance:pg_stat_activity_count:ratio_max_connections%s' % s, '{{instance}}'),
    pgConnections: d.target('instance:pg_stat_activity_count:sum%s' % s, '{{instance}}'),
    pgLag: d.target('instance:pg_replication_lag_seconds:max%s' % s, '{{instance}}'),
    pgLongestTx: d.target(
      'max by (instance) (pg_stat_activity_max_tx_duration%s)' % d.selector([postgres.postgresSelector]), '{{instance}}'
    ),
    queueReady: d.target('sum by (queue) (queue:rabbitmq_queue_messages_ready:max%s)' % critical, '{{queue}}'),
    redisMemory: d.target('instance:redis_memory_used_bytes:ratio_maxmemory%s' % s, '{{instance}}'),
    redisHitRatio: d.target('instance:redis_keyspace_hits:ratio_rate5m%s' % s, '{{instance}}'),
    n8nExecutions: d.target('sum by (workflow) (workflow:n8n_workflow_executions:rate5m%s)' % s, '{{workflow}}'),
    n8nFailures: d.target(
      'sum (workflow:n8n_workflow_executions_errors:rate5m%s) / sum (workflow:n8n_workflow_executions:rate5m%s)' % [s, s],
      'failure ratio'
    ),
    odooPending: d.target('state:creativeflow_odoo_job_queue_jobs:sum%s' % d.selector(['state="pending"']), 'pending'),
    gpu: d.target('cluster:DCGM_FI_DEV_GPU_UTIL:avg%s' % s, 'GPU utilisation'),
    targetsDown: d.target('1 - avg by (job) (up%s)' % s, '{{job}}'),
    uptime: d.target('avg by (job) (avg_over_time(up%s[$__range]))' % s, '{{job}}', instant=true),
  }

// Overview / System Health: the DevOps/SRE first screen, refresh 30s. One line per area, each
// drawing the owning mixin's recorded series and its alert thresholds (that mixin's `_config`),
// so a red cell here is an alert there.
local d = import '../../lib/dashboards.libsonnet';

// c: the owning mixins' configs by area (mixin.libsonnet), the values their alerts' params default to.
function(c)
  local platform = c.platform;
  local apps = c.applications;
  local business = c.business;
  local postgres = c.postgres;
  local redis = c.redis;
  local rabbitmq = c.rabbitmq;
  local gpu = c.gpu;
  local stack = c.stack;

  local s = d.selector();
  local by = 'cluster, environment, instance';
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

  local q = {
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
  };

  local p = {
    gatewayRate: d.stat(
      'API gateway requests', 'Requests per second through the API gateway. Good: the usual daily level; 0 is an outage.', 'reqps', [q.gatewayRate]
    ),
    gatewayErrors: d.stat(
      'API gateway 5xx ratio',
      'Share of API requests answered with a 5xx. Good: green, below the ApiGatewayErrorRatioHigh threshold.',
      'percentunit',
      [q.gatewayErrors],
      thresholds=d.above([apps.apiGatewayErrorRatioThreshold]),
      alerts=['ApiGatewayErrorRatioHigh'],
    ),
    gatewayP95: d.stat(
      'API gateway p95 latency', 'p95 latency of API requests. Good: well under a second and flat (the alert watches p99).', 's', [q.gatewayP95]
    ),
    aiThroughput: d.stat(
      'AI generations', 'AI generation requests per second. Good: the usual level for the time of day.', 'reqps', [q.aiThroughput]
    ),
    aiSuccess: d.stat(
      'AI generation success (1h)',
      'Share of AI generations that succeeded over the last hour. Good: green, at or above the KPI-004 target (AiGenerationSuccessRatioLow).',
      'percentunit',
      [q.aiSuccess],
      thresholds=d.below([business.aiGenerationSuccessRatioMin]),
      alerts=['AiGenerationSuccessRatioLow'],
      decimals=2,
    ),
    sessions: d.stat(
      'Active sessions', 'Open real-time collaboration sessions. Good: the usual level; a sudden drop means clients cannot connect.', 'short', [q.sessions]
    ),
    cpu: d.timeseries(
      'CPU by server role',
      'Average CPU utilisation of the nodes of each role. Good: below the dashed NodeCpuUsageHigh line.',
      'percentunit',
      [q.cpu],
      thresholds=d.above([platform.nodeCpuUsageHighThreshold, platform.nodeCpuUsageCriticalThreshold]),
      alerts=['NodeCpuUsageHigh', 'NodeCpuUsageCritical'],
      min=0,
      max=1,
    ),
    memory: d.timeseries(
      'Memory by server role',
      'Average memory utilisation of the nodes of each role. Good: below the dashed NodeMemoryUsageHigh line.',
      'percentunit',
      [q.memory],
      thresholds=d.above([platform.nodeMemoryUsageHighThreshold, platform.nodeMemoryUsageCriticalThreshold]),
      alerts=['NodeMemoryUsageHigh', 'NodeMemoryUsageCritical'],
      min=0,
      max=1,
    ),
    disk: d.timeseries(
      'Free disk space by server role (fullest filesystem)',
      'Free share of the fullest node filesystem of each role. Good: above the dashed NodeFilesystemSpaceLow line.',
      'percentunit',
      [q.disk],
      thresholds=d.below([platform.nodeFilesystemSpaceCriticalThreshold, platform.nodeFilesystemSpaceLowThreshold]),
      alerts=['NodeFilesystemSpaceCritical', 'NodeFilesystemSpaceLow'],
      min=0,
      max=1,
    ),
    pgConnectionsRatio: d.timeseries(
      'PostgreSQL connections used',
      'Client connections against max_connections per server. Good: below the dashed PostgresConnectionsHigh line.',
      'percentunit',
      [q.pgConnectionsRatio],
      thresholds=d.above([postgres.postgresConnectionsWarningRatio, postgres.postgresConnectionsCriticalRatio]),
      alerts=['PostgresConnectionsHigh', 'PostgresConnectionsCritical'],
      min=0,
      max=1,
    ),
    pgConnections: d.timeseries(
      'PostgreSQL connections', 'Client connections per server (all states). Good: steady; a climb without more traffic is a connection leak.', 'short', [q.pgConnections], min=0
    ),
    pgLag: d.timeseries(
      'PostgreSQL replication lag',
      'Replay lag of each replica (0 on the primary). Good: seconds, far below the dashed PostgresReplicationLagHigh line.',
      's',
      [q.pgLag],
      thresholds=d.above([postgres.postgresReplicationLagThresholdSeconds]),
      alerts=['PostgresReplicationLagHigh'],
      min=0,
    ),
    pgLongestTx: d.timeseries(
      'PostgreSQL longest transaction',
      'Age of the oldest open transaction per server (slow queries, forgotten sessions). Good: below the dashed PostgresLongRunningTransaction line.',
      's',
      [q.pgLongestTx],
      thresholds=d.above([postgres.postgresLongTransactionThresholdSeconds]),
      alerts=['PostgresLongRunningTransaction'],
      min=0,
    ),
    queueReady: d.timeseries(
      'AI generation queues: ready messages',
      'Messages waiting in the AI generation queues. Good: near 0 and draining, below the dashed RabbitmqQueueReadyMessagesHigh line.',
      'short',
      [q.queueReady],
      thresholds=d.above([rabbitmq.rabbitmqReadyMessagesWarningThreshold, rabbitmq.rabbitmqReadyMessagesCriticalThreshold]),
      alerts=['RabbitmqQueueReadyMessagesHigh', 'RabbitmqQueueReadyMessagesCritical'],
      min=0,
    ),
    redisMemory: d.timeseries(
      'Redis memory used',
      'Memory used against maxmemory per Redis server. Good: below the dashed RedisMemoryHigh line.',
      'percentunit',
      [q.redisMemory],
      thresholds=d.above([redis.redisMemoryThresholdRatio]),
      alerts=['RedisMemoryHigh'],
      min=0,
      max=1,
    ),
    redisHitRatio: d.timeseries(
      'Redis cache hit ratio',
      'Share of key lookups that found the key. Good: above the dashed RedisCacheHitRatioLow line.',
      'percentunit',
      [q.redisHitRatio],
      thresholds=d.below([redis.redisHitRatioThreshold]),
      alerts=['RedisCacheHitRatioLow'],
      min=0,
      max=1,
    ),
    n8nExecutions: d.timeseries(
      'n8n executions by workflow', 'Finished n8n workflow executions per second. Good: each workflow at its usual rate.', 'ops', [q.n8nExecutions], min=0, stack=true
    ),
    n8nFailures: d.timeseries(
      'n8n failure ratio',
      'Share of n8n executions that ended in error (all workflows). Good: below the dashed N8nWorkflowFailureRatioHigh line.',
      'percentunit',
      [q.n8nFailures],
      thresholds=d.above([apps.n8nWorkflowFailureRatioThreshold]),
      alerts=['N8nWorkflowFailureRatioHigh'],
      min=0,
    ),
    odooPending: d.timeseries(
      'Odoo pending jobs',
      'Odoo queue_job jobs waiting to run. Good: draining, below the dashed OdooJobQueueBacklog line.',
      'short',
      [q.odooPending],
      thresholds=d.above([apps.odooJobQueuePendingThreshold]),
      alerts=['OdooJobQueueBacklog'],
      min=0,
    ),
    gpu: d.timeseries(
      'AI cluster GPU utilisation',
      'Average utilisation of every GPU in the cluster. Good: busy but below the dashed GpuUtilizationHigh line.',
      'percent',
      [q.gpu],
      thresholds=d.above([gpu.gpuUtilizationHighPercent, gpu.gpuUtilizationSaturatedPercent]),
      alerts=['GpuUtilizationHigh', 'GpuUtilizationSaturated'],
      min=0,
      max=100,
    ),
    targetsDown: d.timeseries(
      'Scrape targets down by job',
      'Share of the targets of each job Prometheus cannot scrape. Good: 0; above the dashed PrometheusTargetDown line pages.',
      'percentunit',
      [q.targetsDown],
      thresholds=d.above([stack.prometheusTargetDownThreshold]),
      alerts=['PrometheusTargetDown'],
      min=0,
      max=1,
    ),
    uptime: d.bargauge(
      'Service uptime over the time range',
      'Share of scrapes that succeeded over the selected time range, per job. Good: 100% for every key service.',
      'percentunit',
      [q.uptime],
      max=1,
    ),
  };

  d.dashboard({
    uid: 'system-health-overview',
    title: 'Overview / System Health',
    tags: ['overview', 'sre'],
    description: 'Is the platform healthy right now? The DevOps/SRE first screen: API gateway, AI generation, '
                 + 'nodes by role, databases, queues, caches and scrape health. Dashed lines are the alert thresholds '
                 + '(Jsonnet defaults; an environment may override them in Helm values).',
    refresh: '30s',
    time: 'now-3h',
    panels: d.layout([
      d.row('Service health'),
      d.height(4, [p.gatewayRate, p.gatewayErrors, p.gatewayP95, p.aiThroughput, p.aiSuccess, p.sessions]),
      d.row('Nodes by role'),
      [p.cpu, p.memory, p.disk],
      d.row('Databases, queues and caches'),
      [p.pgConnectionsRatio, p.pgConnections, p.pgLag, p.pgLongestTx],
      [p.queueReady, p.redisMemory, p.redisHitRatio],
      d.row('Pipelines and GPUs'),
      [p.n8nExecutions, p.n8nFailures, p.odooPending, p.gpu],
      d.row('Scrape health'),
      [p.targetsDown, p.uptime],
    ]),
  })

// The panels of Overview / System Health over queries.libsonnet, laid out by ../system-health-overview.libsonnet:
// each says what good looks like, has a unit, and names the alerts whose thresholds it draws.
function(c)
  local d = (import '../../../lib/dashboards.libsonnet')(c);
  local q = (import 'queries.libsonnet')(c);
  local platform = c.platform;
  local apps = c.applications;
  local business = c.business;
  local postgres = c.postgres;
  local redis = c.redis;
  local rabbitmq = c.rabbitmq;
  local gpu = c.gpu;
  local stack = c.stack;

  {
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
  }

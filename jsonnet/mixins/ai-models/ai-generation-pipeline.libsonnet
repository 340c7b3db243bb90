// AI / Generation Pipeline: for AI/ML, product and DevOps, refresh 1m.
// From request to delivered asset: throughput, p90 duration by type, success, failures by reason,
// the AI queue, the n8n workflows behind it, the GPUs and the external AI providers.
// c: the configs of the mixins whose alerts the panels mirror, by area (mixin.libsonnet).

function(c)
  local d = (import '../../lib/dashboards.libsonnet')(c);
  local business = c.business;
  local apps = c.applications;
  local gpu = c.gpu;
  local rabbitmq = c.rabbitmq;

  local s = d.selector();
  local type(t) = d.selector(['generation_type="%s"' % t]);
  local queues = d.selector(['queue=~"%s"' % rabbitmq.rabbitmqCriticalQueues]);
  local providers = d.selector(['dependency=~"$provider"']);

  local q = {
    throughput: d.target(
      'sum by (generation_type) (model_type:creativeflow_ai_generation_requests:rate5m%s) * 60' % s, '{{generation_type}}'
    ),
    throughputTotal: d.target('sum (cluster:creativeflow_ai_generation_requests:rate5m%s) * 60' % s, 'generations'),
    p90(t): d.target('cluster_type:creativeflow_ai_generation_duration_seconds:p90_rate5m%s' % type(t), 'p90 %s' % t),
    p90ByModel: d.target(
      'model_type:creativeflow_ai_generation_duration_seconds:p90_rate5m%s' % s, '{{model_provider}}/{{model_name}} {{generation_type}}'
    ),
    success1h: d.target('cluster:creativeflow_ai_generation_requests_success:ratio_rate1h%s' % s, 'success (1h, alert)'),
    success5m: d.target(
      'sum (cluster:creativeflow_ai_generation_requests_success:rate5m%s) / sum (cluster:creativeflow_ai_generation_requests:rate5m%s)'
      % [s, s],
      'success (5m)'
    ),
    failureByModel: d.target(
      'model_type:creativeflow_ai_generation_requests_failure:ratio_rate5m%s' % s, '{{model_provider}}/{{model_name}} {{generation_type}}'
    ),
    // Recorded per failure reason as a 5m rate (ai-models dashboard-rules.libsonnet) instead of a
    // rate over $__rate_interval (about 1m over the default 6 hours): still failures per minute by
    // reason, smoothed over 5 minutes like the throughput and failure-ratio panels beside it.
    errorsByReason: d.target(
      'sum by (failure_reason) (failure_reason:creativeflow_ai_generation_errors:rate5m%s) * 60' % s, '{{failure_reason}}'
    ),
    queueReady: d.target('sum by (queue) (queue:rabbitmq_queue_messages_ready:max%s)' % queues, '{{queue}} ready'),
    queueUnacked: d.target('sum by (queue) (queue:rabbitmq_queue_messages_unacked:max%s)' % queues, '{{queue}} in progress'),
    n8nP90: d.target('workflow:n8n_workflow_duration_seconds:p90_rate5m%s' % s, '{{workflow}}'),
    n8nFailures: d.target('workflow:n8n_workflow_executions_errors:ratio_rate5m%s' % s, '{{workflow}}'),
    gpuByNode: d.target('node:DCGM_FI_DEV_GPU_UTIL:avg%s' % s, '{{%s}}' % gpu.gpuNodeLabel),
    gpuMemoryByNode: d.target('node:DCGM_FI_DEV_FB_USED:ratio%s' % s, '{{%s}}' % gpu.gpuNodeLabel),
    providerP95: d.target(
      'dependency:creativeflow_external_service_call_duration_seconds:p95_rate5m%s' % providers, '{{dependency}}'
    ),
    providerErrors: d.target(
      'dependency:creativeflow_external_service_call_errors:ratio_rate5m%s' % providers, '{{dependency}}'
    ),
  };

  local p = {
    throughputTotal: d.stat(
      'Generations per minute', 'AI generation requests per minute, every type. Good: the usual level for the time of day.', 'reqpm', [q.throughputTotal]
    ),
    successNow: d.stat(
      'Success ratio (1h)',
      'Share of generations that succeeded over the last hour. Good: green, at or above the KPI-004 target (AiGenerationSuccessRatioLow).',
      'percentunit',
      [q.success1h],
      thresholds=d.below([business.aiGenerationSuccessRatioMin]),
      alerts=['AiGenerationSuccessRatioLow'],
      decimals=2,
    ),
    sampleP90Now: d.stat(
      'Sample p90',
      'p90 duration of sample generations. Good: green, below the REQ-SSPE-001 target (AiSampleGenerationSlow).',
      's',
      [q.p90('sample')],
      thresholds=d.above([business.aiSampleGenerationP90Seconds]),
      alerts=['AiSampleGenerationSlow'],
    ),
    highResP90Now: d.stat(
      'High-res p90',
      'p90 duration of high-resolution generations. Good: green, below the REQ-SSPE-002 target (AiHighResGenerationSlow).',
      's',
      [q.p90('high_res')],
      thresholds=d.above([business.aiHighResGenerationP90Seconds]),
      alerts=['AiHighResGenerationSlow'],
    ),
    throughput: d.timeseries(
      'Throughput by type', 'Generation requests per minute, sample and high_res. Good: the usual daily shape; a drop with a growing queue is a stalled pipeline.', 'reqpm', [q.throughput], min=0, stack=true
    ),
    success: d.timeseries(
      'Success ratio',
      'Share of generations that succeeded, over 5 minutes and over the hour the alert reads. Good: above the dashed 98% target line.',
      'percentunit',
      [q.success5m, q.success1h],
      thresholds=d.below([business.aiGenerationSuccessRatioMin]),
      alerts=['AiGenerationSuccessRatioLow'],
      max=1,
    ),
    sampleP90: d.timeseries(
      'p90 duration: sample',
      'p90 end-to-end duration of sample generations. Good: below the dashed AiSampleGenerationSlow line.',
      's',
      [q.p90('sample')],
      thresholds=d.above([business.aiSampleGenerationP90Seconds]),
      alerts=['AiSampleGenerationSlow'],
      min=0,
    ),
    highResP90: d.timeseries(
      'p90 duration: high-res',
      'p90 end-to-end duration of high-resolution generations. Good: below the dashed AiHighResGenerationSlow line.',
      's',
      [q.p90('high_res')],
      thresholds=d.above([business.aiHighResGenerationP90Seconds]),
      alerts=['AiHighResGenerationSlow'],
      min=0,
    ),
    errorsByReason: d.timeseries(
      'Errors by failure reason',
      'Failed generations per minute by reason (n8n workflow, AI model API, content safety, credit deduction). Good: near 0; content safety refusals are expected at a low rate.',
      'cpm',
      [q.errorsByReason],
      min=0,
      stack=true,
    ),
    p90ByModel: d.timeseries(
      'p90 duration by provider and model', 'p90 duration per provider, model and type. Good: each model flat; one rising alone points at that provider.', 's', [q.p90ByModel], min=0, legend='table'
    ),
    failureByModel: d.timeseries(
      'Failure ratio by provider and model', 'Share of generations that failed per provider, model and type. Good: near 0; one model alone failing points at its provider.', 'percentunit', [q.failureByModel], min=0, legend='table'
    ),
    queue: d.timeseries(
      'AI generation queue depth',
      'Messages ready (waiting) and unacknowledged (being worked on) in the AI generation queues. Good: ready near 0 and below the dashed RabbitmqQueueReadyMessagesHigh line.',
      'short',
      [q.queueReady, q.queueUnacked],
      thresholds=d.above([rabbitmq.rabbitmqReadyMessagesWarningThreshold, rabbitmq.rabbitmqReadyMessagesCriticalThreshold]),
      alerts=['RabbitmqQueueReadyMessagesHigh', 'RabbitmqQueueReadyMessagesCritical'],
      min=0,
    ),
    n8nP90: d.timeseries(
      'n8n workflow p90 duration', 'p90 duration of finished n8n executions per workflow. Good: flat; the AI workflows dominate the generation time.', 's', [q.n8nP90], min=0
    ),
    n8nFailures: d.timeseries(
      'n8n workflow failure ratio',
      'Share of n8n executions that ended in error per workflow. Good: below the dashed N8nWorkflowFailureRatioHigh line.',
      'percentunit',
      [q.n8nFailures],
      thresholds=d.above([apps.n8nWorkflowFailureRatioThreshold]),
      alerts=['N8nWorkflowFailureRatioHigh'],
      min=0,
    ),
    gpuByNode: d.timeseries(
      'GPU utilisation per node',
      'Average utilisation of the GPUs of each node. Good: busy while the queue has work, below the dashed GpuUtilizationHigh line.',
      'percent',
      [q.gpuByNode],
      thresholds=d.above([gpu.gpuUtilizationHighPercent, gpu.gpuUtilizationSaturatedPercent]),
      alerts=['GpuUtilizationHigh', 'GpuUtilizationSaturated'],
      min=0,
      max=100,
    ),
    gpuMemoryByNode: d.timeseries(
      'GPU memory used per node',
      'Framebuffer memory used on each node. Good: below the dashed GpuMemoryHigh line (larger batches fail with out-of-memory above it).',
      'percentunit',
      [q.gpuMemoryByNode],
      thresholds=d.above([gpu.gpuMemoryUsedRatio]),
      alerts=['GpuMemoryHigh'],
      min=0,
      max=1,
    ),
    providerP95: d.timeseries(
      'External AI provider latency p95', 'p95 duration of calls to each external service (the `provider` variable). Good: flat; a rise slows every generation using it.', 's', [q.providerP95], min=0
    ),
    providerErrors: d.timeseries(
      'External AI provider error ratio',
      'Share of calls to each external service that failed. Good: below the dashed ExternalDependencyErrorRatioHigh line.',
      'percentunit',
      [q.providerErrors],
      thresholds=d.above([apps.externalDependencyErrorRatioThreshold]),
      alerts=['ExternalDependencyErrorRatioHigh'],
      min=0,
    ),
  };

  d.dashboard({
    uid: 'ai-generation-pipeline',
    title: 'AI / Generation Pipeline',
    tags: ['ai', 'ai-models'],
    description: 'Are AI generations fast and successful, and if not, where do they stall? Throughput, p90 duration '
                 + 'against REQ-SSPE-001/002, success against KPI-004, failures by reason, the AI queue, n8n, GPUs and '
                 + 'the external AI providers. Dashed lines are the alert thresholds (Jsonnet defaults).',
    refresh: '1m',
    time: 'now-6h',
    variables: [
      d.variable('provider', 'External service', 'dependency:creativeflow_external_service_call_duration_seconds_count:rate5m', labelName='dependency'),
    ],
    panels: d.layout([
      d.row('Now'),
      d.height(4, [p.throughputTotal, p.successNow, p.sampleP90Now, p.highResP90Now]),
      d.row('Throughput, duration and success'),
      [p.throughput, p.success],
      [p.sampleP90, p.highResP90, p.errorsByReason],
      [p.p90ByModel, p.failureByModel],
      d.row('Queue and workflows'),
      [p.queue, p.n8nP90, p.n8nFailures],
      d.row('GPUs and external AI providers'),
      [p.gpuByNode, p.gpuMemoryByNode],
      [p.providerP95, p.providerErrors],
    ]),
  })

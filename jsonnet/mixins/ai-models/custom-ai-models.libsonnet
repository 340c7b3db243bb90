// AI / Custom Models (INT-007): per model and version, inference latency
// p50/p90/p99, throughput, error ratio, GPU utilisation and memory, CPU and memory of the serving
// pods, and the drift and throughput signals of the model alerts. Variables model_name and
// model_version. c: this mixin's `_config` (the defaults of the CustomAIModel* alerts' params).

function(c)
  local d = (import '../../lib/dashboards.libsonnet')(c);
  local model = d.selector(['model_name=~"$model_name"']);
  local version = d.selector(['model_name=~"$model_name"', 'model_version=~"$model_version"']);
  local on = (import '../../lib/rules.libsonnet')(c).on(['namespace', 'pod']);
  // The serving pods of the selected models and versions, 1 per (namespace, pod, model, version).
  local servingPods =
    'group by (cluster, environment, namespace, pod, model_name, model_version) (custom_model_inference_requests_total%s)'
    % version;
  local perServingPod(series) =
    'sum by (model_name, model_version, pod) (%s%s * %s group_left (model_name, model_version) %s)'
    % [series, d.selector(), on, servingPods];
  local byVersion = 'model_name, model_version';
  local legendVersion = '{{model_name}} {{model_version}}';

  local q = {
    latency(quantile): d.target(
      'model:custom_model_inference_latency_seconds:p%d_rate5m%s' % [quantile, model], '{{model_name}} p%d' % quantile
    ),
    latencyThreshold: d.target(
      'max by (model_name) (custom_model_latency_p99_threshold_seconds%s)' % model, '{{model_name}} own p99 threshold'
    ),
    // Per version, from the bucket rates recorded per model version (dashboard-rules.libsonnet):
    // 5m rates instead of rates over $__rate_interval (about 1m over the default 6 hours), the
    // window of the per-model quantiles above and of CustomAIModelHighInferenceLatency, so the
    // versions compare with the model's line and the alert's threshold.
    versionLatency(quantile): d.target(
      'histogram_quantile(%g, sum by (le, %s) (model_version_le:custom_model_inference_latency_seconds_bucket:rate5m%s))'
      % [quantile / 100, byVersion, version],
      '%s p%d' % [legendVersion, quantile]
    ),
    throughput: d.target(
      'sum by (%s) (rate(custom_model_inference_requests_total%s[$__rate_interval]))' % [byVersion, version], legendVersion
    ),
    throughputTotal: d.target('sum (model:custom_model_inference_requests:rate5m%s)' % model, 'requests'),
    errorRatio: d.target('model:custom_model_inference_errors:ratio_rate5m%s' % model, '{{model_name}}'),
    errorThreshold: d.target(
      'max by (model_name) (custom_model_error_ratio_threshold%s)' % model, '{{model_name}} own threshold'
    ),
    errorRatioMax: d.target('max (model:custom_model_inference_errors:ratio_rate5m%s)' % model, 'highest'),
    p99Max: d.target('max (model:custom_model_inference_latency_seconds:p99_rate5m%s)' % model, 'slowest'),
    versionErrorRatio: d.target(
      '(sum by (%(by)s) (rate(custom_model_inference_errors_total%(sel)s[$__rate_interval])) or sum by (%(by)s) (rate(custom_model_inference_requests_total%(sel)s[$__rate_interval])) * 0)'
      % { by: byVersion, sel: version }
      + ' / sum by (%(by)s) (rate(custom_model_inference_requests_total%(sel)s[$__rate_interval]))' % { by: byVersion, sel: version },
      legendVersion
    ),
    errorsByType: d.target(
      'sum by (model_name, error_type) (rate(custom_model_inference_errors_total%s[$__rate_interval]))' % version,
      '{{model_name}} {{error_type}}'
    ),
    gpuUtil: d.target('model_pod:DCGM_FI_DEV_GPU_UTIL:avg%s' % model, '{{model_name}} {{pod}}'),
    gpuUtilMax: d.target('max (model_pod:DCGM_FI_DEV_GPU_UTIL:avg%s)' % model, 'busiest GPU'),
    gpuMemory: d.target('model_pod:DCGM_FI_DEV_FB_USED:ratio%s' % model, '{{model_name}} {{pod}}'),
    cpu: d.target(perServingPod('namespace_pod:container_cpu_usage_seconds:sum_rate5m'), legendVersion + ' {{pod}}'),
    memory: d.target(perServingPod('namespace_pod:container_memory_working_set_bytes:sum'), legendVersion + ' {{pod}}'),
    throughputVsYesterday: d.target(
      'model:custom_model_inference_requests:rate1h%s / model:custom_model_inference_requests:rate1h%s offset 1d'
      % [model, model],
      '{{model_name}}'
    ),
    drift: d.target(
      'abs(model_version:custom_model_prediction_score:mean1h%s - model_version:custom_model_prediction_score:mean7d%s)'
      % [version, version]
      + ' / model_version:custom_model_prediction_score:mean7d%s' % version,
      legendVersion
    ),
  };

  local p = {
    throughputTotal: d.stat(
      'Inference requests', 'Requests per second to the selected models. Good: the usual level for the time of day.', 'reqps', [q.throughputTotal]
    ),
    errorRatioMax: d.stat(
      'Highest error ratio',
      'Error ratio of the worst selected model. Good: green, below the CustomAIModelHighErrorRate default threshold.',
      'percentunit',
      [q.errorRatioMax],
      thresholds=d.above([c.modelErrorRatioThreshold]),
      alerts=['CustomAIModelHighErrorRate'],
    ),
    p99Max: d.stat(
      'Slowest p99 latency',
      'p99 inference latency of the slowest selected model. Good: green, below the CustomAIModelHighInferenceLatency default threshold.',
      's',
      [q.p99Max],
      thresholds=d.above([c.modelLatencyP99ThresholdSeconds]),
      alerts=['CustomAIModelHighInferenceLatency'],
    ),
    gpuUtilMax: d.stat(
      'Busiest GPU',
      'Utilisation of the busiest GPU serving a selected model. Good: green, below the CustomAIModelGpuUtilizationHigh threshold.',
      'percent',
      [q.gpuUtilMax],
      thresholds=d.above([c.modelGpuUtilizationPercent]),
      alerts=['CustomAIModelGpuUtilizationHigh'],
    ),
    latency: d.timeseries(
      'Inference latency p50 / p90 / p99 by model',
      "Latency quantiles per model (all versions), with the model's own p99 threshold when it exports one. Good: p99 below the dashed default line and its own threshold.",
      's',
      [q.latency(50), q.latency(90), q.latency(99), q.latencyThreshold],
      thresholds=d.above([c.modelLatencyP99ThresholdSeconds]),
      alerts=['CustomAIModelHighInferenceLatency'],
      min=0,
    ),
    versionLatency: d.timeseries(
      'Inference latency p50 / p90 / p99 by version',
      'Latency quantiles per model version: compare a new version with the previous one. Good: a new version no slower than the old.',
      's',
      [q.versionLatency(50), q.versionLatency(90), q.versionLatency(99)],
      thresholds=d.above([c.modelLatencyP99ThresholdSeconds]),
      alerts=['CustomAIModelHighInferenceLatency'],
      min=0,
    ),
    throughput: d.timeseries(
      'Throughput by version', 'Inference requests per second per model version. Good: traffic moves to a new version as rolled out, none drops to 0 unexpectedly.', 'reqps', [q.throughput], min=0, stack=true
    ),
    throughputVsYesterday: d.timeseries(
      'Throughput against the same hour yesterday',
      'Hourly requests per model divided by those of the same hour yesterday. Good: around 1, above the dashed CustomAIModelLowThroughput line.',
      'percentunit',
      [q.throughputVsYesterday],
      thresholds=d.below([c.modelThroughputMinRatioToYesterday]),
      alerts=['CustomAIModelLowThroughput'],
      min=0,
    ),
    errorRatio: d.timeseries(
      'Error ratio by model',
      "Share of inference requests that failed per model, with the model's own threshold when it exports one. Good: below the dashed default line and its own threshold.",
      'percentunit',
      [q.errorRatio, q.errorThreshold],
      thresholds=d.above([c.modelErrorRatioThreshold]),
      alerts=['CustomAIModelHighErrorRate'],
      min=0,
    ),
    versionErrorRatio: d.timeseries(
      'Error ratio by version',
      'Share of inference requests that failed per model version. Good: a new version no worse than the old, below the dashed line.',
      'percentunit',
      [q.versionErrorRatio],
      thresholds=d.above([c.modelErrorRatioThreshold]),
      alerts=['CustomAIModelHighErrorRate'],
      min=0,
    ),
    errorsByType: d.timeseries(
      'Errors by type', 'Failed inference requests per second by error type. Good: near 0; one type dominating names the cause.', 'reqps', [q.errorsByType], min=0, stack=true
    ),
    gpuUtil: d.timeseries(
      'GPU utilisation per serving pod',
      'GPU utilisation of each pod serving a selected model. Good: busy but below the dashed CustomAIModelGpuUtilizationHigh line (requests queue above it).',
      'percent',
      [q.gpuUtil],
      thresholds=d.above([c.modelGpuUtilizationPercent]),
      alerts=['CustomAIModelGpuUtilizationHigh'],
      min=0,
      max=100,
    ),
    gpuMemory: d.timeseries(
      'GPU memory per serving pod',
      'GPU framebuffer used by each serving pod. Good: below the dashed CustomAIModelGpuMemoryHigh line (larger inputs fail with out-of-memory above it).',
      'percentunit',
      [q.gpuMemory],
      thresholds=d.above([c.modelGpuMemoryUsedRatio]),
      alerts=['CustomAIModelGpuMemoryHigh'],
      min=0,
      max=1,
    ),
    cpu: d.timeseries(
      'CPU of serving pods', 'CPU cores used by each pod serving a selected model version (pre/post-processing, batching). Good: flat, proportional to throughput.', 'short', [q.cpu], min=0
    ),
    memory: d.timeseries(
      'Memory of serving pods', 'Working-set memory of each pod serving a selected model version. Good: flat; steady growth is a leak heading for an OOM kill.', 'bytes', [q.memory], min=0
    ),
    drift: d.timeseries(
      'Prediction score drift',
      'Relative shift of the mean output score over the last hour against its 7-day mean, per version. Good: below the dashed CustomAIModelPredictionDrift line.',
      'percentunit',
      [q.drift],
      thresholds=d.above([c.modelDriftRelativeShift]),
      alerts=['CustomAIModelPredictionDrift'],
      min=0,
    ),
  };

  d.dashboard({
    uid: 'custom-ai-models',
    title: 'AI / Custom Models',
    tags: ['ai', 'ai-models', 'int-007'],
    description: 'How is each custom AI model (INT-007) serving, per version? Latency, throughput, errors, GPU and pod '
                 + 'resources, drift. Dashed lines are the default alert thresholds; a model may export its own.',
    refresh: '1m',
    time: 'now-6h',
    variables: [
      d.variable('model_name', 'Model', 'model:custom_model_inference_requests:rate5m'),
      d.variable('model_version', 'Version', 'custom_model_inference_requests_total', extra=['model_name=~"$model_name"']),
    ],
    panels: d.layout([
      d.row('Selected models'),
      d.height(4, [p.throughputTotal, p.errorRatioMax, p.p99Max, p.gpuUtilMax]),
      d.row('Latency'),
      [p.latency, p.versionLatency],
      d.row('Throughput and errors'),
      [p.throughput, p.throughputVsYesterday],
      [p.errorRatio, p.versionErrorRatio, p.errorsByType],
      d.row('Resources'),
      [p.gpuUtil, p.gpuMemory],
      [p.cpu, p.memory],
      d.row('Quality'),
      [p.drift],
    ]),
  })

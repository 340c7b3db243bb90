// GPU: the AI processing cluster's NVIDIA GPUs, from NVIDIA dcgm-exporter (one pod per GPU node).
// Its series carry `Hostname` (the node), `gpu` (index), `UUID`, `modelName` and, with the
// Kubernetes pod mapping, the `pod`/`namespace`/`container` using the GPU. Per-GPU recording rules
// take the max over those (a time-sliced GPU is reported once per pod), then per node and per
// cluster. Alerts go to the AI infrastructure team (team="ai-infrastructure").
local config = import '../../lib/config.libsonnet';
local selectors = import '../../lib/selectors.libsonnet';

{
  _config+:: config {
    // Extra matchers ANDed into every selector on the dcgm-exporter series, e.g. 'job="dcgm-exporter"'.
    dcgmSelector: '',
    // Labels identifying one GPU (dcgm-exporter's own) and the node it is in.
    gpuLabels: ['Hostname', 'gpu', 'UUID', 'modelName'],
    gpuNodeLabel: 'Hostname',
    gpuAlertLabels: { component: 'gpu', team: 'ai-infrastructure' },
    // Defaults of the declared alert parameters.
    gpuUtilizationHighPercent: 85,
    gpuUtilizationSaturatedPercent: 95,
    gpuTemperatureCelsius: 85,
    gpuMemoryUsedRatio: 0.9,
  },

  local c = $._config,
  local rules = (import '../../lib/rules.libsonnet')(c),
  local sel = selectors.of([c.dcgmSelector]),
  local perGpu = rules.by(c.gpuLabels),
  local perNode = rules.by([c.gpuNodeLabel]),
  local perCluster = rules.by(),
  local gpuDescription = 'GPU {{ $labels.gpu }} ({{ $labels.modelName }}, {{ $labels.UUID }}) on node '
                         + '{{ $labels.%s }} in {{ $labels.environment }}/{{ $labels.cluster }}' % c.gpuNodeLabel,

  exporterMetrics:: {
    'dcgm-exporter': [
      'DCGM_FI_DEV_GPU_UTIL',
      'DCGM_FI_DEV_GPU_TEMP',
      'DCGM_FI_DEV_FB_USED',
      'DCGM_FI_DEV_FB_FREE',
      'DCGM_FI_DEV_XID_ERRORS',
      // Read by the GPUs dashboard only.
      'DCGM_FI_DEV_POWER_USAGE',
    ],
  },

  prometheusRules+:: {
    groups+: [
      rules.group('gpu-recording', [
        // Per GPU.
        rules.record('gpu:DCGM_FI_DEV_GPU_UTIL:max', 'max %s (DCGM_FI_DEV_GPU_UTIL%s)' % [perGpu, sel]),
        rules.record('gpu:DCGM_FI_DEV_GPU_TEMP:max', 'max %s (DCGM_FI_DEV_GPU_TEMP%s)' % [perGpu, sel]),
        rules.record('gpu:DCGM_FI_DEV_FB_USED:max', 'max %s (DCGM_FI_DEV_FB_USED%s)' % [perGpu, sel]),
        rules.record('gpu:DCGM_FI_DEV_FB_FREE:max', 'max %s (DCGM_FI_DEV_FB_FREE%s)' % [perGpu, sel]),
        rules.record(
          'gpu:DCGM_FI_DEV_FB_USED:ratio',
          'gpu:DCGM_FI_DEV_FB_USED:max / (gpu:DCGM_FI_DEV_FB_USED:max + gpu:DCGM_FI_DEV_FB_FREE:max)',
        ),
        rules.record('gpu:DCGM_FI_DEV_XID_ERRORS:max', 'max %s (DCGM_FI_DEV_XID_ERRORS%s)' % [perGpu, sel]),
        // Per node and per cluster (utilisation in percent, memory as a ratio of the framebuffer).
        rules.record('node:DCGM_FI_DEV_GPU_UTIL:avg', 'avg %s (gpu:DCGM_FI_DEV_GPU_UTIL:max)' % perNode),
        rules.record('cluster:DCGM_FI_DEV_GPU_UTIL:avg', 'avg %s (gpu:DCGM_FI_DEV_GPU_UTIL:max)' % perCluster),
        rules.record(
          'node:DCGM_FI_DEV_FB_USED:ratio',
          'sum %s (gpu:DCGM_FI_DEV_FB_USED:max) / sum %s (gpu:DCGM_FI_DEV_FB_USED:max + gpu:DCGM_FI_DEV_FB_FREE:max)'
          % [perNode, perNode],
        ),
        rules.record(
          'cluster:DCGM_FI_DEV_FB_USED:ratio',
          'sum %s (gpu:DCGM_FI_DEV_FB_USED:max) / sum %s (gpu:DCGM_FI_DEV_FB_USED:max + gpu:DCGM_FI_DEV_FB_FREE:max)'
          % [perCluster, perCluster],
        ),
        rules.record('node:DCGM_FI_DEV_GPU_TEMP:max', 'max %s (gpu:DCGM_FI_DEV_GPU_TEMP:max)' % perNode),
        rules.record('cluster:DCGM_FI_DEV_GPU_UTIL:count', 'count %s (gpu:DCGM_FI_DEV_GPU_UTIL:max)' % perCluster),
      ]),
      // Smoothed series for long-range dashboards and capacity planning (evaluated every minute).
      rules.group('gpu-downsampled-recording', [
        rules.record('node:DCGM_FI_DEV_GPU_UTIL:avg_over_time' + w, 'avg_over_time(node:DCGM_FI_DEV_GPU_UTIL:avg[%s])' % w)
        for w in ['5m', '1h']
      ] + [
        rules.record('cluster:DCGM_FI_DEV_GPU_UTIL:avg_over_time' + w, 'avg_over_time(cluster:DCGM_FI_DEV_GPU_UTIL:avg[%s])' % w)
        for w in ['5m', '1h']
      ] + [
        rules.record('node:DCGM_FI_DEV_FB_USED:ratio_avg_over_time' + w, 'avg_over_time(node:DCGM_FI_DEV_FB_USED:ratio[%s])' % w)
        for w in ['5m', '1h']
      ] + [
        rules.record('cluster:DCGM_FI_DEV_FB_USED:ratio_avg_over_time' + w, 'avg_over_time(cluster:DCGM_FI_DEV_FB_USED:ratio[%s])' % w)
        for w in ['5m', '1h']
      ] + [
        rules.record('node:DCGM_FI_DEV_GPU_TEMP:max_over_time' + w, 'max_over_time(node:DCGM_FI_DEV_GPU_TEMP:max[%s])' % w)
        for w in ['5m', '1h']
      ], interval='1m'),
    ],
  },

  prometheusAlerts+:: {
    groups+: [
      rules.group('gpu-alerts', [
        rules.alert({
          name: 'GpuUtilizationHigh',
          expr: 'cluster:DCGM_FI_DEV_GPU_UTIL:avg > %s' % rules.param('thresholdPercent'),
          'for': '10m',
          severity: 'warning',
          priority: 'P3',
          labels: c.gpuAlertLabels { symptom: 'gpu-utilization' },
          summary: 'The GPU pool is running close to its capacity.',
          description: 'Average GPU utilisation in {{ $labels.environment }}/{{ $labels.cluster }} is '
                       + '{{ $value | humanize }}%% (threshold %s%%): new AI jobs will soon queue; add GPU capacity.'
                         % rules.param('thresholdPercent'),
          params: { thresholdPercent: c.gpuUtilizationHighPercent },
        }),
        rules.alert({
          name: 'GpuUtilizationSaturated',
          expr: 'cluster:DCGM_FI_DEV_GPU_UTIL:avg > %s' % rules.param('thresholdPercent'),
          'for': '5m',
          severity: 'critical',
          priority: 'P2',
          labels: c.gpuAlertLabels { symptom: 'gpu-utilization' },
          summary: 'The GPU pool is saturated.',
          description: 'Average GPU utilisation in {{ $labels.environment }}/{{ $labels.cluster }} is '
                       + '{{ $value | humanize }}%% (threshold %s%%): AI generations and model inference are '
                         % rules.param('thresholdPercent')
                       + 'queuing and slowing down.',
          params: { thresholdPercent: c.gpuUtilizationSaturatedPercent },
        }),
        rules.alert({
          name: 'GpuTemperatureHigh',
          expr: 'gpu:DCGM_FI_DEV_GPU_TEMP:max > %s' % rules.param('thresholdCelsius'),
          'for': '5m',
          severity: 'critical',
          priority: 'P2',
          labels: c.gpuAlertLabels,
          summary: 'A GPU is running too hot.',
          description: gpuDescription + ' is at {{ $value | humanize }} C (threshold %s C): '
                                        % rules.param('thresholdCelsius')
                       + 'it will throttle its clocks and may shut down.',
          params: { thresholdCelsius: c.gpuTemperatureCelsius },
        }),
        rules.alert({
          name: 'GpuMemoryHigh',
          expr: 'gpu:DCGM_FI_DEV_FB_USED:ratio > %s' % rules.param('threshold'),
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          labels: c.gpuAlertLabels,
          summary: 'A GPU has almost no free memory left.',
          description: gpuDescription + ' uses {{ $value | humanizePercentage }} of its memory '
                       + '(threshold {{ %s | humanizePercentage }}): the next model load or larger batch '
                         % rules.param('threshold')
                       + 'fails with out-of-memory.',
          params: { threshold: c.gpuMemoryUsedRatio },
        }),
        rules.alert({
          name: 'GpuXidErrors',
          expr: 'gpu:DCGM_FI_DEV_XID_ERRORS:max > 0',
          'for': '1m',
          severity: 'warning',
          priority: 'P2',
          labels: c.gpuAlertLabels,
          summary: 'A GPU reported an XID error.',
          description: gpuDescription + ' reported XID error {{ $value }} (the last one the driver '
                       + 'logged): look the code up before it takes workloads down.',
        }),
      ]),
    ],
  },

  // Infrastructure / GPUs; thresholds from _config above.
  dashboardFolder:: 'Infrastructure',
  grafanaDashboards+:: {
    'gpus.json': (import 'gpus.libsonnet')(c),
  },
}

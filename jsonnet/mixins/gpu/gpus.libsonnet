// Infrastructure / GPUs: the AI processing cluster's NVIDIA GPUs from dcgm-exporter: pool
// utilisation and memory, then per GPU (the `node` variable picks the hosts) utilisation, memory,
// temperature, power, XID errors and the pods using each GPU. Reads the gpu mixin's recording rules;
// thresholds are its `_config` (`c`), the defaults of its alerts' parameters.

function(c)
  local d = (import '../../lib/dashboards.libsonnet')(c);
  local s = d.selector();
  local node = d.selector(['%s=~"$node"' % c.gpuNodeLabel]);
  local raw = d.selector(std.filter(function(m) m != '', [c.dcgmSelector, '%s=~"$node"' % c.gpuNodeLabel]));
  local gpuLegend = '{{%s}} GPU {{gpu}}' % c.gpuNodeLabel;

  local q = {
    count: d.target('cluster:DCGM_FI_DEV_GPU_UTIL:count%s' % s, 'GPUs'),
    poolUtil: d.target('cluster:DCGM_FI_DEV_GPU_UTIL:avg%s' % s, 'pool'),
    poolMemory: d.target('cluster:DCGM_FI_DEV_FB_USED:ratio%s' % s, 'pool'),
    hottest: d.target('max (node:DCGM_FI_DEV_GPU_TEMP:max%s)' % s, 'hottest'),
    xid: d.target('count (gpu:DCGM_FI_DEV_XID_ERRORS:max%s > 0) or vector(0)' % s, 'GPUs with XID errors'),
    poolUtilTrend: d.target('cluster:DCGM_FI_DEV_GPU_UTIL:avg%s' % s, 'pool (5m)'),
    poolUtilHour: d.target('cluster:DCGM_FI_DEV_GPU_UTIL:avg_over_time1h%s' % s, 'pool (1h average)'),
    nodeUtil: d.target('node:DCGM_FI_DEV_GPU_UTIL:avg%s' % node, '{{%s}}' % c.gpuNodeLabel),
    util: d.target('gpu:DCGM_FI_DEV_GPU_UTIL:max%s' % node, gpuLegend),
    memoryRatio: d.target('gpu:DCGM_FI_DEV_FB_USED:ratio%s' % node, gpuLegend),
    memoryUsed: d.target('gpu:DCGM_FI_DEV_FB_USED:max%s' % node, gpuLegend),
    temp: d.target('gpu:DCGM_FI_DEV_GPU_TEMP:max%s' % node, gpuLegend),
    power: d.target('max by (%s, gpu) (DCGM_FI_DEV_POWER_USAGE%s)' % [c.gpuNodeLabel, raw], gpuLegend),
    xidByGpu: d.target('gpu:DCGM_FI_DEV_XID_ERRORS:max%s > 0' % node, gpuLegend),
    pods: d.target(
      'max by (%s, gpu, modelName, namespace, pod) (DCGM_FI_DEV_GPU_UTIL%s)' % [c.gpuNodeLabel, raw], '', instant=true, format='table'
    ),
  };

  local utilThresholds = d.above([c.gpuUtilizationHighPercent, c.gpuUtilizationSaturatedPercent]);
  local utilAlerts = ['GpuUtilizationHigh', 'GpuUtilizationSaturated'];
  local memoryThresholds = d.above([c.gpuMemoryUsedRatio]);
  local tempThresholds = d.above([c.gpuTemperatureCelsius]);

  local p = {
    count: d.stat('GPUs', 'GPUs dcgm-exporter reports. Good: every GPU of the AI node pool; fewer means a node or its driver is gone.', 'short', [q.count], graph=false),
    poolUtil: d.stat(
      'Pool utilisation',
      'Average utilisation of all GPUs. Good: busy but green, below the GpuUtilizationHigh threshold; above it jobs start to queue.',
      'percent',
      [q.poolUtil],
      thresholds=utilThresholds,
      alerts=utilAlerts,
    ),
    poolMemory: d.stat(
      'Pool memory used',
      'Share of all GPU memory in use. Good: green; the GpuMemoryHigh threshold applies to each GPU.',
      'percentunit',
      [q.poolMemory],
      thresholds=memoryThresholds,
      alerts=['GpuMemoryHigh'],
    ),
    hottest: d.stat(
      'Hottest GPU', 'Temperature of the hottest GPU. Good: green, below the GpuTemperatureHigh threshold.', 'celsius', [q.hottest], thresholds=tempThresholds, alerts=['GpuTemperatureHigh']
    ),
    xid: d.stat(
      'GPUs with XID errors', 'GPUs whose driver reported an XID error. Good: 0.', 'short', [q.xid], thresholds=d.countBad, alerts=['GpuXidErrors']
    ),
    poolTrend: d.timeseries(
      'Pool utilisation: 5 minutes and 1 hour',
      'Average GPU utilisation of the pool, and its 1-hour average for capacity planning. Good: below the dashed GpuUtilizationHigh line (the second is GpuUtilizationSaturated).',
      'percent',
      [q.poolUtilTrend, q.poolUtilHour],
      thresholds=utilThresholds,
      alerts=utilAlerts,
      min=0,
      max=100,
    ),
    nodeUtil: d.timeseries(
      'Utilisation by node', 'Average GPU utilisation per node. Good: load spread over the nodes.', 'percent', [q.nodeUtil], min=0, max=100
    ),
    util: d.timeseries(
      'Utilisation by GPU',
      'Utilisation of each GPU. Good: busy while jobs run; the alerts watch the pool average (dashed lines).',
      'percent',
      [q.util],
      thresholds=utilThresholds,
      alerts=utilAlerts,
      min=0,
      max=100,
    ),
    memoryRatio: d.timeseries(
      'Memory used by GPU',
      "Share of each GPU's framebuffer in use. Good: below the dashed GpuMemoryHigh line; above it the next model load can fail with out-of-memory.",
      'percentunit',
      [q.memoryRatio],
      thresholds=memoryThresholds,
      alerts=['GpuMemoryHigh'],
      min=0,
      max=1,
    ),
    memoryUsed: d.timeseries('Memory used (MiB)', 'Framebuffer memory in use per GPU. Good: the size of the models loaded, stable.', 'mbytes', [q.memoryUsed], min=0),
    temp: d.timeseries(
      'Temperature by GPU',
      'Temperature of each GPU. Good: below the dashed GpuTemperatureHigh line; hotter GPUs throttle their clocks.',
      'celsius',
      [q.temp],
      thresholds=tempThresholds,
      alerts=['GpuTemperatureHigh'],
    ),
    power: d.timeseries('Power draw by GPU', 'Power each GPU draws. Good: follows utilisation; flat at the cap while busy means power throttling.', 'watt', [q.power], min=0),
    xidByGpu: d.timeseries(
      'XID errors by GPU', "The last XID error code each GPU reported (absent: none). Good: empty; look the code up in NVIDIA's XID table.", 'short', [q.xidByGpu], alerts=['GpuXidErrors']
    ),
    pods: d.table(
      'Pods using the GPUs',
      "Each GPU with the pod using it (dcgm-exporter's Kubernetes mapping) and its current utilisation. Good: every busy GPU has an owner; a busy GPU without a pod is a leak.",
      'percent',
      [q.pods],
    ),
  };

  d.withNeighbours(
    d.dashboard({
      uid: 'gpus',
      title: 'Infrastructure / GPUs',
      tags: ['infrastructure', 'gpu', 'ai'],
      description: 'Does the AI processing cluster have GPU capacity, and are its GPUs healthy? Pool utilisation and '
                   + 'memory, then every GPU of the selected nodes, from NVIDIA dcgm-exporter. Dashed lines are the alert '
                   + 'thresholds (Jsonnet defaults; an environment may override them in Helm values).',
      variables: [d.variable('node', 'Node', 'gpu:DCGM_FI_DEV_GPU_UTIL:max', labelName=c.gpuNodeLabel)],
      panels: d.layout([
        d.row('Pool'),
        d.height(4, [p.count, p.poolUtil, p.poolMemory, p.hottest, p.xid]),
        [p.poolTrend, p.nodeUtil],
        d.row('GPUs'),
        [p.util, p.memoryRatio, p.memoryUsed],
        [p.temp, p.power, p.xidByGpu],
        d.height(10, [p.pods]),
      ]),
    }),
    [
      d.neighbour('custom-ai-models', 'Custom AI models'),
      d.neighbour('nodes', 'Nodes'),
      d.neighbour('ai-model-logs', 'AI model logs'),
    ],
  )

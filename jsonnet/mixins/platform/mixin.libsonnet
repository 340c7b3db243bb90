// Platform: the cluster's nodes, from node_exporter (one target per node).
// Recording rules compute utilisation and saturation per node (`instance:`, `instance_device:`,
// `instance_mountpoint:`) and per cluster (`cluster:`), plus 1h downsampled aggregates
// (`..._avg_over_time1h`, `..._max_over_time1h`, `..._min_over_time1h`) for capacity planning
// and long-term trends (a year of 1h aggregates is cheap to keep and to query).
// Every aggregation keeps cluster and environment. Ratios are 0..1.
local config = import '../../lib/config.libsonnet';

{
  _config+:: config {
    // Matchers ANDed into every node_exporter selector (the scrape job of the node-exporter chart).
    nodeExporterSelector: 'job="node-exporter"',
    // Real filesystems only: no pseudo/overlay filesystems, no kubelet volume mounts (persistent
    // volumes are watched by the kubernetes mixin through kubelet_volume_stats_*).
    filesystemSelector: 'fstype!="", fstype!~"tmpfs|ramfs|squashfs|overlay|nsfs|autofs|iso9660|fuse.lxcfs", '
                        + 'mountpoint!~"/boot.*|/var/lib/kubelet/(pods|plugins)/.+"',
    // Block devices (not partitions of loop/ram devices).
    diskDeviceSelector: 'device=~"(/dev/)?(mmcblk.p.+|nvme.+|rbd.+|sd.+|vd.+|xvd.+|dm-.+|md.+|dasd.+)"',
    // Physical and bond interfaces only: not loopback, not the per-pod virtual interfaces of the CNI.
    networkDeviceSelector: 'device!~"lo|veth.+|cali.+|cilium.+|lxc.+|flannel.+|cni.+|docker.+|tunl.+|vxlan.+|kube-ipvs.+|virbr.+|br-.+"',

    // Defaults of the declared alert parameters (overridable per environment in Helm values).
    nodeCpuUsageHighThreshold: 0.8,
    nodeCpuUsageCriticalThreshold: 0.9,
    nodeMemoryUsageHighThreshold: 0.85,
    nodeMemoryUsageCriticalThreshold: 0.95,
    nodeFilesystemSpaceLowThreshold: 0.2,  // available ratio: warning above 80% used
    nodeFilesystemSpaceCriticalThreshold: 0.1,  // available ratio: critical above 90% used
    nodeFilesystemFillingUpAvailableRatio: 0.4,  // only predict for filesystems less free than this
    nodeFilesystemFillingUpHours: 24,
    nodeDiskIoSaturatedQueueLength: 10,  // average number of I/O requests in flight
    nodeNetworkErrorRatioThreshold: 0.01,
    nodeClockSkewThresholdSeconds: 0.05,
  },

  local c = $._config,
  local rules = (import '../../lib/rules.libsonnet')(c),
  local by = rules.by,
  local ne = c.nodeExporterSelector,
  local fs = ne + ', ' + c.filesystemSelector,
  local disk = ne + ', ' + c.diskDeviceSelector,
  local net = ne + ', ' + c.networkDeviceSelector,
  local mount = ['instance', 'device', 'mountpoint'],
  local where = 'in {{ $labels.environment }}/{{ $labels.cluster }}',
  local node = 'node {{ $labels.instance }} ' + where,
  local alert(spec) = rules.alert(spec { labels+: { component: 'node' } }),
  // 1h downsampled aggregates of a recorded series: <record>_<fn>1h.
  local downsample(record, fns) = [
    rules.record(record + '_' + fn + '1h', '%s(%s[1h])' % [fn, record])
    for fn in fns
  ],

  prometheusRules+:: {
    groups+: [
      // CPU per node and per cluster, a group of its own: node_cpu_seconds_total (a series per
      // CPU and mode) is the largest family a node exports, and Prometheus evaluates groups side
      // by side but a group's rules one after another.
      rules.group('platform-recording-cpu', [
        rules.record(
          'instance:node_num_cpu:sum',
          'count %s (node_cpu_seconds_total{%s, mode="idle"})' % [by(['instance']), ne],
        ),
        // Busy share of all CPUs: 1 - (idle + iowait + steal), averaged over the CPUs.
        rules.record(
          'instance:node_cpu_utilisation:rate5m',
          '1 - avg %s (sum %s (rate(node_cpu_seconds_total{%s, mode=~"idle|iowait|steal"}[5m])))'
          % [by(['instance']), by(['instance', 'cpu']), ne],
        ),
        rules.record(
          'instance:node_load1_per_cpu:ratio',
          'max %s (node_load1{%s}) / instance:node_num_cpu:sum' % [by(['instance']), ne],
        ),
        // Per cluster.
        // CPU-weighted: a 64-core node counts 16 times as much as a 4-core one.
        rules.record(
          'cluster:node_cpu_utilisation:ratio_rate5m',
          'sum %s (instance:node_cpu_utilisation:rate5m * instance:node_num_cpu:sum)'
          % by() + ' / sum %s (instance:node_num_cpu:sum)' % by(),
        ),
        rules.record(
          'cluster:node_load1_per_cpu:ratio',
          'sum %s (instance:node_load1_per_cpu:ratio * instance:node_num_cpu:sum)'
          % by() + ' / sum %s (instance:node_num_cpu:sum)' % by(),
        ),
      ]),
      rules.group('platform-recording', [
        // Per node.
        rules.record(
          'instance:node_memory_utilisation:ratio',
          '1 - sum %s (node_memory_MemAvailable_bytes{%s}) / sum %s (node_memory_MemTotal_bytes{%s})'
          % [by(['instance']), ne, by(['instance']), ne],
        ),
        // Share of time the device was busy (1 = always at least one request in flight).
        rules.record(
          'instance_device:node_disk_io_time_seconds:rate5m',
          'sum %s (rate(node_disk_io_time_seconds_total{%s}[5m]))' % [by(['instance', 'device']), disk],
        ),
        // Average number of requests in flight (queue length): the saturation signal for SSDs too.
        rules.record(
          'instance_device:node_disk_io_time_weighted_seconds:rate5m',
          'sum %s (rate(node_disk_io_time_weighted_seconds_total{%s}[5m]))' % [by(['instance', 'device']), disk],
        ),
        rules.record(
          'instance:node_disk_read_bytes:rate5m',
          'sum %s (rate(node_disk_read_bytes_total{%s}[5m]))' % [by(['instance']), disk],
        ),
        rules.record(
          'instance:node_disk_written_bytes:rate5m',
          'sum %s (rate(node_disk_written_bytes_total{%s}[5m]))' % [by(['instance']), disk],
        ),
        // Available share of each writable filesystem (read-only mounts cannot fill up).
        rules.record(
          'instance_mountpoint:node_filesystem_avail:ratio',
          '(max %s (node_filesystem_avail_bytes{%s}) / max %s (node_filesystem_size_bytes{%s}))'
          % [by(mount), fs, by(mount), fs]
          + ' unless on (%s) (max %s (node_filesystem_readonly{%s}) == 1)'
            % [std.join(', ', c.aggregationLabels + mount), by(mount), fs],
        ),
        rules.record(
          'instance:node_network_receive_bytes:rate5m',
          'sum %s (rate(node_network_receive_bytes_total{%s}[5m]))' % [by(['instance']), net],
        ),
        rules.record(
          'instance:node_network_transmit_bytes:rate5m',
          'sum %s (rate(node_network_transmit_bytes_total{%s}[5m]))' % [by(['instance']), net],
        ),
        // Receive + transmit errors per packet.
        rules.record(
          'instance:node_network_errors:ratio_rate5m',
          '(sum %(by)s (rate(node_network_receive_errs_total{%(net)s}[5m]))'
          % { by: by(['instance']), net: net }
          + ' + sum %(by)s (rate(node_network_transmit_errs_total{%(net)s}[5m])))'
            % { by: by(['instance']), net: net }
          + ' / (sum %(by)s (rate(node_network_receive_packets_total{%(net)s}[5m]))'
            % { by: by(['instance']), net: net }
          + ' + sum %(by)s (rate(node_network_transmit_packets_total{%(net)s}[5m])))'
            % { by: by(['instance']), net: net },
        ),

        // Per cluster.
        rules.record(
          'cluster:node_memory_utilisation:ratio',
          '1 - sum %s (node_memory_MemAvailable_bytes{%s}) / sum %s (node_memory_MemTotal_bytes{%s})'
          % [by(), ne, by(), ne],
        ),
        // Per device, so a device mounted twice (bind mounts) counts once.
        rules.record(
          'cluster:node_filesystem_avail:ratio',
          'sum %s (max %s (node_filesystem_avail_bytes{%s}))' % [by(), by(['instance', 'device']), fs]
          + ' / sum %s (max %s (node_filesystem_size_bytes{%s}))' % [by(), by(['instance', 'device']), fs],
        ),
        rules.record(
          'cluster:node_disk_io_bytes:rate5m',
          'sum %s (instance:node_disk_read_bytes:rate5m) + sum %s (instance:node_disk_written_bytes:rate5m)'
          % [by(), by()],
        ),
        rules.record(
          'cluster:node_network_receive_bytes:rate5m',
          'sum %s (instance:node_network_receive_bytes:rate5m)' % by(),
        ),
        rules.record(
          'cluster:node_network_transmit_bytes:rate5m',
          'sum %s (instance:node_network_transmit_bytes:rate5m)' % by(),
        ),
      ]),
      // Memory saturation and errors per node (the Nodes dashboard): pages read back from disk
      // (thrashing) and processes the kernel OOM killer ended. Counters without a _total suffix.
      rules.group('platform-recording-memory', [
        rules.record(
          'instance:node_vmstat_pgmajfault:rate5m',
          'sum %s (rate(node_vmstat_pgmajfault{%s}[5m]))' % [by(['instance']), ne],
        ),
        rules.record(
          'instance:node_vmstat_oom_kill:increase5m',
          'sum %s (increase(node_vmstat_oom_kill{%s}[5m]))' % [by(['instance']), ne],
        ),
      ]),
      // Downsampled: one sample a minute of the last hour's average/peak, for dashboards over
      // weeks and months and for long-term storage (remote write / federation).
      rules.group(
        'platform-recording-1h',
        downsample('instance:node_cpu_utilisation:rate5m', ['avg_over_time', 'max_over_time'])
        + downsample('instance:node_memory_utilisation:ratio', ['avg_over_time', 'max_over_time'])
        + downsample('instance:node_load1_per_cpu:ratio', ['avg_over_time'])
        + downsample('instance_mountpoint:node_filesystem_avail:ratio', ['min_over_time'])
        + downsample('cluster:node_cpu_utilisation:ratio_rate5m', ['avg_over_time', 'max_over_time'])
        + downsample('cluster:node_memory_utilisation:ratio', ['avg_over_time', 'max_over_time'])
        + downsample('cluster:node_filesystem_avail:ratio', ['min_over_time'])
        + downsample('cluster:node_disk_io_bytes:rate5m', ['avg_over_time'])
        + downsample('cluster:node_network_receive_bytes:rate5m', ['avg_over_time'])
        + downsample('cluster:node_network_transmit_bytes:rate5m', ['avg_over_time']),
        interval='1m',
      ),
    ],
  },

  prometheusAlerts+:: {
    groups+: [
      rules.group('platform-alerts', [
        alert({
          name: 'NodeCpuUsageHigh',
          expr: 'instance:node_cpu_utilisation:rate5m > %s' % rules.param('threshold'),
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          labels: { symptom: 'node-cpu-usage' },
          summary: 'A node has been using most of its CPU for a while.',
          description: 'CPU usage of ' + node + ' is {{ $value | humanizePercentage }} over the last '
                       + '5 minutes (threshold {{ %s | humanizePercentage }}).' % rules.param('threshold'),
          params: { threshold: c.nodeCpuUsageHighThreshold },
        }),
        alert({
          name: 'NodeCpuUsageCritical',
          expr: 'instance:node_cpu_utilisation:rate5m > %s' % rules.param('threshold'),
          'for': '5m',
          severity: 'critical',
          priority: 'P2',
          labels: { symptom: 'node-cpu-usage' },
          summary: 'A node has almost no CPU left.',
          description: 'CPU usage of ' + node + ' is {{ $value | humanizePercentage }} over the last '
                       + '5 minutes (threshold {{ %s | humanizePercentage }}); its pods are slowed down.'
                         % rules.param('threshold'),
          params: { threshold: c.nodeCpuUsageCriticalThreshold },
        }),
        alert({
          name: 'NodeMemoryUsageHigh',
          expr: 'instance:node_memory_utilisation:ratio > %s' % rules.param('threshold'),
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          labels: { symptom: 'node-memory-usage' },
          summary: 'A node has been using most of its memory for a while.',
          description: 'Memory usage of ' + node + ' is {{ $value | humanizePercentage }} '
                       + '(threshold {{ %s | humanizePercentage }}).' % rules.param('threshold'),
          params: { threshold: c.nodeMemoryUsageHighThreshold },
        }),
        alert({
          name: 'NodeMemoryUsageCritical',
          expr: 'instance:node_memory_utilisation:ratio > %s' % rules.param('threshold'),
          'for': '5m',
          severity: 'critical',
          priority: 'P2',
          labels: { symptom: 'node-memory-usage' },
          summary: 'A node is about to run out of memory.',
          description: 'Memory usage of ' + node + ' is {{ $value | humanizePercentage }} '
                       + '(threshold {{ %s | humanizePercentage }}); the kernel OOM killer or kubelet '
                         % rules.param('threshold')
                       + 'evictions are next.',
          params: { threshold: c.nodeMemoryUsageCriticalThreshold },
        }),
        alert({
          name: 'NodeFilesystemSpaceLow',
          expr: 'instance_mountpoint:node_filesystem_avail:ratio < %s' % rules.param('threshold'),
          'for': '30m',
          severity: 'warning',
          priority: 'P3',
          labels: { symptom: 'node-filesystem-space' },
          summary: 'A node filesystem is running low on space.',
          description: 'Filesystem {{ $labels.mountpoint }} ({{ $labels.device }}) on ' + node
                       + ' has {{ $value | humanizePercentage }} of its space left '
                       + '(threshold {{ %s | humanizePercentage }}).' % rules.param('threshold'),
          params: { threshold: c.nodeFilesystemSpaceLowThreshold },
        }),
        alert({
          name: 'NodeFilesystemSpaceCritical',
          expr: 'instance_mountpoint:node_filesystem_avail:ratio < %s' % rules.param('threshold'),
          'for': '5m',
          severity: 'critical',
          priority: 'P2',
          labels: { symptom: 'node-filesystem-space' },
          summary: 'A node filesystem is almost full.',
          description: 'Filesystem {{ $labels.mountpoint }} ({{ $labels.device }}) on ' + node
                       + ' has only {{ $value | humanizePercentage }} of its space left '
                       + '(threshold {{ %s | humanizePercentage }}).' % rules.param('threshold'),
          params: { threshold: c.nodeFilesystemSpaceCriticalThreshold },
        }),
        alert({
          name: 'NodeFilesystemFillingUp',
          expr: 'instance_mountpoint:node_filesystem_avail:ratio < %s' % rules.param('availableRatio')
                + ' and predict_linear(instance_mountpoint:node_filesystem_avail:ratio[6h], %s * 3600) < 0'
                  % rules.param('hours'),
          'for': '1h',
          severity: 'warning',
          priority: 'P3',
          labels: { symptom: 'node-filesystem-space' },
          summary: 'A node filesystem is predicted to fill up soon.',
          description: 'Filesystem {{ $labels.mountpoint }} ({{ $labels.device }}) on ' + node
                       + ' has {{ $value | humanizePercentage }} of its space left and, at the rate of '
                       + 'the last 6 hours, will be full within %s hours.' % rules.param('hours'),
          params: {
            availableRatio: c.nodeFilesystemFillingUpAvailableRatio,
            hours: c.nodeFilesystemFillingUpHours,
          },
        }),
        alert({
          name: 'NodeDiskIoSaturated',
          expr: 'instance_device:node_disk_io_time_weighted_seconds:rate5m > %s' % rules.param('queueLength'),
          'for': '30m',
          severity: 'warning',
          priority: 'P3',
          summary: 'A node disk cannot keep up with its I/O requests.',
          description: 'Disk {{ $labels.device }} on ' + node + ' has had {{ $value | humanize }} I/O '
                       + 'requests in flight on average over the last 5 minutes (threshold %s).'
                         % rules.param('queueLength'),
          params: { queueLength: c.nodeDiskIoSaturatedQueueLength },
        }),
        alert({
          name: 'NodeNetworkErrorRatioHigh',
          expr: 'instance:node_network_errors:ratio_rate5m > %s' % rules.param('threshold'),
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          summary: 'A node sees many network errors.',
          description: '{{ $value | humanizePercentage }} of the packets received or sent by ' + node
                       + ' over the last 5 minutes had errors (threshold {{ %s | humanizePercentage }}).'
                         % rules.param('threshold'),
          params: { threshold: c.nodeNetworkErrorRatioThreshold },
        }),
        alert({
          name: 'NodeClockSkewHigh',
          expr: 'max %s (abs(node_timex_offset_seconds{%s})) > %s'
                % [by(['instance']), ne, rules.param('thresholdSeconds')],
          'for': '10m',
          severity: 'warning',
          priority: 'P3',
          summary: 'A node clock is out of sync.',
          description: 'The clock of ' + node + ' is off by {{ $value | humanizeDuration }} '
                       + '(threshold {{ %s | humanizeDuration }}); tokens, TLS and database replication '
                         % rules.param('thresholdSeconds')
                       + 'depend on synchronised clocks.',
          params: { thresholdSeconds: c.nodeClockSkewThresholdSeconds },
        }),
        alert({
          name: 'NodeExporterDown',
          expr: 'max %s (up{%s}) == 0' % [by(['instance']), ne],
          'for': '5m',
          severity: 'warning',
          priority: 'P3',
          summary: 'Prometheus cannot scrape a node exporter.',
          description: 'The node exporter on {{ $labels.instance }} ' + where + ' has not been scraped '
                       + 'successfully for a while; CPU, memory and disk alerts for that node are blind.',
        }),
      ]),
    ],
  },

  // Raw exporter series the rules and dashboards read (checked by rules/metrics-known).
  exporterMetrics:: {
    'node-exporter': [
      'node_cpu_seconds_total',
      'node_load1',
      'node_memory_MemAvailable_bytes',
      'node_memory_MemTotal_bytes',
      'node_disk_io_time_seconds_total',
      'node_disk_io_time_weighted_seconds_total',
      'node_disk_read_bytes_total',
      'node_disk_written_bytes_total',
      'node_filesystem_avail_bytes',
      'node_filesystem_size_bytes',
      'node_filesystem_readonly',
      'node_network_receive_bytes_total',
      'node_network_transmit_bytes_total',
      'node_network_receive_errs_total',
      'node_network_transmit_errs_total',
      'node_network_receive_packets_total',
      'node_network_transmit_packets_total',
      'node_timex_offset_seconds',
      // Read by the Nodes dashboard only (memory and network saturation, OOM kills).
      'node_vmstat_pgmajfault',
      'node_vmstat_oom_kill',
      'node_network_receive_drop_total',
      'node_network_transmit_drop_total',
    ],
    prometheus: ['up'],
  },

  // Infrastructure / Nodes (USE per node); thresholds from _config above.
  dashboardFolder:: 'Infrastructure',
  grafanaDashboards+:: {
    'nodes.json': (import 'nodes.libsonnet')(c),
  },
} + (import 'node-extra.libsonnet') + (import 'systemd-restarts.libsonnet')

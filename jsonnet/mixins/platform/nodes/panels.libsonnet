// The panels of Infrastructure / Nodes over queries.libsonnet, laid out by ../nodes.libsonnet:
// each says what good looks like, has a unit, and names the alerts whose thresholds it draws.
function(c)
  local d = (import '../../../lib/dashboards.libsonnet')(c);
  local q = (import 'queries.libsonnet')(c);

  local cpuThresholds = d.above([c.nodeCpuUsageHighThreshold, c.nodeCpuUsageCriticalThreshold]);
  local memoryThresholds = d.above([c.nodeMemoryUsageHighThreshold, c.nodeMemoryUsageCriticalThreshold]);
  local fsThresholds = d.below([c.nodeFilesystemSpaceCriticalThreshold, c.nodeFilesystemSpaceLowThreshold]);

  {
    nodesUp: d.stat(
      'Node exporters up',
      'Nodes whose node_exporter answers scrapes. Good: equal to the number of nodes in the cluster; a missing one blinds every node alert for it (NodeExporterDown).',
      'short',
      [q.nodesUp],
      alerts=['NodeExporterDown'],
    ),
    nodesTotal: d.stat(
      'Node exporters discovered', 'node_exporter targets Prometheus discovers (one per node). Good: the number of nodes; fewer means the DaemonSet does not run everywhere.', 'short', [q.nodesTotal]
    ),
    clusterCpu: d.stat(
      'Cluster CPU',
      'Share of all node CPUs busy (CPU-weighted). Good: green, below the NodeCpuUsageHigh threshold.',
      'percentunit',
      [q.clusterCpu],
      thresholds=cpuThresholds,
      alerts=['NodeCpuUsageHigh', 'NodeCpuUsageCritical'],
    ),
    clusterMemory: d.stat(
      'Cluster memory',
      'Share of all node memory in use (not available). Good: green, below the NodeMemoryUsageHigh threshold.',
      'percentunit',
      [q.clusterMemory],
      thresholds=memoryThresholds,
      alerts=['NodeMemoryUsageHigh', 'NodeMemoryUsageCritical'],
    ),
    clusterFs: d.stat(
      'Cluster disk space available',
      'Share of node filesystem space still free, all nodes together. Good: green, above the NodeFilesystemSpaceLow threshold.',
      'percentunit',
      [q.clusterFs],
      thresholds=fsThresholds,
      alerts=['NodeFilesystemSpaceLow', 'NodeFilesystemSpaceCritical'],
    ),
    cpu: d.timeseries(
      'CPU utilisation',
      "Busy share of each node's CPUs (not idle, iowait or steal). Good: every line below the first dashed line (NodeCpuUsageHigh); the second is NodeCpuUsageCritical.",
      'percentunit',
      [q.cpu],
      thresholds=cpuThresholds,
      alerts=['NodeCpuUsageHigh', 'NodeCpuUsageCritical'],
      min=0,
      max=1,
    ),
    load: d.timeseries(
      'CPU saturation: load per CPU',
      '1-minute load average divided by the number of CPUs. Good: below 1 (no runnable task waits for a CPU); above 1 work queues up.',
      'short',
      [q.load],
      min=0,
    ),
    cpus: d.table('CPUs per node', 'Number of CPUs of each node. Good: the size the node pool is meant to have.', 'short', [q.cpus]),
    memory: d.timeseries(
      'Memory utilisation',
      "Share of each node's memory in use (total minus available). Good: every line below the first dashed line (NodeMemoryUsageHigh); the second is NodeMemoryUsageCritical.",
      'percentunit',
      [q.memory],
      thresholds=memoryThresholds,
      alerts=['NodeMemoryUsageHigh', 'NodeMemoryUsageCritical'],
      min=0,
      max=1,
    ),
    memoryUsed: d.timeseries(
      'Memory in use', "Bytes of memory in use per node. Good: well below the node's size with room for the pods' peaks.", 'bytes', [q.memoryUsed], min=0
    ),
    majorFaults: d.timeseries(
      'Memory saturation: major page faults',
      'Pages read back from disk per second. Good: near 0; a sustained rate means the node is short of memory and thrashing.',
      'ops',
      [q.majorFaults],
      min=0,
    ),
    oomKills: d.timeseries(
      'Memory errors: OOM kills',
      'Processes the kernel OOM killer ended in the last 5 minutes. Good: 0; each kill is a container or daemon that ran out of memory.',
      'short',
      [q.oomKills],
      min=0,
    ),
    diskBusy: d.timeseries(
      'Disk utilisation: time busy',
      'Share of time each block device had at least one request in flight. Good: well below 100%; a disk at 100% for long is at its limit (for SSDs see the queue).',
      'percentunit',
      [q.diskBusy],
      min=0,
      max=1,
    ),
    diskQueue: d.timeseries(
      'Disk saturation: requests in flight',
      'Average number of I/O requests in flight per device. Good: below the dashed NodeDiskIoSaturated line; above it requests wait.',
      'short',
      [q.diskQueue],
      thresholds=d.above([c.nodeDiskIoSaturatedQueueLength]),
      alerts=['NodeDiskIoSaturated'],
      min=0,
    ),
    diskThroughput: d.timeseries(
      'Disk throughput', "Bytes read and written per second per node. Good: the usual shape; a plateau may be the disk's limit.", 'Bps', [q.diskRead, q.diskWritten], min=0
    ),
    fsAvail: d.timeseries(
      'Filesystem space available',
      'Free share of each writable filesystem. Good: every line above the upper dashed line (NodeFilesystemSpaceLow); the lower one is NodeFilesystemSpaceCritical.',
      'percentunit',
      [q.fsAvail],
      thresholds=fsThresholds,
      alerts=['NodeFilesystemSpaceLow', 'NodeFilesystemSpaceCritical', 'NodeFilesystemFillingUp'],
      min=0,
      max=1,
    ),
    netThroughput: d.timeseries(
      'Network utilisation: throughput',
      'Bytes received and sent per second on the physical interfaces. Good: well below the link speed.',
      'Bps',
      [q.netReceive, q.netTransmit],
      min=0,
    ),
    netDrops: d.timeseries(
      'Network saturation: dropped packets',
      'Packets dropped per second (receive + transmit) on the physical interfaces. Good: 0; drops mean full queues or buffers.',
      'pps',
      [q.netDrops],
      min=0,
    ),
    netErrors: d.timeseries(
      'Network errors',
      'Share of packets with errors (receive + transmit). Good: below the dashed NodeNetworkErrorRatioHigh line, normally 0.',
      'percentunit',
      [q.netErrors],
      thresholds=d.above([c.nodeNetworkErrorRatioThreshold]),
      alerts=['NodeNetworkErrorRatioHigh'],
      min=0,
    ),
    clockOffset: d.timeseries(
      'Clock offset',
      "How far each node's clock is off (absolute). Good: below the dashed NodeClockSkewHigh line; tokens, TLS and replication depend on it.",
      's',
      [q.clockOffset],
      thresholds=d.above([c.nodeClockSkewThresholdSeconds]),
      alerts=['NodeClockSkewHigh'],
      min=0,
    ),
  }

// The queries of Infrastructure / Nodes, one object of d.target(expr, legend);
// panels.libsonnet draws them and ../nodes.libsonnet lays the panels out.
// `c` is the mixin's _config.
function(c)
  local d = (import '../../../lib/dashboards.libsonnet')(c);
  local s = d.selector();
  local node = d.selector(['instance=~"$instance"']);
  // Raw node_exporter series of the selected nodes (the scrape job's matchers first).
  local raw(extra=[]) = d.selector([c.nodeExporterSelector, 'instance=~"$instance"'] + extra);

  {
    nodesUp: d.target('sum (up%s)' % d.selector([c.nodeExporterSelector]), 'up'),
    nodesTotal: d.target('count (up%s)' % d.selector([c.nodeExporterSelector]), 'discovered'),
    clusterCpu: d.target('cluster:node_cpu_utilisation:ratio_rate5m%s' % s, 'CPU'),
    clusterMemory: d.target('cluster:node_memory_utilisation:ratio%s' % s, 'memory'),
    clusterFs: d.target('cluster:node_filesystem_avail:ratio%s' % s, 'available'),
    cpu: d.target('instance:node_cpu_utilisation:rate5m%s' % node, '{{instance}}'),
    load: d.target('instance:node_load1_per_cpu:ratio%s' % node, '{{instance}}'),
    cpus: d.target('instance:node_num_cpu:sum%s' % node, '{{instance}}', instant=true, format='table'),
    memory: d.target('instance:node_memory_utilisation:ratio%s' % node, '{{instance}}'),
    memoryUsed: d.target(
      'sum by (instance) (node_memory_MemTotal_bytes%s - node_memory_MemAvailable_bytes%s)' % [raw(), raw()], '{{instance}}'
    ),
    majorFaults: d.target('instance:node_vmstat_pgmajfault:rate5m%s' % node, '{{instance}}'),
    oomKills: d.target('instance:node_vmstat_oom_kill:increase5m%s' % node, '{{instance}}'),
    diskBusy: d.target('instance_device:node_disk_io_time_seconds:rate5m%s' % node, '{{instance}} {{device}}'),
    diskQueue: d.target('instance_device:node_disk_io_time_weighted_seconds:rate5m%s' % node, '{{instance}} {{device}}'),
    diskRead: d.target('instance:node_disk_read_bytes:rate5m%s' % node, '{{instance}} read'),
    diskWritten: d.target('instance:node_disk_written_bytes:rate5m%s' % node, '{{instance}} written'),
    fsAvail: d.target('instance_mountpoint:node_filesystem_avail:ratio%s' % node, '{{instance}} {{mountpoint}}'),
    netReceive: d.target('instance:node_network_receive_bytes:rate5m%s' % node, '{{instance}} received'),
    netTransmit: d.target('instance:node_network_transmit_bytes:rate5m%s' % node, '{{instance}} sent'),
    netDrops: d.target(
      'sum by (instance) (rate(node_network_receive_drop_total%s[$__rate_interval]) + rate(node_network_transmit_drop_total%s[$__rate_interval]))'
      % [raw([c.networkDeviceSelector]), raw([c.networkDeviceSelector])],
      '{{instance}}'
    ),
    netErrors: d.target('instance:node_network_errors:ratio_rate5m%s' % node, '{{instance}}'),
    clockOffset: d.target('max by (instance) (abs(node_timex_offset_seconds%s))' % raw(), '{{instance}}'),
  }

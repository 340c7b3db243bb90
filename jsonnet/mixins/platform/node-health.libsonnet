// Infrastructure / Node health: the kernel tables, devices, pressure and clock of the nodes picked
// with `instance`, next to the USE view of Infrastructure / Nodes. Each panel names the alerts of
// node-extra.libsonnet it mirrors; thresholds are their parameters' defaults.

function(c)
  local d = (import '../../lib/dashboards.libsonnet')(c);
  local node = d.selector(['instance=~"$instance"']);
  local raw(extra=[]) = d.selector([c.nodeExporterSelector, 'instance=~"$instance"'] + extra);

  local q = {
    // Restarts per 5 minutes, the alert's window, so the line is its threshold.
    systemdRestarts: d.target(
      'max by (instance, name) (rate(node_systemd_service_restart_total%s[$__rate_interval])) * 300' % raw(), '{{instance}} {{name}}'
    ),
    inodes: d.target('instance_mountpoint:node_filesystem_files_free:ratio%s' % node, '{{instance}} {{mountpoint}}'),
    conntrack: d.target('instance:node_nf_conntrack_entries:ratio%s' % node, '{{instance}}'),
    filefd: d.target('instance:node_filefd_allocated:ratio%s' % node, '{{instance}}'),
    ifaceUp: d.target('max by (instance, device) (node_network_up%s)' % raw([c.networkDeviceSelector]), '{{instance}} {{device}}'),
    ifaceChanges: d.target(
      'max by (instance, device) (changes(node_network_up%s[5m]))' % raw([c.networkDeviceSelector]), '{{instance}} {{device}}'
    ),
    systemdFailed: d.target(
      'max by (instance, name) (node_systemd_unit_state%s) == 1' % raw(['state="failed"']), '', instant=true, format='table'
    ),
    raidMissing: d.target(
      'max by (instance, device) (node_md_disks_required%s) - max by (instance, device) (node_md_disks%s)'
      % [raw(), raw(['state="active"'])],
      '{{instance}} {{device}} missing'
    ),
    raidFailed: d.target('max by (instance, device) (node_md_disks%s)' % raw(['state="failed"']), '{{instance}} {{device}} failed'),
    bondInactive: d.target(
      'max by (instance, master) (node_bonding_slaves%s) - max by (instance, master) (node_bonding_active%s)' % [raw(), raw()],
      '{{instance}} {{master}}'
    ),
    textfile: d.target('max by (instance) (node_textfile_scrape_error%s)' % raw(), '{{instance}}'),
    majorFaults: d.target('instance:node_vmstat_pgmajfault:rate5m%s' % node, '{{instance}}'),
    psiMemory: d.target('instance:node_pressure_memory_waiting_seconds:rate5m%s' % node, '{{instance}} memory'),
    psiIo: d.target('instance:node_pressure_io_waiting_seconds:rate5m%s' % node, '{{instance}} io'),
    psiCpu: d.target('instance:node_pressure_cpu_waiting_seconds:rate5m%s' % node, '{{instance}} cpu'),
    syncStatus: d.target('max by (instance) (node_timex_sync_status%s)' % raw(), '{{instance}} synchronised'),
    maxError: d.target('max by (instance) (node_timex_maxerror_seconds%s)' % raw(), '{{instance}}'),
  };

  local p = {
    inodes: d.timeseries(
      'Inodes free, by mount point',
      'Share of the inodes still free on each writable filesystem. Good: well above the NodeFilesystemInodesLow line; many small files (caches, images, mail) use them up before the space.',
      'percentunit',
      [q.inodes],
      thresholds=d.below([c.nodeFilesystemInodesCriticalThreshold, c.nodeFilesystemInodesLowThreshold]),
      alerts=['NodeFilesystemInodesLow', 'NodeFilesystemInodesCritical'],
      min=0,
      max=1,
    ),
    conntrack: d.timeseries(
      'Connection tracking table used',
      'Entries in the kernel connection tracking table against nf_conntrack_max. Good: below the NodeConntrackTableHigh line; when full, new connections are dropped.',
      'percentunit',
      [q.conntrack],
      thresholds=d.above([c.nodeConntrackTableHighThreshold, c.nodeConntrackTableCriticalThreshold]),
      alerts=['NodeConntrackTableHigh', 'NodeConntrackTableCritical'],
      min=0,
      max=1,
    ),
    filefd: d.timeseries(
      'File descriptors allocated',
      'Allocated file descriptors against fs.file-max. Good: below the NodeFileDescriptorsHigh line.',
      'percentunit',
      [q.filefd],
      thresholds=d.above([c.nodeFileDescriptorsHighThreshold, c.nodeFileDescriptorsCriticalThreshold]),
      alerts=['NodeFileDescriptorsHigh', 'NodeFileDescriptorsCritical'],
      min=0,
      max=1,
    ),
    ifaceChanges: d.timeseries(
      'Interface up/down changes (5m)',
      'How often each physical interface changed between up and down in the last 5 minutes. Good: 0; above the line the link is flapping.',
      'short',
      [q.ifaceChanges],
      thresholds=d.above([c.nodeNetworkInterfaceFlappingChanges]),
      alerts=['NodeNetworkInterfaceFlapping'],
      min=0,
    ),
    ifaceUp: d.timeseries(
      'Interfaces up',
      'Operational state of each physical interface (1 up, 0 down). Good: 1 for every cabled interface.',
      'short',
      [q.ifaceUp],
      min=0,
      max=1,
    ),
    systemdRestarts: d.timeseries(
      'systemd service restarts',
      'Restarts of each systemd service per 5 minutes (needs the systemd collector). Good: 0; above the line a service crash-loops.',
      'short',
      [q.systemdRestarts],
      thresholds=d.above([c.nodeSystemdServiceRestartsThreshold]),
      alerts=['NodeSystemdServiceCrashlooping'],
      min=0,
    ),
    systemd: d.table(
      'Failed systemd units',
      'Units in the failed state right now (needs the systemd collector). Good: empty.',
      'short',
      [q.systemdFailed],
      alerts=['NodeSystemdUnitFailed'],
    ),
    raid: d.timeseries(
      'Software RAID: missing and failed disks',
      'Active disks an md array lacks, and its failed disks. Good: 0 (no series at all on nodes without software RAID).',
      'short',
      [q.raidMissing, q.raidFailed],
      alerts=['NodeRaidDegraded', 'NodeRaidDiskFailed'],
      min=0,
    ),
    bond: d.timeseries(
      'Bonds: inactive members',
      'Member interfaces of each bond that are not active. Good: 0 (no series on nodes without bonds).',
      'short',
      [q.bondInactive],
      alerts=['NodeBondingDegraded'],
      min=0,
    ),
    textfile: d.timeseries(
      'Text-file collector errors',
      '1 while the node exporter cannot read a file of its text-file directory. Good: 0.',
      'short',
      [q.textfile],
      alerts=['NodeTextfileCollectorError'],
      min=0,
      max=1,
    ),
    majorFaults: d.timeseries(
      'Major page faults',
      'Pages read back from disk per second. Good: near 0; a sustained high rate is memory thrashing.',
      'short',
      [q.majorFaults],
      thresholds=d.above([c.nodeMajorPageFaultsHighPerSecond]),
      alerts=['NodeMajorPageFaultsHigh'],
      min=0,
    ),
    psiMemory: d.timeseries(
      'Memory pressure (PSI, some)',
      'Share of time at least one task waited for memory. Good: near 0; above the line the node is short of memory.',
      'percentunit',
      [q.psiMemory],
      thresholds=d.above([c.nodeMemoryPressureHighThreshold]),
      alerts=['NodeMemoryPressureHigh'],
      min=0,
    ),
    psiIo: d.timeseries(
      'I/O pressure (PSI, some)',
      'Share of time at least one task waited for block I/O. Good: below the line; a high value means slow or saturated disks.',
      'percentunit',
      [q.psiIo],
      thresholds=d.above([c.nodeIoPressureHighThreshold]),
      alerts=['NodeIoPressureHigh'],
      min=0,
    ),
    psiCpu: d.timeseries(
      'CPU pressure (PSI, some)',
      'Share of time at least one runnable task waited for a CPU. Good: low; high values mean CPU contention.',
      'percentunit',
      [q.psiCpu],
      min=0,
    ),
    clock: d.timeseries(
      'Clock: synchronised and maximum error',
      "The kernel's synchronisation flag and its estimate of the clock's maximum error. Good: synchronised 1 and an error far below the line.",
      's',
      [q.syncStatus, q.maxError],
      thresholds=d.above([c.nodeClockMaxErrorSeconds]),
      alerts=['NodeClockNotSynchronising'],
      min=0,
    ),
  };

  d.withNeighbours(
    d.dashboard({
      uid: 'node-health',
      title: 'Infrastructure / Node health',
      tags: ['infrastructure', 'nodes'],
      description: 'Is any node close to a kernel limit or losing a device? Inodes, connection tracking, file descriptors, '
                   + 'interfaces, systemd units, RAID and bonds, pressure stall information and time synchronisation.',
      variables: [d.variable('instance', 'Node', 'instance:node_num_cpu:sum')],
      panels: d.layout([
        d.row('Kernel tables'),
        [p.inodes, p.conntrack, p.filefd],
        d.row('Devices'),
        [p.ifaceChanges, p.ifaceUp, p.systemd],
        [p.raid, p.bond, p.textfile],
        d.row('Saturation'),
        [p.majorFaults, p.psiMemory, p.psiIo, p.psiCpu],
        d.row('Time'),
        [p.clock],
        d.row('Services'),
        [p.systemdRestarts],
      ]),
    }),
    [
      d.neighbour('nodes', 'Nodes', ['instance']),
    ],
  )

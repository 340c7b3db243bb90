// Platform, node health beyond utilisation: kernel tables (conntrack, file descriptors, inodes),
// network interfaces, systemd units, software RAID and bonds, pressure stall information, the
// text-file collector and time synchronisation. Joined to the platform mixin with `+`.
//
// Collectors: conntrack, filefd, filesystem, netclass, pressure, mdadm, bonding, textfile and timex
// are on by default in node_exporter; systemd is not (the node-exporter subchart turns it on and
// reaches the host's D-Bus socket). mdadm and bonding export nothing on nodes without software
// RAID or bonds, so their alerts stay silent there.

{
  _config+:: {
    // Defaults of the declared alert parameters (overridable per environment in Helm values).
    nodeFilesystemInodesLowThreshold: 0.1,  // free share of inodes
    nodeFilesystemInodesCriticalThreshold: 0.05,
    nodeConntrackTableHighThreshold: 0.75,  // used share of nf_conntrack_max
    nodeConntrackTableCriticalThreshold: 0.9,
    nodeFileDescriptorsHighThreshold: 0.7,  // allocated share of fs.file-max
    nodeFileDescriptorsCriticalThreshold: 0.9,
    nodeNetworkInterfaceFlappingChanges: 2,  // up/down changes within 5 minutes
    nodeMajorPageFaultsHighPerSecond: 500,
    nodeMemoryPressureHighThreshold: 0.1,  // share of time some task waited for memory
    nodeIoPressureHighThreshold: 0.5,  // share of time some task waited for I/O
    nodeClockMaxErrorSeconds: 16,  // the kernel's estimate at which it gives up on NTP
  },

  local c = $._config,
  local rules = (import '../../lib/rules.libsonnet')(c),
  local by = rules.by,
  local ne = c.nodeExporterSelector,
  local fs = ne + ', ' + c.filesystemSelector,
  local net = ne + ', ' + c.networkDeviceSelector,
  local mount = ['instance', 'device', 'mountpoint'],
  local where = 'in {{ $labels.environment }}/{{ $labels.cluster }}',
  local node = 'node {{ $labels.instance }} ' + where,
  local alert(spec) = rules.alert(spec { labels+: { component: 'node' } }),
  local ratio(record, used, limit) = rules.record(
    record,
    'max %s (%s{%s}) / max %s (%s{%s})' % [by(['instance']), used, ne, by(['instance']), limit, ne],
  ),
  local psi(resource) = rules.record(
    'instance:node_pressure_%s_waiting_seconds:rate5m' % resource,
    'max %s (rate(node_pressure_%s_waiting_seconds_total{%s}[5m]))' % [by(['instance']), resource, ne],
  ),
  // A warning/critical pair on one recorded ratio (`op` '>' or '<'), symptom `symptom`.
  local pair(spec) = [
    alert({
      name: spec.name + level.suffix,
      expr: '%s %s %s' % [spec.record, spec.op, rules.param('threshold')],
      'for': level['for'],
      severity: level.severity,
      priority: level.priority,
      labels: { symptom: spec.symptom },
      summary: level.summary,
      description: spec.description + ' (threshold {{ %s | humanizePercentage }}).' % rules.param('threshold')
                   + level.tail,
      params: { threshold: level.threshold },
    })
    for level in spec.levels
  ],

  prometheusRules+:: {
    groups+: [
      rules.group('platform-recording-health', [
        // Free share of the inodes of each writable filesystem (read-only mounts cannot fill).
        rules.record(
          'instance_mountpoint:node_filesystem_files_free:ratio',
          '(max %s (node_filesystem_files_free{%s}) / max %s (node_filesystem_files{%s} > 0))'
          % [by(mount), fs, by(mount), fs]
          + ' unless on (%s) (max %s (node_filesystem_readonly{%s}) == 1)'
            % [std.join(', ', c.aggregationLabels + mount), by(mount), fs],
        ),
        ratio('instance:node_nf_conntrack_entries:ratio', 'node_nf_conntrack_entries', 'node_nf_conntrack_entries_limit'),
        ratio('instance:node_filefd_allocated:ratio', 'node_filefd_allocated', 'node_filefd_maximum'),
        psi('cpu'),
        psi('memory'),
        psi('io'),
      ]),
    ],
  },

  prometheusAlerts+:: {
    groups+: [
      rules.group('platform-alerts-kernel', pair({
        name: 'NodeFilesystemInodes',
        record: 'instance_mountpoint:node_filesystem_files_free:ratio',
        op: '<',
        symptom: 'node-filesystem-inodes',
        description: 'Filesystem {{ $labels.mountpoint }} ({{ $labels.device }}) on ' + node
                     + ' has {{ $value | humanizePercentage }} of its inodes free',
        levels: [
          { suffix: 'Low', 'for': '30m', severity: 'warning', priority: 'P3', threshold: c.nodeFilesystemInodesLowThreshold, summary: 'A node filesystem is running out of inodes.', tail: '' },
          { suffix: 'Critical', 'for': '5m', severity: 'critical', priority: 'P2', threshold: c.nodeFilesystemInodesCriticalThreshold, summary: 'A node filesystem has almost no inodes left.', tail: ' New files cannot be created even with space left.' },
        ],
      }) + pair({
        name: 'NodeConntrackTable',
        record: 'instance:node_nf_conntrack_entries:ratio',
        op: '>',
        symptom: 'node-conntrack-table',
        description: 'The connection tracking table of ' + node + ' is {{ $value | humanizePercentage }} full',
        levels: [
          { suffix: 'High', 'for': '15m', severity: 'warning', priority: 'P3', threshold: c.nodeConntrackTableHighThreshold, summary: 'The connection tracking table of a node is filling up.', tail: '' },
          { suffix: 'Critical', 'for': '5m', severity: 'critical', priority: 'P2', threshold: c.nodeConntrackTableCriticalThreshold, summary: 'The connection tracking table of a node is almost full.', tail: ' When it is full the kernel drops new connections.' },
        ],
      }) + pair({
        name: 'NodeFileDescriptors',
        record: 'instance:node_filefd_allocated:ratio',
        op: '>',
        symptom: 'node-file-descriptors',
        description: 'Node {{ $labels.instance }} ' + where + ' has allocated {{ $value | humanizePercentage }} of its file descriptors',
        levels: [
          { suffix: 'High', 'for': '15m', severity: 'warning', priority: 'P3', threshold: c.nodeFileDescriptorsHighThreshold, summary: 'A node is using most of its file descriptors.', tail: '' },
          { suffix: 'Critical', 'for': '5m', severity: 'critical', priority: 'P2', threshold: c.nodeFileDescriptorsCriticalThreshold, summary: 'A node is about to run out of file descriptors.', tail: ' Processes fail to open files and sockets when none are left.' },
        ],
      })),

      rules.group('platform-alerts-devices', [
        alert({
          name: 'NodeNetworkInterfaceFlapping',
          expr: 'max %s (changes(node_network_up{%s}[5m])) > %s'
                % [by(['instance', 'device']), net, rules.param('changes')],
          'for': '2m',
          severity: 'warning',
          priority: 'P3',
          summary: 'A node network interface keeps going up and down.',
          description: 'Interface {{ $labels.device }} of ' + node + ' changed its up/down state '
                       + '{{ $value }} times within 5 minutes (threshold %s): a cable, NIC, switch port '
                         % rules.param('changes')
                       + 'or driver problem.',
          params: { changes: c.nodeNetworkInterfaceFlappingChanges },
        }),
        alert({
          name: 'NodeSystemdUnitFailed',
          expr: 'max %s (node_systemd_unit_state{%s, state="failed"}) == 1' % [by(['instance', 'name']), ne],
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          summary: 'A systemd unit on a node has failed.',
          description: 'Unit {{ $labels.name }} on ' + node + ' is in the failed state.',
        }),
        // Fewer active members than the array needs: it runs without redundancy (or not at all).
        alert({
          name: 'NodeRaidDegraded',
          expr: 'max %s (node_md_disks_required{%s}) - max %s (node_md_disks{%s, state="active"}) > 0'
                % [by(['instance', 'device']), ne, by(['instance', 'device']), ne],
          'for': '15m',
          severity: 'critical',
          priority: 'P2',
          summary: 'A software RAID array of a node is degraded.',
          description: 'RAID array {{ $labels.device }} on ' + node + ' is missing {{ $value }} active '
                       + 'disk(s); one more failure may lose its data.',
        }),
        alert({
          name: 'NodeRaidDiskFailed',
          expr: 'max %s (node_md_disks{%s, state="failed"}) > 0' % [by(['instance', 'device']), ne],
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          summary: 'A disk of a software RAID array of a node has failed.',
          description: 'RAID array {{ $labels.device }} on ' + node + ' has {{ $value }} failed disk(s) '
                       + 'to replace.',
        }),
        alert({
          name: 'NodeBondingDegraded',
          expr: 'max %s (node_bonding_slaves{%s}) - max %s (node_bonding_active{%s}) > 0'
                % [by(['instance', 'master']), ne, by(['instance', 'master']), ne],
          'for': '5m',
          severity: 'warning',
          priority: 'P3',
          summary: 'A bonded network interface of a node lost a member.',
          description: 'Bond {{ $labels.master }} on ' + node + ' has {{ $value }} inactive member '
                       + 'interface(s); it runs without redundancy or at reduced bandwidth.',
        }),
        alert({
          name: 'NodeTextfileCollectorError',
          expr: 'max %s (node_textfile_scrape_error{%s}) == 1' % [by(['instance']), ne],
          'for': '15m',
          severity: 'warning',
          priority: 'P4',
          summary: 'The node exporter cannot read its text-file metrics.',
          description: 'The text-file collector of the node exporter on ' + node + ' failed to open or '
                       + 'parse a file; the metrics that host scripts write there are missing.',
        }),
      ]),

      rules.group('platform-alerts-saturation', [
        alert({
          name: 'NodeMajorPageFaultsHigh',
          expr: 'instance:node_vmstat_pgmajfault:rate5m > %s' % rules.param('perSecond'),
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          summary: 'A node reads memory pages back from disk at a high rate.',
          description: 'Node {{ $labels.instance }} ' + where + ' has {{ $value | humanize }} major page faults per second '
                       + '(threshold %s): it is short of memory and thrashing.' % rules.param('perSecond'),
          params: { perSecond: c.nodeMajorPageFaultsHighPerSecond },
        }),
        alert({
          name: 'NodeMemoryPressureHigh',
          expr: 'instance:node_pressure_memory_waiting_seconds:rate5m > %s' % rules.param('threshold'),
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          summary: 'Tasks on a node often wait for memory.',
          description: 'Some task on ' + node + ' waited for memory {{ $value | humanizePercentage }} '
                       + 'of the time over the last 5 minutes (pressure stall information, threshold '
                       + '{{ %s | humanizePercentage }}).' % rules.param('threshold'),
          params: { threshold: c.nodeMemoryPressureHighThreshold },
        }),
        alert({
          name: 'NodeIoPressureHigh',
          expr: 'instance:node_pressure_io_waiting_seconds:rate5m > %s' % rules.param('threshold'),
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          summary: 'Tasks on a node often wait for disk I/O.',
          description: 'Some task on ' + node + ' waited for I/O {{ $value | humanizePercentage }} '
                       + 'of the time over the last 5 minutes (pressure stall information, threshold '
                       + '{{ %s | humanizePercentage }}).' % rules.param('threshold'),
          params: { threshold: c.nodeIoPressureHighThreshold },
        }),
        // The kernel says it is not synchronised and its error estimate has grown to the cap it
        // reaches without NTP updates: the time daemon has stopped steering the clock.
        alert({
          name: 'NodeClockNotSynchronising',
          expr: 'max %s (min_over_time(node_timex_sync_status{%s}[5m])) == 0' % [by(['instance']), ne]
                + ' and %s max %s (node_timex_maxerror_seconds{%s}) >= %s'
                  % [rules.on(['instance']), by(['instance']), ne, rules.param('maxErrorSeconds')],
          'for': '10m',
          severity: 'warning',
          priority: 'P3',
          summary: 'A node clock is not synchronising.',
          description: 'The kernel of ' + node + ' reports its clock as unsynchronised with an error '
                       + 'estimate of at least %s s: no time daemon is steering it.' % rules.param('maxErrorSeconds'),
          params: { maxErrorSeconds: c.nodeClockMaxErrorSeconds },
        }),
      ]),
    ],
  },

  exporterMetrics+:: {
    'node-exporter'+: [
      'node_bonding_active',
      'node_bonding_slaves',
      'node_filefd_allocated',
      'node_filefd_maximum',
      'node_filesystem_files',
      'node_filesystem_files_free',
      'node_md_disks',
      'node_md_disks_required',
      'node_network_up',
      'node_nf_conntrack_entries',
      'node_nf_conntrack_entries_limit',
      'node_pressure_cpu_waiting_seconds_total',
      'node_pressure_io_waiting_seconds_total',
      'node_pressure_memory_waiting_seconds_total',
      'node_systemd_unit_state',
      'node_textfile_scrape_error',
      'node_timex_maxerror_seconds',
      'node_timex_sync_status',
    ],
  },

  defaultDashboard:: 'nodes',
  grafanaDashboards+:: {
    'node-health.json': (import 'node-health.libsonnet')(c),
  },
}

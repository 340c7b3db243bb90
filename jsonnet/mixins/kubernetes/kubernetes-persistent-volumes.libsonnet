// Infrastructure / Kubernetes persistent volumes: the claims picked with `namespace` and
// `persistentvolumeclaim` as their kubelets mount them (space and inodes used, free shares
// against the alert lines), claims and volumes by phase, and the kubelets' failed volume
// operations. Panels name the alerts of the kubernetes mixin and storage.libsonnet; thresholds are
// their parameters' defaults.

function(c)
  local d = (import '../../lib/dashboards.libsonnet')(c);
  local sel = ['namespace=~"$namespace"', 'persistentvolumeclaim=~"$persistentvolumeclaim"'];
  local s = d.selector(sel);
  local kubelet = d.selector([c.kubeletSelector] + sel);
  local pvc = 'namespace, persistentvolumeclaim';

  local q = {
    abnormal: d.target('max by (%s) (kubelet_volume_stats_health_status_abnormal%s) == 1' % [pvc, kubelet], '{{namespace}}/{{persistentvolumeclaim}}'),
    used: d.target('max by (%s) (kubelet_volume_stats_used_bytes%s)' % [pvc, kubelet], '{{namespace}}/{{persistentvolumeclaim}} used'),
    capacity: d.target('max by (%s) (kubelet_volume_stats_capacity_bytes%s)' % [pvc, kubelet], '{{namespace}}/{{persistentvolumeclaim}} capacity'),
    free: d.target('namespace_persistentvolumeclaim:kubelet_volume_stats_available_bytes:ratio%s' % s, '{{namespace}}/{{persistentvolumeclaim}}'),
    inodesUsed: d.target('max by (%s) (kubelet_volume_stats_inodes_used%s)' % [pvc, kubelet], '{{namespace}}/{{persistentvolumeclaim}}'),
    inodesFree: d.target('namespace_persistentvolumeclaim:kubelet_volume_stats_inodes_free:ratio%s' % s, '{{namespace}}/{{persistentvolumeclaim}}'),
    claimPhases: d.target(
      'count by (phase) (max by (%s, phase) (kube_persistentvolumeclaim_status_phase%s) == 1)'
      % [pvc, d.selector([c.kubeStateMetricsSelector, 'namespace=~"$namespace"'])],
      '{{phase}}'
    ),
    volumePhases: d.target(
      'count by (phase) (max by (persistentvolume, phase) (kube_persistentvolume_status_phase%s) == 1)'
      % d.selector([c.kubeStateMetricsSelector]),
      '{{phase}}'
    ),
    operations: d.target(
      'sum by (node, operation_name, volume_plugin) (increase(storage_operation_duration_seconds_count%s[$__rate_interval]))'
      % d.selector([c.kubeletSelector, 'status!="success"']),
      '{{node}} {{operation_name}} {{volume_plugin}}'
    ),
  };

  local p = {
    abnormal: d.timeseries(
      'Volumes reported abnormal',
      'Claims whose CSI driver reports the volume abnormal (1; only drivers with volume health monitoring report). Good: empty.',
      'short',
      [q.abnormal],
      thresholds=d.countBad,
      min=0,
    ),
    used: d.timeseries(
      'Space used and capacity',
      "Bytes used on each claim's volume against its size. Good: used well below capacity, growing no faster than planned.",
      'bytes',
      [q.used, q.capacity],
      min=0,
    ),
    free: d.timeseries(
      'Space free',
      "Free share of each claim's volume. Good: above the lines.",
      'percentunit',
      [q.free],
      thresholds=d.below([c.kubePersistentVolumeSpaceLowThreshold, c.kubePersistentVolumeFillingUpAvailableRatio]),
      alerts=['KubePersistentVolumeSpaceLow', 'KubePersistentVolumeFillingUp'],
      min=0,
      max=1,
    ),
    inodesUsed: d.timeseries('Inodes used', "Files and directories on each claim's volume. Good: steady; millions of small files run out of inodes before space.", 'short', [q.inodesUsed], min=0),
    inodesFree: d.timeseries(
      'Inodes free',
      "Free share of the inodes of each claim's volume. Good: above the lines; without inodes no file can be created.",
      'percentunit',
      [q.inodesFree],
      thresholds=d.below([c.kubePersistentVolumeInodesCriticalThreshold, c.kubePersistentVolumeInodesLowThreshold]),
      alerts=['KubePersistentVolumeInodesLow', 'KubePersistentVolumeInodesCritical'],
      min=0,
      max=1,
    ),
    claimPhases: d.timeseries(
      'Claims by phase',
      'PersistentVolumeClaims of the namespaces picked, by phase. Good: all Bound; Pending only for a moment after creation.',
      'short',
      [q.claimPhases],
      alerts=['KubePersistentVolumeClaimPending'],
      min=0,
      stack=true,
    ),
    volumePhases: d.timeseries(
      'Volumes by phase (cluster-wide)',
      'PersistentVolumes by phase (volumes belong to no namespace). Good: Bound and Available only; Failed or Pending volumes need an operator.',
      'short',
      [q.volumePhases],
      alerts=['KubePersistentVolumeErrors'],
      min=0,
      stack=true,
    ),
    operations: d.timeseries(
      'Failed volume operations (cluster-wide)',
      'Attach, mount, unmount and expand operations the kubelets failed, by node and plugin. Good: 0.',
      'short',
      [q.operations],
      thresholds=d.countBad,
      alerts=['KubeletVolumeOperationsFailing'],
      min=0,
    ),
  };

  d.withNeighbours(
    d.dashboard({
      uid: 'kubernetes-persistent-volumes',
      title: 'Infrastructure / Kubernetes persistent volumes',
      tags: ['infrastructure', 'kubernetes'],
      description: 'Are the volumes healthy? Space and inodes of each claim against the alert lines, claims and '
                   + "volumes by phase, and the kubelets' failed volume operations.",
      variables: [
        d.variable('namespace', 'Namespace', 'kubelet_volume_stats_capacity_bytes'),
        d.variable('persistentvolumeclaim', 'Claim', 'kubelet_volume_stats_capacity_bytes', extra=['namespace=~"$namespace"']),
      ],
      panels: d.layout([
        d.row('Space'),
        [p.used, p.free, p.abnormal],
        d.row('Inodes'),
        [p.inodesUsed, p.inodesFree],
        d.row('Phases and operations'),
        [p.claimPhases, p.volumePhases, p.operations],
      ]),
    }),
    [
      d.neighbour('kubernetes-namespace', 'Kubernetes namespace', ['namespace']),
      d.neighbour('kubernetes-kubelet', 'Kubernetes kubelet'),
    ],
  )

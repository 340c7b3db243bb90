// Kubernetes storage beyond free space: persistent volumes running out of inodes, volumes and claims
// stuck in a failed or pending phase, and the kubelet's volume operations (attach, mount) failing.
// Joined to the kubernetes mixin with `+`.

{
  _config+:: {
    kubePersistentVolumeInodesLowThreshold: 0.1,  // free share of inodes
    kubePersistentVolumeInodesCriticalThreshold: 0.03,
  },

  local c = $._config,
  local rules = (import '../../lib/rules.libsonnet')(c),
  local by = rules.by,
  local ksm = c.kubeStateMetricsSelector,
  local kubelet = c.kubeletSelector,
  local kube(metric, labels, matchers='') =
    'max %s (%s{%s})' % [by(labels), metric, ksm + (if matchers != '' then ', ' + matchers else '')],
  local where = 'in {{ $labels.environment }}/{{ $labels.cluster }}',
  local alert(spec) = rules.alert(spec { labels+: { component: 'kubernetes' } }),
  local pvc = ['namespace', 'persistentvolumeclaim'],
  local inodes = 'namespace_persistentvolumeclaim:kubelet_volume_stats_inodes_free:ratio',

  prometheusRules+:: {
    groups+: [
      rules.group('kubernetes-recording-storage', [
        rules.record(
          inodes,
          'max %s (kubelet_volume_stats_inodes_free{%s}) / max %s (kubelet_volume_stats_inodes{%s} > 0)'
          % [by(pvc), kubelet, by(pvc), kubelet],
        ),
      ]),
    ],
  },

  prometheusAlerts+:: {
    groups+: [
      rules.group('kubernetes-alerts-storage', [
        alert({
          name: 'KubePersistentVolumeInodesLow',
          expr: inodes + ' < %s' % rules.param('threshold'),
          'for': '30m',
          severity: 'warning',
          priority: 'P3',
          labels: { symptom: 'kube-persistent-volume-inodes' },
          summary: 'A persistent volume is running out of inodes.',
          description: 'The volume of PersistentVolumeClaim {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} '
                       + where + ' has {{ $value | humanizePercentage }} of its inodes free '
                       + '(threshold {{ %s | humanizePercentage }}).' % rules.param('threshold'),
          params: { threshold: c.kubePersistentVolumeInodesLowThreshold },
        }),
        alert({
          name: 'KubePersistentVolumeInodesCritical',
          expr: inodes + ' < %s' % rules.param('threshold'),
          'for': '5m',
          severity: 'critical',
          priority: 'P2',
          labels: { symptom: 'kube-persistent-volume-inodes' },
          summary: 'A persistent volume has almost no inodes left.',
          description: 'The volume of PersistentVolumeClaim {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} '
                       + where + ' has only {{ $value | humanizePercentage }} of its inodes free '
                       + '(threshold {{ %s | humanizePercentage }}): new files cannot be created.' % rules.param('threshold'),
          params: { threshold: c.kubePersistentVolumeInodesCriticalThreshold },
        }),
        alert({
          name: 'KubePersistentVolumeErrors',
          expr: kube('kube_persistentvolume_status_phase', ['persistentvolume', 'phase'], 'phase=~"Failed|Pending"') + ' == 1',
          'for': '5m',
          severity: 'critical',
          priority: 'P2',
          summary: 'A persistent volume is in a failed or pending phase.',
          description: 'PersistentVolume {{ $labels.persistentvolume }} ' + where + ' is {{ $labels.phase }}: '
                       + 'its reclaim or provisioning failed.',
        }),
        alert({
          name: 'KubePersistentVolumeClaimPending',
          expr: kube('kube_persistentvolumeclaim_status_phase', pvc, 'phase="Pending"') + ' == 1',
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          summary: 'A persistent volume claim is not bound.',
          description: 'PersistentVolumeClaim {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} ' + where
                       + ' has been Pending for 15 minutes: no volume was provisioned or matched, and its pods cannot start.',
        }),
        // Failed attach, mount, unmount, expand... operations of the kubelet's volume manager.
        alert({
          name: 'KubeletVolumeOperationsFailing',
          expr: 'sum %s (increase(storage_operation_duration_seconds_count{%s, status!="success"}[10m])) > 0'
                % [by(['node', 'operation_name', 'volume_plugin']), kubelet],
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          summary: 'Volume operations of a kubelet keep failing.',
          description: '{{ $value | humanize }} {{ $labels.operation_name }} operations of plugin {{ $labels.volume_plugin }} '
                       + 'failed on node {{ $labels.node }} ' + where + ' in the last 10 minutes; pods using those volumes cannot start.',
        }),
      ]),
    ],
  },

  exporterMetrics+:: {
    'kube-state-metrics'+: ['kube_persistentvolume_status_phase', 'kube_persistentvolumeclaim_status_phase'],
    kubelet+: [
      'kubelet_volume_stats_inodes',
      'kubelet_volume_stats_inodes_free',
      'storage_operation_duration_seconds_count',
    ],
  },
}

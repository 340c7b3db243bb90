// Kubernetes, pods taken away from their workloads: a PodDisruptionBudget with fewer healthy pods
// than it promises (a drain or an upgrade is now blocked, and one more failure breaks the promise)
// and kubelets evicting pods under node pressure (the pods restart elsewhere, or stay Pending).
// Joined to the kubernetes mixin with `+`. The kubelet job labels its targets with `node`.
{
  local c = $._config,
  local rules = (import '../../lib/rules.libsonnet')(c),
  local by = rules.by,
  local ksm = c.kubeStateMetricsSelector,
  local kubelet = c.kubeletSelector,
  local kube(metric, labels) = 'max %s (%s{%s})' % [by(labels), metric, ksm],
  local where = 'in {{ $labels.environment }}/{{ $labels.cluster }}',
  local alert(spec) = rules.alert(spec { labels+: { component: 'kubernetes' } }),
  local pdb = ['namespace', 'poddisruptionbudget'],

  prometheusAlerts+:: {
    groups+: [
      rules.group('kubernetes-alerts-disruptions', [
        alert({
          name: 'KubePdbNotEnoughHealthyPods',
          expr: kube('kube_poddisruptionbudget_status_desired_healthy', pdb)
                + ' - ' + kube('kube_poddisruptionbudget_status_current_healthy', pdb) + ' > 0',
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          summary: 'A PodDisruptionBudget has fewer healthy pods than it requires.',
          description: 'PodDisruptionBudget {{ $labels.namespace }}/{{ $labels.poddisruptionbudget }} ' + where
                       + ' is {{ $value }} healthy pod(s) short of what it requires: no voluntary disruption '
                       + '(drain, upgrade) may proceed, and one more failure breaks its availability promise.',
        }),
        // One eviction is news: the kubelet ran out of memory, disk or PIDs and killed pods to recover.
        alert({
          name: 'KubeNodeEviction',
          expr: 'sum %s (increase(kubelet_evictions{%s}[15m])) > 0' % [by(['node', 'eviction_signal']), kubelet],
          'for': '1m',
          severity: 'warning',
          priority: 'P3',
          summary: 'A kubelet is evicting pods.',
          description: 'The kubelet of node {{ $labels.node }} ' + where + ' evicted {{ $value | humanize }} pod(s) '
                       + 'in the last 15 minutes on signal {{ $labels.eviction_signal }}: the node ran short of '
                       + 'that resource and killed pods to recover.',
        }),
      ]),
    ],
  },

  exporterMetrics+:: {
    'kube-state-metrics'+: [
      'kube_poddisruptionbudget_status_current_healthy',
      'kube_poddisruptionbudget_status_desired_healthy',
    ],
    kubelet+: ['kubelet_evictions'],
  },
}

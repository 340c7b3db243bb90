// The Kubernetes dashboards below namespace and workload level: compute resources and networking by
// pod, networking by namespace, persistent volumes and CoreDNS, with the raw series only they read.
// Joined to the kubernetes mixin with `+`; thresholds from its _config.
{
  local c = $._config,

  exporterMetrics+:: {
    'kube-state-metrics'+: ['kube_pod_info'],
    kubelet+: ['kubelet_volume_stats_health_status_abnormal', 'kubelet_volume_stats_inodes_used', 'kubelet_volume_stats_used_bytes'],
    coredns+: ['coredns_forward_healthcheck_broken_total', 'coredns_panics_total'],
  },

  grafanaDashboards+:: {
    'kubernetes-pod.json': (import 'kubernetes-pod.libsonnet')(c),
    'kubernetes-networking.json': (import 'kubernetes-networking.libsonnet')(c),
    'kubernetes-persistent-volumes.json': (import 'kubernetes-persistent-volumes.libsonnet')(c),
    'kubernetes-coredns.json': (import 'kubernetes-coredns.libsonnet')(c),
  },
}

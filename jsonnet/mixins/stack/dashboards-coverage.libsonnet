// Stack / Alertmanager cluster, the per-peer detail behind Stack / Stack health's Alertmanager row,
// with the raw series only it reads. Joined to the stack mixin with `+`.
{
  local c = $._config,

  exporterMetrics+:: {
    alertmanager+: [
      'alertmanager_cluster_failed_peers',
      'alertmanager_cluster_health_score',
      'alertmanager_cluster_messages_queued',
      'alertmanager_cluster_messages_received_total',
      'alertmanager_cluster_messages_sent_total',
      'alertmanager_cluster_reconnections_failed_total',
      'alertmanager_peer_position',
    ],
  },

  grafanaDashboards+:: {
    'alertmanager-cluster.json': (import 'alertmanager-cluster.libsonnet')(c),
  },
}

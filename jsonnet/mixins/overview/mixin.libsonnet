// Overview: the System Health Overview dashboard (DevOps/SRE), across every monitored area.
// No rules of its own: it reads the other mixins' recording rules and draws their alert
// thresholds from their `_config` (one source of truth).
local config = import '../../lib/config.libsonnet';

{
  // The configs of the mixins whose series and thresholds the overview shows, by area.
  _config+:: config {
    applications: (import '../applications/mixin.libsonnet')._config,
    business: (import '../business/mixin.libsonnet')._config,
    gpu: (import '../gpu/mixin.libsonnet')._config,
    platform: (import '../platform/mixin.libsonnet')._config,
    postgres: (import '../postgres/mixin.libsonnet')._config,
    rabbitmq: (import '../rabbitmq/mixin.libsonnet')._config,
    redis: (import '../redis/mixin.libsonnet')._config,
    stack: (import '../stack/mixin.libsonnet')._config,
  },

  // Nodes by server role: kube-state-metrics' node-role.kubernetes.io/<role> labels.
  exporterMetrics:: {
    'kube-state-metrics': ['kube_node_role'],
  },

  dashboardFolder:: 'Overview',
  grafanaDashboards+:: {
    'system-health-overview.json': (import 'system-health-overview.libsonnet')($._config),
  },
}

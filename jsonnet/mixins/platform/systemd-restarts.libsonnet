// Platform, systemd services that keep restarting: a unit with Restart= set never reaches the
// failed state NodeSystemdUnitFailed watches while systemd keeps bringing it back, so a service
// crashing every few seconds looks active. node-exporter counts the restarts only with
// --collector.systemd.enable-restarts-metrics (the node-exporter subchart passes it with the
// systemd collector). Joined to the platform mixin with `+`.
{
  _config+:: {
    nodeSystemdServiceRestartsThreshold: 2,  // restarts of one service within 5 minutes
  },

  local c = $._config,
  local rules = (import '../../lib/rules.libsonnet')(c),
  local by = rules.by,
  local ne = c.nodeExporterSelector,
  local where = 'in {{ $labels.environment }}/{{ $labels.cluster }}',
  local alert(spec) = rules.alert(spec { labels+: { component: 'node' } }),

  prometheusAlerts+:: {
    groups+: [
      rules.group('platform-alerts-systemd', [
        alert({
          name: 'NodeSystemdServiceCrashlooping',
          expr: 'max %s (increase(node_systemd_service_restart_total{%s}[5m])) > %s'
                % [by(['instance', 'name']), ne, rules.param('restarts')],
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          summary: 'A systemd service on a node keeps restarting.',
          description: 'Service {{ $labels.name }} on node {{ $labels.instance }} ' + where + ' restarted '
                       + '{{ $value | humanize }} times in the last 5 minutes (threshold %s): it crashes and '
                         % rules.param('restarts')
                       + 'systemd brings it back.',
          params: { restarts: c.nodeSystemdServiceRestartsThreshold },
        }),
      ]),
    ],
  },

  exporterMetrics+:: {
    'node-exporter'+: ['node_systemd_service_restart_total'],
  },
}

// Stack, the Alertmanager cluster: configuration reloads and consistency across peers, peers down,
// and notifications failing from some peers or from all of them. Joined to the stack mixin with `+`.

{
  _config+:: {
    alertmanagerPeerNotificationFailureThreshold: 0.01,  // failed share of one integration's notifications
    alertmanagerClusterDownThreshold: 0.5,  // share of peers whose scrape fails
  },

  local c = $._config,
  local rules = (import '../../lib/rules.libsonnet')(c),
  local by = rules.by,
  local am = 'job="%s"' % c.alertmanagerJob,
  local where = 'in {{ $labels.environment }}/{{ $labels.cluster }}',
  local alert(spec) = rules.alert(spec { labels+: { component: 'alertmanager' } }),
  // Failed share of each peer's notifications, per integration.
  local peerFailures = 'sum %s (rate(alertmanager_notifications_failed_total{%s}[5m]))' % [by(['instance', 'integration']), am]
                       + ' / sum %s (rate(alertmanager_notifications_total{%s}[5m]))' % [by(['instance', 'integration']), am],

  prometheusAlerts+:: {
    groups+: [
      rules.group('stack-alertmanager-cluster', [
        alert({
          name: 'AlertmanagerConfigReloadFailed',
          expr: 'max %s (max_over_time(alertmanager_config_last_reload_successful{%s}[5m])) == 0' % [by(['instance']), am],
          'for': '10m',
          severity: 'critical',
          priority: 'P2',
          summary: 'Alertmanager failed to load its configuration.',
          description: 'The last configuration reload of Alertmanager {{ $labels.instance }} ' + where
                       + ' failed; it keeps routing with the previous configuration.',
        }),
        alert({
          name: 'AlertmanagerClusterConfigInconsistent',
          expr: 'count %s (count_values %s ("config_hash", alertmanager_config_hash{%s})) > 1' % [by(), by(), am],
          'for': '20m',
          severity: 'warning',
          priority: 'P3',
          summary: 'The peers of the Alertmanager cluster run different configurations.',
          description: 'The Alertmanagers ' + where + ' run {{ $value }} different configurations: '
                       + 'notifications depend on which peer an alert reaches.',
        }),
        alert({
          name: 'AlertmanagerClusterDown',
          expr: 'count %s (up{%s} == 0) / count %s (up{%s}) >= %s' % [by(), am, by(), am, rules.param('threshold')],
          'for': '5m',
          severity: 'critical',
          priority: 'P1',
          summary: 'Half or more of the Alertmanager peers are down.',
          description: '{{ $value | humanizePercentage }} of the Alertmanager peers ' + where + ' cannot be '
                       + 'scraped (threshold {{ %s | humanizePercentage }}): deduplication and delivery are at risk.'
                         % rules.param('threshold'),
          params: { threshold: c.alertmanagerClusterDownThreshold },
        }),
        alert({
          name: 'AlertmanagerFailingToSendFromSomePeers',
          expr: 'max %s (%s) > %s' % [by(['integration']), peerFailures, rules.param('threshold')],
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          labels: { symptom: 'alertmanager-peer-notifications' },
          summary: 'Some Alertmanager peers fail to send notifications.',
          description: 'The worst Alertmanager peer ' + where + ' failed {{ $value | humanizePercentage }} of its '
                       + '{{ $labels.integration }} notifications over the last 5 minutes (threshold '
                       + '{{ %s | humanizePercentage }}); the other peers still deliver.' % rules.param('threshold'),
          params: { threshold: c.alertmanagerPeerNotificationFailureThreshold },
        }),
        alert({
          name: 'AlertmanagerFailingToSendFromAllPeers',
          expr: 'min %s (%s) > %s' % [by(['integration']), peerFailures, rules.param('threshold')],
          'for': '5m',
          severity: 'critical',
          priority: 'P1',
          labels: { symptom: 'alertmanager-peer-notifications' },
          summary: 'Every Alertmanager peer fails to send notifications.',
          description: 'Every Alertmanager peer ' + where + ' failed at least {{ $value | humanizePercentage }} of its '
                       + '{{ $labels.integration }} notifications over the last 5 minutes (threshold '
                       + '{{ %s | humanizePercentage }}): the receiver or the route to it is broken.' % rules.param('threshold'),
          params: { threshold: c.alertmanagerPeerNotificationFailureThreshold },
        }),
      ]),
    ],
  },

  exporterMetrics+:: {
    alertmanager+: [
      'alertmanager_config_hash',
      'alertmanager_config_last_reload_successful',
    ],
  },

  defaultDashboard:: 'prometheus-alertmanager',
  grafanaDashboards+:: {
    'stack-health.json': (import 'stack-health.libsonnet')(c),
  },
}

// Stack, Prometheus failing to build a scrape pool's targets from what discovery found (an
// unreadable TLS or credentials file, a bad relabelling result): discovery works, so
// PrometheusServiceDiscoveryFailing stays silent, yet the pool's targets are not updated and new
// ones are never scraped. Joined to the stack mixin with `+`.
{
  local c = $._config,
  local rules = (import '../../lib/rules.libsonnet')(c),
  local by = rules.by,
  local prom = 'job="%s"' % c.prometheusJob,
  local where = 'in {{ $labels.environment }}/{{ $labels.cluster }}',
  local alert(spec) = rules.alert(spec { labels+: { component: 'prometheus' } }),

  prometheusAlerts+:: {
    groups+: [
      rules.group('stack-prometheus-target-sync', [
        alert({
          name: 'PrometheusTargetSyncFailure',
          expr: 'sum %s (increase(prometheus_target_sync_failed_total{%s}[30m])) > 0'
                % [by(['instance', 'scrape_job']), prom],
          'for': '5m',
          severity: 'critical',
          priority: 'P2',
          summary: 'Prometheus cannot sync the targets of a scrape pool.',
          description: 'Prometheus {{ $labels.instance }} ' + where + ' failed {{ $value | humanize }} times in the '
                       + 'last 30 minutes to sync the targets of scrape job {{ $labels.scrape_job }}: its targets are '
                       + 'not updated, and new ones are not scraped.',
        }),
      ]),
    ],
  },

  exporterMetrics+:: {
    prometheus+: ['prometheus_target_sync_failed_total'],
  },
}

// Stack, Prometheus beyond its basic health: service discovery, ingestion, scrape limits, missed
// rule evaluations, alert delivery per Alertmanager, query load and remote write. Joined to the
// stack mixin with `+`. Remote-write alerts read prometheus_remote_storage_* only, series that
// exist only while a remote_write is configured: without one they have nothing to evaluate.

{
  _config+:: {
    prometheusRemoteWriteFailureThreshold: 0.01,  // failed share of samples sent
    prometheusRemoteWriteBehindSeconds: 120,
    prometheusAlertSendErrorThreshold: 0.01,  // failed share of alerts sent to an Alertmanager
    prometheusQueryLoadThreshold: 0.8,  // running queries / --query.max-concurrency
  },

  local c = $._config,
  local rules = (import '../../lib/rules.libsonnet')(c),
  local by = rules.by,
  local prom = 'job="%s"' % c.prometheusJob,
  local where = 'in {{ $labels.environment }}/{{ $labels.cluster }}',
  local who = 'Prometheus {{ $labels.instance }} ' + where,
  local alert(spec) = rules.alert(spec { labels+: { component: 'prometheus' } }),
  // Something Prometheus counts went wrong in the last `window`, per instance (and `extra` labels).
  local counted(metric, window='5m', extra=[]) =
    'sum %s (increase(%s{%s}[%s])) > 0' % [by(['instance'] + extra), metric, prom, window],
  // Failed share of the alerts an instance sent to each Alertmanager.
  local sendErrors = 'sum %s (rate(prometheus_notifications_errors_total{%s}[5m]))' % [by(['instance', 'alertmanager']), prom]
                     + ' / sum %s (rate(prometheus_notifications_sent_total{%s}[5m]))' % [by(['instance', 'alertmanager']), prom],
  local limit(name, metric, what, consequence) = alert({
    name: name,
    expr: counted(metric),
    'for': '15m',
    severity: 'warning',
    priority: 'P3',
    summary: 'Prometheus refuses %s over a configured limit.' % what,
    description: who + ' refused {{ $value | humanize }} %s in the last 5 minutes: %s' % [what, consequence],
  }),

  prometheusAlerts+:: {
    groups+: [
      rules.group('stack-prometheus-ingestion', [
        alert({
          name: 'PrometheusServiceDiscoveryFailing',
          expr: counted('prometheus_sd_refresh_failures_total', '10m', ['mechanism']),
          'for': '20m',
          severity: 'warning',
          priority: 'P3',
          summary: 'Prometheus service discovery keeps failing.',
          description: who + ' had {{ $value | humanize }} failed {{ $labels.mechanism }} service-discovery '
                       + 'refreshes in the last 10 minutes; new or moved targets are not scraped.',
        }),
        alert({
          name: 'PrometheusKubernetesDiscoveryFailing',
          expr: counted('prometheus_sd_kubernetes_failures_total'),
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          summary: 'Prometheus fails to list or watch Kubernetes objects.',
          description: who + ' had {{ $value | humanize }} failed Kubernetes list/watch calls in the last '
                       + '5 minutes (RBAC or API server trouble); its targets may be stale.',
        }),
        alert({
          name: 'PrometheusNotIngestingSamples',
          expr: 'sum %s (rate(prometheus_tsdb_head_samples_appended_total{%s}[5m])) <= 0' % [by(['instance']), prom],
          'for': '10m',
          severity: 'critical',
          priority: 'P2',
          summary: 'Prometheus is not ingesting samples.',
          description: who + ' has appended no sample to its database for 10 minutes: no scrape and no '
                       + 'rule produces data, so every alert reading fresh data is blind.',
        }),
        alert({
          name: 'PrometheusDuplicateTimestamps',
          expr: counted('prometheus_target_scrapes_sample_duplicate_timestamp_total'),
          'for': '10m',
          severity: 'warning',
          priority: 'P3',
          summary: 'Prometheus drops samples with duplicate timestamps.',
          description: who + ' dropped {{ $value | humanize }} samples in the last 5 minutes because a target '
                       + 'exposed the same series twice with different values.',
        }),
        alert({
          name: 'PrometheusOutOfOrderTimestamps',
          expr: counted('prometheus_target_scrapes_sample_out_of_order_total'),
          'for': '10m',
          severity: 'warning',
          priority: 'P3',
          summary: 'Prometheus drops samples with out-of-order timestamps.',
          description: who + ' dropped {{ $value | humanize }} out-of-order samples in the last 5 minutes '
                       + '(targets exposing explicit timestamps that go backwards).',
        }),
        alert({
          name: 'PrometheusMissedRuleEvaluations',
          expr: counted('prometheus_rule_group_iterations_missed_total', '5m', ['rule_group']),
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          summary: 'Prometheus skips rule evaluations.',
          description: who + ' skipped {{ $value | humanize }} evaluations of rule group {{ $labels.rule_group }} '
                       + 'in the last 5 minutes: the group takes longer than its interval, so its alerts are late.',
        }),
        alert({
          name: 'PrometheusTsdbReloadsFailing',
          expr: counted('prometheus_tsdb_reloads_failures_total', '3h'),
          'for': '4h',
          severity: 'warning',
          priority: 'P3',
          summary: 'Prometheus keeps failing to reload its TSDB blocks.',
          description: who + ' failed {{ $value | humanize }} times in the last 3 hours to reload its blocks '
                       + 'from disk; compacted data may be missing from queries.',
        }),
        alert({
          name: 'PrometheusQueryLoadHigh',
          expr: 'max %s (avg_over_time(prometheus_engine_queries{%s}[5m]))' % [by(['instance']), prom]
                + ' / max %s (max_over_time(prometheus_engine_queries_concurrent_max{%s}[5m])) > %s'
                  % [by(['instance']), prom, rules.param('threshold')],
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          summary: 'Prometheus runs close to its maximum of concurrent queries.',
          description: who + ' ran {{ $value | humanizePercentage }} of its maximum of concurrent queries over '
                       + 'the last 5 minutes (threshold {{ %s | humanizePercentage }}); rules and dashboards queue.'
                         % rules.param('threshold'),
          params: { threshold: c.prometheusQueryLoadThreshold },
        }),
      ]),

      rules.group('stack-prometheus-limits', [
        limit('PrometheusTargetLimitHit',
              'prometheus_target_scrape_pool_exceeded_target_limit_total',
              'targets',
              'a scrape pool discovered more targets than its target_limit, and none of them is scraped.'),
        limit('PrometheusLabelLimitHit',
              'prometheus_target_scrape_pool_exceeded_label_limits_total',
              'scrapes',
              'a target exposed series with more labels, or longer ones, than the job allows.'),
        limit('PrometheusSampleLimitHit',
              'prometheus_target_scrapes_exceeded_sample_limit_total',
              'scrapes',
              'a target exposed more samples than the sample_limit of its job, and the whole scrape was dropped.'),
        limit('PrometheusBodySizeLimitHit',
              'prometheus_target_scrapes_exceeded_body_size_limit_total',
              'scrapes',
              'a target answered with a body larger than the body_size_limit of its job.'),
      ]),

      rules.group('stack-prometheus-delivery', [
        alert({
          name: 'PrometheusErrorSendingAlertsToSomeAlertmanagers',
          expr: 'max %s (%s) > %s' % [by(['instance']), sendErrors, rules.param('threshold')],
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          labels: { symptom: 'prometheus-alert-delivery' },
          summary: 'Prometheus fails to send alerts to some Alertmanagers.',
          description: who + ' failed to send {{ $value | humanizePercentage }} of its alerts to its worst '
                       + 'Alertmanager over the last 5 minutes (threshold {{ %s | humanizePercentage }}); the others still receive them.'
                         % rules.param('threshold'),
          params: { threshold: c.prometheusAlertSendErrorThreshold },
        }),
        alert({
          name: 'PrometheusErrorSendingAlertsToAllAlertmanagers',
          expr: 'min %s (%s) > %s' % [by(['instance']), sendErrors, rules.param('threshold')],
          'for': '5m',
          severity: 'critical',
          priority: 'P1',
          labels: { symptom: 'prometheus-alert-delivery' },
          summary: 'Prometheus fails to send alerts to every Alertmanager.',
          description: who + ' failed to send at least {{ $value | humanizePercentage }} of its alerts to each '
                       + 'of its Alertmanagers over the last 5 minutes (threshold {{ %s | humanizePercentage }}): alerts are lost.'
                         % rules.param('threshold'),
          params: { threshold: c.prometheusAlertSendErrorThreshold },
        }),
        alert({
          name: 'PrometheusRemoteWriteFailing',
          expr: 'sum %s (rate(prometheus_remote_storage_samples_failed_total{%s}[5m]))' % [by(['instance', 'remote_name', 'url']), prom]
                + ' / (sum %s (rate(prometheus_remote_storage_samples_failed_total{%s}[5m]))' % [by(['instance', 'remote_name', 'url']), prom]
                + ' + sum %s (rate(prometheus_remote_storage_samples_total{%s}[5m]))) > %s'
                  % [by(['instance', 'remote_name', 'url']), prom, rules.param('threshold')],
          'for': '15m',
          severity: 'critical',
          priority: 'P2',
          summary: 'Prometheus fails to remote-write samples.',
          description: who + ' failed to send {{ $value | humanizePercentage }} of its samples to remote '
                       + 'storage {{ $labels.remote_name }} ({{ $labels.url }}) over the last 5 minutes '
                       + '(threshold {{ %s | humanizePercentage }}); they are lost for long-term storage.' % rules.param('threshold'),
          params: { threshold: c.prometheusRemoteWriteFailureThreshold },
        }),
        // Newest sample ingested against newest sample sent, per queue.
        alert({
          name: 'PrometheusRemoteWriteBehind',
          expr: 'max %s (max_over_time(prometheus_remote_storage_highest_timestamp_in_seconds{%s}[5m]))' % [by(['instance']), prom]
                + ' - %s group_right max %s (max_over_time(prometheus_remote_storage_queue_highest_sent_timestamp_seconds{%s}[5m])) > %s'
                  % [rules.on(['instance']), by(['instance', 'remote_name', 'url']), prom, rules.param('seconds')],
          'for': '15m',
          severity: 'critical',
          priority: 'P2',
          summary: 'Prometheus remote write is falling behind.',
          description: 'Remote write of ' + who + ' to {{ $labels.remote_name }} ({{ $labels.url }}) is '
                       + '{{ $value | humanizeDuration }} behind the newest ingested sample (threshold %s s).' % rules.param('seconds'),
          params: { seconds: c.prometheusRemoteWriteBehindSeconds },
        }),
        alert({
          name: 'PrometheusRemoteWriteShardsMaxed',
          expr: 'max %s (max_over_time(prometheus_remote_storage_shards_desired{%s}[5m]))' % [by(['instance', 'remote_name', 'url']), prom]
                + ' > max %s (max_over_time(prometheus_remote_storage_shards_max{%s}[5m]))' % [by(['instance', 'remote_name', 'url']), prom],
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          summary: 'Prometheus remote write wants more shards than it may use.',
          description: 'Remote write of ' + who + ' to {{ $labels.remote_name }} wants {{ $value }} shards, more '
                       + 'than its max_shards: it cannot keep up and will fall behind.',
        }),
      ]),
    ],
  },

  exporterMetrics+:: {
    prometheus+: [
      'prometheus_engine_queries',
      'prometheus_engine_queries_concurrent_max',
      'prometheus_remote_storage_highest_timestamp_in_seconds',
      'prometheus_remote_storage_queue_highest_sent_timestamp_seconds',
      'prometheus_remote_storage_samples_failed_total',
      'prometheus_remote_storage_samples_total',
      'prometheus_remote_storage_shards_desired',
      'prometheus_remote_storage_shards_max',
      'prometheus_sd_kubernetes_failures_total',
      'prometheus_sd_refresh_failures_total',
      'prometheus_target_scrape_pool_exceeded_label_limits_total',
      'prometheus_target_scrape_pool_exceeded_target_limit_total',
      'prometheus_target_scrapes_exceeded_body_size_limit_total',
      'prometheus_target_scrapes_exceeded_sample_limit_total',
      'prometheus_target_scrapes_sample_duplicate_timestamp_total',
      'prometheus_target_scrapes_sample_out_of_order_total',
      'prometheus_tsdb_reloads_failures_total',
    ],
  },
}

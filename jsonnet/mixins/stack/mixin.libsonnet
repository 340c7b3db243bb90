// Stack: the monitoring stack watching itself (Prometheus, Alertmanager, Grafana, Loki), from the
// components' own metrics and the `up` series of their scrape jobs. Watchdog always fires: the
// heartbeat receiver pages when it stops arriving, which catches a dead Prometheus, a dead
// Alertmanager or a broken route between them (the failures no other alert can report).
local config = import '../../lib/config.libsonnet';

{
  _config+:: config {
    // Scrape jobs of the components (the job names the chart's stack scrape config defines).
    prometheusJob: 'prometheus',
    alertmanagerJob: 'alertmanager',
    grafanaJob: 'grafana',
    lokiJob: 'loki',
    // The log agent's job (its alerts, LogAgentDown among them, are in the logs mixin).
    logAgentJob: 'log-agent',
    // Jobs with a dedicated "down" alert, left out of PrometheusTargetDown (no duplicate notifications).
    targetDownExcludedJobs: [self.grafanaJob, self.lokiJob, self.logAgentJob],

    // Defaults of the declared alert parameters (overridable per environment in Helm values).
    prometheusNotificationQueueFullThreshold: 0.8,
    prometheusTargetDownThreshold: 0.1,
    alertmanagerNotificationFailureThreshold: 0.01,
    // Peers of the Alertmanager cluster (the alertmanager subchart's `replicas`); set it per
    // environment next to the replicas.
    alertmanagerExpectedMembers: 1,
  },

  local c = $._config,
  local rules = (import '../../lib/rules.libsonnet')(c),
  local job(name) = 'job="%s"' % name,
  local where = '{{ $labels.environment }}/{{ $labels.cluster }}',

  // `<component> has no target up`: every target of the job reports up == 0, or the job has no
  // target at all (deployment gone, service discovery finds nothing). The second case is written
  // against Prometheus' own `up` series, so the alert keeps the cluster and environment labels
  // that `absent()` would lose.
  local downExpr(jobName) =
    'max %s (up{%s}) == 0' % [rules.by(), job(jobName)]
    + ' or (group %s (up{%s}) * 0' % [rules.by(), job(c.prometheusJob)]
    + ' unless %s group %s (up{%s}))' % [rules.on(), rules.by(), job(jobName)],

  prometheusAlerts+:: {
    groups+: [
      rules.group('stack-prometheus', [
        rules.alert({
          name: 'PrometheusRuleEvaluationFailures',
          expr: 'sum %s (increase(prometheus_rule_evaluation_failures_total{%s}[5m])) > 0'
                % [rules.by(['instance', 'rule_group']), job(c.prometheusJob)],
          'for': '15m',
          severity: 'critical',
          priority: 'P2',
          labels: { component: 'prometheus' },
          summary: 'Prometheus fails to evaluate rules.',
          description: 'Prometheus {{ $labels.instance }} in ' + where + ' had {{ $value | humanize }} failed '
                       + 'evaluations of rule group {{ $labels.rule_group }} in the last 5 minutes; '
                       + "the group's alerts and recorded series are missing.",
        }),
        rules.alert({
          name: 'PrometheusNotificationQueueRunningFull',
          expr: 'max_over_time(prometheus_notifications_queue_length{%s}[5m])' % job(c.prometheusJob)
                + ' / min_over_time(prometheus_notifications_queue_capacity{%s}[5m]) > %s'
                  % [job(c.prometheusJob), rules.param('threshold')],
          'for': '15m',
          severity: 'warning',
          priority: 'P2',
          labels: { component: 'prometheus' },
          summary: 'The queue of alerts Prometheus sends to Alertmanager is filling up.',
          description: 'The notification queue of Prometheus {{ $labels.instance }} in ' + where + ' is '
                       + '{{ $value | humanizePercentage }} full (threshold {{ %s | humanizePercentage }}); '
                         % rules.param('threshold')
                       + 'when it is full, alerts are dropped.',
          params: { threshold: c.prometheusNotificationQueueFullThreshold },
        }),
        rules.alert({
          name: 'PrometheusNotConnectedToAlertmanagers',
          expr: 'max_over_time(prometheus_notifications_alertmanagers_discovered{%s}[5m]) < 1'
                % job(c.prometheusJob),
          'for': '10m',
          severity: 'critical',
          priority: 'P2',
          labels: { component: 'prometheus' },
          summary: 'Prometheus is not connected to any Alertmanager.',
          description: 'Prometheus {{ $labels.instance }} in ' + where + ' has discovered '
                       + 'no Alertmanager over the last 5 minutes: its alerts reach nobody.',
        }),
        rules.alert({
          name: 'PrometheusTsdbCompactionsFailing',
          expr: 'increase(prometheus_tsdb_compactions_failed_total{%s}[3h]) > 0' % job(c.prometheusJob),
          'for': '4h',
          severity: 'warning',
          priority: 'P3',
          labels: { component: 'prometheus' },
          summary: 'Prometheus keeps failing to compact its TSDB blocks.',
          description: 'Prometheus {{ $labels.instance }} in ' + where + ' had {{ $value | humanize }} failed '
                       + 'TSDB compactions in the last 3 hours; the head block grows and the disk fills.',
        }),
        rules.alert({
          name: 'PrometheusTsdbWalCorruptions',
          expr: 'increase(prometheus_tsdb_wal_corruptions_total{%s}[3h]) > 0' % job(c.prometheusJob),
          'for': '5m',
          severity: 'warning',
          priority: 'P3',
          labels: { component: 'prometheus' },
          summary: 'The Prometheus write-ahead log is corrupted.',
          description: 'Prometheus {{ $labels.instance }} in ' + where + ' found a corrupted write-ahead log '
                       + '({{ $value | humanize }} corruptions in the last 3 hours); the samples after each corruption were lost.',
        }),
        rules.alert({
          name: 'PrometheusConfigReloadFailed',
          expr: 'max_over_time(prometheus_config_last_reload_successful{%s}[5m]) == 0'
                % job(c.prometheusJob),
          'for': '10m',
          severity: 'critical',
          priority: 'P2',
          labels: { component: 'prometheus' },
          summary: 'Prometheus failed to load its configuration.',
          description: 'The last configuration reload of Prometheus {{ $labels.instance }} in ' + where
                       + ' failed; it keeps running the previous configuration and rule files.',
        }),
        rules.alert({
          name: 'PrometheusTargetDown',
          expr: '(count %s (up{job!~"%s"} == 0) / count %s (up{job!~"%s"})) > %s'
                % [
                  rules.by(['job']),
                  std.join('|', c.targetDownExcludedJobs),
                  rules.by(['job']),
                  std.join('|', c.targetDownExcludedJobs),
                  rules.param('threshold'),
                ],
          'for': '10m',
          severity: 'warning',
          priority: 'P3',
          labels: { component: 'prometheus' },
          summary: 'Prometheus cannot scrape a share of the targets of a job.',
          description: '{{ $value | humanizePercentage }} of the targets of job {{ $labels.job }} in '
                       + where + ' are down (threshold {{ %s | humanizePercentage }}).'
                                 % rules.param('threshold'),
          params: { threshold: c.prometheusTargetDownThreshold },
        }),
      ]),

      rules.group('stack-alertmanager', [
        rules.alert({
          name: 'AlertmanagerNotificationsFailing',
          expr: 'sum %s (rate(alertmanager_notifications_failed_total{%s}[5m]))'
                % [rules.by(['integration']), job(c.alertmanagerJob)]
                + ' / sum %s (rate(alertmanager_notifications_total{%s}[5m])) > %s'
                  % [rules.by(['integration']), job(c.alertmanagerJob), rules.param('threshold')],
          'for': '5m',
          severity: 'critical',
          priority: 'P2',
          labels: { component: 'alertmanager' },
          summary: 'Alertmanager fails to deliver notifications.',
          description: '{{ $value | humanizePercentage }} of the {{ $labels.integration }} notifications of '
                       + 'Alertmanager in ' + where + ' failed over the last 5 minutes '
                       + '(threshold {{ %s | humanizePercentage }}).' % rules.param('threshold'),
          params: { threshold: c.alertmanagerNotificationFailureThreshold },
        }),
        rules.alert({
          name: 'AlertmanagerClusterMembersMissing',
          expr: 'min %s (max_over_time(alertmanager_cluster_members{%s}[5m])) < %s'
                % [rules.by(), job(c.alertmanagerJob), rules.param('expectedMembers')],
          'for': '10m',
          severity: 'warning',
          priority: 'P3',
          labels: { component: 'alertmanager' },
          summary: 'The Alertmanager cluster is missing members.',
          description: 'An Alertmanager in ' + where + ' sees only {{ $value }} cluster members '
                       + '(expected {{ %s }}): notifications may be duplicated or lost on failover.'
                         % rules.param('expectedMembers'),
          params: { expectedMembers: c.alertmanagerExpectedMembers },
        }),
      ]),

      rules.group('stack-components', [
        rules.alert({
          name: 'GrafanaDown',
          expr: downExpr(c.grafanaJob),
          'for': '5m',
          severity: 'warning',
          priority: 'P3',
          labels: { component: 'grafana' },
          summary: 'Grafana is down.',
          description: 'No target of scrape job %s is up in ' % c.grafanaJob + where
                       + ' (none answers, or none is discovered): dashboards are unavailable.',
        }),
        rules.alert({
          name: 'LokiDown',
          expr: downExpr(c.lokiJob),
          'for': '5m',
          severity: 'critical',
          priority: 'P2',
          labels: { component: 'loki' },
          summary: 'Loki is down.',
          description: 'No target of scrape job %s is up in ' % c.lokiJob + where
                       + ' (none answers, or none is discovered): logs are not ingested and cannot be queried.',
        }),
      ]),

      // Always firing. `vector(1)` has no labels: cluster and environment come from Prometheus'
      // external labels when the alert is sent, hence $externalLabels in the description.
      rules.group('stack-watchdog', [
        rules.alert({
          name: 'Watchdog',
          expr: 'vector(1)',
          'for': '0m',
          severity: 'info',
          priority: 'P4',
          labels: { component: 'prometheus' },
          summary: 'Heartbeat of the alerting pipeline; it always fires.',
          description: 'This alert always fires in {{ $externalLabels.environment }}/{{ $externalLabels.cluster }}. '
                       + 'The heartbeat receiver expects it continuously; when it stops arriving, '
                       + 'Prometheus, Alertmanager or the route between them is broken.',
        }),
      ]),
    ],
  },

  // Raw series the rules and dashboards read that are not in the application contract.
  exporterMetrics:: {
    prometheus: [
      'prometheus_config_last_reload_successful',
      'prometheus_notifications_alertmanagers_discovered',
      'prometheus_notifications_queue_capacity',
      'prometheus_notifications_queue_length',
      'prometheus_rule_evaluation_failures_total',
      'prometheus_tsdb_compactions_failed_total',
      'prometheus_tsdb_wal_corruptions_total',
      'up',
      // Read by the Prometheus and Alertmanager dashboard only.
      'process_resident_memory_bytes',
      'prometheus_notifications_dropped_total',
      'prometheus_notifications_errors_total',
      'prometheus_notifications_sent_total',
      'prometheus_rule_group_interval_seconds',
      'prometheus_rule_group_iterations_missed_total',
      'prometheus_rule_group_last_duration_seconds',
      'prometheus_tsdb_head_samples_appended_total',
      'prometheus_tsdb_head_series',
      'prometheus_tsdb_storage_blocks_bytes',
      'scrape_duration_seconds',
      'scrape_samples_post_metric_relabeling',
    ],
    alertmanager: [
      'alertmanager_cluster_members',
      'alertmanager_notifications_failed_total',
      'alertmanager_notifications_total',
      // Read by the Prometheus and Alertmanager dashboard only.
      'alertmanager_alerts',
      'alertmanager_notification_latency_seconds_bucket',
      'alertmanager_silences',
    ],
    // Read by the Loki and log agents dashboard (the logs mixin lists those its rules read).
    loki: [
      'loki_distributor_bytes_received_total',
      'loki_ingester_memory_streams',
      'loki_request_duration_seconds_bucket',
    ],
  },

  // Stack / Prometheus and Alertmanager, Stack / Loki and log agents; thresholds from _config
  // above and from the logs mixin's (the log pipeline's alerts are there).
  dashboardFolder:: 'Stack',
  grafanaDashboards+:: {
    'prometheus-alertmanager.json': (import 'prometheus-alertmanager.libsonnet')(c),
    'loki-log-agents.json': (import 'loki-log-agents.libsonnet')(c),
  },
} + (import 'prometheus-extra.libsonnet') + (import 'alertmanager-extra.libsonnet') + (import 'prometheus-target-sync.libsonnet') + (import 'dashboards-coverage.libsonnet') + (import 'dashboard-rules.libsonnet')

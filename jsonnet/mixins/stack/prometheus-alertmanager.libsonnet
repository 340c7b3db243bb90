// Stack / Prometheus and Alertmanager: the alerting path watching itself. Prometheus (targets,
// scrapes, TSDB, rule evaluation, the queue to Alertmanager) and Alertmanager (alerts, silences,
// notifications per integration, cluster), from their own metrics. Thresholds are the stack
// mixin's `_config` (`c`), the defaults of its alerts' parameters.

function(c)
  local d = (import '../../lib/dashboards.libsonnet')(c);
  local s = d.selector();
  local prom = d.selector(['job="%s"' % c.prometheusJob, 'instance=~"$instance"']);
  local am = d.selector(['job="%s"' % c.alertmanagerJob]);

  local q = {
    up: d.target('min (up%s)' % prom, 'up'),
    configReload: d.target('min (prometheus_config_last_reload_successful%s)' % prom, 'reload'),
    alertmanagers: d.target('min (prometheus_notifications_alertmanagers_discovered%s)' % prom, 'discovered'),
    headSeries: d.target('max (prometheus_tsdb_head_series%s)' % prom, 'series'),
    grafanaUp: d.target('sum (up%s)' % d.selector(['job="%s"' % c.grafanaJob]), 'up'),
    // Targets down over targets, from the counts recorded per job (dashboard-rules.libsonnet):
    // no window either way, the same share.
    targetsDown: d.target(
      '(sum by (job) (job:up:count%s) - sum by (job) (job:up:sum%s)) / sum by (job) (job:up:count%s)' % [s, s, s], '{{job}}'
    ),
    downTargets: d.target('max by (job, instance) (up%s == 0)' % s, '', instant=true, format='table'),
    scrapeDuration: d.target('topk(10, max by (job) (scrape_duration_seconds%s))' % s, '{{job}}'),
    samples: d.target('topk(10, sum by (job) (scrape_samples_post_metric_relabeling%s))' % s, '{{job}}'),
    series: d.target('prometheus_tsdb_head_series%s' % prom, '{{instance}}'),
    appended: d.target('sum by (instance) (rate(prometheus_tsdb_head_samples_appended_total%s[$__rate_interval]))' % prom, '{{instance}}'),
    blocks: d.target('prometheus_tsdb_storage_blocks_bytes%s' % prom, '{{instance}} blocks'),
    memory: d.target('process_resident_memory_bytes%s' % prom, '{{instance}} resident memory'),
    tsdbFailures: d.target(
      'sum by (instance) (increase(prometheus_tsdb_compactions_failed_total%s[$__rate_interval]))' % prom, '{{instance}} failed compactions'
    ),
    walCorruptions: d.target(
      'sum by (instance) (increase(prometheus_tsdb_wal_corruptions_total%s[$__rate_interval]))' % prom, '{{instance}} WAL corruptions'
    ),
    ruleFailures: d.target(
      'sum by (rule_group) (increase(prometheus_rule_evaluation_failures_total%s[$__rate_interval]))' % prom, '{{rule_group}}'
    ),
    ruleDuration: d.target(
      'topk(10, max by (rule_group) (prometheus_rule_group_last_duration_seconds%s / prometheus_rule_group_interval_seconds%s))'
      % [prom, prom],
      '{{rule_group}}'
    ),
    ruleMissed: d.target(
      'sum by (rule_group) (increase(prometheus_rule_group_iterations_missed_total%s[$__rate_interval]))' % prom, '{{rule_group}}'
    ),
    queue: d.target(
      'max by (instance) (prometheus_notifications_queue_length%s / prometheus_notifications_queue_capacity%s)' % [prom, prom], '{{instance}}'
    ),
    sent: d.target('sum (rate(prometheus_notifications_sent_total%s[$__rate_interval]))' % prom, 'sent'),
    errors: d.target('sum (rate(prometheus_notifications_errors_total%s[$__rate_interval]))' % prom, 'errors'),
    dropped: d.target('sum (rate(prometheus_notifications_dropped_total%s[$__rate_interval]))' % prom, 'dropped'),
    alertsByState: d.target('max by (state) (alertmanager_alerts%s)' % am, '{{state}}'),
    silences: d.target('max (alertmanager_silences%s)' % d.selector(['job="%s"' % c.alertmanagerJob, 'state="active"']), 'active'),
    members: d.target('min (alertmanager_cluster_members%s)' % am, 'members'),
    notifications: d.target('sum by (integration) (rate(alertmanager_notifications_total%s[$__rate_interval]))' % am, '{{integration}}'),
    failureRatio: d.target(
      'sum by (integration) (rate(alertmanager_notifications_failed_total%s[$__rate_interval])) / sum by (integration) (rate(alertmanager_notifications_total%s[$__rate_interval]))'
      % [am, am],
      '{{integration}}'
    ),
    latency: d.target(
      'histogram_quantile(0.99, sum by (le, integration) (rate(alertmanager_notification_latency_seconds_bucket%s[$__rate_interval])))' % am,
      '{{integration}} p99'
    ),
  };

  local p = {
    up: d.upStat(
      'Prometheus', 'Whether every selected Prometheus answers its own scrape. Good: UP (when it is down, only the Watchdog heartbeat tells).', [q.up], alerts=['Watchdog']
    ),
    configReload: d.upStat(
      'Last config reload',
      'Whether the last configuration reload succeeded. Good: UP; DOWN means Prometheus still runs the previous configuration and rules.',
      [q.configReload],
      alerts=['PrometheusConfigReloadFailed'],
    ),
    alertmanagers: d.stat(
      'Alertmanagers discovered',
      'Alertmanagers the Prometheus with the fewest knows. Good: every Alertmanager replica; 0 means alerts reach nobody.',
      'short',
      [q.alertmanagers],
      thresholds=d.upDown,
      alerts=['PrometheusNotConnectedToAlertmanagers'],
      graph=false,
    ),
    headSeries: d.stat('Active series', 'Series in the head block of the busiest Prometheus. Good: stable; a jump is a new high-cardinality label.', 'short', [q.headSeries]),
    members: d.stat(
      'Alertmanager cluster members',
      'Peers the Alertmanager that sees the fewest knows. Good: green, the number of replicas (AlertmanagerClusterMembersMissing below it).',
      'short',
      [q.members],
      thresholds=d.below([c.alertmanagerExpectedMembers]),
      alerts=['AlertmanagerClusterMembersMissing'],
      graph=false,
    ),
    grafanaUp: d.stat(
      'Grafana replicas up', 'Grafana pods Prometheus can scrape. Good: every replica; 0 fires GrafanaDown.', 'short', [q.grafanaUp], alerts=['GrafanaDown'], graph=false
    ),
    targetsDown: d.timeseries(
      'Targets down by job',
      'Share of the targets of each scrape job that fail their scrapes. Good: 0, below the dashed PrometheusTargetDown line (Grafana, Loki and the log agent have their own alerts).',
      'percentunit',
      [q.targetsDown],
      thresholds=d.above([c.prometheusTargetDownThreshold]),
      alerts=['PrometheusTargetDown'],
      min=0,
      max=1,
    ),
    downTargets: d.table('Targets down now', 'Every target failing its scrape right now. Good: empty.', 'short', [q.downTargets]),
    scrapeDuration: d.timeseries(
      'Slowest scrape by job', 'Longest scrape of each job (top 10). Good: well below the scrape timeout; a slow exporter delays its samples.', 's', [q.scrapeDuration], min=0
    ),
    samples: d.timeseries(
      'Samples per scrape by job', 'Samples each job returns per scrape after relabelling (top 10). Good: stable; the largest jobs cost the most memory.', 'short', [q.samples], min=0
    ),
    series: d.timeseries('Head series', 'Active series per Prometheus. Good: stable within the memory the pod has.', 'short', [q.series], min=0),
    appended: d.timeseries('Samples ingested', 'Samples appended per second per Prometheus. Good: steady; a drop means targets are gone.', 'cps', [q.appended], min=0),
    storage: d.timeseries(
      'Storage and memory', 'Bytes of TSDB blocks on disk and resident memory per Prometheus. Good: blocks within the retention size and volume; memory below the limit.', 'bytes', [q.blocks, q.memory], min=0
    ),
    tsdb: d.timeseries(
      'TSDB failures',
      'Failed compactions and WAL corruptions per interval. Good: 0; failed compactions fill the disk, corruptions lose samples.',
      'short',
      [q.tsdbFailures, q.walCorruptions],
      alerts=['PrometheusTsdbCompactionsFailing', 'PrometheusTsdbWalCorruptions'],
      min=0,
    ),
    ruleFailures: d.timeseries(
      'Rule evaluation failures by group',
      "Failed rule evaluations per interval, per group. Good: 0; a failing group's alerts and recorded series are missing.",
      'short',
      [q.ruleFailures],
      alerts=['PrometheusRuleEvaluationFailures'],
      min=0,
    ),
    ruleDuration: d.timeseries(
      'Rule group duration against interval',
      'Time each rule group took as a share of its evaluation interval (top 10). Good: well below 100%; above it iterations are missed.',
      'percentunit',
      [q.ruleDuration],
      min=0,
    ),
    ruleMissed: d.timeseries(
      'Missed rule iterations', 'Evaluations skipped because the previous one was still running, per interval. Good: 0.', 'short', [q.ruleMissed], min=0
    ),
    queue: d.timeseries(
      'Notification queue fill',
      'Alerts waiting to be sent to Alertmanager, as a share of the queue capacity. Good: near 0, below the dashed PrometheusNotificationQueueRunningFull line.',
      'percentunit',
      [q.queue],
      thresholds=d.above([c.prometheusNotificationQueueFullThreshold]),
      alerts=['PrometheusNotificationQueueRunningFull'],
      min=0,
      max=1,
    ),
    sentToAlertmanager: d.timeseries(
      'Alerts sent to Alertmanager', 'Alerts per second Prometheus sent, failed to send and dropped. Good: errors and dropped at 0.', 'ops', [q.sent, q.errors, q.dropped], min=0
    ),
    alertsByState: d.timeseries(
      'Alerts by state', 'Alerts in Alertmanager: active (notified), suppressed (silenced or inhibited), unprocessed. Good: few active; Watchdog is always one.', 'short', [q.alertsByState], min=0
    ),
    silences: d.stat('Active silences', 'Silences in force. Good: each one known and dated; many old silences hide problems.', 'short', [q.silences]),
    notifications: d.timeseries(
      'Notifications by integration', 'Notifications per second per integration (Slack, PagerDuty, e-mail, webhook). Good: follows the alerts.', 'ops', [q.notifications], min=0
    ),
    failureRatio: d.timeseries(
      'Notification failures by integration',
      'Share of notifications that failed, per integration. Good: 0, below the dashed AlertmanagerNotificationsFailing line; failing ones reach nobody.',
      'percentunit',
      [q.failureRatio],
      thresholds=d.above([c.alertmanagerNotificationFailureThreshold]),
      alerts=['AlertmanagerNotificationsFailing'],
      min=0,
    ),
    latency: d.timeseries(
      'Notification latency p99', 'Time to deliver a notification, per integration (p99). Good: a few seconds; retries to a slow receiver show here.', 's', [q.latency], min=0
    ),
  };

  d.withNeighbours(
    d.dashboard({
      uid: 'prometheus-alertmanager',
      title: 'Stack / Prometheus and Alertmanager',
      tags: ['stack', 'prometheus', 'alertmanager'],
      description: 'Does the alerting path work? Prometheus scraping, storage, rule evaluation and its queue to '
                   + 'Alertmanager, then Alertmanager alerts, silences, notifications and cluster. Dashed lines are the '
                   + 'alert thresholds (Jsonnet defaults; an environment may override them in Helm values).',
      variables: [d.variable('instance', 'Prometheus', 'up', extra=['job="%s"' % c.prometheusJob])],
      panels: d.layout([
        d.row('Health'),
        d.height(4, [p.up, p.configReload, p.alertmanagers, p.headSeries, p.members, p.grafanaUp]),
        d.row('Scraping'),
        [p.targetsDown, p.downTargets],
        [p.scrapeDuration, p.samples],
        d.row('Storage'),
        [p.series, p.appended],
        [p.storage, p.tsdb],
        d.row('Rules and notifications'),
        [p.ruleFailures, p.ruleDuration, p.ruleMissed],
        [p.queue, p.sentToAlertmanager],
        d.row('Alertmanager'),
        [p.alertsByState, [p.silences, 4], p.notifications],
        [p.failureRatio, p.latency],
      ]),
    }),
    [d.neighbour('loki-log-agents', 'Loki and log agents')],
  )

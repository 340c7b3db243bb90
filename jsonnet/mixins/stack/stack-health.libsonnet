// Stack / Stack health: what can silently break the monitoring itself. Prometheus discovery,
// ingestion, limits, rule evaluation, alert delivery and remote write; the Alertmanager cluster's
// peers, configuration and notifications per peer. Panels name the alerts of prometheus-extra and
// alertmanager-extra; thresholds are their parameters' defaults.

function(c)
  local d = (import '../../lib/dashboards.libsonnet')(c);
  local prom = d.selector(['job="%s"' % c.prometheusJob]);
  local am = d.selector(['job="%s"' % c.alertmanagerJob]);
  local inc(metric, extra='') = 'sum by (instance%s) (increase(%s%s[$__rate_interval]))' % [extra, metric, prom];
  local rate(metric, sel, labels) = 'sum by (%s) (rate(%s%s[$__rate_interval]))' % [labels, metric, sel];

  local q = {
    targetSync: d.target(inc('prometheus_target_sync_failed_total', ', scrape_job'), '{{instance}} {{scrape_job}}'),
    sdFailures: d.target(inc('prometheus_sd_refresh_failures_total', ', mechanism'), '{{instance}} {{mechanism}}'),
    k8sFailures: d.target(inc('prometheus_sd_kubernetes_failures_total'), '{{instance}} kubernetes'),
    appended: d.target(rate('prometheus_tsdb_head_samples_appended_total', prom, 'instance'), '{{instance}}'),
    duplicate: d.target(inc('prometheus_target_scrapes_sample_duplicate_timestamp_total'), '{{instance}} duplicate'),
    outOfOrder: d.target(inc('prometheus_target_scrapes_sample_out_of_order_total'), '{{instance}} out of order'),
    missed: d.target(inc('prometheus_rule_group_iterations_missed_total', ', rule_group'), '{{rule_group}}'),
    reloads: d.target(inc('prometheus_tsdb_reloads_failures_total'), '{{instance}}'),
    queryLoad: d.target(
      'max by (instance) (prometheus_engine_queries%s) / max by (instance) (prometheus_engine_queries_concurrent_max%s)' % [prom, prom],
      '{{instance}}'
    ),
    targetLimit: d.target(inc('prometheus_target_scrape_pool_exceeded_target_limit_total'), '{{instance}} target limit'),
    labelLimit: d.target(inc('prometheus_target_scrape_pool_exceeded_label_limits_total'), '{{instance}} label limits'),
    sampleLimit: d.target(inc('prometheus_target_scrapes_exceeded_sample_limit_total'), '{{instance}} sample limit'),
    bodyLimit: d.target(inc('prometheus_target_scrapes_exceeded_body_size_limit_total'), '{{instance}} body size limit'),
    sendErrors: d.target(
      '%s / %s' % [
        rate('prometheus_notifications_errors_total', prom, 'instance, alertmanager'),
        rate('prometheus_notifications_sent_total', prom, 'instance, alertmanager'),
      ],
      '{{instance}} -> {{alertmanager}}'
    ),
    rwFailed: d.target(
      '%s / (%s + %s)' % [
        rate('prometheus_remote_storage_samples_failed_total', prom, 'instance, remote_name'),
        rate('prometheus_remote_storage_samples_failed_total', prom, 'instance, remote_name'),
        rate('prometheus_remote_storage_samples_total', prom, 'instance, remote_name'),
      ],
      '{{instance}} {{remote_name}}'
    ),
    rwBehind: d.target(
      'max by (instance) (prometheus_remote_storage_highest_timestamp_in_seconds%s) - on (instance) group_right '
      % prom + 'max by (instance, remote_name) (prometheus_remote_storage_queue_highest_sent_timestamp_seconds%s)' % prom,
      '{{instance}} {{remote_name}}'
    ),
    shardsDesired: d.target('max by (instance, remote_name) (prometheus_remote_storage_shards_desired%s)' % prom, '{{remote_name}} desired'),
    shardsMax: d.target('max by (instance, remote_name) (prometheus_remote_storage_shards_max%s)' % prom, '{{remote_name}} max'),
    amUp: d.target('sum (up%s)' % am, 'up'),
    amDown: d.target('count (up%s == 0) / count (up%s)' % [am, am], 'down share'),
    amReload: d.target('max by (instance) (alertmanager_config_last_reload_successful%s)' % am, '{{instance}}'),
    amHashes: d.target('count (count_values ("config_hash", alertmanager_config_hash%s))' % am, 'configurations'),
    amPeerFailures: d.target(
      '%s / %s' % [
        rate('alertmanager_notifications_failed_total', am, 'instance, integration'),
        rate('alertmanager_notifications_total', am, 'instance, integration'),
      ],
      '{{instance}} {{integration}}'
    ),
  };

  local p = {
    targetSync: d.timeseries(
      'Target sync failures',
      'Failed syncs of each scrape pool (targets built from what discovery found). Good: 0; otherwise the job scrapes stale targets.',
      'short',
      [q.targetSync],
      thresholds=d.countBad,
      alerts=['PrometheusTargetSyncFailure'],
      min=0,
    ),
    discovery: d.timeseries(
      'Service discovery failures',
      'Failed refreshes per discovery mechanism and failed Kubernetes list/watch calls. Good: 0; failures leave targets stale or unscraped.',
      'short',
      [q.sdFailures, q.k8sFailures],
      alerts=['PrometheusServiceDiscoveryFailing', 'PrometheusKubernetesDiscoveryFailing'],
      min=0,
    ),
    appended: d.timeseries(
      'Samples ingested',
      'Samples appended to the database per second. Good: steady; 0 means nothing is scraped or recorded.',
      'short',
      [q.appended],
      alerts=['PrometheusNotIngestingSamples'],
      min=0,
    ),
    dropped: d.timeseries(
      'Samples dropped: duplicate and out-of-order timestamps',
      'Samples refused per interval because a target exposed a series twice or with timestamps going backwards. Good: 0.',
      'short',
      [q.duplicate, q.outOfOrder],
      alerts=['PrometheusDuplicateTimestamps', 'PrometheusOutOfOrderTimestamps'],
      min=0,
    ),
    missed: d.timeseries(
      'Missed rule evaluations',
      'Evaluations skipped per rule group because the previous one overran the interval. Good: 0.',
      'short',
      [q.missed],
      alerts=['PrometheusMissedRuleEvaluations'],
      min=0,
    ),
    limits: d.timeseries(
      'Scrape limits hit',
      'Scrape pools and scrapes refused for exceeding target, label, sample or body-size limits. Good: 0.',
      'short',
      [q.targetLimit, q.labelLimit, q.sampleLimit, q.bodyLimit],
      alerts=['PrometheusTargetLimitHit', 'PrometheusLabelLimitHit', 'PrometheusSampleLimitHit', 'PrometheusBodySizeLimitHit'],
      min=0,
    ),
    reloads: d.timeseries(
      'TSDB reload failures',
      'Failed reloads of the blocks on disk. Good: 0.',
      'short',
      [q.reloads],
      alerts=['PrometheusTsdbReloadsFailing'],
      min=0,
    ),
    queryLoad: d.timeseries(
      'Query load',
      'Running queries against the maximum of concurrent queries. Good: below the line; at 100% queries queue.',
      'percentunit',
      [q.queryLoad],
      thresholds=d.above([c.prometheusQueryLoadThreshold]),
      alerts=['PrometheusQueryLoadHigh'],
      min=0,
      max=1,
    ),
    sendErrors: d.timeseries(
      'Alert send errors, by Alertmanager',
      'Failed share of the alerts each Prometheus sent to each Alertmanager. Good: 0; one Alertmanager failing is a warning, all of them a page.',
      'percentunit',
      [q.sendErrors],
      thresholds=d.above([c.prometheusAlertSendErrorThreshold]),
      alerts=['PrometheusErrorSendingAlertsToSomeAlertmanagers', 'PrometheusErrorSendingAlertsToAllAlertmanagers'],
      min=0,
    ),
    rwFailed: d.timeseries(
      'Remote write: failed samples',
      'Failed share of the samples sent to each remote storage. Good: 0 (no series without remote write).',
      'percentunit',
      [q.rwFailed],
      thresholds=d.above([c.prometheusRemoteWriteFailureThreshold]),
      alerts=['PrometheusRemoteWriteFailing'],
      min=0,
    ),
    rwBehind: d.timeseries(
      'Remote write: delay',
      'Newest ingested sample against newest sample sent, per queue. Good: seconds, below the line.',
      's',
      [q.rwBehind],
      thresholds=d.above([c.prometheusRemoteWriteBehindSeconds]),
      alerts=['PrometheusRemoteWriteBehind'],
      min=0,
    ),
    rwShards: d.timeseries(
      'Remote write: shards desired and maximum',
      'Shards each queue wants against its max_shards. Good: desired below max.',
      'short',
      [q.shardsDesired, q.shardsMax],
      alerts=['PrometheusRemoteWriteShardsMaxed'],
      min=0,
    ),
    amUp: d.upStat('Alertmanager peers up', 'Alertmanager peers answering scrapes. Good: every replica.', [q.amUp]),
    amDown: d.timeseries(
      'Alertmanager peers down',
      'Share of Alertmanager peers whose scrape fails. Good: 0; at the line half the cluster is gone.',
      'percentunit',
      [q.amDown],
      thresholds=d.above([c.alertmanagerClusterDownThreshold]),
      alerts=['AlertmanagerClusterDown'],
      min=0,
      max=1,
    ),
    amReload: d.timeseries(
      'Alertmanager configuration reload',
      'Whether the last configuration reload of each peer succeeded (1). Good: 1 everywhere.',
      'short',
      [q.amReload],
      alerts=['AlertmanagerConfigReloadFailed'],
      min=0,
      max=1,
    ),
    amHashes: d.stat(
      'Alertmanager configurations in use',
      'Distinct configurations the peers run. Good: 1; more means a peer did not reload.',
      'short',
      [q.amHashes],
      thresholds=d.steps('green', [[2, 'red']]),
      alerts=['AlertmanagerClusterConfigInconsistent'],
    ),
    amPeerFailures: d.timeseries(
      'Notification failures, by peer and integration',
      'Failed share of the notifications each peer sent, per integration. Good: 0; one peer failing is a warning, every peer a page.',
      'percentunit',
      [q.amPeerFailures],
      thresholds=d.above([c.alertmanagerPeerNotificationFailureThreshold]),
      alerts=['AlertmanagerFailingToSendFromSomePeers', 'AlertmanagerFailingToSendFromAllPeers'],
      min=0,
    ),
  };

  d.withNeighbours(
    d.dashboard({
      uid: 'stack-health',
      title: 'Stack / Stack health',
      tags: ['stack', 'prometheus', 'alertmanager'],
      description: 'Can the monitoring be trusted right now? Discovery, ingestion, limits, rule evaluation, alert delivery '
                   + 'and remote write of Prometheus; peers, configuration and notifications of the Alertmanager cluster.',
      panels: d.layout([
        d.row('Prometheus: discovery and ingestion'),
        [p.discovery, p.appended, p.dropped],
        [p.missed, p.limits, p.reloads, p.queryLoad],
        d.row('Prometheus: delivery'),
        [p.sendErrors, p.rwFailed, p.rwBehind, p.rwShards],
        d.row('Alertmanager cluster'),
        [[p.amUp, 4], [p.amHashes, 4], p.amDown, p.amReload],
        [p.amPeerFailures],
        d.row('Prometheus: scrape pools'),
        [p.targetSync],
      ]),
    }),
    [d.neighbour('prometheus-alertmanager', 'Prometheus and Alertmanager')],
  )

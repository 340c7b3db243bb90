// PostgreSQL, from the prometheus-community postgres_exporter (default collectors):
//   pg_up                                      gauge, 1 when the exporter could connect
//   pg_settings_max_connections                gauge, the max_connections setting
//   pg_stat_activity_count{datname, state}     gauge, client connections per database and state
//   pg_stat_activity_max_tx_duration{datname, state}  gauge, age in seconds of the oldest open transaction
//   pg_replication_lag_seconds                 gauge, now() - pg_last_xact_replay_timestamp() on a replica, 0 on a primary
//   pg_stat_database_{xact_commit, xact_rollback, deadlocks, blks_hit, blks_read}{datid, datname}  counters
// and `up` of the exporter's scrape job. Recording rules keep cluster, environment and the
// exporter's `instance` (one PostgreSQL server per exporter target).
// The Alertmanager routes these alerts to the database team (team="database").
local config = import '../../lib/config.libsonnet';
local selectors = import '../../lib/selectors.libsonnet';

{
  _config+:: config {
    // Matchers ANDed into every selector on the exporter's series (its scrape job).
    postgresSelector: 'job="postgres-exporter"',
    postgresLabels: { service: 'postgresql', team: 'database' },
    // Defaults of the declared alert parameters (overridable per environment in Helm values).
    postgresReplicationLagThresholdSeconds: 300,
    postgresConnectionsWarningRatio: 0.8,
    postgresConnectionsCriticalRatio: 0.9,
    postgresLongTransactionThresholdSeconds: 900,
    postgresDeadlocksThreshold: 5,
    postgresCacheHitRatioThreshold: 0.9,
    postgresCacheMinBlocksPerSecond: 100,
  },

  local c = $._config,
  local rules = (import '../../lib/rules.libsonnet')(c),
  local selector(extra=[]) = selectors.of([c.postgresSelector] + extra),
  local where = '{{ $labels.instance }} in {{ $labels.environment }}/{{ $labels.cluster }}',

  prometheusRules+:: {
    groups+: [
      rules.group('postgres-recording', [
        // Client connections of all databases and states, against the server's max_connections.
        rules.record(
          'instance:pg_stat_activity_count:sum',
          'sum %s (pg_stat_activity_count%s)' % [rules.by(['instance']), selector()],
        ),
        rules.record(
          'instance:pg_stat_activity_count:ratio_max_connections',
          'instance:pg_stat_activity_count:sum / max %s (pg_settings_max_connections%s)'
          % [rules.by(['instance']), selector()],
        ),
        rules.record(
          'instance_datname:pg_stat_database_xact_commit:rate5m',
          'sum %s (rate(pg_stat_database_xact_commit%s[5m]))' % [rules.by(['instance', 'datname']), selector()],
        ),
        rules.record(
          'instance_datname:pg_stat_database_xact_rollback:rate5m',
          'sum %s (rate(pg_stat_database_xact_rollback%s[5m]))' % [rules.by(['instance', 'datname']), selector()],
        ),
        // 0 on a primary; on a replica it also grows while the primary writes nothing.
        rules.record(
          'instance:pg_replication_lag_seconds:max',
          'max %s (pg_replication_lag_seconds%s)' % [rules.by(['instance']), selector()],
        ),
        rules.record(
          'instance_datname:pg_stat_database_deadlocks:increase10m',
          'sum %s (increase(pg_stat_database_deadlocks%s[10m]))' % [rules.by(['instance', 'datname']), selector()],
        ),
        // Buffer cache: blocks found in shared buffers (hit) or read from disk/OS cache (read).
        rules.record(
          'instance_datname:pg_stat_database_blks_hit:rate5m',
          'sum %s (rate(pg_stat_database_blks_hit%s[5m]))' % [rules.by(['instance', 'datname']), selector()],
        ),
        rules.record(
          'instance_datname:pg_stat_database_blks_read:rate5m',
          'sum %s (rate(pg_stat_database_blks_read%s[5m]))' % [rules.by(['instance', 'datname']), selector()],
        ),
        rules.record(
          'instance_datname:pg_stat_database_blks_hit:ratio_rate5m',
          'instance_datname:pg_stat_database_blks_hit:rate5m'
          + ' / (instance_datname:pg_stat_database_blks_hit:rate5m + instance_datname:pg_stat_database_blks_read:rate5m)',
        ),
      ]),
    ],
  },

  prometheusAlerts+:: {
    groups+: [
      rules.group('postgres-alerts', [
        rules.alert({
          name: 'PostgresDown',
          // pg_up == 0: the exporter runs but cannot connect; up == 0: the exporter itself is gone.
          expr: 'pg_up%s == 0 or up%s == 0' % [selector(), selector()],
          'for': '2m',
          severity: 'critical',
          priority: 'P1',
          labels: c.postgresLabels,
          summary: 'PostgreSQL is unreachable.',
          description: 'PostgreSQL behind the exporter %s cannot be reached: ' % where
                       + 'the exporter cannot connect to the server, or the exporter itself cannot be scraped (job {{ $labels.job }}).',
        }),
        rules.alert({
          name: 'PostgresReplicationLagHigh',
          expr: 'instance:pg_replication_lag_seconds:max > %s' % rules.param('thresholdSeconds'),
          'for': '5m',
          severity: 'critical',
          priority: 'P2',
          labels: c.postgresLabels,
          summary: 'A PostgreSQL replica lags far behind its primary.',
          description: 'Replica %s last replayed a transaction {{ $value | humanizeDuration }} ago ' % where
                       + '(threshold {{ %s | humanizeDuration }}); reads from it are stale and a failover would lose data.'
                         % rules.param('thresholdSeconds'),
          params: { thresholdSeconds: c.postgresReplicationLagThresholdSeconds },
        }),
        rules.alert({
          name: 'PostgresConnectionsHigh',
          expr: 'instance:pg_stat_activity_count:ratio_max_connections > %s' % rules.param('threshold'),
          'for': '5m',
          severity: 'warning',
          priority: 'P3',
          labels: c.postgresLabels { symptom: 'postgres-connections' },
          summary: 'PostgreSQL uses most of its connection slots.',
          description: 'PostgreSQL %s uses {{ $value | humanizePercentage }} of max_connections ' % where
                       + '(threshold {{ %s | humanizePercentage }}).' % rules.param('threshold'),
          params: { threshold: c.postgresConnectionsWarningRatio },
        }),
        rules.alert({
          name: 'PostgresConnectionsCritical',
          expr: 'instance:pg_stat_activity_count:ratio_max_connections > %s' % rules.param('threshold'),
          'for': '5m',
          severity: 'critical',
          priority: 'P2',
          labels: c.postgresLabels { symptom: 'postgres-connections' },
          summary: 'PostgreSQL is about to refuse new connections.',
          description: 'PostgreSQL %s uses {{ $value | humanizePercentage }} of max_connections ' % where
                       + '(threshold {{ %s | humanizePercentage }}); new clients get "too many clients" errors once it is full.'
                         % rules.param('threshold'),
          params: { threshold: c.postgresConnectionsCriticalRatio },
        }),
        rules.alert({
          name: 'PostgresLongRunningTransaction',
          expr: 'max %s (pg_stat_activity_max_tx_duration%s) > %s'
                % [rules.by(['instance', 'datname', 'state']), selector(), rules.param('thresholdSeconds')],
          'for': '2m',
          severity: 'warning',
          priority: 'P3',
          labels: c.postgresLabels,
          summary: 'A PostgreSQL transaction has been open for a long time.',
          description: 'A transaction in state "{{ $labels.state }}" on database {{ $labels.datname }} of %s ' % where
                       + 'has been open for {{ $value | humanizeDuration }} (threshold {{ %s | humanizeDuration }}); '
                         % rules.param('thresholdSeconds')
                       + 'it holds locks and keeps VACUUM from removing dead rows.',
          params: { thresholdSeconds: c.postgresLongTransactionThresholdSeconds },
        }),
        rules.alert({
          name: 'PostgresDeadlocksDetected',
          expr: 'instance_datname:pg_stat_database_deadlocks:increase10m > %s' % rules.param('threshold'),
          'for': '5m',
          severity: 'warning',
          priority: 'P3',
          labels: c.postgresLabels,
          summary: 'PostgreSQL keeps aborting transactions because of deadlocks.',
          description: 'Database {{ $labels.datname }} on %s had {{ $value | humanize }} deadlocks ' % where
                       + 'in the last 10 minutes (threshold %s).' % rules.param('threshold'),
          params: { threshold: c.postgresDeadlocksThreshold },
        }),
        rules.alert({
          name: 'PostgresCacheHitRatioLow',
          expr: 'instance_datname:pg_stat_database_blks_hit:ratio_rate5m < %s' % rules.param('threshold')
                + ' and (instance_datname:pg_stat_database_blks_hit:rate5m + instance_datname:pg_stat_database_blks_read:rate5m) > %s'
                  % rules.param('minBlocksPerSecond'),
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          labels: c.postgresLabels,
          summary: 'PostgreSQL reads many blocks from outside its buffer cache.',
          description: 'Only {{ $value | humanizePercentage }} of block reads of database {{ $labels.datname }} on %s ' % where
                       + 'were served from shared buffers over the last 5 minutes (threshold {{ %s | humanizePercentage }}).'
                         % rules.param('threshold'),
          params: {
            threshold: c.postgresCacheHitRatioThreshold,
            minBlocksPerSecond: c.postgresCacheMinBlocksPerSecond,
          },
        }),
      ]),
    ],
  },

  // Infrastructure / PostgreSQL; thresholds from _config above.
  dashboardFolder:: 'Infrastructure',
  grafanaDashboards+:: {
    'postgresql.json': (import 'postgresql.libsonnet')(c),
  },

  exporterMetrics:: {
    'postgres-exporter': [
      'pg_up',
      'pg_settings_max_connections',
      'pg_stat_activity_count',
      'pg_stat_activity_max_tx_duration',
      'pg_replication_lag_seconds',
      'pg_stat_database_xact_commit',
      'pg_stat_database_xact_rollback',
      'pg_stat_database_deadlocks',
      'pg_stat_database_blks_hit',
      'pg_stat_database_blks_read',
      // Read by the PostgreSQL dashboard only.
      'pg_database_size_bytes',
      'pg_locks_count',
    ],
    prometheus: ['up'],
  },
}

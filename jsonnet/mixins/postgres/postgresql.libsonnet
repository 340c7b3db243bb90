// Infrastructure / PostgreSQL: availability, connections against max_connections, replication
// lag, transactions, long transactions, deadlocks, buffer cache and size, per server (`instance`)
// and database (`datname`). Reads the postgres mixin's recording rules; thresholds are its
// `_config` (`c`), the defaults of its alerts' parameters.

function(c)
  local d = (import '../../lib/dashboards.libsonnet')(c);
  local server = d.selector(['instance=~"$instance"']);
  local db = d.selector(['instance=~"$instance"', 'datname=~"$datname"']);
  local raw(extra=[]) = d.selector([c.postgresSelector, 'instance=~"$instance"'] + extra);

  local q = {
    up: d.target('min (pg_up%s)' % raw(), 'up'),
    connectionsRatio: d.target('instance:pg_stat_activity_count:ratio_max_connections%s' % server, '{{instance}}'),
    connectionsRatioMax: d.target('max (instance:pg_stat_activity_count:ratio_max_connections%s)' % server, 'busiest'),
    lag: d.target('instance:pg_replication_lag_seconds:max%s' % server, '{{instance}}'),
    lagMax: d.target('max (instance:pg_replication_lag_seconds:max%s)' % server, 'most behind'),
    byState: d.target('sum by (instance, state) (pg_stat_activity_count%s)' % raw(['datname=~"$datname"']), '{{instance}} {{state}}'),
    commits: d.target('instance_datname:pg_stat_database_xact_commit:rate5m%s' % db, '{{datname}} commits'),
    rollbacks: d.target('instance_datname:pg_stat_database_xact_rollback:rate5m%s' % db, '{{datname}} rollbacks'),
    longestTx: d.target(
      'max by (instance, datname, state) (pg_stat_activity_max_tx_duration%s)' % raw(['datname=~"$datname"']),
      '{{datname}} ({{state}})'
    ),
    deadlocks: d.target('instance_datname:pg_stat_database_deadlocks:increase10m%s' % db, '{{datname}}'),
    cacheHit: d.target('instance_datname:pg_stat_database_blks_hit:ratio_rate5m%s' % db, '{{datname}}'),
    blocksHit: d.target('sum by (instance) (instance_datname:pg_stat_database_blks_hit:rate5m%s)' % db, '{{instance}} from cache'),
    blocksRead: d.target('sum by (instance) (instance_datname:pg_stat_database_blks_read:rate5m%s)' % db, '{{instance}} from disk'),
    size: d.target('max by (instance, datname) (pg_database_size_bytes%s)' % raw(['datname=~"$datname"']), '{{datname}}'),
    locks: d.target('sum by (instance, mode) (pg_locks_count%s)' % raw(['datname=~"$datname"']), '{{instance}} {{mode}}'),
  };

  local connectionThresholds = d.above([c.postgresConnectionsWarningRatio, c.postgresConnectionsCriticalRatio]);
  local lagThresholds = d.above([c.postgresReplicationLagThresholdSeconds]);

  local p = {
    up: d.upStat(
      'PostgreSQL', 'Whether every selected server answers the exporter (pg_up). Good: UP; DOWN fires PostgresDown.', [q.up], alerts=['PostgresDown']
    ),
    connectionsRatioMax: d.stat(
      'Connection slots used',
      'Client connections of the busiest server as a share of its max_connections. Good: green, below the PostgresConnectionsHigh threshold.',
      'percentunit',
      [q.connectionsRatioMax],
      thresholds=connectionThresholds,
      alerts=['PostgresConnectionsHigh', 'PostgresConnectionsCritical'],
    ),
    lagMax: d.stat(
      'Replication lag',
      'How far the most lagging replica is behind its primary (0 on a primary). Good: green, seconds at most.',
      's',
      [q.lagMax],
      thresholds=lagThresholds,
      alerts=['PostgresReplicationLagHigh'],
    ),
    connectionsRatio: d.timeseries(
      'Connections against max_connections',
      'Client connections per server as a share of max_connections. Good: below the first dashed line (PostgresConnectionsHigh); at 100% new clients are refused.',
      'percentunit',
      [q.connectionsRatio],
      thresholds=connectionThresholds,
      alerts=['PostgresConnectionsHigh', 'PostgresConnectionsCritical'],
      min=0,
      max=1,
    ),
    byState: d.timeseries(
      'Connections by state',
      'Client connections per state (active, idle, idle in transaction). Good: few "idle in transaction"; they hold locks and snapshots.',
      'short',
      [q.byState],
      min=0,
      stack=true,
    ),
    lag: d.timeseries(
      'Replication lag by server',
      'Time since each replica last replayed a transaction from its primary. Good: below the dashed PostgresReplicationLagHigh line.',
      's',
      [q.lag],
      thresholds=lagThresholds,
      alerts=['PostgresReplicationLagHigh'],
      min=0,
    ),
    transactions: d.timeseries(
      'Transactions', 'Commits and rollbacks per second per database. Good: the usual shape, rollbacks a small share of commits.', 'ops', [q.commits, q.rollbacks], min=0
    ),
    longestTx: d.timeseries(
      'Longest open transaction',
      'Age of the oldest open transaction per database and state. Good: below the dashed PostgresLongRunningTransaction line; long ones block VACUUM.',
      's',
      [q.longestTx],
      thresholds=d.above([c.postgresLongTransactionThresholdSeconds]),
      alerts=['PostgresLongRunningTransaction'],
      min=0,
    ),
    deadlocks: d.timeseries(
      'Deadlocks in 10 minutes',
      'Transactions aborted by deadlock detection over the last 10 minutes, per database. Good: 0, below the dashed PostgresDeadlocksDetected line.',
      'short',
      [q.deadlocks],
      thresholds=d.above([c.postgresDeadlocksThreshold]),
      alerts=['PostgresDeadlocksDetected'],
      min=0,
    ),
    cacheHit: d.timeseries(
      'Buffer cache hit ratio',
      'Share of block reads served from shared buffers, per database. Good: above the dashed PostgresCacheHitRatioLow line (the alert ignores idle databases).',
      'percentunit',
      [q.cacheHit],
      thresholds=d.below([c.postgresCacheHitRatioThreshold]),
      alerts=['PostgresCacheHitRatioLow'],
      max=1,
    ),
    blocks: d.timeseries(
      'Block reads: cache and disk', 'Blocks read per second from shared buffers and from disk (or the OS cache). Good: disk reads a small share.', 'rps', [q.blocksHit, q.blocksRead], min=0
    ),
    size: d.timeseries('Database size', 'Size on disk per database. Good: steady growth that the volume can hold (see the Kubernetes cluster volumes).', 'bytes', [q.size], min=0),
    locks: d.timeseries('Locks by mode', 'Locks held per mode. Good: steady; a climb of exclusive locks means waiting writers.', 'short', [q.locks], min=0, stack=true),
  };

  local activity = 'instance:pg_stat_activity_count:sum';

  d.withNeighbours(
    d.dashboard({
      uid: 'postgresql',
      title: 'Infrastructure / PostgreSQL',
      tags: ['infrastructure', 'postgresql', 'database'],
      description: 'Is PostgreSQL available, keeping up and not running out of connections? Per server (`instance`) and '
                   + 'database (`datname`), from postgres_exporter. Dashed lines are the alert thresholds (Jsonnet '
                   + 'defaults; an environment may override them in Helm values).',
      variables: [
        d.variable('instance', 'Server', activity),
        d.variable('datname', 'Database', 'instance_datname:pg_stat_database_xact_commit:rate5m', extra=['instance=~"$instance"']),
      ],
      panels: d.layout([
        d.row('Availability'),
        d.height(4, [p.up, p.connectionsRatioMax, p.lagMax]),
        [p.connectionsRatio, p.byState, p.lag],
        d.row('Work'),
        [p.transactions, p.longestTx, p.deadlocks],
        d.row('Storage'),
        [p.cacheHit, p.blocks],
        [p.size, p.locks],
      ]),
    }),
    [
      d.neighbour('kubernetes-workloads', 'Kubernetes workloads'),
      d.neighbour('redis', 'Redis'),
    ],
  )

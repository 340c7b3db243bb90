// Infrastructure / Redis: availability, memory against maxmemory, hit ratio, commands, evictions,
// clients and keys, per server (`instance`). Reads the redis mixin's recording rules; thresholds
// are its `_config` (`c`), the defaults of its alerts' parameters.

function(c)
  local d = (import '../../lib/dashboards.libsonnet')(c);
  local server = d.selector(['instance=~"$instance"']);
  local raw = d.selector([c.redisSelector, 'instance=~"$instance"']);

  local q = {
    up: d.target('min (redis_up%s)' % raw, 'up'),
    memoryRatioMax: d.target('max (instance:redis_memory_used_bytes:ratio_maxmemory%s)' % server, 'fullest'),
    hitRatioMin: d.target('min (instance:redis_keyspace_hits:ratio_rate5m%s)' % server, 'lowest'),
    commandsTotal: d.target('sum (instance:redis_commands_processed:rate5m%s)' % server, 'commands'),
    memoryRatio: d.target('instance:redis_memory_used_bytes:ratio_maxmemory%s' % server, '{{instance}}'),
    memoryUsed: d.target('max by (instance) (redis_memory_used_bytes%s)' % raw, '{{instance}} used'),
    memoryMax: d.target('max by (instance) (redis_memory_max_bytes%s)' % raw, '{{instance}} maxmemory'),
    hitRatio: d.target('instance:redis_keyspace_hits:ratio_rate5m%s' % server, '{{instance}}'),
    hits: d.target('instance:redis_keyspace_hits:rate5m%s' % server, '{{instance}} hits'),
    misses: d.target('instance:redis_keyspace_misses:rate5m%s' % server, '{{instance}} misses'),
    commands: d.target('instance:redis_commands_processed:rate5m%s' % server, '{{instance}}'),
    evictions: d.target('instance:redis_evicted_keys:rate5m%s' % server, '{{instance}}'),
    rejected: d.target('sum by (instance) (increase(redis_rejected_connections_total%s[$__rate_interval]))' % raw, '{{instance}}'),
    clients: d.target('max by (instance) (redis_connected_clients%s)' % raw, '{{instance}}'),
    keys: d.target('sum by (instance, db) (redis_db_keys%s)' % raw, '{{instance}} {{db}}'),
  };

  local memoryThresholds = d.above([c.redisMemoryThresholdRatio]);
  local hitThresholds = d.below([c.redisHitRatioThreshold]);

  local p = {
    up: d.upStat('Redis', 'Whether every selected Redis answers its exporter (redis_up). Good: UP; DOWN fires RedisDown.', [q.up], alerts=['RedisDown']),
    memoryRatioMax: d.stat(
      'Memory of maxmemory',
      'Memory used by the fullest instance as a share of its maxmemory (instances without a limit are left out). Good: green, below the RedisMemoryHigh threshold.',
      'percentunit',
      [q.memoryRatioMax],
      thresholds=memoryThresholds,
      alerts=['RedisMemoryHigh'],
    ),
    hitRatioMin: d.stat(
      'Cache hit ratio',
      'Share of key lookups that found their key, on the instance with the lowest ratio. Good: green, above the RedisCacheHitRatioLow threshold.',
      'percentunit',
      [q.hitRatioMin],
      thresholds=hitThresholds,
      alerts=['RedisCacheHitRatioLow'],
    ),
    commandsTotal: d.stat('Commands', 'Commands processed per second, all selected instances. Good: the usual level for the time of day.', 'ops', [q.commandsTotal]),
    memoryRatio: d.timeseries(
      'Memory against maxmemory',
      'Memory used as a share of maxmemory per instance. Good: below the dashed RedisMemoryHigh line; at 100% Redis evicts keys or refuses writes.',
      'percentunit',
      [q.memoryRatio],
      thresholds=memoryThresholds,
      alerts=['RedisMemoryHigh'],
      min=0,
      max=1,
    ),
    memory: d.timeseries(
      'Memory used', 'Bytes used and the maxmemory setting (0: unlimited) per instance. Good: used well below maxmemory.', 'bytes', [q.memoryUsed, q.memoryMax], min=0
    ),
    hitRatio: d.timeseries(
      'Cache hit ratio',
      'Share of key lookups that found their key. Good: above the dashed RedisCacheHitRatioLow line (the alert ignores nearly idle instances).',
      'percentunit',
      [q.hitRatio],
      thresholds=hitThresholds,
      alerts=['RedisCacheHitRatioLow'],
      max=1,
    ),
    lookups: d.timeseries('Key lookups: hits and misses', 'Key lookups per second that hit and missed. Good: misses a small share of hits.', 'ops', [q.hits, q.misses], min=0),
    commands: d.timeseries('Commands processed', 'Commands per second per instance. Good: the usual shape.', 'ops', [q.commands], min=0),
    evictions: d.timeseries(
      'Evicted keys', 'Keys evicted per second by the maxmemory policy. Good: 0 for the session store; a cache may evict a little.', 'ops', [q.evictions], min=0
    ),
    rejected: d.timeseries(
      'Rejected connections',
      'Client connections refused at maxclients, per interval. Good: 0, at or below the dashed RedisRejectedConnections line.',
      'short',
      [q.rejected],
      thresholds=d.above([c.redisRejectedConnectionsThreshold]),
      alerts=['RedisRejectedConnections'],
      min=0,
    ),
    clients: d.timeseries('Connected clients', 'Client connections per instance. Good: steady, far below maxclients.', 'short', [q.clients], min=0),
    keys: d.timeseries('Keys', 'Keys per database. Good: steady or slowly growing; a drop to 0 is a flush or a restart without persistence.', 'short', [q.keys], min=0),
  };

  d.withNeighbours(
    d.dashboard({
      uid: 'redis',
      title: 'Infrastructure / Redis',
      tags: ['infrastructure', 'redis', 'cache'],
      description: 'Is Redis (sessions, profiles, templates cache) available, within its memory and serving hits? Per '
                   + 'instance, from redis_exporter. Dashed lines are the alert thresholds (Jsonnet defaults; an '
                   + 'environment may override them in Helm values).',
      variables: [d.variable('instance', 'Instance', 'instance:redis_commands_processed:rate5m')],
      panels: d.layout([
        d.row('Availability'),
        d.height(4, [p.up, p.memoryRatioMax, p.hitRatioMin, p.commandsTotal]),
        d.row('Memory'),
        [p.memoryRatio, p.memory, p.evictions],
        d.row('Traffic'),
        [p.hitRatio, p.lookups, p.commands],
        [p.rejected, p.clients, p.keys],
      ]),
    }),
    [
      d.neighbour('postgresql', 'PostgreSQL'),
      d.neighbour('kubernetes-workloads', 'Kubernetes workloads'),
    ],
  )

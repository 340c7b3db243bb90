// Redis (sessions, user profiles, templates cache), from oliver006/redis_exporter:
//   redis_up                                   gauge, 1 when the exporter could talk to Redis
//   redis_memory_used_bytes, redis_memory_max_bytes   gauges; max is the maxmemory setting (0 = unlimited)
//   redis_keyspace_hits_total, redis_keyspace_misses_total   counters, key lookups that found / missed a key
//   redis_commands_processed_total             counter
//   redis_evicted_keys_total                   counter, keys evicted by the maxmemory policy
//   redis_rejected_connections_total           counter, connections refused at maxclients
// and `up` of the exporter's scrape job. Recording rules keep cluster, environment and the
// exporter's `instance` (one Redis server per exporter target).
local config = import '../../lib/config.libsonnet';
local selectors = import '../../lib/selectors.libsonnet';

{
  _config+:: config {
    // Matchers ANDed into every selector on the exporter's series (its scrape job).
    redisSelector: 'job="redis-exporter"',
    redisLabels: { service: 'redis' },
    // Defaults of the declared alert parameters (overridable per environment in Helm values).
    redisMemoryThresholdRatio: 0.8,
    redisHitRatioThreshold: 0.8,
    redisHitRatioMinLookupsPerSecond: 10,
    redisRejectedConnectionsThreshold: 0,
  },

  local c = $._config,
  local rules = (import '../../lib/rules.libsonnet')(c),
  local selector(extra=[]) = selectors.of([c.redisSelector] + extra),
  local by = rules.by(['instance']),
  local where = '{{ $labels.instance }} in {{ $labels.environment }}/{{ $labels.cluster }}',
  local lookups = '(instance:redis_keyspace_hits:rate5m + instance:redis_keyspace_misses:rate5m)',

  prometheusRules+:: {
    groups+: [
      rules.group('redis-recording', [
        rules.record(
          'instance:redis_keyspace_hits:rate5m',
          'sum %s (rate(redis_keyspace_hits_total%s[5m]))' % [by, selector()],
        ),
        rules.record(
          'instance:redis_keyspace_misses:rate5m',
          'sum %s (rate(redis_keyspace_misses_total%s[5m]))' % [by, selector()],
        ),
        rules.record(
          'instance:redis_keyspace_hits:ratio_rate5m',
          'instance:redis_keyspace_hits:rate5m / ' + lookups,
        ),
        // Only instances with a maxmemory limit: with maxmemory 0 Redis grows until the pod's limit.
        rules.record(
          'instance:redis_memory_used_bytes:ratio_maxmemory',
          'max %s (redis_memory_used_bytes%s) / max %s (redis_memory_max_bytes%s > 0)'
          % [by, selector(), by, selector()],
        ),
        rules.record(
          'instance:redis_commands_processed:rate5m',
          'sum %s (rate(redis_commands_processed_total%s[5m]))' % [by, selector()],
        ),
        rules.record(
          'instance:redis_evicted_keys:rate5m',
          'sum %s (rate(redis_evicted_keys_total%s[5m]))' % [by, selector()],
        ),
      ]),
    ],
  },

  prometheusAlerts+:: {
    groups+: [
      rules.group('redis-alerts', [
        rules.alert({
          name: 'RedisDown',
          // redis_up == 0: the exporter runs but cannot reach Redis; up == 0: the exporter itself is gone.
          expr: 'redis_up%s == 0 or up%s == 0' % [selector(), selector()],
          'for': '2m',
          severity: 'critical',
          priority: 'P1',
          labels: c.redisLabels,
          summary: 'Redis is unreachable.',
          description: 'Redis behind the exporter %s cannot be reached: ' % where
                       + 'the exporter cannot connect to it, or the exporter itself cannot be scraped (job {{ $labels.job }}).',
        }),
        rules.alert({
          name: 'RedisMemoryHigh',
          expr: 'instance:redis_memory_used_bytes:ratio_maxmemory > %s' % rules.param('threshold'),
          'for': '5m',
          severity: 'warning',
          priority: 'P2',
          labels: c.redisLabels,
          summary: 'Redis is close to its maxmemory limit.',
          description: 'Redis %s uses {{ $value | humanizePercentage }} of maxmemory ' % where
                       + '(threshold {{ %s | humanizePercentage }}); at the limit it evicts keys or rejects writes, '
                         % rules.param('threshold')
                       + 'depending on its maxmemory-policy.',
          params: { threshold: c.redisMemoryThresholdRatio },
        }),
        rules.alert({
          name: 'RedisCacheHitRatioLow',
          expr: 'instance:redis_keyspace_hits:ratio_rate5m < %s and %s > %s'
                % [rules.param('threshold'), lookups, rules.param('minLookupsPerSecond')],
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          labels: c.redisLabels,
          summary: 'Redis misses many key lookups.',
          description: 'Only {{ $value | humanizePercentage }} of key lookups on Redis %s ' % where
                       + 'found their key over the last 5 minutes (threshold {{ %s | humanizePercentage }}); '
                         % rules.param('threshold')
                       + 'the services fall back to the database for the rest.',
          params: {
            threshold: c.redisHitRatioThreshold,
            minLookupsPerSecond: c.redisHitRatioMinLookupsPerSecond,
          },
        }),
        rules.alert({
          name: 'RedisRejectedConnections',
          expr: 'sum %s (increase(redis_rejected_connections_total%s[5m])) > %s'
                % [by, selector(), rules.param('threshold')],
          'for': '5m',
          severity: 'warning',
          priority: 'P2',
          labels: c.redisLabels,
          summary: 'Redis refuses client connections.',
          description: 'Redis %s refused {{ $value | humanize }} client connections in the last 5 minutes ' % where
                       + '(threshold %s): it has reached maxclients.' % rules.param('threshold'),
          params: { threshold: c.redisRejectedConnectionsThreshold },
        }),
      ]),
    ],
  },

  // Infrastructure / Redis; thresholds from _config above.
  dashboardFolder:: 'Infrastructure',
  grafanaDashboards+:: {
    'redis.json': (import 'redis.libsonnet')(c),
  },

  exporterMetrics:: {
    'redis-exporter': [
      'redis_up',
      'redis_memory_used_bytes',
      'redis_memory_max_bytes',
      'redis_keyspace_hits_total',
      'redis_keyspace_misses_total',
      'redis_commands_processed_total',
      'redis_evicted_keys_total',
      'redis_rejected_connections_total',
      // Read by the Redis dashboard only.
      'redis_connected_clients',
      'redis_db_keys',
    ],
    prometheus: ['up'],
  },
}

// RabbitMQ (the AI generation pipeline's queues), from RabbitMQ's built-in rabbitmq_prometheus
// plugin (port 15692, RabbitMQ 3.10 to 4.x; no separate exporter). Every node serves its own
// metrics, so one target is one node, and two endpoints are scraped as two jobs:
//   /metrics (job rabbitmqSelector), node-level, aggregated, without node or queue labels:
//     rabbitmq_identity_info{rabbitmq_node, rabbitmq_cluster}       1, names the node and its cluster
//     rabbitmq_alarms_memory_used_watermark, _free_disk_space_watermark   1 while the alarm blocks publishers
//     rabbitmq_process_resident_memory_bytes / rabbitmq_resident_memory_limit_bytes   memory and its watermark
//     rabbitmq_disk_space_available_bytes / _available_limit_bytes  free disk and disk_free_limit
//     erlang_vm_dist_node_state{peer}                               3 while the link to a peer node is up
//     rabbitmq_connections, rabbitmq_channels, rabbitmq_global_messages_*_total{protocol}
//   /metrics/detailed?family=queue_coarse_metrics&family=queue_consumer_count (job
//   rabbitmqQueueSelector), per queue, the leader node reports it:
//     rabbitmq_detailed_queue_messages_ready / _unacked / rabbitmq_detailed_queue_consumers{vhost, queue}
// and `up` of both jobs (a node that does not answer is down: the plugin runs inside it).
// /metrics/detailed with two families rather than /metrics/per-object: per-object returns every
// family per object (per connection and channel too), the cost the plugin's documentation warns
// about; the detailed families return three series per queue.
// Node names come from joining rabbitmq_identity_info on the target (instance, job).
local config = import '../../lib/config.libsonnet';
local selectors = import '../../lib/selectors.libsonnet';

{
  _config+:: config {
    // Matchers ANDed into every selector on the node-level series (the /metrics job) ...
    rabbitmqSelector: 'job="rabbitmq"',
    // ... and on the per-queue series (the /metrics/detailed job).
    rabbitmqQueueSelector: 'job="rabbitmq-queues"',
    rabbitmqLabels: { service: 'rabbitmq' },
    // Queues whose backlog or missing consumers alert (a RE2 regex, anchored): the AI generation
    // queues that drive worker autoscaling.
    rabbitmqCriticalQueues: 'ai_gen.*|ai-generation.*',
    // Defaults of the declared alert parameters (overridable per environment in Helm values).
    rabbitmqUnackedMessagesThreshold: 1000,
    rabbitmqReadyMessagesWarningThreshold: 1000,
    rabbitmqReadyMessagesCriticalThreshold: 5000,
  },

  local c = $._config,
  local rules = (import '../../lib/rules.libsonnet')(c),
  local sel(base, extra=[]) = selectors.of([base] + extra),
  local selector(extra=[]) = sel(c.rabbitmqSelector, extra),
  local queueSelector(extra=[]) = sel(c.rabbitmqQueueSelector, extra),
  // A series of one target, labelled with its node and cluster names.
  local identified(expr, s) =
    '%s * %s group_left (rabbitmq_node, rabbitmq_cluster) rabbitmq_identity_info%s' % [expr, rules.on(['instance', 'job']), s],
  local byQueue = rules.by(['rabbitmq_cluster', 'vhost', 'queue']),
  local byNode = rules.by(['rabbitmq_cluster', 'rabbitmq_node']),
  local byCluster = rules.by(['rabbitmq_cluster']),
  local critical = '{queue=~"%s"}' % c.rabbitmqCriticalQueues,
  local env = '{{ $labels.environment }}/{{ $labels.cluster }}',
  local queue = 'queue {{ $labels.queue }} (vhost {{ $labels.vhost }}) of RabbitMQ cluster {{ $labels.rabbitmq_cluster }} in ' + env,
  local node = 'RabbitMQ node {{ $labels.rabbitmq_node }} in ' + env,

  prometheusRules+:: {
    groups+: [
      rules.group('rabbitmq-recording', [
        rules.record(
          'queue:rabbitmq_queue_%s:max' % m,
          'max %s (%s)' % [byQueue, identified('rabbitmq_detailed_queue_%s%s' % [m, queueSelector()], queueSelector())],
        )
        for m in ['messages_ready', 'messages_unacked', 'consumers']
      ] + [
        rules.record(
          'rabbitmq_node:rabbitmq_%s:max' % m,
          'max %s (%s)' % [byNode, identified('rabbitmq_%s%s' % [m, selector()], selector())],
        )
        for m in [
          'alarms_memory_used_watermark',
          'alarms_free_disk_space_watermark',
          'process_resident_memory_bytes',
          'resident_memory_limit_bytes',
          'disk_space_available_bytes',
          'disk_space_available_limit_bytes',
        ]
      ] + [
        // Messages per second through the cluster (every queue, every protocol): received from
        // publishers, delivered to consumers, acknowledged.
        rules.record(
          'rabbitmq_cluster:rabbitmq_global_messages_%s:rate5m' % m,
          'sum %s (%s)' % [byCluster, identified('rate(rabbitmq_global_messages_%s_total%s[5m])' % [m, selector()], selector())],
        )
        for m in ['received', 'delivered', 'acknowledged']
      ]),
    ],
  },

  prometheusAlerts+:: {
    groups+: [
      rules.group('rabbitmq-alerts', [
        rules.alert({
          name: 'RabbitmqDown',
          expr: 'sum %s (up%s) == 0' % [rules.by(['job']), selector()],
          'for': '2m',
          severity: 'critical',
          priority: 'P1',
          labels: c.rabbitmqLabels,
          summary: 'RabbitMQ is unreachable.',
          description: 'No RabbitMQ node of job {{ $labels.job }} in %s answers on its metrics port; ' % env
                       + 'the broker is down or unreachable, and the AI generation pipeline cannot queue work.',
        }),
        rules.alert({
          name: 'RabbitmqNodeDown',
          // One node silent while another answers (all silent is RabbitmqDown). The node's name is
          // the last one its target reported.
          expr: '((up%s == 0) * %s group_left (rabbitmq_node, rabbitmq_cluster) max %s (last_over_time(rabbitmq_identity_info%s[1h]))'
                % [selector(), rules.on(['instance', 'job']), rules.by(['instance', 'job', 'rabbitmq_node', 'rabbitmq_cluster']), selector()]
                + ' or %s up%s == 0)' % [rules.on(['instance', 'job']), selector()]
                + ' unless %s sum %s (up%s) == 0' % [rules.on(['job']), rules.by(['job']), selector()],
          'for': '2m',
          severity: 'critical',
          priority: 'P2',
          labels: c.rabbitmqLabels,
          summary: 'A RabbitMQ cluster node is not running.',
          description: 'RabbitMQ node {{ $labels.rabbitmq_node }} (target {{ $labels.instance }}) in %s does not answer; ' % env
                       + 'its queue leaders move to other nodes and clients connected to it lose their connections.',
        }),
        rules.alert({
          name: 'RabbitmqNetworkPartition',
          // A cluster of N running nodes is a full mesh of N*(N-1) Erlang distribution links
          // (each node counts its links to the N-1 others); fewer established links while every
          // node runs means nodes that cannot see each other. CLI tools connect briefly as
          // rabbitmqcli-* peers and are not counted.
          expr: '(count %s (%s == 3) or count %s (rabbitmq_identity_info%s) * 0)'
                % [byCluster, identified('erlang_vm_dist_node_state%s' % selector(['peer!~"rabbitmqcli.*"']), selector()), byCluster, selector()]
                + ' < count %s (rabbitmq_identity_info%s) * (count %s (rabbitmq_identity_info%s) - 1)'
                  % [byCluster, selector(), byCluster, selector()],
          'for': '1m',
          severity: 'critical',
          priority: 'P1',
          labels: c.rabbitmqLabels,
          summary: 'The RabbitMQ cluster is split by a network partition.',
          description: 'The nodes of RabbitMQ cluster {{ $labels.rabbitmq_cluster }} in %s hold only {{ $value }} ' % env
                       + 'of the links a full mesh needs; nodes that run but cannot see each other may accept messages independently and diverge.',
        }),
        rules.alert({
          name: 'RabbitmqMemoryAlarm',
          expr: 'rabbitmq_node:rabbitmq_alarms_memory_used_watermark:max == 1',
          'for': '1m',
          severity: 'critical',
          priority: 'P2',
          labels: c.rabbitmqLabels,
          summary: 'RabbitMQ blocks publishers: memory alarm.',
          description: '%s is above its memory high watermark; ' % node
                       + 'every connection that publishes is blocked until memory drops.',
        }),
        rules.alert({
          name: 'RabbitmqDiskAlarm',
          expr: 'rabbitmq_node:rabbitmq_alarms_free_disk_space_watermark:max == 1',
          'for': '1m',
          severity: 'critical',
          priority: 'P2',
          labels: c.rabbitmqLabels,
          summary: 'RabbitMQ blocks publishers: disk alarm.',
          description: '%s has less free disk than its disk_free_limit; ' % node
                       + 'every connection that publishes is blocked until disk space is freed.',
        }),
        rules.alert({
          name: 'RabbitmqQueueUnackedMessagesHigh',
          expr: 'queue:rabbitmq_queue_messages_unacked:max > %s' % rules.param('threshold'),
          'for': '10m',
          severity: 'warning',
          priority: 'P3',
          labels: c.rabbitmqLabels,
          summary: 'Many RabbitMQ messages are delivered but never acknowledged.',
          description: '{{ $value | humanize }} messages of %s are delivered to consumers and not yet acknowledged ' % queue
                       + '(threshold %s); the consumers are stuck or too slow.' % rules.param('threshold'),
          params: { threshold: c.rabbitmqUnackedMessagesThreshold },
        }),
        rules.alert({
          name: 'RabbitmqQueueReadyMessagesHigh',
          expr: 'queue:rabbitmq_queue_messages_ready:max%s > %s' % [critical, rules.param('threshold')],
          'for': '5m',
          severity: 'warning',
          priority: 'P3',
          labels: c.rabbitmqLabels { symptom: 'rabbitmq-queue-ready-messages' },
          summary: 'A critical RabbitMQ queue is building a backlog.',
          description: '{{ $value | humanize }} messages wait in %s (threshold %s); ' % [queue, rules.param('threshold')]
                       + 'work is queued faster than the consumers take it.',
          params: { threshold: c.rabbitmqReadyMessagesWarningThreshold },
        }),
        rules.alert({
          name: 'RabbitmqQueueReadyMessagesCritical',
          expr: 'queue:rabbitmq_queue_messages_ready:max%s > %s' % [critical, rules.param('threshold')],
          'for': '5m',
          severity: 'critical',
          priority: 'P2',
          labels: c.rabbitmqLabels { symptom: 'rabbitmq-queue-ready-messages' },
          summary: 'A critical RabbitMQ queue has a large backlog.',
          description: '{{ $value | humanize }} messages wait in %s (threshold %s); ' % [queue, rules.param('threshold')]
                       + 'users wait minutes for the work behind this queue.',
          params: { threshold: c.rabbitmqReadyMessagesCriticalThreshold },
        }),
        rules.alert({
          name: 'RabbitmqQueueNoConsumers',
          expr: 'queue:rabbitmq_queue_consumers:max%s == 0' % critical,
          'for': '5m',
          severity: 'warning',
          priority: 'P2',
          labels: c.rabbitmqLabels,
          summary: 'A critical RabbitMQ queue has no consumers.',
          description: 'Nothing consumes from %s; ' % queue
                       + 'messages published to it wait until a consumer connects.',
        }),
      ]),
    ],
  },

  // Infrastructure / RabbitMQ; thresholds from _config above.
  dashboardFolder:: 'Infrastructure',
  grafanaDashboards+:: {
    'rabbitmq.json': (import 'rabbitmq.libsonnet')(c),
  },

  exporterMetrics:: {
    rabbitmq: [
      'rabbitmq_identity_info',
      'rabbitmq_alarms_memory_used_watermark',
      'rabbitmq_alarms_free_disk_space_watermark',
      'rabbitmq_process_resident_memory_bytes',
      'rabbitmq_resident_memory_limit_bytes',
      'rabbitmq_disk_space_available_bytes',
      'rabbitmq_disk_space_available_limit_bytes',
      'rabbitmq_global_messages_received_total',
      'rabbitmq_global_messages_delivered_total',
      'rabbitmq_global_messages_acknowledged_total',
      'erlang_vm_dist_node_state',
      'rabbitmq_detailed_queue_messages_ready',
      'rabbitmq_detailed_queue_messages_unacked',
      'rabbitmq_detailed_queue_consumers',
      // Read by the RabbitMQ dashboard only.
      'rabbitmq_connections',
      'rabbitmq_channels',
    ],
    prometheus: ['up'],
  },
}

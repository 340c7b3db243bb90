// RabbitMQ (the AI generation pipeline's queues), from the kbudde/rabbitmq_exporter, which reads the
// management API. Chosen over the built-in rabbitmq_prometheus plugin because it exports network
// partitions and per-queue publish/deliver/ack counters without per-object scraping.
//   rabbitmq_up                                        gauge, 1 when the exporter could read the management API
//   rabbitmq_running{node}, rabbitmq_partitions{node}  gauges per cluster node (running 1/0; partitions seen)
//   rabbitmq_node_mem_alarm{node}, rabbitmq_node_disk_free_alarm{node}   gauges, 1 while the alarm blocks publishers
//   rabbitmq_queue_messages_ready / _unacknowledged / rabbitmq_queue_consumers{vhost, queue}   gauges
//   rabbitmq_queue_messages_published_total / _delivered_total / _ack_total{vhost, queue}     counters
// and `up` of the exporter's scrape job. The exporter's own `cluster` label (the RabbitMQ cluster
// name) becomes `exported_cluster` at scrape time and is not used. Queue series are per RabbitMQ
// cluster, not per exporter: recording rules take `max` so two exporter replicas do not double them.
local config = import '../../lib/config.libsonnet';
local rules = import '../../lib/rules.libsonnet';

{
  _config+:: config {
    // Matchers ANDed into every selector on the exporter's series (its scrape job).
    rabbitmqSelector: 'job="rabbitmq-exporter"',
    rabbitmqLabels: { service: 'rabbitmq' },
    // Queues whose backlog or missing consumers alert (a RE2 regex, anchored): the AI generation
    // queues that drive worker autoscaling (seed 002: ai_gen_queue).
    rabbitmqCriticalQueues: 'ai_gen.*|ai-generation.*',
    // Defaults of the declared alert parameters (overridable per environment in Helm values).
    rabbitmqUnackedMessagesThreshold: 1000,
    rabbitmqReadyMessagesWarningThreshold: 1000,
    rabbitmqReadyMessagesCriticalThreshold: 5000,
  },

  local c = $._config,
  local selector(extra=[]) =
    local m = std.filter(function(x) x != '', [c.rabbitmqSelector] + extra);
    if m == [] then '' else '{' + std.join(', ', m) + '}',
  local byQueue = rules.by(['vhost', 'queue']),
  local byNode = rules.by(['node']),
  local critical = '{queue=~"%s"}' % c.rabbitmqCriticalQueues,
  local env = '{{ $labels.environment }}/{{ $labels.cluster }}',
  local queue = 'queue {{ $labels.queue }} (vhost {{ $labels.vhost }}) in ' + env,
  local node = 'RabbitMQ node {{ $labels.node }} in ' + env,

  prometheusRules+:: {
    groups+: [
      rules.group('rabbitmq-recording', [
        rules.record(
          'queue:rabbitmq_queue_messages_ready:max',
          'max %s (rabbitmq_queue_messages_ready%s)' % [byQueue, selector()],
        ),
        rules.record(
          'queue:rabbitmq_queue_messages_unacknowledged:max',
          'max %s (rabbitmq_queue_messages_unacknowledged%s)' % [byQueue, selector()],
        ),
        rules.record(
          'queue:rabbitmq_queue_consumers:max',
          'max %s (rabbitmq_queue_consumers%s)' % [byQueue, selector()],
        ),
      ] + [
        // Processing rates per queue: messages published into it, delivered to consumers, acknowledged.
        rules.record(
          'queue:rabbitmq_queue_messages_%s:rate5m' % op,
          'max %s (rate(rabbitmq_queue_messages_%s_total%s[5m]))' % [byQueue, op, selector()],
        )
        for op in ['published', 'delivered', 'ack']
      ]),
    ],
  },

  prometheusAlerts+:: {
    groups+: [
      rules.group('rabbitmq-alerts', [
        rules.alert(c, {
          name: 'RabbitmqDown',
          // rabbitmq_up == 0: the exporter runs but the management API does not answer; up == 0: the exporter is gone.
          expr: 'rabbitmq_up%s == 0 or up%s == 0' % [selector(), selector()],
          'for': '2m',
          severity: 'critical',
          priority: 'P1',
          labels: c.rabbitmqLabels,
          summary: 'RabbitMQ is unreachable.',
          description: 'RabbitMQ behind the exporter {{ $labels.instance }} in %s cannot be reached: ' % env
                       + 'the exporter gets no answer from the management API, or the exporter itself cannot be scraped (job {{ $labels.job }}).',
        }),
        rules.alert(c, {
          name: 'RabbitmqNodeDown',
          expr: 'max %s (rabbitmq_running%s) == 0' % [byNode, selector()],
          'for': '2m',
          severity: 'critical',
          priority: 'P2',
          labels: c.rabbitmqLabels,
          summary: 'A RabbitMQ cluster node is not running.',
          description: '%s is not running according to the rest of the cluster; ' % node
                       + 'its queue leaders move to other nodes and clients connected to it lose their connections.',
        }),
        rules.alert(c, {
          name: 'RabbitmqNetworkPartition',
          expr: 'max %s (rabbitmq_partitions%s) > 0' % [byNode, selector()],
          'for': '1m',
          severity: 'critical',
          priority: 'P1',
          labels: c.rabbitmqLabels,
          summary: 'The RabbitMQ cluster is split by a network partition.',
          description: '%s reports a network partition (partitions: {{ $value }}); ' % node
                       + 'the sides of the partition may accept messages independently and diverge.',
        }),
        rules.alert(c, {
          name: 'RabbitmqMemoryAlarm',
          expr: 'max %s (rabbitmq_node_mem_alarm%s) == 1' % [byNode, selector()],
          'for': '1m',
          severity: 'critical',
          priority: 'P2',
          labels: c.rabbitmqLabels,
          summary: 'RabbitMQ blocks publishers: memory alarm.',
          description: '%s is above its memory high watermark; ' % node
                       + 'every connection that publishes is blocked until memory drops.',
        }),
        rules.alert(c, {
          name: 'RabbitmqDiskAlarm',
          expr: 'max %s (rabbitmq_node_disk_free_alarm%s) == 1' % [byNode, selector()],
          'for': '1m',
          severity: 'critical',
          priority: 'P2',
          labels: c.rabbitmqLabels,
          summary: 'RabbitMQ blocks publishers: disk alarm.',
          description: '%s has less free disk than its disk_free_limit; ' % node
                       + 'every connection that publishes is blocked until disk space is freed.',
        }),
        rules.alert(c, {
          name: 'RabbitmqQueueUnackedMessagesHigh',
          expr: 'queue:rabbitmq_queue_messages_unacknowledged:max > %s' % rules.param('threshold'),
          'for': '10m',
          severity: 'warning',
          priority: 'P3',
          labels: c.rabbitmqLabels,
          summary: 'Many RabbitMQ messages are delivered but never acknowledged.',
          description: '{{ $value | humanize }} messages of %s are delivered to consumers and not yet acknowledged ' % queue
                       + '(threshold %s); the consumers are stuck or too slow.' % rules.param('threshold'),
          params: { threshold: c.rabbitmqUnackedMessagesThreshold },
        }),
        rules.alert(c, {
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
        rules.alert(c, {
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
        rules.alert(c, {
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
      'rabbitmq_up',
      'rabbitmq_running',
      'rabbitmq_partitions',
      'rabbitmq_node_mem_alarm',
      'rabbitmq_node_disk_free_alarm',
      'rabbitmq_queue_messages_ready',
      'rabbitmq_queue_messages_unacknowledged',
      'rabbitmq_queue_consumers',
      'rabbitmq_queue_messages_published_total',
      'rabbitmq_queue_messages_delivered_total',
      'rabbitmq_queue_messages_ack_total',
      // Read by the RabbitMQ dashboard only.
      'rabbitmq_channels',
      'rabbitmq_connections',
      'rabbitmq_node_disk_free',
      'rabbitmq_node_disk_free_limit',
      'rabbitmq_node_mem_limit',
      'rabbitmq_node_mem_used',
    ],
    prometheus: ['up'],
  },
}

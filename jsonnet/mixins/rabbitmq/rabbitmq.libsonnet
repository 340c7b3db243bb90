// Infrastructure / RabbitMQ: the cluster's nodes (running, partitions, alarms, memory), then the
// queues picked with `vhost` and `queue`: backlog, unacknowledged messages, consumers and the
// publish/deliver/ack rates. Reads the rabbitmq mixin's recording rules; thresholds are its
// `_config` (`c`), the defaults of its alerts' parameters.
local x = import '../../lib/dashboards-extras.libsonnet';
local d = import '../../lib/dashboards.libsonnet';

function(c)
  local queues = d.selector(['vhost=~"$vhost"', 'queue=~"$queue"']);
  local raw(extra=[]) = d.selector([c.rabbitmqSelector] + extra);

  local q = {
    up: d.target('min (rabbitmq_up%s)' % raw(), 'up'),
    nodesRunning: d.target('sum (max by (node) (rabbitmq_running%s))' % raw(), 'running'),
    partitions: d.target('max (rabbitmq_partitions%s)' % raw(), 'partitions'),
    alarms: d.target(
      'sum (max by (node) (rabbitmq_node_mem_alarm%s)) + sum (max by (node) (rabbitmq_node_disk_free_alarm%s))' % [raw(), raw()], 'alarms'
    ),
    readyTotal: d.target('sum (queue:rabbitmq_queue_messages_ready:max%s)' % queues, 'ready'),
    ready: d.target('queue:rabbitmq_queue_messages_ready:max%s' % queues, '{{vhost}}/{{queue}}'),
    unacked: d.target('queue:rabbitmq_queue_messages_unacknowledged:max%s' % queues, '{{vhost}}/{{queue}}'),
    consumers: d.target('queue:rabbitmq_queue_consumers:max%s' % queues, '{{vhost}}/{{queue}}'),
    published: d.target('sum (queue:rabbitmq_queue_messages_published:rate5m%s)' % queues, 'published'),
    delivered: d.target('sum (queue:rabbitmq_queue_messages_delivered:rate5m%s)' % queues, 'delivered'),
    acked: d.target('sum (queue:rabbitmq_queue_messages_ack:rate5m%s)' % queues, 'acknowledged'),
    publishedByQueue: d.target('queue:rabbitmq_queue_messages_published:rate5m%s' % queues, '{{vhost}}/{{queue}}'),
    nodeMemory: d.target(
      'max by (node) (rabbitmq_node_mem_used%s) / max by (node) (rabbitmq_node_mem_limit%s)' % [raw(), raw()], '{{node}}'
    ),
    diskFree: d.target('max by (node) (rabbitmq_node_disk_free%s)' % raw(), '{{node}} free'),
    diskLimit: d.target('max by (node) (rabbitmq_node_disk_free_limit%s)' % raw(), '{{node}} limit'),
    connections: d.target('max (rabbitmq_connections%s)' % raw(), 'connections'),
    channels: d.target('max (rabbitmq_channels%s)' % raw(), 'channels'),
  };

  local readyThresholds = d.above([c.rabbitmqReadyMessagesWarningThreshold, c.rabbitmqReadyMessagesCriticalThreshold]);

  local p = {
    up: x.upStat(
      'RabbitMQ', 'Whether the exporter reads the management API (rabbitmq_up). Good: UP; DOWN fires RabbitmqDown.', [q.up], alerts=['RabbitmqDown']
    ),
    nodesRunning: d.stat(
      'Nodes running', 'Cluster nodes RabbitMQ reports as running. Good: every node of the cluster (RabbitmqNodeDown otherwise).', 'short', [q.nodesRunning], alerts=['RabbitmqNodeDown'], graph=false
    ),
    partitions: d.stat(
      'Network partitions',
      'Partitions a node reports. Good: 0; any partition splits the cluster into sides that diverge.',
      'short',
      [q.partitions],
      thresholds=x.countBad,
      alerts=['RabbitmqNetworkPartition'],
    ),
    alarms: d.stat(
      'Memory and disk alarms',
      'Nodes with a memory or disk alarm on. Good: 0; while an alarm is on, every publisher is blocked.',
      'short',
      [q.alarms],
      thresholds=x.countBad,
      alerts=['RabbitmqMemoryAlarm', 'RabbitmqDiskAlarm'],
    ),
    readyTotal: d.stat(
      'Messages waiting', 'Ready messages in the selected queues. Good: low and draining.', 'short', [q.readyTotal]
    ),
    ready: d.timeseries(
      'Ready messages by queue',
      'Messages waiting for a consumer, per queue. Good: below the dashed lines; the alerts (RabbitmqQueueReadyMessagesHigh, then Critical) watch the AI generation queues.',
      'short',
      [q.ready],
      thresholds=readyThresholds,
      alerts=['RabbitmqQueueReadyMessagesHigh', 'RabbitmqQueueReadyMessagesCritical'],
      min=0,
    ),
    unacked: d.timeseries(
      'Unacknowledged messages by queue',
      'Messages delivered to consumers and not yet acknowledged. Good: below the dashed RabbitmqQueueUnackedMessagesHigh line; a line that only grows is a stuck consumer.',
      'short',
      [q.unacked],
      thresholds=d.above([c.rabbitmqUnackedMessagesThreshold]),
      alerts=['RabbitmqQueueUnackedMessagesHigh'],
      min=0,
    ),
    consumers: d.timeseries(
      'Consumers by queue',
      'Consumers attached to each queue. Good: at least 1 on every queue that receives work (RabbitmqQueueNoConsumers for the AI generation queues).',
      'short',
      [q.consumers],
      alerts=['RabbitmqQueueNoConsumers'],
      min=0,
    ),
    rates: d.timeseries(
      'Published, delivered, acknowledged',
      'Messages per second into the selected queues, out to consumers and acknowledged. Good: the three lines together; published above delivered for long builds a backlog.',
      'ops',
      [q.published, q.delivered, q.acked],
      min=0,
    ),
    publishedByQueue: d.timeseries(
      'Published by queue', 'Messages per second published into each queue. Good: the usual shape of each queue.', 'ops', [q.publishedByQueue], min=0
    ),
    nodeMemory: d.timeseries(
      'Node memory against the high watermark',
      'Memory of each node as a share of its high watermark. Good: well below 100%; at 100% the memory alarm blocks publishers (RabbitmqMemoryAlarm).',
      'percentunit',
      [q.nodeMemory],
      alerts=['RabbitmqMemoryAlarm'],
      min=0,
    ),
    disk: d.timeseries(
      'Node disk free and limit',
      'Free disk per node and its disk_free_limit. Good: free far above the limit; below it the disk alarm blocks publishers (RabbitmqDiskAlarm).',
      'bytes',
      [q.diskFree, q.diskLimit],
      alerts=['RabbitmqDiskAlarm'],
      min=0,
    ),
    connections: d.timeseries(
      'Connections and channels', 'Client connections and channels of the cluster. Good: steady; a climb means clients that leak connections.', 'short', [q.connections, q.channels], min=0
    ),
  };

  local readyRecord = 'queue:rabbitmq_queue_messages_ready:max';

  x.withNeighbours(
    d.dashboard({
      uid: 'rabbitmq',
      title: 'Infrastructure / RabbitMQ',
      tags: ['infrastructure', 'rabbitmq', 'queues'],
      description: 'Is RabbitMQ (the AI generation pipeline queues) healthy and are the queues draining? Nodes, then '
                   + 'the queues picked with the variables. Dashed lines are the alert thresholds (Jsonnet defaults; an '
                   + 'environment may override them in Helm values).',
      variables: [
        d.variable('vhost', 'Virtual host', readyRecord),
        d.variable('queue', 'Queue', readyRecord, extra=['vhost=~"$vhost"']),
      ],
      panels: d.layout([
        d.row('Cluster'),
        d.height(4, [p.up, p.nodesRunning, p.partitions, p.alarms, p.readyTotal]),
        [p.nodeMemory, p.disk, p.connections],
        d.row('Queues'),
        [p.ready, p.unacked],
        [p.consumers, p.rates, p.publishedByQueue],
      ]),
    }),
    [
      x.neighbour('gpus', 'GPUs'),
      x.neighbour('ai-generation-pipeline', 'AI generation pipeline'),
    ],
  )

// Infrastructure / RabbitMQ: the cluster's nodes (answering, alarms, memory, disk), then the
// queues picked with `vhost` and `queue`: backlog, unacknowledged messages and consumers, and the
// cluster's message rates. Reads the rabbitmq mixin's recording rules (the built-in
// rabbitmq_prometheus plugin's series); thresholds are its `_config` (`c`), the defaults of its
// alerts' parameters.

function(c)
  local d = (import '../../lib/dashboards.libsonnet')(c);
  local queues = d.selector(['vhost=~"$vhost"', 'queue=~"$queue"']);
  local all = d.selector([]);
  local raw(extra=[]) = d.selector([c.rabbitmqSelector] + extra);

  local q = {
    up: d.target('min (up%s)' % raw(), 'up'),
    nodesRunning: d.target('sum (up%s)' % raw(), 'answering'),
    // Established links between nodes against the full mesh (see RabbitmqNetworkPartition).
    links: d.target(
      'count (erlang_vm_dist_node_state%s == 3) or vector(0)' % raw(['peer!~"rabbitmqcli.*"']), 'links'
    ),
    alarms: d.target(
      'sum (rabbitmq_node:rabbitmq_alarms_memory_used_watermark:max%s) + sum (rabbitmq_node:rabbitmq_alarms_free_disk_space_watermark:max%s)' % [all, all], 'alarms'
    ),
    readyTotal: d.target('sum (queue:rabbitmq_queue_messages_ready:max%s)' % queues, 'ready'),
    ready: d.target('queue:rabbitmq_queue_messages_ready:max%s' % queues, '{{vhost}}/{{queue}}'),
    unacked: d.target('queue:rabbitmq_queue_messages_unacked:max%s' % queues, '{{vhost}}/{{queue}}'),
    consumers: d.target('queue:rabbitmq_queue_consumers:max%s' % queues, '{{vhost}}/{{queue}}'),
    received: d.target('sum (rabbitmq_cluster:rabbitmq_global_messages_received:rate5m%s)' % all, 'received'),
    delivered: d.target('sum (rabbitmq_cluster:rabbitmq_global_messages_delivered:rate5m%s)' % all, 'delivered'),
    acked: d.target('sum (rabbitmq_cluster:rabbitmq_global_messages_acknowledged:rate5m%s)' % all, 'acknowledged'),
    nodeMemory: d.target(
      'rabbitmq_node:rabbitmq_process_resident_memory_bytes:max%s / rabbitmq_node:rabbitmq_resident_memory_limit_bytes:max%s' % [all, all], '{{rabbitmq_node}}'
    ),
    diskFree: d.target('rabbitmq_node:rabbitmq_disk_space_available_bytes:max%s' % all, '{{rabbitmq_node}} free'),
    diskLimit: d.target('rabbitmq_node:rabbitmq_disk_space_available_limit_bytes:max%s' % all, '{{rabbitmq_node}} limit'),
    connections: d.target('sum (rabbitmq_connections%s)' % raw(), 'connections'),
    channels: d.target('sum (rabbitmq_channels%s)' % raw(), 'channels'),
  };

  local readyThresholds = d.above([c.rabbitmqReadyMessagesWarningThreshold, c.rabbitmqReadyMessagesCriticalThreshold]);

  local p = {
    up: d.upStat(
      'RabbitMQ', "Whether every RabbitMQ node answers on its metrics port (up of the plugin's job). Good: UP; no node answering fires RabbitmqDown.", [q.up], alerts=['RabbitmqDown']
    ),
    nodesRunning: d.stat(
      'Nodes answering', 'RabbitMQ nodes that answer on their metrics port. Good: every node of the cluster (RabbitmqNodeDown otherwise).', 'short', [q.nodesRunning], alerts=['RabbitmqNodeDown'], graph=false
    ),
    links: d.stat(
      'Links between nodes',
      'Erlang distribution links the nodes hold to each other. Good: N x (N - 1) for N nodes (0 for one node); fewer while every node runs is a network partition (RabbitmqNetworkPartition).',
      'short',
      [q.links],
      alerts=['RabbitmqNetworkPartition'],
      graph=false,
    ),
    alarms: d.stat(
      'Memory and disk alarms',
      'Nodes with a memory or disk alarm on. Good: 0; while an alarm is on, every publisher is blocked.',
      'short',
      [q.alarms],
      thresholds=d.countBad,
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
      'Received, delivered, acknowledged',
      'Messages per second the cluster receives from publishers, delivers to consumers and has acknowledged (every queue). Good: the three lines together; received above delivered for long builds a backlog.',
      'ops',
      [q.received, q.delivered, q.acked],
      min=0,
    ),
    nodeMemory: d.timeseries(
      'Node memory against the high watermark',
      'Resident memory of each node as a share of its high watermark. Good: well below 100%; at 100% the memory alarm blocks publishers (RabbitmqMemoryAlarm).',
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

  d.withNeighbours(
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
        d.height(4, [p.up, p.nodesRunning, p.links, p.alarms, p.readyTotal]),
        [p.nodeMemory, p.disk, p.connections],
        d.row('Queues'),
        [p.ready, p.unacked],
        [p.consumers, p.rates],
      ]),
    }),
    [
      d.neighbour('gpus', 'GPUs'),
      d.neighbour('ai-generation-pipeline', 'AI generation pipeline'),
    ],
  )

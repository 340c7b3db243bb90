// Stack / Alertmanager cluster: the Alertmanager peers one by one. What each peer sees of the
// cluster (members, failed peers, health score, position), the gossip between them (messages
// sent and received, queued, failed reconnections), whether they agree (configurations, alerts
// and silences per peer) and what each one delivers per integration. The alerts on the cluster
// link to Stack / Stack health, which has the summary; this is the detail behind it.

function(c)
  local d = (import '../../lib/dashboards.libsonnet')(c);
  local am = d.selector(['job="%s"' % c.alertmanagerJob, 'instance=~"$instance"']);
  local rate(metric, by) = 'sum by (%s) (rate(%s%s[$__rate_interval]))' % [by, metric, am];
  local gauge(metric, by='instance') = 'max by (%s) (%s%s)' % [by, metric, am];

  local q = {
    members: d.target(gauge('alertmanager_cluster_members'), '{{instance}}'),
    failedPeers: d.target(gauge('alertmanager_cluster_failed_peers'), '{{instance}}'),
    health: d.target(gauge('alertmanager_cluster_health_score'), '{{instance}}'),
    position: d.target(gauge('alertmanager_peer_position'), '{{instance}}'),
    sent: d.target(rate('alertmanager_cluster_messages_sent_total', 'instance, msg_type'), '{{instance}} sent {{msg_type}}'),
    received: d.target(rate('alertmanager_cluster_messages_received_total', 'instance, msg_type'), '{{instance}} received {{msg_type}}'),
    queued: d.target(gauge('alertmanager_cluster_messages_queued'), '{{instance}}'),
    reconnectFailures: d.target(
      'sum by (instance) (increase(alertmanager_cluster_reconnections_failed_total%s[$__rate_interval]))' % am, '{{instance}}'
    ),
    configHash: d.target(gauge('alertmanager_config_hash'), '{{instance}}'),
    alerts: d.target(gauge('alertmanager_alerts', 'instance, state'), '{{instance}} {{state}}'),
    silences: d.target(gauge('alertmanager_silences', 'instance, state'), '{{instance}} {{state}}'),
    notifications: d.target(rate('alertmanager_notifications_total', 'instance, integration'), '{{instance}} {{integration}}'),
    failed: d.target(rate('alertmanager_notifications_failed_total', 'instance, integration'), '{{instance}} {{integration}}'),
  };

  local p = {
    members: d.timeseries('Members seen by each peer', 'Cluster members each peer knows of. Good: every peer sees all replicas; a lower line is a partitioned peer.', 'short', [q.members], min=0),
    failedPeers: d.timeseries('Failed peers seen by each peer', 'Peers each peer cannot reach. Good: 0.', 'short', [q.failedPeers], thresholds=d.countBad, min=0),
    health: d.timeseries('Gossip health score', "memberlist's awareness score of each peer (0 healthy; higher means it is slow to answer probes). Good: 0.", 'short', [q.health], min=0),
    position: d.timeseries('Peer position', "Each peer's place in the cluster: peer N waits N x the peer timeout before sending, so only one peer notifies. Good: distinct positions 0, 1, 2...", 'short', [q.position], min=0),
    gossip: d.timeseries('Gossip messages', 'Messages per second each peer sends and receives (state updates and full-state syncs). Good: steady and similar on every peer.', 'short', [q.sent, q.received], min=0),
    queued: d.timeseries('Gossip messages queued', 'Messages waiting to be gossiped by each peer. Good: near 0; a growing queue is a peer that cannot keep up.', 'short', [q.queued], min=0),
    reconnectFailures: d.timeseries('Failed reconnections', 'Failed attempts of each peer to reconnect to a lost peer. Good: 0.', 'short', [q.reconnectFailures], thresholds=d.countBad, min=0),
    configHash: d.table('Configuration per peer', 'Hash of the configuration each peer loaded. Good: the same on every peer.', 'short', [d.target(q.configHash.expr, '', instant=true, format='table')]),
    alerts: d.timeseries('Alerts by state per peer', 'Active, suppressed and unprocessed alerts each peer holds. Good: the same on every peer (gossip and Prometheus keep them in step).', 'short', [q.alerts], min=0),
    silences: d.timeseries('Silences by state per peer', 'Active, pending and expired silences each peer holds. Good: the same on every peer.', 'short', [q.silences], min=0),
    notifications: d.timeseries('Notifications by integration per peer', 'Notifications per second each peer sends to each integration. Good: mostly from the peer at position 0.', 'short', [q.notifications], min=0),
    failed: d.timeseries('Failed notifications by integration per peer', 'Notifications per second each peer failed to deliver. Good: 0.', 'short', [q.failed], thresholds=d.countBad, min=0),
  };

  d.withNeighbours(
    d.dashboard({
      uid: 'alertmanager-cluster',
      title: 'Stack / Alertmanager cluster',
      tags: ['stack', 'alertmanager'],
      description: 'Do the Alertmanager peers agree? Members, failed peers and gossip of each peer, their '
                   + 'configurations, alerts and silences side by side, and what each delivers.',
      variables: [d.variable('instance', 'Peer', 'alertmanager_cluster_members', extra=['job="%s"' % c.alertmanagerJob])],
      panels: d.layout([
        d.row('Membership'),
        [p.members, p.failedPeers, p.health, p.position],
        d.row('Gossip'),
        [p.gossip, p.queued, p.reconnectFailures],
        d.row('State per peer'),
        [p.configHash, p.alerts, p.silences],
        d.row('Delivery'),
        [p.notifications, p.failed],
      ]),
    }),
    [d.neighbour('stack-health', 'Stack health')],
  )

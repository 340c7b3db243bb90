// Infrastructure / Kubernetes networking: traffic and drops by namespace across the cluster, and
// the busiest pods of the namespaces picked with `namespace`. cAdvisor counts bytes and drops on
// each pod's network interface (the pod cgroup, container=""); pods on the host network are
// counted with the node, not here.

function(c)
  local d = (import '../../lib/dashboards.libsonnet')(c);
  local sel = d.selector([c.cadvisorSelector, 'namespace=~"$namespace"']);
  local byNamespace(metric) = 'sum by (namespace) (rate(%s%s[$__rate_interval]))' % [metric, sel];
  local topPods(metric) = 'topk(20, sum by (namespace, pod) (rate(%s%s[$__rate_interval])))' % [metric, sel];

  local total(metric) = 'sum (rate(%s%s[$__rate_interval]))' % [metric, sel];
  local q = {
    totalReceive: d.target(total('container_network_receive_bytes_total'), 'received'),
    totalTransmit: d.target(total('container_network_transmit_bytes_total'), 'sent'),
    share: d.target(
      '(%s + %s) / scalar(%s + %s)' % [
        byNamespace('container_network_receive_bytes_total'),
        byNamespace('container_network_transmit_bytes_total'),
        total('container_network_receive_bytes_total'),
        total('container_network_transmit_bytes_total'),
      ],
      '{{namespace}}'
    ),
    nsReceive: d.target(byNamespace('container_network_receive_bytes_total'), '{{namespace}}'),
    nsTransmit: d.target(byNamespace('container_network_transmit_bytes_total'), '{{namespace}}'),
    nsDrops: d.target(
      '%s + %s' % [byNamespace('container_network_receive_packets_dropped_total'), byNamespace('container_network_transmit_packets_dropped_total')],
      '{{namespace}}'
    ),
    podReceive: d.target(topPods('container_network_receive_bytes_total'), '{{namespace}}/{{pod}}'),
    podTransmit: d.target(topPods('container_network_transmit_bytes_total'), '{{namespace}}/{{pod}}'),
    podDrops: d.target(
      'topk(20, %s + %s)' % [
        'sum by (namespace, pod) (rate(container_network_receive_packets_dropped_total%s[$__rate_interval]))' % sel,
        'sum by (namespace, pod) (rate(container_network_transmit_packets_dropped_total%s[$__rate_interval]))' % sel,
      ],
      '{{namespace}}/{{pod}}'
    ),
  };

  local p = {
    total: d.timeseries('Traffic of the namespaces picked', 'Bytes per second all their pods receive and send. Good: steady, following the load.', 'Bps', [q.totalReceive, q.totalTransmit], min=0),
    share: d.timeseries('Share of the traffic by namespace', "Each namespace's part of the bytes received and sent. Good: the namespaces expected to be busy lead.", 'percentunit', [q.share], min=0, max=1, stack=true),
    nsReceive: d.timeseries('Received by namespace', 'Bytes per second the pods of each namespace receive. Good: steady, in line with the traffic they serve.', 'Bps', [q.nsReceive], min=0, stack=true),
    nsTransmit: d.timeseries('Sent by namespace', 'Bytes per second the pods of each namespace send. Good: steady; a sudden jump is a bulk transfer or a loop.', 'Bps', [q.nsTransmit], min=0, stack=true),
    nsDrops: d.timeseries('Dropped packets by namespace', 'Packets dropped in or out of the pods of each namespace. Good: 0.', 'pps', [q.nsDrops], thresholds=d.countBad, min=0),
    podReceive: d.timeseries('Received: top 20 pods', 'The 20 pods receiving the most bytes per second. Good: the pods expected to be busy.', 'Bps', [q.podReceive], min=0),
    podTransmit: d.timeseries('Sent: top 20 pods', 'The 20 pods sending the most bytes per second. Good: the pods expected to be busy.', 'Bps', [q.podTransmit], min=0),
    podDrops: d.timeseries('Dropped packets: top 20 pods', 'The 20 pods dropping the most packets. Good: empty or 0.', 'pps', [q.podDrops], thresholds=d.countBad, min=0),
  };

  d.withNeighbours(
    d.dashboard({
      uid: 'kubernetes-networking',
      title: 'Infrastructure / Kubernetes networking',
      tags: ['infrastructure', 'kubernetes'],
      description: 'Where does the traffic go? Bytes and dropped packets by namespace, and the busiest pods of the '
                   + 'namespaces picked.',
      variables: [d.variable('namespace', 'Namespace', 'kube_namespace_status_phase')],
      panels: d.layout([
        d.row('By namespace'),
        [p.total, p.share],
        [p.nsReceive, p.nsTransmit, p.nsDrops],
        d.row('By pod'),
        [p.podReceive, p.podTransmit, p.podDrops],
      ]),
    }),
    [
      d.neighbour('kubernetes-pod', 'Kubernetes pod', ['namespace']),
      d.neighbour('kubernetes-cluster', 'Kubernetes cluster'),
    ],
  )

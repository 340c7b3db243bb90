// Infrastructure / Nodes: the USE method per node (utilisation, saturation, errors of CPU, memory,
// disk and network), with an `instance` (node) variable. Reads the platform mixin's recording
// rules; raw node_exporter series only where no rule records them. Thresholds are the mixin's
// `_config` (`c`), the defaults of its alerts' parameters.

function(c)
  local d = (import '../../lib/dashboards.libsonnet')(c);
  // Queries and panels live in nodes/ (queries.libsonnet, panels.libsonnet); this file lays them out.
  local p = (import 'nodes/panels.libsonnet')(c);

  d.withNeighbours(
    d.dashboard({
      uid: 'nodes',
      title: 'Infrastructure / Nodes',
      tags: ['infrastructure', 'nodes', 'use'],
      description: 'Utilisation, saturation and errors (USE) of the CPU, memory, disk and network of every node (the '
                   + '`instance` variable), from node_exporter. Dashed lines are the alert thresholds (Jsonnet defaults; '
                   + 'an environment may override them in Helm values).',
      variables: [d.variable('instance', 'Node', 'instance:node_num_cpu:sum')],
      panels: d.layout([
        d.row('Cluster'),
        d.height(4, [p.nodesUp, p.nodesTotal, p.clusterCpu, p.clusterMemory, p.clusterFs]),
        d.row('CPU'),
        [p.cpu, p.load, [p.cpus, 6]],
        d.row('Memory'),
        [p.memory, p.memoryUsed],
        [p.majorFaults, p.oomKills],
        d.row('Disk'),
        [p.diskBusy, p.diskQueue],
        [p.diskThroughput, p.fsAvail],
        d.row('Network and time'),
        [p.netThroughput, p.netDrops],
        [p.netErrors, p.clockOffset],
      ]),
    }),
    [
      d.neighbour('kubernetes-cluster', 'Kubernetes cluster'),
      d.neighbour('gpus', 'GPUs'),
    ],
  )

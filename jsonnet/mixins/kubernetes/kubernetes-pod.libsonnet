// Infrastructure / Kubernetes pod: compute resources and networking of the pods picked with
// `namespace` and `pod`, per container: CPU and memory against requests and limits, CPU
// throttling, restarts, bytes and drops on the pod's network interface. The view one level below
// Infrastructure / Kubernetes namespace and workloads. The CPU panels read the per-container records
// of dashboard-rules.libsonnet.

function(c)
  local d = (import '../../lib/dashboards.libsonnet')(c);
  local sel = ['namespace=~"$namespace"', 'pod=~"$pod"'];
  local s = d.selector(sel);
  local ksm(extra=[]) = d.selector([c.kubeStateMetricsSelector] + sel + extra);
  local containers = d.selector([c.cadvisorSelector, c.containerSelector] + sel);
  // Network counters live on the pod cgroup (container=""), not on the containers.
  local net(metric) = 'sum by (pod) (rate(%s%s[$__rate_interval]))' % [metric, d.selector([c.cadvisorSelector] + sel)];
  local resource(metric, name) = 'max by (pod, container) (%s%s)' % [metric, ksm(['resource="%s"' % name])];

  local q = {
    // Usage against what each container asked for and may use (containers without one have no line).
    // CPU usage reads the records of dashboard-rules.libsonnet: their rate window is a fixed 5m,
    // not Grafana's $__rate_interval.
    cpuOfRequest: d.target(
      'sum by (pod, container) (namespace_pod_container:container_cpu_usage_seconds:request_ratio_rate5m%s)' % s,
      '{{pod}}/{{container}}'
    ),
    memoryOfLimit: d.target(
      'sum by (pod, container) (container_memory_working_set_bytes%s) / on (pod, container) %s'
      % [containers, resource('kube_pod_container_resource_limits', 'memory')],
      '{{pod}}/{{container}}'
    ),
    cpu: d.target(
      'sum by (pod, container) (namespace_pod_container:container_cpu_usage_seconds:sum_rate5m%s)' % s, '{{pod}}/{{container}} usage'
    ),
    cpuRequests: d.target(resource('kube_pod_container_resource_requests', 'cpu'), '{{pod}}/{{container}} requests'),
    cpuLimits: d.target(resource('kube_pod_container_resource_limits', 'cpu'), '{{pod}}/{{container}} limits'),
    memory: d.target('sum by (pod, container) (container_memory_working_set_bytes%s)' % containers, '{{pod}}/{{container}} usage'),
    memoryRequests: d.target(resource('kube_pod_container_resource_requests', 'memory'), '{{pod}}/{{container}} requests'),
    memoryLimits: d.target(resource('kube_pod_container_resource_limits', 'memory'), '{{pod}}/{{container}} limits'),
    throttled: d.target('namespace_pod_container:container_cpu_cfs_throttled_periods:ratio_rate5m%s' % s, '{{pod}}/{{container}}'),
    // Raw on purpose: a record of the counter per container would have as many series and samples
    // as the counter itself, and recording increase(...[5m]) would hide restarts between steps
    // longer than 5m.
    restarts: d.target(
      'max by (pod, container) (increase(kube_pod_container_status_restarts_total%s[$__rate_interval]))' % ksm(), '{{pod}}/{{container}}'
    ),
    receive: d.target(net('container_network_receive_bytes_total'), '{{pod}} received'),
    transmit: d.target(net('container_network_transmit_bytes_total'), '{{pod}} sent'),
    receiveDrops: d.target(net('container_network_receive_packets_dropped_total'), '{{pod}} in'),
    transmitDrops: d.target(net('container_network_transmit_packets_dropped_total'), '{{pod}} out'),
  };

  local p = {
    cpuOfRequest: d.timeseries(
      'CPU usage / request',
      'CPU each container uses against what it requests. Good: near 1; far above, the node is overcommitted; far below, the request wastes capacity.',
      'percentunit',
      [q.cpuOfRequest],
      min=0,
    ),
    memoryOfLimit: d.timeseries(
      'Memory working set / limit',
      'Working set of each container against its memory limit. Good: well below 1; at 1 the container is OOM-killed.',
      'percentunit',
      [q.memoryOfLimit],
      min=0,
    ),
    cpu: d.timeseries(
      'CPU: usage, requests, limits per container',
      'Cores each container uses, requests and may use. Good: usage near requests and clear of the limit.',
      'short',
      [q.cpu, q.cpuRequests, q.cpuLimits],
      min=0,
    ),
    throttled: d.timeseries(
      'CPU throttling per container',
      'Share of CFS periods in which each container hit its CPU limit. Good: below the line; above it latency suffers.',
      'percentunit',
      [q.throttled],
      thresholds=d.above([c.kubeCpuThrottlingThreshold]),
      alerts=['KubeCpuThrottlingHigh'],
      min=0,
      max=1,
    ),
    memory: d.timeseries(
      'Memory: working set, requests, limits per container',
      'Working-set memory of each container against its request and limit. Good: steady and well below the limit (at the limit the container is OOM-killed).',
      'bytes',
      [q.memory, q.memoryRequests, q.memoryLimits],
      min=0,
    ),
    restarts: d.timeseries(
      'Container restarts',
      'Restarts of each container per interval. Good: 0.',
      'short',
      [q.restarts],
      thresholds=d.countBad,
      min=0,
    ),
    network: d.timeseries(
      'Network: received and sent',
      'Bytes per second each pod receives and sends. Good: what the workload is expected to move.',
      'Bps',
      [q.receive, q.transmit],
      min=0,
    ),
    drops: d.timeseries(
      'Network: dropped packets',
      'Packets dropped on the way in and out of each pod. Good: 0.',
      'pps',
      [q.receiveDrops, q.transmitDrops],
      thresholds=d.countBad,
      min=0,
    ),
  };

  d.withNeighbours(
    d.dashboard({
      uid: 'kubernetes-pod',
      title: 'Infrastructure / Kubernetes pod',
      tags: ['infrastructure', 'kubernetes'],
      description: 'How are these pods doing? CPU and memory of each container against its requests and limits, '
                   + "throttling, restarts, and the traffic and drops on the pods' network interfaces.",
      variables: [
        d.variable('namespace', 'Namespace', 'kube_pod_info'),
        d.variable('pod', 'Pod', 'kube_pod_info', extra=['namespace=~"$namespace"']),
      ],
      panels: d.layout([
        d.row('Compute resources'),
        [p.cpu, p.cpuOfRequest, p.throttled],
        [p.memory, p.memoryOfLimit, p.restarts],
        d.row('Networking'),
        [p.network, p.drops],
      ]),
    }),
    [
      d.neighbour('kubernetes-namespace', 'Kubernetes namespace', ['namespace']),
      d.neighbour('kubernetes-networking', 'Kubernetes networking', ['namespace']),
    ],
  )

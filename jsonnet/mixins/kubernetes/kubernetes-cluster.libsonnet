// Infrastructure / Kubernetes cluster: nodes, pods, capacity (requests and usage against what the
// nodes can allocate), namespaces, persistent volumes and the API server. Reads the kubernetes
// mixin's recording rules; kube-state-metrics series are de-duplicated with `max by (<object>)`
// as the rules do. Thresholds are the mixin's `_config` (`c`), the defaults of its alerts' parameters.

function(c)
  local d = (import '../../lib/dashboards.libsonnet')(c);
  local s = d.selector();
  // `max by (<labels>) (<metric>{<ksm>, <matchers>})`: one series per object whatever the replicas.
  local kube(metric, labels, extra=[]) =
    'max by (%s) (%s%s)' % [std.join(', ', labels), metric, d.selector([c.kubeStateMetricsSelector] + extra)];
  // Per-namespace records of dashboard-rules.libsonnet (a series per pod read once per evaluation).
  local notReadyPods = 'namespace:kube_pod_not_ready:count%s' % s;
  local limits(resource) = 'sum (namespace_resource:kube_pod_container_resource_limits:sum%s)' % d.selector(['resource="%s"' % resource]);
  // The capacity left when the largest node fails: what KubeCpuOvercommitted/KubeMemoryOvercommitted compare with.
  local nMinusOne(resource, record) =
    '%s%s - scalar(max (%s))' % [record, s, kube('kube_node_status_allocatable', ['node'], ['resource="%s"' % resource])];

  local q = {
    nodesReady: d.target('sum (%s)' % kube('kube_node_status_condition', ['node'], ['condition="Ready"', 'status="true"']), 'ready'),
    nodesNotReady: d.target(
      'count (%s == 0) or vector(0)' % kube('kube_node_status_condition', ['node'], ['condition="Ready"', 'status="true"']), 'not ready'
    ),
    podsNotReady: d.target('sum (%s) or vector(0)' % notReadyPods, 'not ready'),
    crashLooping: d.target(
      'count (%s == 1) or vector(0)'
      % kube('kube_pod_container_status_waiting_reason', ['namespace', 'pod', 'container'], ['reason="CrashLoopBackOff"']),
      'crash looping'
    ),
    jobsFailed: d.target('count (%s == 1) or vector(0)' % kube('kube_job_failed', ['namespace', 'job_name'], ['condition="true"']), 'failed'),
    podsByPhase: d.target('sum by (phase) (namespace_phase:kube_pod_status_phase:sum%s)' % s, '{{phase}}'),
    notReadyByNamespace: d.target('sum by (namespace) (%s)' % notReadyPods, '{{namespace}}'),
    restarts: d.target(
      'sum by (namespace) (max by (namespace, pod, container) (increase(kube_pod_container_status_restarts_total%s[$__rate_interval])))'
      % d.selector([c.kubeStateMetricsSelector]),
      '{{namespace}}'
    ),
    cpuUsage: d.target('cluster:container_cpu_usage_seconds:sum_rate5m%s' % s, 'usage'),
    cpuRequests: d.target('cluster:kube_pod_container_resource_requests_cpu_cores:sum%s' % s, 'requests'),
    cpuLimits: d.target(limits('cpu'), 'limits'),
    cpuAllocatable: d.target('cluster:kube_node_status_allocatable_cpu_cores:sum%s' % s, 'allocatable'),
    cpuNMinusOne: d.target(nMinusOne('cpu', 'cluster:kube_node_status_allocatable_cpu_cores:sum'), 'allocatable without the largest node'),
    memoryUsage: d.target('cluster:container_memory_working_set_bytes:sum%s' % s, 'usage (working set)'),
    memoryRequests: d.target('cluster:kube_pod_container_resource_requests_memory_bytes:sum%s' % s, 'requests'),
    memoryLimits: d.target(limits('memory'), 'limits'),
    memoryAllocatable: d.target('cluster:kube_node_status_allocatable_memory_bytes:sum%s' % s, 'allocatable'),
    memoryNMinusOne: d.target(
      nMinusOne('memory', 'cluster:kube_node_status_allocatable_memory_bytes:sum'), 'allocatable without the largest node'
    ),
    cpuRequestsRatio: d.target('cluster:kube_pod_container_resource_requests_cpu_cores:ratio%s' % s, 'CPU'),
    memoryRequestsRatio: d.target('cluster:kube_pod_container_resource_requests_memory_bytes:ratio%s' % s, 'memory'),
    namespaceCpu: d.target('topk(10, namespace:container_cpu_usage_seconds:sum_rate5m%s)' % s, '{{namespace}}'),
    namespaceMemory: d.target('topk(10, namespace:container_memory_working_set_bytes:sum%s)' % s, '{{namespace}}'),
    pvcAvailable: d.target(
      'bottomk(10, namespace_persistentvolumeclaim:kubelet_volume_stats_available_bytes:ratio%s)' % s,
      '{{namespace}}/{{persistentvolumeclaim}}',
      instant=true,
    ),
    apiUp: d.target('sum (up%s)' % d.selector([c.kubeApiServerSelector]), 'up'),
    ksmUp: d.target('sum (up%s)' % d.selector([c.kubeStateMetricsSelector]), 'up'),
    apiRate: d.target('cluster:apiserver_request:rate5m%s' % s, 'requests'),
    apiErrors: d.target('cluster:apiserver_request_errors:ratio_rate5m%s' % s, '5xx'),
    apiLatency: d.target('verb:apiserver_request_duration_seconds:p99_rate5m%s' % s, '{{verb}}'),
  };

  local p = {
    nodesReady: d.stat('Nodes ready', 'Nodes whose Ready condition is true. Good: every node of the cluster.', 'short', [q.nodesReady], graph=false),
    nodesNotReady: d.stat(
      'Nodes not ready',
      'Nodes whose Ready condition is not true. Good: 0; KubeNodeNotReady fires after 15 minutes.',
      'short',
      [q.nodesNotReady],
      thresholds=d.countBad,
      alerts=['KubeNodeNotReady'],
    ),
    podsNotReady: d.stat(
      'Pods not ready',
      'Pods pending, unknown, or running without passing their readiness probe. Good: 0 or brief blips during rollouts (KubePodNotReady after 15 minutes).',
      'short',
      [q.podsNotReady],
      thresholds=d.countBad,
      alerts=['KubePodNotReady'],
    ),
    crashLooping: d.stat(
      'Containers crash looping',
      'Containers waiting in CrashLoopBackOff. Good: 0.',
      'short',
      [q.crashLooping],
      thresholds=d.countBad,
      alerts=['KubePodCrashLooping'],
    ),
    jobsFailed: d.stat(
      'Jobs failed', 'Jobs that ran out of retries or their deadline. Good: 0.', 'short', [q.jobsFailed], thresholds=d.countBad, alerts=['KubeJobFailed']
    ),
    apiUp: d.stat(
      'API server endpoints up', 'API server endpoints Prometheus can scrape. Good: every control-plane endpoint; 0 fires KubeApiServerDown.', 'short', [q.apiUp], alerts=['KubeApiServerDown'], graph=false
    ),
    ksmUp: d.stat(
      'kube-state-metrics up',
      'kube-state-metrics replicas Prometheus can scrape. Good: at least 1; at 0 every node, pod and workload panel here goes blank (KubeStateMetricsDown).',
      'short',
      [q.ksmUp],
      alerts=['KubeStateMetricsDown'],
      graph=false,
    ),
    podsByPhase: d.timeseries(
      'Pods by phase', 'Pods per phase. Good: Running steady; Pending short-lived; Failed and Unknown near 0.', 'short', [q.podsByPhase], min=0, stack=true
    ),
    notReadyByNamespace: d.timeseries(
      'Pods not ready by namespace', 'Pods not ready, per namespace. Good: empty, or short blips during rollouts.', 'short', [q.notReadyByNamespace], min=0, stack=true
    ),
    restarts: d.timeseries(
      'Container restarts by namespace', 'Container restarts per interval, per namespace. Good: 0; a steady rate is a crash loop or OOM kills.', 'short', [q.restarts], min=0, stack=true
    ),
    cpu: d.timeseries(
      'CPU: usage, requests, limits, capacity',
      'Cores used, requested and limited by all pods, against what the nodes can allocate. Good: requests below "allocatable without the largest node" (else KubeCpuOvercommitted: a node failure leaves pods Pending); usage near requests.',
      'short',
      [q.cpuUsage, q.cpuRequests, q.cpuLimits, q.cpuAllocatable, q.cpuNMinusOne],
      alerts=['KubeCpuOvercommitted'],
      min=0,
    ),
    memory: d.timeseries(
      'Memory: usage, requests, limits, capacity',
      'Memory used (working set), requested and limited by all pods, against what the nodes can allocate. Good: requests below "allocatable without the largest node" (else KubeMemoryOvercommitted).',
      'bytes',
      [q.memoryUsage, q.memoryRequests, q.memoryLimits, q.memoryAllocatable, q.memoryNMinusOne],
      alerts=['KubeMemoryOvercommitted'],
      min=0,
    ),
    requestsRatio: d.timeseries(
      'Requests against allocatable',
      'Share of allocatable CPU and memory the pods request. Good: with room for one node to fail (in a cluster of N equal nodes, below (N-1)/N); at 100% new pods stay Pending.',
      'percentunit',
      [q.cpuRequestsRatio, q.memoryRequestsRatio],
      min=0,
    ),
    namespaceCpu: d.timeseries(
      'CPU usage: top 10 namespaces', 'Cores used per namespace. Good: each namespace at its usual level.', 'short', [q.namespaceCpu], min=0, stack=true
    ),
    namespaceMemory: d.timeseries(
      'Memory usage: top 10 namespaces', 'Working-set memory per namespace. Good: each namespace at its usual level, no steady climb.', 'bytes', [q.namespaceMemory], min=0, stack=true
    ),
    pvcAvailable: d.bargauge(
      'Persistent volumes with the least space',
      'Free share of the 10 fullest persistent volume claims. Good: every bar above the KubePersistentVolumeFillingUp line (orange) and far from KubePersistentVolumeSpaceLow (red).',
      'percentunit',
      [q.pvcAvailable],
      thresholds=d.below([c.kubePersistentVolumeSpaceLowThreshold, c.kubePersistentVolumeFillingUpAvailableRatio]),
      alerts=['KubePersistentVolumeSpaceLow', 'KubePersistentVolumeFillingUp'],
      max=1,
    ),
    apiRate: d.timeseries('API server requests', 'Requests per second to the API server. Good: steady; a spike is often a controller in a loop.', 'reqps', [q.apiRate], min=0),
    apiErrors: d.timeseries(
      'API server 5xx ratio',
      'Share of API server requests answered with a 5xx. Good: below the dashed KubeApiServerErrorsHigh line, normally 0.',
      'percentunit',
      [q.apiErrors],
      thresholds=d.above([c.kubeApiServerErrorRatioThreshold]),
      alerts=['KubeApiServerErrorsHigh'],
      min=0,
    ),
    apiLatency: d.timeseries(
      'API server p99 latency by verb',
      'p99 latency of API server requests per verb (watches, logs and exec left out). Good: every verb below the dashed KubeApiServerLatencyHigh line.',
      's',
      [q.apiLatency],
      thresholds=d.above([c.kubeApiServerLatencyThresholdSeconds]),
      alerts=['KubeApiServerLatencyHigh'],
      min=0,
    ),
  };

  d.withNeighbours(
    d.dashboard({
      uid: 'kubernetes-cluster',
      title: 'Infrastructure / Kubernetes cluster',
      tags: ['infrastructure', 'kubernetes'],
      description: 'Is the cluster healthy and does it have room? Nodes and pods, CPU and memory requests and usage '
                   + 'against capacity (with the node-failure margin), namespaces, persistent volumes and the API server. '
                   + 'Dashed lines are the alert thresholds (Jsonnet defaults; an environment may override them in Helm values).',
      panels: d.layout([
        d.row('Health'),
        d.height(4, [p.nodesReady, p.nodesNotReady, p.podsNotReady, p.crashLooping, p.jobsFailed, p.apiUp, p.ksmUp]),
        [p.podsByPhase, p.notReadyByNamespace, p.restarts],
        d.row('Capacity'),
        [p.cpu, p.memory],
        [p.requestsRatio, p.pvcAvailable],
        d.row('Namespaces'),
        [p.namespaceCpu, p.namespaceMemory],
        d.row('API server'),
        [p.apiRate, p.apiErrors, p.apiLatency],
      ]),
    }),
    [
      d.neighbour('kubernetes-workloads', 'Kubernetes workloads'),
      d.neighbour('nodes', 'Nodes'),
    ],
  )

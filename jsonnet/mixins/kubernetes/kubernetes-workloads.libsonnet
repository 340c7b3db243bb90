// Infrastructure / Kubernetes workloads: the pods of the Deployments, StatefulSets, DaemonSets and
// Jobs picked with the `namespace`, `workload_type` and `workload` variables: readiness, restarts
// and why containers wait or stopped, CPU and memory usage against requests and limits, CPU
// throttling, replicas. Pods are tied to their workload by the recording rule
// namespace_workload_pod:kube_pod_owner:relabel (Deployment pods through their ReplicaSet); the pod
// panels read the per-workload records of dashboard-rules.libsonnet.

function(c)
  local d = (import '../../lib/dashboards.libsonnet')(c);
  local ns = 'namespace=~"$namespace"';
  // The selected workloads' series of a record of dashboard-rules.libsonnet (pods joined with
  // their workload there, not on every load).
  local rec(name, extra=[]) = '%s%s' % [
    name,
    d.selector([ns, 'workload_type=~"$workload_type"', 'workload=~"$workload"'] + extra),
  ];
  local kube(metric, labels, extra=[]) =
    'max by (%s) (%s%s)' % [std.join(', ', labels), metric, d.selector([c.kubeStateMetricsSelector, ns] + extra)];
  local resource(metric, name) =
    'sum by (workload) (%s)' % rec('namespace_workload_resource:%s:sum' % metric, ['resource="%s"' % name]);

  local q = {
    podsReady: d.target('sum (%s)' % rec('namespace_workload:kube_pod_status_ready:sum'), 'ready'),
    podsNotReady: d.target('sum (%s) or vector(0)' % rec('namespace_workload:kube_pod_not_ready:count'), 'not ready'),
    notReadyByWorkload: d.target(
      'sum by (workload_type, workload) (%s)' % rec('namespace_workload:kube_pod_not_ready:count'), '', instant=true, format='table'
    ),
    waiting: d.target(
      'sum by (workload, reason) (%s)' % rec('namespace_workload_reason:kube_pod_container_status_waiting_reason:sum'),
      '{{workload}}: {{reason}}'
    ),
    restarts: d.target(
      'sum by (workload, pod) (increase(%s[$__rate_interval]))' % rec('namespace_workload_pod:kube_pod_container_status_restarts:sum_total'),
      '{{pod}}'
    ),
    terminated: d.target(
      'sum by (workload, reason) (%s)' % rec('namespace_workload_reason:kube_pod_container_status_last_terminated_reason:sum'),
      '{{workload}}: {{reason}}'
    ),
    cpuUsage: d.target(
      'sum by (workload) (%s)' % rec('namespace_workload:container_cpu_usage_seconds:sum_rate5m'),
      '{{workload}} usage'
    ),
    cpuRequests: d.target(resource('kube_pod_container_resource_requests', 'cpu'), '{{workload}} requests'),
    cpuLimits: d.target(resource('kube_pod_container_resource_limits', 'cpu'), '{{workload}} limits'),
    throttled: d.target(
      'sum by (workload) (%s) / sum by (workload) (%s)' % [
        rec('namespace_workload:container_cpu_cfs_throttled_periods:sum_rate5m'),
        rec('namespace_workload:container_cpu_cfs_periods:sum_rate5m'),
      ],
      '{{workload}}'
    ),
    podCpu: d.target('topk(20, %s)' % rec('namespace_workload_pod:container_cpu_usage_seconds:sum_rate5m'), '{{pod}}'),
    memoryUsage: d.target(
      'sum by (workload) (%s)' % rec('namespace_workload:container_memory_working_set_bytes:sum'),
      '{{workload}} usage'
    ),
    memoryRequests: d.target(resource('kube_pod_container_resource_requests', 'memory'), '{{workload}} requests'),
    memoryLimits: d.target(resource('kube_pod_container_resource_limits', 'memory'), '{{workload}} limits'),
    memoryOfLimit: d.target(
      'topk(20, %s)' % rec('namespace_workload_pod_container:container_memory_working_set_bytes:limit_ratio'),
      '{{pod}}/{{container}}'
    ),
    deploymentDesired: d.target(
      kube('kube_deployment_spec_replicas', ['namespace', 'deployment'], ['deployment=~"$workload"']), '{{deployment}} desired'
    ),
    deploymentAvailable: d.target(
      kube('kube_deployment_status_replicas_available', ['namespace', 'deployment'], ['deployment=~"$workload"']), '{{deployment}} available'
    ),
    statefulsetDesired: d.target(
      kube('kube_statefulset_replicas', ['namespace', 'statefulset'], ['statefulset=~"$workload"']), '{{statefulset}} desired'
    ),
    statefulsetReady: d.target(
      kube('kube_statefulset_status_replicas_ready', ['namespace', 'statefulset'], ['statefulset=~"$workload"']), '{{statefulset}} ready'
    ),
    hpaCurrent: d.target(
      kube('kube_horizontalpodautoscaler_status_current_replicas', ['namespace', 'horizontalpodautoscaler']), '{{horizontalpodautoscaler}} current'
    ),
    hpaMax: d.target(
      kube('kube_horizontalpodautoscaler_spec_max_replicas', ['namespace', 'horizontalpodautoscaler']), '{{horizontalpodautoscaler}} max'
    ),
  };

  local p = {
    podsReady: d.stat('Pods ready', 'Ready pods of the selected workloads. Good: the replicas the workloads want.', 'short', [q.podsReady]),
    podsNotReady: d.stat(
      'Pods not ready',
      'Pods of the selected workloads that are pending, unknown, or running but not ready. Good: 0, or brief blips during rollouts.',
      'short',
      [q.podsNotReady],
      thresholds=d.countBad,
      alerts=['KubePodNotReady'],
    ),
    notReadyByWorkload: d.table(
      'Not ready, by workload', 'Workloads with pods not ready right now. Good: empty.', 'short', [q.notReadyByWorkload]
    ),
    waiting: d.timeseries(
      'Containers waiting, by reason',
      'Containers that are not running and why (CrashLoopBackOff, ImagePullBackOff, CreateContainerConfigError...). Good: empty; ContainerCreating only briefly.',
      'short',
      [q.waiting],
      alerts=['KubePodCrashLooping'],
      min=0,
      stack=true,
    ),
    restarts: d.timeseries(
      'Container restarts by pod',
      'Container restarts per interval, per pod. Good: 0; a steady rate is a crash loop or repeated OOM kills.',
      'short',
      [q.restarts],
      min=0,
      stack=true,
    ),
    terminated: d.timeseries(
      'Last termination reason',
      'Containers by the reason their previous run ended (OOMKilled, Error, Completed). Good: no OOMKilled or Error; Completed is normal for Jobs.',
      'short',
      [q.terminated],
      alerts=['KubeContainerOomKilled'],
      min=0,
      stack=true,
    ),
    cpu: d.timeseries(
      'CPU: usage, requests, limits',
      'Cores used, requested and limited per workload. Good: usage close to requests (requests are what the scheduler reserves) and below limits.',
      'short',
      [q.cpuUsage, q.cpuRequests, q.cpuLimits],
      min=0,
    ),
    throttled: d.timeseries(
      'CPU throttling',
      'Share of CFS periods in which the containers hit their CPU limit and were paused. Good: near 0; above about 25% latency suffers: raise the limit or remove it.',
      'percentunit',
      [q.throttled],
      min=0,
      max=1,
    ),
    podCpu: d.timeseries('CPU usage: top 20 pods', 'Cores used per pod. Good: pods of one workload close to each other (balanced load).', 'short', [q.podCpu], min=0),
    memory: d.timeseries(
      'Memory: usage, requests, limits',
      'Working-set memory, requests and limits per workload. Good: usage near requests and well below limits (at the limit the container is OOM-killed).',
      'bytes',
      [q.memoryUsage, q.memoryRequests, q.memoryLimits],
      min=0,
    ),
    memoryOfLimit: d.timeseries(
      'Memory against limit: top 20 containers',
      'Working set of each container as a share of its memory limit. Good: below about 90%; at 100% the kernel OOM-kills it (KubeContainerOomKilled).',
      'percentunit',
      [q.memoryOfLimit],
      alerts=['KubeContainerOomKilled'],
      min=0,
    ),
    replicas: d.timeseries(
      'Replicas: desired and available',
      'Desired against available (Deployments) or ready (StatefulSets) replicas of the selected workloads. Good: the lines meet; a gap that lasts means a stuck rollout.',
      'short',
      [q.deploymentDesired, q.deploymentAvailable, q.statefulsetDesired, q.statefulsetReady],
      alerts=['KubeDeploymentReplicasMismatch', 'KubeStatefulSetReplicasMismatch'],
      min=0,
    ),
    hpa: d.timeseries(
      'Autoscalers: current and maximum replicas',
      'Replicas of each HorizontalPodAutoscaler in the selected namespaces against its maximum. Good: current below max; at max it cannot absorb more load (KubeHpaMaxedOut).',
      'short',
      [q.hpaCurrent, q.hpaMax],
      alerts=['KubeHpaMaxedOut'],
      min=0,
    ),
  };

  local workloads = 'namespace_workload_pod:kube_pod_owner:relabel';

  d.withNeighbours(
    d.dashboard({
      uid: 'kubernetes-workloads',
      title: 'Infrastructure / Kubernetes workloads',
      tags: ['infrastructure', 'kubernetes'],
      description: 'How are the pods of one workload doing? Readiness, restarts, waiting and termination reasons, CPU and '
                   + 'memory against requests and limits, throttling and replicas of the Deployments, StatefulSets, '
                   + 'DaemonSets and Jobs picked with the variables.',
      variables: [
        d.variable('namespace', 'Namespace', workloads),
        d.variable('workload_type', 'Type', workloads, extra=[ns]),
        d.variable('workload', 'Workload', workloads, extra=[ns, 'workload_type=~"$workload_type"']),
      ],
      panels: d.layout([
        d.row('Pods'),
        [[p.podsReady, 4], [p.podsNotReady, 4], p.notReadyByWorkload],
        [p.waiting, p.restarts, p.terminated],
        d.row('CPU'),
        [p.cpu, p.throttled, p.podCpu],
        d.row('Memory'),
        [p.memory, p.memoryOfLimit],
        d.row('Replicas'),
        [p.replicas, p.hpa],
      ]),
    }),
    [
      d.neighbour('kubernetes-cluster', 'Kubernetes cluster'),
      d.neighbour('service-logs', 'Service logs', ['namespace']),
    ],
  )

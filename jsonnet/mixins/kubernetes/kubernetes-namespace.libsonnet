// Infrastructure / Kubernetes namespace: everything of the namespaces picked with `namespace`:
// compute resources by pod (usage, requests, limits, throttling), networking by pod, quotas,
// rollouts (containers waiting, DaemonSets, Deployments, StatefulSets, Jobs, autoscalers) and
// persistent volumes (space, inodes, phases). Panels name the alerts of workloads-apps.libsonnet
// and storage.libsonnet; thresholds are their parameters' defaults.

function(c)
  local d = (import '../../lib/dashboards.libsonnet')(c);
  local ns = 'namespace=~"$namespace"';
  local s = d.selector([ns]);
  local ksm(extra=[]) = d.selector([c.kubeStateMetricsSelector, ns] + extra);
  local kube(metric, labels, extra=[]) = 'max by (%s) (%s%s)' % [std.join(', ', labels), metric, ksm(extra)];
  // Network counters live on the pod cgroup (container=""), not on the containers.
  local net(metric) = 'sum by (pod) (rate(%s%s[$__rate_interval]))' % [metric, d.selector([c.cadvisorSelector, ns])];

  // Requests and limits of every pod of the namespaces (records of dashboard-rules.libsonnet).
  local resources(metric, resource) =
    'sum by (namespace) (namespace_resource:%s:sum%s)' % [metric, d.selector([ns, 'resource="%s"' % resource])];

  local q = {
    pdbDesired: d.target(kube('kube_poddisruptionbudget_status_desired_healthy', ['poddisruptionbudget']), '{{poddisruptionbudget}} required'),
    pdbCurrent: d.target(kube('kube_poddisruptionbudget_status_current_healthy', ['poddisruptionbudget']), '{{poddisruptionbudget}} healthy'),
    cpu: d.target('topk(20, namespace_pod:container_cpu_usage_seconds:sum_rate5m%s)' % s, '{{pod}}'),
    cpuRequests: d.target(resources('kube_pod_container_resource_requests', 'cpu'), '{{namespace}} requests'),
    cpuLimits: d.target(resources('kube_pod_container_resource_limits', 'cpu'), '{{namespace}} limits'),
    cpuUsage: d.target('namespace:container_cpu_usage_seconds:sum_rate5m%s' % s, '{{namespace}} usage'),
    memory: d.target('topk(20, namespace_pod:container_memory_working_set_bytes:sum%s)' % s, '{{pod}}'),
    memoryUsage: d.target('namespace:container_memory_working_set_bytes:sum%s' % s, '{{namespace}} usage'),
    memoryRequests: d.target(resources('kube_pod_container_resource_requests', 'memory'), '{{namespace}} requests'),
    memoryLimits: d.target(resources('kube_pod_container_resource_limits', 'memory'), '{{namespace}} limits'),
    throttled: d.target('topk(20, namespace_pod_container:container_cpu_cfs_throttled_periods:ratio_rate5m%s)' % s, '{{pod}}/{{container}}'),
    receive: d.target(net('container_network_receive_bytes_total'), '{{pod}} received'),
    transmit: d.target(net('container_network_transmit_bytes_total'), '{{pod}} sent'),
    drops: d.target(
      '%s + %s' % [net('container_network_receive_packets_dropped_total'), net('container_network_transmit_packets_dropped_total')], '{{pod}}'
    ),
    quota: d.target('namespace_resourcequota:kube_resourcequota_used:ratio%s' % s, '{{resourcequota}} {{resource}}'),
    waiting: d.target(
      kube('kube_pod_container_status_waiting_reason', ['pod', 'container', 'reason'], ['reason!~"ContainerCreating|PodInitializing"']) + ' == 1',
      '',
      instant=true,
      format='table'
    ),
    dsDesired: d.target(kube('kube_daemonset_status_desired_number_scheduled', ['daemonset']), '{{daemonset}} desired'),
    dsAvailable: d.target(kube('kube_daemonset_status_number_available', ['daemonset']), '{{daemonset}} available'),
    dsUpdated: d.target(kube('kube_daemonset_status_updated_number_scheduled', ['daemonset']), '{{daemonset}} updated'),
    dsUnscheduled: d.target(
      '%s - %s' % [kube('kube_daemonset_status_desired_number_scheduled', ['daemonset']), kube('kube_daemonset_status_current_number_scheduled', ['daemonset'])],
      '{{daemonset}} not scheduled'
    ),
    dsMisscheduled: d.target(kube('kube_daemonset_status_number_misscheduled', ['daemonset']), '{{daemonset}} mis-scheduled'),
    depGeneration: d.target(
      '%s - %s' % [kube('kube_deployment_metadata_generation', ['deployment']), kube('kube_deployment_status_observed_generation', ['deployment'])],
      '{{deployment}}'
    ),
    stsGeneration: d.target(
      '%s - %s' % [kube('kube_statefulset_metadata_generation', ['statefulset']), kube('kube_statefulset_status_observed_generation', ['statefulset'])],
      '{{statefulset}}'
    ),
    depStuck: d.target(kube('kube_deployment_status_condition', ['deployment'], ['condition="Progressing"', 'status="false"']) + ' == 1', '{{deployment}}'),
    stsUpdated: d.target(kube('kube_statefulset_status_replicas_updated', ['statefulset']), '{{statefulset}} updated'),
    stsReplicas: d.target(kube('kube_statefulset_replicas', ['statefulset']), '{{statefulset}} desired'),
    jobAge: d.target(
      '(time() - %s) / 3600 and on (job_name) %s > 0' % [kube('kube_job_status_start_time', ['job_name']), kube('kube_job_status_active', ['job_name'])],
      '{{job_name}}'
    ),
    hpaDesired: d.target(kube('kube_horizontalpodautoscaler_status_desired_replicas', ['horizontalpodautoscaler']), '{{horizontalpodautoscaler}} desired'),
    hpaCurrent: d.target(kube('kube_horizontalpodautoscaler_status_current_replicas', ['horizontalpodautoscaler']), '{{horizontalpodautoscaler}} current'),
    pvSpace: d.target('namespace_persistentvolumeclaim:kubelet_volume_stats_available_bytes:ratio%s' % s, '{{persistentvolumeclaim}}'),
    pvInodes: d.target('namespace_persistentvolumeclaim:kubelet_volume_stats_inodes_free:ratio%s' % s, '{{persistentvolumeclaim}}'),
    pvcPending: d.target(kube('kube_persistentvolumeclaim_status_phase', ['persistentvolumeclaim'], ['phase="Pending"']) + ' == 1', '{{persistentvolumeclaim}}'),
    pvErrors: d.target(
      'max by (persistentvolume, phase) (kube_persistentvolume_status_phase%s) == 1'
      % d.selector([c.kubeStateMetricsSelector, 'phase=~"Failed|Pending"']),
      '',
      instant=true,
      format='table'
    ),
  };

  local p = {
    pdb: d.timeseries(
      'Disruption budgets: required and healthy pods',
      'Healthy pods each PodDisruptionBudget requires against those it has. Good: healthy at or above required; below, drains and upgrades are blocked.',
      'short',
      [q.pdbDesired, q.pdbCurrent],
      alerts=['KubePdbNotEnoughHealthyPods'],
      min=0,
    ),
    cpu: d.timeseries('CPU usage: top 20 pods', 'Cores used per pod. Good: close to what the pods request.', 'short', [q.cpu], min=0),
    cpuTotals: d.timeseries(
      'CPU: usage, requests, limits',
      'Cores used, requested and limited in the namespace. Good: usage near requests (what the scheduler reserves).',
      'short',
      [q.cpuUsage, q.cpuRequests, q.cpuLimits],
      min=0,
    ),
    memory: d.timeseries('Memory: top 20 pods', 'Working-set memory per pod. Good: steady, not creeping up (a leak).', 'bytes', [q.memory], min=0),
    memoryTotals: d.timeseries(
      'Memory: usage, requests, limits',
      'Working set, requests and limits of the namespace. Good: usage near requests, well below limits.',
      'bytes',
      [q.memoryUsage, q.memoryRequests, q.memoryLimits],
      min=0,
    ),
    throttled: d.timeseries(
      'CPU throttling: top 20 containers',
      'Share of CFS periods in which each container hit its CPU limit. Good: below the line; above it latency suffers.',
      'percentunit',
      [q.throttled],
      thresholds=d.above([c.kubeCpuThrottlingThreshold]),
      alerts=['KubeCpuThrottlingHigh'],
      min=0,
      max=1,
    ),
    network: d.timeseries('Network: received and sent by pod', 'Bytes per second each pod receives and sends. Good: what the workload is expected to move.', 'Bps', [q.receive, q.transmit], min=0),
    drops: d.timeseries('Network: dropped packets by pod', 'Packets dropped on the way in or out of each pod. Good: 0.', 'pps', [q.drops], min=0),
    quota: d.timeseries(
      'Quota used',
      'Used share of each hard limit of each ResourceQuota. Good: below the lines; at 100% new pods or objects are refused.',
      'percentunit',
      [q.quota],
      thresholds=d.above([c.kubeQuotaAlmostFullThreshold, c.kubeQuotaFullyUsedThreshold]),
      alerts=['KubeQuotaAlmostFull', 'KubeQuotaFullyUsed'],
      min=0,
    ),
    waiting: d.table(
      'Containers waiting',
      'Containers waiting right now and why (ImagePullBackOff, CreateContainerConfigError, CrashLoopBackOff...). Good: empty.',
      'short',
      [q.waiting],
      alerts=['KubeContainerWaiting'],
    ),
    daemonsets: d.timeseries(
      'DaemonSets: desired, updated, available',
      'Pods each DaemonSet wants, has updated and has available. Good: the three lines meet.',
      'short',
      [q.dsDesired, q.dsUpdated, q.dsAvailable],
      alerts=['KubeDaemonSetRolloutStuck'],
      min=0,
    ),
    dsScheduling: d.timeseries(
      'DaemonSets: not scheduled and mis-scheduled',
      'Nodes missing a DaemonSet pod, and pods on nodes that should not run one. Good: 0.',
      'short',
      [q.dsUnscheduled, q.dsMisscheduled],
      alerts=['KubeDaemonSetNotScheduled', 'KubeDaemonSetMisScheduled'],
      min=0,
    ),
    generations: d.timeseries(
      'Generations not observed',
      'Spec changes the Deployment and StatefulSet controllers have not picked up yet. Good: 0 within seconds of a change.',
      'short',
      [q.depGeneration, q.stsGeneration],
      alerts=['KubeDeploymentGenerationMismatch', 'KubeStatefulSetGenerationMismatch'],
      min=0,
    ),
    depStuck: d.timeseries(
      'Deployments past their progress deadline',
      'Deployments reporting Progressing=False (1). Good: empty.',
      'short',
      [q.depStuck],
      alerts=['KubeDeploymentRolloutStuck'],
      min=0,
    ),
    sts: d.timeseries(
      'StatefulSets: desired and updated replicas',
      'Replicas each StatefulSet wants against those on its newest revision. Good: the lines meet after a rollout.',
      'short',
      [q.stsReplicas, q.stsUpdated],
      alerts=['KubeStatefulSetUpdateNotRolledOut'],
      min=0,
    ),
    jobs: d.timeseries(
      'Active Jobs: hours running',
      'How long each Job with active pods has been running. Good: below the line.',
      'short',
      [q.jobAge],
      thresholds=d.above([c.kubeJobNotCompletedHours]),
      alerts=['KubeJobNotCompleted'],
      min=0,
    ),
    hpa: d.timeseries(
      'Autoscalers: desired and current replicas',
      'Replicas each HorizontalPodAutoscaler wants against those it has. Good: the lines meet within minutes.',
      'short',
      [q.hpaDesired, q.hpaCurrent],
      alerts=['KubeHpaReplicasMismatch'],
      min=0,
    ),
    pvSpace: d.timeseries(
      'Volumes: space free',
      'Free share of the space of each claim. Good: above the line.',
      'percentunit',
      [q.pvSpace],
      thresholds=d.below([c.kubePersistentVolumeSpaceLowThreshold, c.kubePersistentVolumeFillingUpAvailableRatio]),
      alerts=['KubePersistentVolumeSpaceLow', 'KubePersistentVolumeFillingUp'],
      min=0,
      max=1,
    ),
    pvInodes: d.timeseries(
      'Volumes: inodes free',
      'Free share of the inodes of each claim. Good: above the lines; without inodes no file can be created.',
      'percentunit',
      [q.pvInodes],
      thresholds=d.below([c.kubePersistentVolumeInodesCriticalThreshold, c.kubePersistentVolumeInodesLowThreshold]),
      alerts=['KubePersistentVolumeInodesLow', 'KubePersistentVolumeInodesCritical'],
      min=0,
      max=1,
    ),
    pvcPending: d.timeseries(
      'Claims pending',
      'PersistentVolumeClaims not bound to a volume (1). Good: empty, or only for a moment after creation.',
      'short',
      [q.pvcPending],
      alerts=['KubePersistentVolumeClaimPending'],
      min=0,
    ),
    pvErrors: d.table(
      'Volumes failed or pending (cluster-wide)',
      'PersistentVolumes in the Failed or Pending phase (volumes belong to no namespace). Good: empty.',
      'short',
      [q.pvErrors],
      alerts=['KubePersistentVolumeErrors'],
    ),
  };

  d.withNeighbours(
    d.dashboard({
      uid: 'kubernetes-namespace',
      title: 'Infrastructure / Kubernetes namespace',
      tags: ['infrastructure', 'kubernetes'],
      description: 'How is one namespace doing? Compute resources and networking by pod, quotas, rollouts of its '
                   + 'DaemonSets, Deployments, StatefulSets, Jobs and autoscalers, and its persistent volumes.',
      variables: [d.variable('namespace', 'Namespace', 'kube_namespace_status_phase')],
      panels: d.layout([
        d.row('Compute resources'),
        [p.cpuTotals, p.cpu, p.throttled],
        [p.memoryTotals, p.memory, p.quota],
        d.row('Networking'),
        [p.network, p.drops],
        d.row('Rollouts'),
        [p.waiting, p.daemonsets, p.dsScheduling],
        [p.generations, p.depStuck, p.sts],
        [p.jobs, p.hpa],
        d.row('Persistent volumes'),
        [p.pvSpace, p.pvInodes, p.pvcPending, p.pvErrors],
        d.row('Disruption budgets'),
        [p.pdb],
      ]),
    }),
    [
      d.neighbour('kubernetes-workloads', 'Kubernetes workloads', ['namespace']),
      d.neighbour('kubernetes-cluster', 'Kubernetes cluster'),
    ],
  )

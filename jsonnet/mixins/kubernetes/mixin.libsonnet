// Kubernetes: workloads, nodes, capacity and the API server, from kube-state-metrics (v2),
// cAdvisor (container usage), the kubelet (volume stats) and kube-apiserver.
// Recording rules sum container usage per pod, namespace and cluster, and requests against
// allocatable capacity (`namespace:`, `namespace_pod:`, `cluster:`), plus 1h downsampled aggregates.
// kube-state-metrics selectors are wrapped in `max by (cluster, environment, <object>)`: that keeps
// the object's identity, drops the scrape labels of the exporter itself and de-duplicates two
// kube-state-metrics replicas.
local config = import '../../lib/config.libsonnet';

{
  _config+:: config {
    // Matchers ANDed into each exporter's selectors (the scrape jobs of the chart).
    kubeStateMetricsSelector: 'job="kube-state-metrics"',
    cadvisorSelector: 'job="cadvisor"',
    kubeletSelector: 'job="kubelet"',
    kubeApiServerSelector: 'job="apiserver"',
    // Containers only: not the pod-level cgroup (container="") nor the pause container.
    containerSelector: 'container!="", container!="POD", image!=""',
    // Long-running requests (watches, exec, logs, proxies) say nothing about API server latency.
    apiServerLatencySelector: 'verb!~"WATCH|CONNECT", subresource!~"log|exec|portforward|attach|proxy"',

    // Defaults of the declared alert parameters (overridable per environment in Helm values).
    kubePersistentVolumeSpaceLowThreshold: 0.1,  // available ratio
    kubePersistentVolumeFillingUpAvailableRatio: 0.15,  // only predict for volumes less free than this
    kubePersistentVolumeFillingUpHours: 96,
    kubeApiServerLatencyThresholdSeconds: 1,
    kubeApiServerErrorRatioThreshold: 0.03,
  },

  local c = $._config,
  local rules = (import '../../lib/rules.libsonnet')(c),
  local by = rules.by,
  local on = rules.on,
  local ksm = c.kubeStateMetricsSelector,
  local cadvisor = c.cadvisorSelector + ', ' + c.containerSelector,
  local kubelet = c.kubeletSelector,
  local api = c.kubeApiServerSelector,
  // `max by (cluster, environment, <labels>) (<metric>{ksm, <matchers>})`
  local kube(metric, labels, matchers='') =
    'max %s (%s{%s})' % [by(labels), metric, ksm + (if matchers != '' then ', ' + matchers else '')],
  local where = 'in {{ $labels.environment }}/{{ $labels.cluster }}',
  local alert(spec) = rules.alert(spec { labels+: { component: 'kubernetes' } }),
  local downsample(record, fns) = [
    rules.record(record + '_' + fn + '1h', '%s(%s[1h])' % [fn, record])
    for fn in fns
  ],
  // Requests of pods that hold their resources (Pending or Running), per namespace.
  local requests(resource) =
    'sum %s (kube_pod_container_resource_requests{%s, resource="%s"} * %s group_left () %s)'
    % [
      by(['namespace']),
      ksm,
      resource,
      on(['namespace', 'pod']),
      '(' + kube('kube_pod_status_phase', ['namespace', 'pod'], 'phase=~"Pending|Running"') + ' == 1)',
    ],
  local pvc = ['namespace', 'persistentvolumeclaim'],

  prometheusRules+:: {
    groups+: [
      rules.group('kubernetes-recording', [
        rules.record(
          'namespace_pod:container_cpu_usage_seconds:sum_rate5m',
          'sum %s (rate(container_cpu_usage_seconds_total{%s}[5m]))' % [by(['namespace', 'pod']), cadvisor],
        ),
        rules.record(
          'namespace:container_cpu_usage_seconds:sum_rate5m',
          'sum %s (namespace_pod:container_cpu_usage_seconds:sum_rate5m)' % by(['namespace']),
        ),
        rules.record(
          'cluster:container_cpu_usage_seconds:sum_rate5m',
          'sum %s (namespace:container_cpu_usage_seconds:sum_rate5m)' % by(),
        ),
        // Working set: what the kubelet compares with the memory limit and eviction thresholds.
        rules.record(
          'namespace_pod:container_memory_working_set_bytes:sum',
          'sum %s (container_memory_working_set_bytes{%s})' % [by(['namespace', 'pod']), cadvisor],
        ),
        rules.record(
          'namespace:container_memory_working_set_bytes:sum',
          'sum %s (namespace_pod:container_memory_working_set_bytes:sum)' % by(['namespace']),
        ),
        rules.record(
          'cluster:container_memory_working_set_bytes:sum',
          'sum %s (namespace:container_memory_working_set_bytes:sum)' % by(),
        ),
        // Available share of each persistent volume claim (as mounted by the kubelet).
        rules.record(
          'namespace_persistentvolumeclaim:kubelet_volume_stats_available_bytes:ratio',
          'max %s (kubelet_volume_stats_available_bytes{%s}) / max %s (kubelet_volume_stats_capacity_bytes{%s})'
          % [by(pvc), kubelet, by(pvc), kubelet],
        ),
      ]),
      // Requests against what the nodes offer, a group of its own: it joins every container's
      // requests with its pod's phase, and Prometheus evaluates groups side by side but a group's
      // rules one after another.
      rules.group('kubernetes-recording-requests', [
        rules.record(
          'namespace:kube_pod_container_resource_requests_cpu_cores:sum',
          requests('cpu'),
        ),
        rules.record(
          'namespace:kube_pod_container_resource_requests_memory_bytes:sum',
          requests('memory'),
        ),
        rules.record(
          'cluster:kube_pod_container_resource_requests_cpu_cores:sum',
          'sum %s (namespace:kube_pod_container_resource_requests_cpu_cores:sum)' % by(),
        ),
        rules.record(
          'cluster:kube_pod_container_resource_requests_memory_bytes:sum',
          'sum %s (namespace:kube_pod_container_resource_requests_memory_bytes:sum)' % by(),
        ),
        rules.record(
          'cluster:kube_node_status_allocatable_cpu_cores:sum',
          'sum %s (%s)' % [by(), kube('kube_node_status_allocatable', ['node'], 'resource="cpu"')],
        ),
        rules.record(
          'cluster:kube_node_status_allocatable_memory_bytes:sum',
          'sum %s (%s)' % [by(), kube('kube_node_status_allocatable', ['node'], 'resource="memory"')],
        ),
        // Requests against capacity: above 1 new pods stay Pending.
        rules.record(
          'cluster:kube_pod_container_resource_requests_cpu_cores:ratio',
          'cluster:kube_pod_container_resource_requests_cpu_cores:sum'
          + ' / cluster:kube_node_status_allocatable_cpu_cores:sum',
        ),
        rules.record(
          'cluster:kube_pod_container_resource_requests_memory_bytes:ratio',
          'cluster:kube_pod_container_resource_requests_memory_bytes:sum'
          + ' / cluster:kube_node_status_allocatable_memory_bytes:sum',
        ),
      ]),
      rules.group('kubernetes-recording-apiserver', [
        rules.record(
          'verb_le:apiserver_request_duration_seconds_bucket:rate5m',
          'sum %s (rate(apiserver_request_duration_seconds_bucket{%s, %s}[5m]))'
          % [by(['verb', 'le']), api, c.apiServerLatencySelector],
        ),
        rules.record(
          'verb:apiserver_request_duration_seconds:p99_rate5m',
          'histogram_quantile(0.99, verb_le:apiserver_request_duration_seconds_bucket:rate5m)',
        ),
        rules.record(
          'cluster:apiserver_request:rate5m',
          'sum %s (rate(apiserver_request_total{%s}[5m]))' % [by(), api],
        ),
        rules.record(
          'cluster:apiserver_request_errors:rate5m',
          'sum %s (rate(apiserver_request_total{%s, code=~"5.."}[5m]))' % [by(), api],
        ),
        // No 5xx series yet means a ratio of 0, not an absent one.
        rules.record(
          'cluster:apiserver_request_errors:ratio_rate5m',
          '(cluster:apiserver_request_errors:rate5m or cluster:apiserver_request:rate5m * 0)'
          + ' / cluster:apiserver_request:rate5m',
        ),
      ]),
      // Pod -> the workload that owns it (a Deployment through its ReplicaSet, a StatefulSet, a
      // DaemonSet or a Job), value 1, for joins `* on (namespace, pod) group_left (workload)` (the
      // Kubernetes workloads dashboard). Bare pods and ReplicaSets without a Deployment have none.
      rules.group('kubernetes-recording-workloads', [
        rules.record(
          'namespace_workload_pod:kube_pod_owner:relabel',
          'max %s (label_replace(label_replace(%s, "replicaset", "$1", "owner_name", "(.+)")'
          % [by(['namespace', 'workload', 'pod']), 'kube_pod_owner{%s, owner_kind="ReplicaSet"}' % ksm]
          + ' * %s group_left (owner_name) topk %s (1, %s), "workload", "$1", "owner_name", "(.+)"))'
            % [
              on(['namespace', 'replicaset']),
              by(['namespace', 'replicaset']),
              kube('kube_replicaset_owner', ['namespace', 'replicaset', 'owner_name'], 'owner_kind="Deployment"'),
            ],
          labels={ workload_type: 'deployment' },
        ),
      ] + [
        rules.record(
          'namespace_workload_pod:kube_pod_owner:relabel',
          'max %s (label_replace(kube_pod_owner{%s, owner_kind="%s"}, "workload", "$1", "owner_name", "(.+)"))'
          % [by(['namespace', 'workload', 'pod']), ksm, kind],
          labels={ workload_type: std.asciiLower(kind) },
        )
        for kind in ['StatefulSet', 'DaemonSet', 'Job']
      ]),
      // Downsampled: one sample a minute of the last hour's average/peak, for capacity planning.
      rules.group(
        'kubernetes-recording-1h',
        downsample('namespace:container_cpu_usage_seconds:sum_rate5m', ['avg_over_time', 'max_over_time'])
        + downsample('namespace:container_memory_working_set_bytes:sum', ['avg_over_time', 'max_over_time'])
        + downsample('cluster:container_cpu_usage_seconds:sum_rate5m', ['avg_over_time'])
        + downsample('cluster:container_memory_working_set_bytes:sum', ['avg_over_time'])
        + downsample('cluster:kube_pod_container_resource_requests_cpu_cores:ratio', ['avg_over_time'])
        + downsample('cluster:kube_pod_container_resource_requests_memory_bytes:ratio', ['avg_over_time']),
        interval='1m',
      ),
    ],
  },

  prometheusAlerts+:: {
    groups+: [
      rules.group('kubernetes-alerts', [
        alert({
          name: 'KubeNodeNotReady',
          expr: kube('kube_node_status_condition', ['node'], 'condition="Ready", status="true"') + ' == 0',
          'for': '15m',
          severity: 'critical',
          priority: 'P2',
          summary: 'A Kubernetes node is not ready.',
          description: 'Node {{ $labels.node }} ' + where + ' has not been Ready for a while; '
                       + 'its pods are being evicted and the cluster runs with less capacity.',
        }),
        alert({
          name: 'KubePodCrashLooping',
          expr: 'max %s (max_over_time(kube_pod_container_status_waiting_reason{%s, reason="CrashLoopBackOff"}[5m])) >= 1'
                % [by(['namespace', 'pod', 'container']), ksm],
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          summary: 'A container keeps crashing.',
          description: 'Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} '
                       + where + ' is in CrashLoopBackOff: it exits right after starting and Kubernetes '
                       + 'keeps restarting it.',
        }),
        // Pending or Unknown, or Running without being Ready; Job pods are left to KubeJobFailed.
        alert({
          name: 'KubePodNotReady',
          expr: '(' + kube('kube_pod_status_phase', ['namespace', 'pod'], 'phase=~"Pending|Unknown"') + ' == 1'
                + ' or (' + kube('kube_pod_status_ready', ['namespace', 'pod'], 'condition="false"') + ' == 1'
                + ' and %s %s == 1))'
                  % [on(['namespace', 'pod']), kube('kube_pod_status_phase', ['namespace', 'pod'], 'phase="Running"')]
                + ' unless %s %s' % [on(['namespace', 'pod']), kube('kube_pod_owner', ['namespace', 'pod'], 'owner_kind="Job"')],
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          summary: 'A pod has not been ready for a while.',
          description: 'Pod {{ $labels.namespace }}/{{ $labels.pod }} ' + where + ' is pending, unknown '
                       + 'or running without passing its readiness probe; it receives no traffic.',
        }),
        // Fewer available replicas than desired, and the rollout is not progressing.
        alert({
          name: 'KubeDeploymentReplicasMismatch',
          expr: '(' + kube('kube_deployment_spec_replicas', ['namespace', 'deployment'])
                + ' > ' + kube('kube_deployment_status_replicas_available', ['namespace', 'deployment']) + ')'
                + ' and %s (max %s (changes(kube_deployment_status_replicas_updated{%s}[10m])) == 0)'
                  % [on(['namespace', 'deployment']), by(['namespace', 'deployment']), ksm],
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          summary: 'A Deployment does not have the replicas it wants.',
          description: 'Deployment {{ $labels.namespace }}/{{ $labels.deployment }} ' + where
                       + ' has fewer available replicas than the {{ $value }} it wants and its rollout is '
                       + 'not progressing.',
        }),
        alert({
          name: 'KubeStatefulSetReplicasMismatch',
          expr: '(' + kube('kube_statefulset_replicas', ['namespace', 'statefulset'])
                + ' > ' + kube('kube_statefulset_status_replicas_ready', ['namespace', 'statefulset']) + ')'
                + ' and %s (max %s (changes(kube_statefulset_status_replicas_updated{%s}[10m])) == 0)'
                  % [on(['namespace', 'statefulset']), by(['namespace', 'statefulset']), ksm],
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          summary: 'A StatefulSet does not have the ready replicas it wants.',
          description: 'StatefulSet {{ $labels.namespace }}/{{ $labels.statefulset }} ' + where
                       + ' has fewer ready replicas than the {{ $value }} it wants and its rollout is '
                       + 'not progressing.',
        }),
        // At its maximum (and able to scale at all: max above min).
        alert({
          name: 'KubeHpaMaxedOut',
          expr: kube('kube_horizontalpodautoscaler_status_current_replicas', ['namespace', 'horizontalpodautoscaler'])
                + ' >= ' + kube('kube_horizontalpodautoscaler_spec_max_replicas', ['namespace', 'horizontalpodautoscaler'])
                + ' and %s (' % on(['namespace', 'horizontalpodautoscaler'])
                + kube('kube_horizontalpodautoscaler_spec_max_replicas', ['namespace', 'horizontalpodautoscaler'])
                + ' > ' + kube('kube_horizontalpodautoscaler_spec_min_replicas', ['namespace', 'horizontalpodautoscaler'])
                + ')',
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          summary: 'An autoscaler has reached its maximum number of replicas.',
          description: 'HorizontalPodAutoscaler {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} '
                       + where + ' runs at its maximum of {{ $value }} replicas; it cannot absorb more load.',
        }),
        // Restarted in the last 15 minutes, and the last termination was an OOM kill.
        alert({
          name: 'KubeContainerOomKilled',
          expr: 'max %s (increase(kube_pod_container_status_restarts_total{%s}[15m])) > 0'
                % [by(['namespace', 'pod', 'container']), ksm]
                + ' and %s %s == 1' % [
                  on(['namespace', 'pod', 'container']),
                  kube('kube_pod_container_status_last_terminated_reason', ['namespace', 'pod', 'container'], 'reason="OOMKilled"'),
                ],
          'for': '1m',
          severity: 'warning',
          priority: 'P3',
          summary: 'A container was killed for using more memory than its limit.',
          description: 'Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} '
                       + where + ' was OOM-killed and restarted within the last 15 minutes.',
        }),
        alert({
          name: 'KubeJobFailed',
          expr: kube('kube_job_failed', ['namespace', 'job_name'], 'condition="true"') + ' == 1',
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          summary: 'A Kubernetes Job failed.',
          description: 'Job {{ $labels.namespace }}/{{ $labels.job_name }} ' + where + ' failed: it ran out '
                       + 'of retries or its deadline. Its work (a backup, a migration, a batch) was not done.',
        }),
        alert({
          name: 'KubeStateMetricsDown',
          expr: 'max %s (up{%s}) == 0' % [by(['instance']), ksm],
          'for': '5m',
          severity: 'critical',
          priority: 'P2',
          summary: 'Prometheus cannot scrape kube-state-metrics.',
          description: 'kube-state-metrics ({{ $labels.instance }}) ' + where + ' has not been scraped '
                       + 'successfully for a while; node, pod, workload and capacity alerts are blind.',
        }),
      ]),
      rules.group('kubernetes-alerts-capacity', [
        alert({
          name: 'KubePersistentVolumeSpaceLow',
          expr: 'namespace_persistentvolumeclaim:kubelet_volume_stats_available_bytes:ratio < %s'
                % rules.param('threshold'),
          'for': '5m',
          severity: 'critical',
          priority: 'P2',
          labels: { symptom: 'kube-persistent-volume-space' },
          summary: 'A persistent volume is almost full.',
          description: 'The volume of PersistentVolumeClaim {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} '
                       + where + ' has only {{ $value | humanizePercentage }} of its space left '
                       + '(threshold {{ %s | humanizePercentage }}).' % rules.param('threshold'),
          params: { threshold: c.kubePersistentVolumeSpaceLowThreshold },
        }),
        alert({
          name: 'KubePersistentVolumeFillingUp',
          expr: 'namespace_persistentvolumeclaim:kubelet_volume_stats_available_bytes:ratio < %s'
                % rules.param('availableRatio')
                + ' and predict_linear(namespace_persistentvolumeclaim:kubelet_volume_stats_available_bytes:ratio[6h], %s * 3600) < 0'
                  % rules.param('hours'),
          'for': '1h',
          severity: 'warning',
          priority: 'P3',
          labels: { symptom: 'kube-persistent-volume-space' },
          summary: 'A persistent volume is predicted to fill up soon.',
          description: 'The volume of PersistentVolumeClaim {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} '
                       + where + ' has {{ $value | humanizePercentage }} of its space left and, at the rate '
                       + 'of the last 6 hours, will be full within %s hours.' % rules.param('hours'),
          params: {
            availableRatio: c.kubePersistentVolumeFillingUpAvailableRatio,
            hours: c.kubePersistentVolumeFillingUpHours,
          },
        }),
        // Requests exceed what is left when the largest node fails (N-1), in a cluster of 2+ nodes.
        alert({
          name: 'KubeCpuOvercommitted',
          expr: 'cluster:kube_pod_container_resource_requests_cpu_cores:sum'
                + ' > (cluster:kube_node_status_allocatable_cpu_cores:sum - max %s (%s))'
                  % [by(), kube('kube_node_status_allocatable', ['node'], 'resource="cpu"')]
                + ' and %s (count %s (%s) > 1)'
                  % [on([]), by(), kube('kube_node_status_allocatable', ['node'], 'resource="cpu"')],
          'for': '10m',
          severity: 'warning',
          priority: 'P3',
          summary: 'The cluster cannot tolerate a node failure for CPU requests.',
          description: 'Pods ' + where + ' request {{ $value | humanize }} CPU cores, more than the cluster '
                       + 'can schedule if its largest node fails.',
        }),
        alert({
          name: 'KubeMemoryOvercommitted',
          expr: 'cluster:kube_pod_container_resource_requests_memory_bytes:sum'
                + ' > (cluster:kube_node_status_allocatable_memory_bytes:sum - max %s (%s))'
                  % [by(), kube('kube_node_status_allocatable', ['node'], 'resource="memory"')]
                + ' and %s (count %s (%s) > 1)'
                  % [on([]), by(), kube('kube_node_status_allocatable', ['node'], 'resource="memory"')],
          'for': '10m',
          severity: 'warning',
          priority: 'P3',
          summary: 'The cluster cannot tolerate a node failure for memory requests.',
          description: 'Pods ' + where + ' request {{ $value | humanize1024 }}B of memory, more than the '
                       + 'cluster can schedule if its largest node fails.',
        }),
      ]),
      rules.group('kubernetes-alerts-apiserver', [
        // Every API server endpoint fails its scrape: the control plane is unreachable from here.
        // Alertmanager's cluster-outage inhibition mutes the cluster's warnings while this fires.
        alert({
          name: 'KubeApiServerDown',
          expr: 'max %s (up{%s}) == 0' % [by(), api],
          'for': '5m',
          severity: 'critical',
          priority: 'P1',
          summary: 'No Kubernetes API server endpoint can be scraped.',
          description: 'Every API server endpoint ' + where + ' has failed its scrapes for 5 minutes: '
                       + 'the control plane is down or unreachable, and scheduling, scaling and '
                       + 'Kubernetes discovery have stopped (up = {{ $value }}).',
        }),
        alert({
          name: 'KubeApiServerLatencyHigh',
          expr: 'verb:apiserver_request_duration_seconds:p99_rate5m > %s' % rules.param('thresholdSeconds'),
          'for': '10m',
          severity: 'warning',
          priority: 'P3',
          summary: 'The Kubernetes API server is slow.',
          description: 'p99 latency of {{ $labels.verb }} requests to the API server ' + where
                       + ' is {{ $value | humanizeDuration }} over the last 5 minutes '
                       + '(threshold {{ %s | humanizeDuration }}).' % rules.param('thresholdSeconds'),
          params: { thresholdSeconds: c.kubeApiServerLatencyThresholdSeconds },
        }),
        alert({
          name: 'KubeApiServerErrorsHigh',
          expr: 'cluster:apiserver_request_errors:ratio_rate5m > %s' % rules.param('threshold'),
          'for': '10m',
          severity: 'critical',
          priority: 'P2',
          summary: 'The Kubernetes API server answers too many requests with a server error.',
          description: '{{ $value | humanizePercentage }} of requests to the API server ' + where
                       + ' failed with a 5xx status over the last 5 minutes '
                       + '(threshold {{ %s | humanizePercentage }}).' % rules.param('threshold'),
          params: { threshold: c.kubeApiServerErrorRatioThreshold },
        }),
      ]),
    ],
  },

  // Raw exporter series the rules and dashboards read (checked by rules/metrics-known).
  exporterMetrics:: {
    'kube-state-metrics': [
      'kube_deployment_spec_replicas',
      'kube_deployment_status_replicas_available',
      'kube_deployment_status_replicas_updated',
      'kube_horizontalpodautoscaler_spec_max_replicas',
      'kube_horizontalpodautoscaler_spec_min_replicas',
      'kube_horizontalpodautoscaler_status_current_replicas',
      'kube_job_failed',
      'kube_node_status_allocatable',
      'kube_node_status_condition',
      'kube_pod_container_resource_limits',
      'kube_pod_container_resource_requests',
      'kube_pod_container_status_last_terminated_reason',
      'kube_pod_container_status_restarts_total',
      'kube_pod_container_status_waiting_reason',
      'kube_pod_owner',
      'kube_pod_status_phase',
      'kube_pod_status_ready',
      'kube_replicaset_owner',
      'kube_statefulset_replicas',
      'kube_statefulset_status_replicas_ready',
      'kube_statefulset_status_replicas_updated',
    ],
    cadvisor: [
      'container_cpu_cfs_periods_total',
      'container_cpu_cfs_throttled_periods_total',
      'container_cpu_usage_seconds_total',
      'container_memory_working_set_bytes',
    ],
    kubelet: [
      'kubelet_volume_stats_available_bytes',
      'kubelet_volume_stats_capacity_bytes',
    ],
    'kube-apiserver': [
      'apiserver_request_duration_seconds_bucket',
      'apiserver_request_total',
    ],
    prometheus: ['up'],
  },

  // Infrastructure / Kubernetes cluster and workloads; thresholds from _config above.
  dashboardFolder:: 'Infrastructure',
  grafanaDashboards+:: {
    'kubernetes-cluster.json': (import 'kubernetes-cluster.libsonnet')(c),
    'kubernetes-workloads.json': (import 'kubernetes-workloads.libsonnet')(c),
  },
}
+ (import 'kubelet.libsonnet')
+ (import 'workloads-apps.libsonnet')
+ (import 'storage.libsonnet')
+ (import 'apiserver.libsonnet')
+ (import 'coredns.libsonnet')
+ (import 'disruptions.libsonnet')
+ (import 'dashboards-coverage.libsonnet')
+ (import 'dashboard-rules.libsonnet')

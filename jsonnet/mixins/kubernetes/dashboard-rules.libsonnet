// Recording rules that the Kubernetes dashboards read instead of aggregating and joining raw
// kube-state-metrics and cAdvisor series on every load. With every namespace and workload selected
// (the default), the workloads dashboard joined each pod's series with its owner at every step of the
// range, and the cluster and namespace dashboards read a series per pod and phase or per container:
// millions of raw samples per panel. These records do the join once per evaluation; the panels filter and sum
// the result, so they show what they showed before. Joined to the kubernetes mixin with `+`.
//
// Pods are tied to their workload by namespace_workload_pod:kube_pod_owner:relabel (mixin.libsonnet);
// pods without a controller (bare pods) have no workload and are not in the `namespace_workload*`
// records, as they were not on the dashboard. Rates use 5m windows like the other container records.
//
// The pod dashboard reads each container's CPU rate and its share of the request from records.
//
// The kubelet and API server dashboards read a record each where a panel re-read every node's
// 15 minutes of readiness or every verb, resource and code of the API server's request counter.
{
  local c = $._config,
  local rules = (import '../../lib/rules.libsonnet')(c),
  local by = rules.by,
  local ksm = c.kubeStateMetricsSelector,
  local cadvisor = c.cadvisorSelector + ', ' + c.containerSelector,
  local on(extra) = 'on (' + std.join(', ', c.aggregationLabels + extra) + ')',
  local kube(metric, labels, matchers='') =
    'max %s (%s{%s})' % [by(labels), metric, ksm + (if matchers != '' then ', ' + matchers else '')],
  local workload = ['namespace', 'workload_type', 'workload'],
  local perContainer = ['namespace', 'pod', 'container'],
  // Series per (namespace, pod[, ...]) labelled with the workload that owns the pod.
  local ofWorkloads(expr) =
    '(%s) * %s group_left (workload, workload_type) namespace_workload_pod:kube_pod_owner:relabel'
    % [expr, on(['namespace', 'pod'])],
  // Pending or Unknown, or Running without being Ready (as KubePodNotReady, Job pods included).
  local notReady =
    '%s == 1 or (%s == 1 and %s %s == 1)' % [
      kube('kube_pod_status_phase', ['namespace', 'pod'], 'phase=~"Pending|Unknown"'),
      kube('kube_pod_status_ready', ['namespace', 'pod'], 'condition="false"'),
      on(['namespace', 'pod']),
      kube('kube_pod_status_phase', ['namespace', 'pod'], 'phase="Running"'),
    ],
  local cfs(metric) = 'sum %s (rate(%s{%s}[5m]))' % [by(['namespace', 'pod']), metric, cadvisor],
  local api = c.kubeApiServerSelector,

  prometheusRules+:: {
    groups+: [
      // Infrastructure / Kubernetes cluster and Kubernetes namespace: every pod of a namespace.
      rules.group('kubernetes-recording-namespace-dashboard', [
        rules.record('namespace:kube_pod_not_ready:count', 'count %s (%s)' % [by(['namespace']), notReady]),
        rules.record(
          'namespace_phase:kube_pod_status_phase:sum',
          'sum %s (%s)' % [by(['namespace', 'phase']), kube('kube_pod_status_phase', ['namespace', 'pod', 'phase'])],
        ),
      ]),
      // The same pods' requests and limits, a group of their own so that both halves run side by side.
      rules.group('kubernetes-recording-namespace-dashboard-resources', [
        // Requests and limits of every pod, whatever its phase (the namespace:..._cpu_cores:sum
        // records count only Pending and Running pods, what the scheduler reserves).
        rules.record(
          'namespace_resource:%s:sum' % metric,
          'sum %s (%s)' % [by(['namespace', 'resource']), kube(metric, perContainer + ['resource'], 'resource=~"cpu|memory"')],
        )
        for metric in ['kube_pod_container_resource_requests', 'kube_pod_container_resource_limits']
      ]),
      // Infrastructure / Kubernetes workloads, one record per panel query (or pair), in four groups
      // by what they read: pod status, container status, cAdvisor usage, requests and limits. Each
      // joins every pod of the cluster with its owner; Prometheus evaluates groups side by side
      // but a group's rules one after another.
      rules.group('kubernetes-recording-workloads-dashboard', [
        rules.record(
          'namespace_workload:kube_pod_status_ready:sum',
          'sum %s (%s)' % [by(workload), ofWorkloads(kube('kube_pod_status_ready', ['namespace', 'pod'], 'condition="true"'))],
        ),
        rules.record(
          'namespace_workload:kube_pod_not_ready:count',
          'count %s (%s)' % [by(workload), ofWorkloads(notReady)],
        ),
      ]),
      rules.group('kubernetes-recording-workloads-dashboard-containers', [
        rules.record(
          'namespace_workload_reason:kube_pod_container_status_waiting_reason:sum',
          'sum %s (%s)' % [
            by(workload + ['reason']),
            ofWorkloads(kube('kube_pod_container_status_waiting_reason', perContainer + ['reason']) + ' == 1'),
          ],
        ),
        rules.record(
          'namespace_workload_reason:kube_pod_container_status_last_terminated_reason:sum',
          'sum %s (%s)' % [
            by(workload + ['reason']),
            ofWorkloads(kube('kube_pod_container_status_last_terminated_reason', perContainer + ['reason']) + ' == 1'),
          ],
        ),
        // A counter per pod (its containers' restarts; a pod keeps its containers), so the panel
        // still takes increase() over Grafana's interval; `_total` says it is one.
        rules.record(
          'namespace_workload_pod:kube_pod_container_status_restarts:sum_total',
          'sum %s (%s)' % [
            by(workload + ['pod']),
            ofWorkloads(kube('kube_pod_container_status_restarts_total', perContainer)),
          ],
        ),
      ]),
      rules.group('kubernetes-recording-workloads-dashboard-usage', [
        rules.record(
          'namespace_workload_pod:container_cpu_usage_seconds:sum_rate5m',
          ofWorkloads('namespace_pod:container_cpu_usage_seconds:sum_rate5m'),
        ),
        rules.record(
          'namespace_workload:container_cpu_usage_seconds:sum_rate5m',
          'sum %s (namespace_workload_pod:container_cpu_usage_seconds:sum_rate5m)' % by(workload),
        ),
        rules.record(
          'namespace_workload:container_memory_working_set_bytes:sum',
          'sum %s (%s)' % [by(workload), ofWorkloads('namespace_pod:container_memory_working_set_bytes:sum')],
        ),
      ] + [
        rules.record(
          'namespace_workload:%s:sum_rate5m' % std.strReplace(metric, '_total', ''),
          'sum %s (%s)' % [by(workload), ofWorkloads(cfs(metric))],
        )
        for metric in ['container_cpu_cfs_throttled_periods_total', 'container_cpu_cfs_periods_total']
      ] + [
        // Working set of each container against its memory limit (containers with a limit only).
        rules.record(
          'namespace_workload_pod_container:container_memory_working_set_bytes:limit_ratio',
          ofWorkloads(
            'max %s (container_memory_working_set_bytes{%s}) / %s'
            % [by(perContainer), cadvisor, kube('kube_pod_container_resource_limits', perContainer, 'resource="memory"')]
          ),
        ),
      ]),
      rules.group('kubernetes-recording-workloads-dashboard-resources', [
        // Requests and limits of every pod of the workload, whatever its phase.
        rules.record(
          'namespace_workload_resource:%s:sum' % metric,
          'sum %s (%s)' % [
            by(workload + ['resource']),
            ofWorkloads(kube(metric, perContainer + ['resource'], 'resource=~"cpu|memory"')),
          ],
        )
        for metric in ['kube_pod_container_resource_requests', 'kube_pod_container_resource_limits']
      ]),
      // Infrastructure / Kubernetes pod: CPU per container. The panels show a line per container,
      // so these records have as many series as their input; what they save is the raw range of
      // every container's counter re-read at every step of the panel (one sample a step instead).
      rules.group('kubernetes-recording-pod-dashboard', [
        rules.record(
          'namespace_pod_container:container_cpu_usage_seconds:sum_rate5m',
          'sum %s (rate(container_cpu_usage_seconds_total{%s}[5m]))' % [by(perContainer), cadvisor],
        ),
        // Usage against the CPU request (containers with one only). Recorded whole: dividing the
        // record above by the raw requests on every load would read the requests at every step too.
        rules.record(
          'namespace_pod_container:container_cpu_usage_seconds:request_ratio_rate5m',
          'namespace_pod_container:container_cpu_usage_seconds:sum_rate5m / %s'
          % kube('kube_pod_container_resource_requests', perContainer, 'resource="cpu"'),
        ),
      ]),
      // Infrastructure / Kubernetes kubelet: readiness flapping per node.
      rules.group('kubernetes-recording-kubelet-dashboard', [
        // How often the node's Ready condition changed in the last 15 minutes, the measure of
        // KubeNodeReadinessFlapping: one series a node instead of its last 15 minutes re-read at
        // every step of the panel. Summed over kube-state-metrics replicas, as the alert sums.
        rules.record(
          'node:kube_node_status_condition_ready:changes15m',
          'sum %s (changes(kube_node_status_condition{%s, condition="Ready", status="true"}[15m]))' % [by(['node']), ksm],
        ),
      ]),
      // Infrastructure / Kubernetes API server and DNS. The total request rate the terminated
      // share divides by is cluster:apiserver_request:rate5m (mixin.libsonnet).
      rules.group('kubernetes-recording-apiserver-dashboard', [
        // Requests per second by HTTP code: the verb, resource, scope and instance labels summed
        // away (a code a series instead of hundreds).
        rules.record(
          'code:apiserver_request:rate5m',
          'sum %s (rate(apiserver_request_total{%s}[5m]))' % [by(['code']), api],
        ),
        // Requests the API server terminated (shed by priority and fairness, timed out).
        rules.record(
          'cluster:apiserver_request_terminations:rate5m',
          'sum %s (rate(apiserver_request_terminations_total{%s}[5m]))' % [by(), api],
        ),
      ]),
    ],
  },
}

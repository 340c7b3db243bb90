// Kubernetes, workloads beyond crash loops and replica counts: containers stuck waiting, DaemonSet,
// Deployment and StatefulSet rollouts that stall, Jobs that run too long, CPU throttling, autoscalers
// that cannot reach their target, namespace quotas near or over their limits. Joined to the
// kubernetes mixin with `+`. kube-state-metrics series go through `max by (...)` as in mixin.libsonnet.

{
  _config+:: {
    kubeJobNotCompletedHours: 12,
    kubeCpuThrottlingThreshold: 0.25,  // throttled share of CFS periods
    kubeQuotaAlmostFullThreshold: 0.9,  // used / hard
    kubeQuotaFullyUsedThreshold: 1,
  },

  local c = $._config,
  local rules = (import '../../lib/rules.libsonnet')(c),
  local by = rules.by,
  local ksm = c.kubeStateMetricsSelector,
  local kube(metric, labels, matchers='') =
    'max %s (%s{%s})' % [by(labels), metric, ksm + (if matchers != '' then ', ' + matchers else '')],
  local on = rules.on,
  local unchanged(metric, labels) =
    '%s (max %s (changes(%s{%s}[10m])) == 0)' % [on(labels), by(labels), metric, ksm],
  local where = 'in {{ $labels.environment }}/{{ $labels.cluster }}',
  local alert(spec) = rules.alert(spec { labels+: { component: 'kubernetes' } }),
  local ds = ['namespace', 'daemonset'],
  local dep = ['namespace', 'deployment'],
  local sts = ['namespace', 'statefulset'],
  local hpa = ['namespace', 'horizontalpodautoscaler'],
  local quota = ['namespace', 'resourcequota', 'resource'],
  local quotaRatio = 'namespace_resourcequota:kube_resourcequota_used:ratio',

  prometheusRules+:: {
    groups+: [
      rules.group('kubernetes-recording-quotas', [
        // Used share of each hard limit of each ResourceQuota (limits of 0 left out).
        rules.record(
          quotaRatio,
          '%s / (%s > 0)' % [kube('kube_resourcequota', quota, 'type="used"'), kube('kube_resourcequota', quota, 'type="hard"')],
        ),
        rules.record(
          'namespace_pod_container:container_cpu_cfs_throttled_periods:ratio_rate5m',
          'sum %s (rate(container_cpu_cfs_throttled_periods_total{%s, %s}[5m]))'
          % [by(['namespace', 'pod', 'container']), c.cadvisorSelector, c.containerSelector]
          + ' / sum %s (rate(container_cpu_cfs_periods_total{%s, %s}[5m]))'
            % [by(['namespace', 'pod', 'container']), c.cadvisorSelector, c.containerSelector],
        ),
      ]),
    ],
  },

  prometheusAlerts+:: {
    groups+: [
      rules.group('kubernetes-alerts-rollouts', [
        // Waiting for another reason than a crash loop (KubePodCrashLooping) or a normal start.
        alert({
          name: 'KubeContainerWaiting',
          expr: kube('kube_pod_container_status_waiting_reason',
                     ['namespace', 'pod', 'container', 'reason'],
                     'reason!~"CrashLoopBackOff|ContainerCreating|PodInitializing"') + ' == 1',
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          summary: 'A container cannot start.',
          description: 'Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} ' + where
                       + ' has been waiting with reason {{ $labels.reason }} for 15 minutes.',
        }),
        alert({
          name: 'KubeDaemonSetRolloutStuck',
          expr: '(' + kube('kube_daemonset_status_desired_number_scheduled', ds)
                + ' != ' + kube('kube_daemonset_status_updated_number_scheduled', ds)
                + ' or ' + kube('kube_daemonset_status_desired_number_scheduled', ds)
                + ' != ' + kube('kube_daemonset_status_number_available', ds) + ')'
                + ' and ' + unchanged('kube_daemonset_status_updated_number_scheduled', ds),
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          summary: 'A DaemonSet rollout is not progressing.',
          description: 'DaemonSet {{ $labels.namespace }}/{{ $labels.daemonset }} ' + where + ' wants '
                       + '{{ $value }} pods but not all of them are updated and available, and nothing changed in 10 minutes.',
        }),
        alert({
          name: 'KubeDaemonSetNotScheduled',
          expr: kube('kube_daemonset_status_desired_number_scheduled', ds)
                + ' - ' + kube('kube_daemonset_status_current_number_scheduled', ds) + ' > 0',
          'for': '10m',
          severity: 'warning',
          priority: 'P3',
          summary: 'DaemonSet pods are not scheduled.',
          description: '{{ $value }} pods of DaemonSet {{ $labels.namespace }}/{{ $labels.daemonset }} ' + where
                       + ' are not scheduled on the nodes that should run them.',
        }),
        alert({
          name: 'KubeDaemonSetMisScheduled',
          expr: kube('kube_daemonset_status_number_misscheduled', ds) + ' > 0',
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          summary: 'DaemonSet pods run where they should not.',
          description: '{{ $value }} pods of DaemonSet {{ $labels.namespace }}/{{ $labels.daemonset }} ' + where
                       + ' run on nodes their selector or tolerations exclude.',
        }),
        alert({
          name: 'KubeDeploymentGenerationMismatch',
          expr: kube('kube_deployment_status_observed_generation', dep) + ' != ' + kube('kube_deployment_metadata_generation', dep),
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          summary: 'A Deployment change has not been picked up.',
          description: 'The controller of Deployment {{ $labels.namespace }}/{{ $labels.deployment }} ' + where
                       + ' has not observed its latest generation for 15 minutes; the change is not rolling out.',
        }),
        alert({
          name: 'KubeDeploymentRolloutStuck',
          expr: kube('kube_deployment_status_condition', dep, 'condition="Progressing", status="false"') + ' == 1',
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          summary: 'A Deployment rollout exceeded its progress deadline.',
          description: 'Deployment {{ $labels.namespace }}/{{ $labels.deployment }} ' + where + ' reports '
                       + 'Progressing=false: its new ReplicaSet did not become available within progressDeadlineSeconds.',
        }),
        alert({
          name: 'KubeStatefulSetGenerationMismatch',
          expr: kube('kube_statefulset_status_observed_generation', sts) + ' != ' + kube('kube_statefulset_metadata_generation', sts),
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          summary: 'A StatefulSet change has not been picked up.',
          description: 'The controller of StatefulSet {{ $labels.namespace }}/{{ $labels.statefulset }} ' + where
                       + ' has not observed its latest generation for 15 minutes.',
        }),
        // The current revision differs from the update revision, not every replica is updated and
        // nothing moved in 10 minutes.
        alert({
          name: 'KubeStatefulSetUpdateNotRolledOut',
          expr: '(max %s (%s unless %s %s))' % [
                  by(sts),
                  'kube_statefulset_status_current_revision{%s}' % ksm,
                  on(sts + ['revision']),
                  'kube_statefulset_status_update_revision{%s}' % ksm,
                ]
                + ' and %s (%s != %s)' % [on(sts), kube('kube_statefulset_replicas', sts), kube('kube_statefulset_status_replicas_updated', sts)]
                + ' and ' + unchanged('kube_statefulset_status_replicas_updated', sts),
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          summary: 'A StatefulSet update is not rolling out.',
          description: 'StatefulSet {{ $labels.namespace }}/{{ $labels.statefulset }} ' + where + ' has replicas '
                       + 'on an old revision and its update has not progressed for 10 minutes.',
        }),
        alert({
          name: 'KubeJobNotCompleted',
          expr: '(time() - ' + kube('kube_job_status_start_time', ['namespace', 'job_name']) + ') > %s * 3600'
                                                                                               % rules.param('hours')
                + ' and %s (%s > 0)' % [on(['namespace', 'job_name']), kube('kube_job_status_active', ['namespace', 'job_name'])],
          'for': '5m',
          severity: 'warning',
          priority: 'P3',
          summary: 'A Kubernetes Job has been running for too long.',
          description: 'Job {{ $labels.namespace }}/{{ $labels.job_name }} ' + where + ' started '
                       + '{{ $value | humanizeDuration }} ago and still has active pods (threshold %s hours).' % rules.param('hours'),
          params: { hours: c.kubeJobNotCompletedHours },
        }),
      ]),
      rules.group('kubernetes-alerts-resources', [
        alert({
          name: 'KubeCpuThrottlingHigh',
          expr: 'namespace_pod_container:container_cpu_cfs_throttled_periods:ratio_rate5m > %s' % rules.param('threshold'),
          'for': '15m',
          severity: 'warning',
          priority: 'P4',
          summary: 'A container is often throttled by its CPU limit.',
          description: 'Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} ' + where
                       + ' was throttled in {{ $value | humanizePercentage }} of its CPU periods over the last 5 minutes '
                       + '(threshold {{ %s | humanizePercentage }}): its latency suffers.' % rules.param('threshold'),
          params: { threshold: c.kubeCpuThrottlingThreshold },
        }),
        // Wants a replica count it does not have, within its bounds, and nothing changes.
        alert({
          name: 'KubeHpaReplicasMismatch',
          expr: '(' + kube('kube_horizontalpodautoscaler_status_desired_replicas', hpa)
                + ' != ' + kube('kube_horizontalpodautoscaler_status_current_replicas', hpa) + ')'
                + ' and %s (%s > %s)' % [on(hpa), kube('kube_horizontalpodautoscaler_status_current_replicas', hpa), kube('kube_horizontalpodautoscaler_spec_min_replicas', hpa)]
                + ' and %s (%s < %s)' % [on(hpa), kube('kube_horizontalpodautoscaler_status_current_replicas', hpa), kube('kube_horizontalpodautoscaler_spec_max_replicas', hpa)]
                + ' and %s (max %s (changes(kube_horizontalpodautoscaler_status_current_replicas{%s}[15m])) == 0)' % [on(hpa), by(hpa), ksm],
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          summary: 'An autoscaler cannot reach the replicas it wants.',
          description: 'HorizontalPodAutoscaler {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} ' + where
                       + ' wants {{ $value }} replicas and has not reached them for a while (quota, capacity or pending pods).',
        }),
        alert({
          name: 'KubeQuotaAlmostFull',
          expr: quotaRatio + ' >= %s' % rules.param('threshold'),
          'for': '15m',
          severity: 'warning',
          priority: 'P4',
          labels: { symptom: 'kube-resource-quota' },
          summary: 'A namespace quota is almost used up.',
          description: 'Namespace {{ $labels.namespace }} ' + where + ' uses {{ $value | humanizePercentage }} of the '
                       + '{{ $labels.resource }} of quota {{ $labels.resourcequota }} (threshold {{ %s | humanizePercentage }}).'
                         % rules.param('threshold'),
          params: { threshold: c.kubeQuotaAlmostFullThreshold },
        }),
        alert({
          name: 'KubeQuotaFullyUsed',
          expr: quotaRatio + ' >= %s' % rules.param('threshold'),
          'for': '15m',
          severity: 'critical',
          priority: 'P3',
          labels: { symptom: 'kube-resource-quota' },
          summary: 'A namespace quota is used up.',
          description: 'Namespace {{ $labels.namespace }} ' + where + ' uses {{ $value | humanizePercentage }} of the '
                       + '{{ $labels.resource }} of quota {{ $labels.resourcequota }} (threshold {{ %s | humanizePercentage }}): '
                         % rules.param('threshold')
                       + 'new pods or objects are refused.',
          params: { threshold: c.kubeQuotaFullyUsedThreshold },
        }),
      ]),
    ],
  },

  exporterMetrics+:: {
    'kube-state-metrics'+: [
      'kube_daemonset_status_current_number_scheduled',
      'kube_daemonset_status_desired_number_scheduled',
      'kube_daemonset_status_number_available',
      'kube_daemonset_status_number_misscheduled',
      'kube_daemonset_status_updated_number_scheduled',
      'kube_deployment_metadata_generation',
      'kube_deployment_status_condition',
      'kube_deployment_status_observed_generation',
      'kube_horizontalpodautoscaler_status_desired_replicas',
      'kube_job_status_active',
      'kube_job_status_start_time',
      'kube_resourcequota',
      'kube_statefulset_metadata_generation',
      'kube_statefulset_status_current_revision',
      'kube_statefulset_status_observed_generation',
      'kube_statefulset_status_update_revision',
    ],
  },
}

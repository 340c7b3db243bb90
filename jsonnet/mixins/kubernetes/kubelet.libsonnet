// Kubernetes, the kubelets and the nodes as Kubernetes sees them: kubelet down, PLEG and pod start
// latency, node conditions, unreachable and flapping nodes, pods per node near the limit, kubelet
// certificates expiring or failing to renew. Joined to the kubernetes mixin with `+`.
// The kubelet job labels its targets with `node` (the prometheus subchart's relabelling), so
// kubelet series join kube-state-metrics' node series on (cluster, environment, node).

{
  _config+:: {
    kubeletTooManyPodsThreshold: 0.95,  // running pods / pod capacity
    kubeletPlegDurationThresholdSeconds: 10,  // p99 of a PLEG relist
    kubeletPodStartThresholdSeconds: 60,  // p99 of a pod worker sync
    kubeNodeReadinessFlappingChanges: 2,  // Ready changes within 15 minutes
    kubeletCertificateExpiringDays: 7,
    kubeletCertificateExpiringCriticalDays: 1,
  },

  local c = $._config,
  local rules = (import '../../lib/rules.libsonnet')(c),
  local by = rules.by,
  local ksm = c.kubeStateMetricsSelector,
  local kubelet = c.kubeletSelector,
  local kube(metric, labels, matchers='') =
    'max %s (%s{%s})' % [by(labels), metric, ksm + (if matchers != '' then ', ' + matchers else '')],
  local where = 'in {{ $labels.environment }}/{{ $labels.cluster }}',
  local node = 'node {{ $labels.node }} ' + where,
  local alert(spec) = rules.alert(spec { labels+: { component: 'kubernetes' } }),
  local p99(metric) =
    'histogram_quantile(0.99, sum %s (rate(%s{%s}[5m])))' % [by(['node', 'le']), metric, kubelet],
  // A warning/critical pair on the remaining lifetime of a kubelet certificate.
  local certificate(name, metric, what) = [
    alert({
      name: name + level.suffix,
      expr: 'min %s (%s{%s}) < %s * 86400' % [by(['node']), metric, kubelet, rules.param('days')],
      'for': level['for'],
      severity: level.severity,
      priority: level.priority,
      labels: { symptom: 'kubelet-%s-certificate-expiry' % std.asciiLower(what) },
      summary: level.summary % what,
      description: 'The %s certificate of the kubelet on ' % std.asciiLower(what) + node
                   + ' expires in {{ $value | humanizeDuration }} (threshold %s days).' % rules.param('days'),
      params: { days: level.days },
    })
    for level in [
      { suffix: 'ExpiringSoon', 'for': '15m', severity: 'warning', priority: 'P3', days: c.kubeletCertificateExpiringDays, summary: 'A kubelet %s certificate expires soon.' },
      { suffix: 'ExpiringCritical', 'for': '5m', severity: 'critical', priority: 'P2', days: c.kubeletCertificateExpiringCriticalDays, summary: 'A kubelet %s certificate is about to expire.' },
    ]
  ],

  prometheusRules+:: {
    groups+: [
      rules.group('kubernetes-recording-kubelet', [
        rules.record('node:kubelet_running_pods:ratio', 'max %s (kubelet_running_pods{%s}) / %s'
                                                        % [by(['node']), kubelet, kube('kube_node_status_capacity', ['node'], 'resource="pods"')]),
        rules.record('node:kubelet_pleg_relist_duration_seconds:p99_rate5m', p99('kubelet_pleg_relist_duration_seconds_bucket')),
        rules.record('node:kubelet_pod_worker_duration_seconds:p99_rate5m', p99('kubelet_pod_worker_duration_seconds_bucket')),
      ]),
    ],
  },

  prometheusAlerts+:: {
    groups+: [
      rules.group('kubernetes-alerts-kubelet', [
        alert({
          name: 'KubeletDown',
          expr: 'max %s (up{%s}) == 0' % [by(['node']), kubelet],
          'for': '15m',
          severity: 'critical',
          priority: 'P2',
          summary: 'Prometheus cannot scrape a kubelet.',
          description: 'The kubelet of ' + node + ' has failed its scrapes for 15 minutes: the node may be '
                       + 'down, or its kubelet stopped; its pods and container metrics are blind.',
        }),
        alert({
          name: 'KubeletPlegDurationHigh',
          expr: 'node:kubelet_pleg_relist_duration_seconds:p99_rate5m >= %s' % rules.param('thresholdSeconds'),
          'for': '5m',
          severity: 'warning',
          priority: 'P3',
          summary: 'A kubelet takes long to relist its containers.',
          description: 'The 99th percentile of PLEG relist durations of the kubelet on ' + node + ' is '
                       + '{{ $value | humanizeDuration }} (threshold %s s): the container runtime is slow or '
                         % rules.param('thresholdSeconds')
                       + 'overloaded, and the node turns NotReady past 3 minutes.',
          params: { thresholdSeconds: c.kubeletPlegDurationThresholdSeconds },
        }),
        alert({
          name: 'KubeletPodStartUpLatencyHigh',
          expr: 'node:kubelet_pod_worker_duration_seconds:p99_rate5m > %s' % rules.param('thresholdSeconds'),
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          summary: 'Pods take long to start on a node.',
          description: 'The 99th percentile of pod sync durations of the kubelet on ' + node + ' is '
                       + '{{ $value | humanizeDuration }} (threshold %s s).' % rules.param('thresholdSeconds'),
          params: { thresholdSeconds: c.kubeletPodStartThresholdSeconds },
        }),
        alert({
          name: 'KubeletTooManyPods',
          expr: 'node:kubelet_running_pods:ratio > %s' % rules.param('threshold'),
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          summary: 'A node runs close to its maximum number of pods.',
          description: 'The kubelet on ' + node + ' runs {{ $value | humanizePercentage }} of the pods it '
                       + 'may run (threshold {{ %s | humanizePercentage }}); new pods will not fit there.'
                         % rules.param('threshold'),
          params: { threshold: c.kubeletTooManyPodsThreshold },
        }),
        alert({
          name: 'KubeNodeUnreachable',
          expr: kube('kube_node_spec_taint', ['node'], 'key="node.kubernetes.io/unreachable", effect="NoSchedule"') + ' == 1',
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          summary: 'A Kubernetes node is unreachable.',
          description: 'Node {{ $labels.node }} ' + where + ' carries the unreachable taint: the control '
                       + 'plane has lost contact with its kubelet and will evict its pods.',
        }),
        alert({
          name: 'KubeNodePressure',
          expr: kube('kube_node_status_condition', ['node', 'condition'], 'condition=~"MemoryPressure|DiskPressure|PIDPressure", status="true"') + ' == 1',
          'for': '10m',
          severity: 'warning',
          priority: 'P3',
          summary: 'A Kubernetes node reports memory, disk or PID pressure.',
          description: 'Node {{ $labels.node }} ' + where + ' reports {{ $labels.condition }}: the kubelet '
                       + 'evicts pods and admits no new BestEffort pods until it clears.',
        }),
        alert({
          name: 'KubeNodeReadinessFlapping',
          expr: 'sum %s (changes(kube_node_status_condition{%s, condition="Ready", status="true"}[15m])) > %s'
                % [by(['node']), ksm, rules.param('changes')],
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          summary: 'A Kubernetes node keeps switching between ready and not ready.',
          description: 'Node {{ $labels.node }} ' + where + ' changed its Ready condition {{ $value }} times '
                       + 'in 15 minutes (threshold %s); its pods are disturbed at each change.' % rules.param('changes'),
          params: { changes: c.kubeNodeReadinessFlappingChanges },
        }),
      ]),
      rules.group(
        'kubernetes-alerts-kubelet-certificates',
        certificate('KubeletClientCertificate', 'kubelet_certificate_manager_client_ttl_seconds', 'Client')
        + certificate('KubeletServerCertificate', 'kubelet_certificate_manager_server_ttl_seconds', 'Server')
        + [
          alert({
            name: 'KubeletCertificateRenewalErrors',
            // Either counter may be missing (the server one only with serving-certificate rotation).
            expr: '(sum %s (increase(kubelet_certificate_manager_client_expiration_renew_errors{%s}[5m])) > 0)'
                  % [by(['node']), kubelet]
                  + ' or (sum %s (increase(kubelet_server_expiration_renew_errors{%s}[5m])) > 0)' % [by(['node']), kubelet],
            'for': '15m',
            severity: 'warning',
            priority: 'P3',
            summary: 'A kubelet fails to renew its certificates.',
            description: 'The kubelet on ' + node + ' failed {{ $value | humanize }} certificate renewals in '
                         + 'the last 5 minutes; it stops talking to the API server when they expire.',
          }),
        ],
      ),
    ],
  },

  // Alerts no panel names link the cluster overview.
  defaultDashboard:: 'kubernetes-cluster',
  grafanaDashboards+:: {
    'kubernetes-kubelet.json': (import 'kubernetes-kubelet.libsonnet')($._config),
    'kubernetes-namespace.json': (import 'kubernetes-namespace.libsonnet')($._config),
    'kubernetes-apiserver.json': (import 'kubernetes-apiserver.libsonnet')($._config),
  },

  exporterMetrics+:: {
    'kube-state-metrics'+: ['kube_namespace_status_phase', 'kube_node_info', 'kube_node_spec_taint', 'kube_node_status_capacity'],
    cadvisor+: [
      'container_network_receive_bytes_total',
      'container_network_receive_packets_dropped_total',
      'container_network_transmit_bytes_total',
      'container_network_transmit_packets_dropped_total',
    ],
    kubelet+: [
      'kubelet_certificate_manager_client_expiration_renew_errors',
      'kubelet_certificate_manager_client_ttl_seconds',
      'kubelet_certificate_manager_server_ttl_seconds',
      'kubelet_pleg_relist_duration_seconds_bucket',
      'kubelet_pod_worker_duration_seconds_bucket',
      'kubelet_running_pods',
      'kubelet_server_expiration_renew_errors',
    ],
  },
}

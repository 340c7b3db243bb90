// Infrastructure / Kubernetes kubelet: the kubelets and nodes picked with `node`: scrape health,
// PLEG and pod start latency, pods against capacity, node conditions and readiness changes,
// certificate lifetimes and renewals, volume operations. Panels name the alerts of kubelet.libsonnet
// and storage.libsonnet; thresholds are their parameters' defaults.

function(c)
  local d = (import '../../lib/dashboards.libsonnet')(c);
  local n = d.selector(['node=~"$node"']);
  local kubelet(extra=[]) = d.selector([c.kubeletSelector, 'node=~"$node"'] + extra);
  local ksm(extra=[]) = d.selector([c.kubeStateMetricsSelector, 'node=~"$node"'] + extra);

  local q = {
    evictions: d.target(
      'sum by (node, eviction_signal) (increase(kubelet_evictions%s[$__rate_interval]))' % kubelet(), '{{node}} {{eviction_signal}}'
    ),
    up: d.target('sum (up%s)' % kubelet(), 'up'),
    down: d.target('max by (node) (up%s) == 0' % kubelet(), '', instant=true, format='table'),
    pleg: d.target('node:kubelet_pleg_relist_duration_seconds:p99_rate5m%s' % n, '{{node}}'),
    podStart: d.target('node:kubelet_pod_worker_duration_seconds:p99_rate5m%s' % n, '{{node}}'),
    pods: d.target('node:kubelet_running_pods:ratio%s' % n, '{{node}}'),
    runningPods: d.target('max by (node) (kubelet_running_pods%s)' % kubelet(), '{{node}}'),
    pressure: d.target(
      'max by (node, condition) (kube_node_status_condition%s) == 1'
      % ksm(['condition=~"MemoryPressure|DiskPressure|PIDPressure"', 'status="true"']),
      '{{node}} {{condition}}'
    ),
    unreachable: d.target(
      'max by (node) (kube_node_spec_taint%s)' % ksm(['key="node.kubernetes.io/unreachable"', 'effect="NoSchedule"']), '{{node}}'
    ),
    // Recorded over the same fixed 15 minutes (dashboard-rules.libsonnet).
    readyChanges: d.target('sum by (node) (node:kube_node_status_condition_ready:changes15m%s)' % n, '{{node}}'),
    clientTtl: d.target('min by (node) (kubelet_certificate_manager_client_ttl_seconds%s) / 86400' % kubelet(), '{{node}} client'),
    serverTtl: d.target('min by (node) (kubelet_certificate_manager_server_ttl_seconds%s) / 86400' % kubelet(), '{{node}} server'),
    renewErrors: d.target(
      'sum by (node) (increase(kubelet_certificate_manager_client_expiration_renew_errors%s[$__rate_interval]))' % kubelet(), '{{node}} client'
    ),
    serverRenewErrors: d.target(
      'sum by (node) (increase(kubelet_server_expiration_renew_errors%s[$__rate_interval]))' % kubelet(), '{{node}} server'
    ),
    volumeFailures: d.target(
      'sum by (node, operation_name) (increase(storage_operation_duration_seconds_count%s[$__rate_interval]))'
      % kubelet(['status!="success"']),
      '{{node}} {{operation_name}}'
    ),
  };

  local p = {
    evictions: d.timeseries(
      'Pods evicted',
      'Pods each kubelet evicted, by the eviction signal (memory, disk, PIDs running short). Good: 0.',
      'short',
      [q.evictions],
      thresholds=d.countBad,
      alerts=['KubeNodeEviction'],
      min=0,
    ),
    up: d.upStat('Kubelets up', 'Kubelets of the selected nodes answering scrapes. Good: one per node.', [q.up], alerts=['KubeletDown']),
    down: d.table('Kubelets down', 'Nodes whose kubelet fails its scrapes right now. Good: empty.', 'short', [q.down], alerts=['KubeletDown']),
    pleg: d.timeseries(
      'PLEG relist duration (p99)',
      'How long the kubelet takes to relist containers from the runtime. Good: well under a second; at the line the runtime is struggling, and past 3 minutes the node turns NotReady.',
      's',
      [q.pleg],
      thresholds=d.above([c.kubeletPlegDurationThresholdSeconds]),
      alerts=['KubeletPlegDurationHigh'],
      min=0,
    ),
    podStart: d.timeseries(
      'Pod sync duration (p99)',
      'How long the kubelet takes to sync a pod (sandbox, images, volumes). Good: seconds; at the line pods start slowly.',
      's',
      [q.podStart],
      thresholds=d.above([c.kubeletPodStartThresholdSeconds]),
      alerts=['KubeletPodStartUpLatencyHigh'],
      min=0,
    ),
    pods: d.timeseries(
      'Running pods against capacity',
      "Pods the kubelet runs as a share of the node's pod capacity (maxPods). Good: below the line.",
      'percentunit',
      [q.pods],
      thresholds=d.above([c.kubeletTooManyPodsThreshold]),
      alerts=['KubeletTooManyPods'],
      min=0,
      max=1,
    ),
    runningPods: d.timeseries('Running pods', 'Pods each kubelet runs. Good: spread evenly over the nodes.', 'short', [q.runningPods], min=0),
    pressure: d.timeseries(
      'Node pressure conditions',
      'Memory, disk or PID pressure the kubelets report (1 while it lasts). Good: empty; pressure means evictions.',
      'short',
      [q.pressure],
      alerts=['KubeNodePressure'],
      min=0,
    ),
    unreachable: d.timeseries(
      'Unreachable taint',
      'Nodes the control plane tainted unreachable (1). Good: 0; their pods are evicted after the toleration.',
      'short',
      [q.unreachable],
      alerts=['KubeNodeUnreachable'],
      min=0,
      max=1,
    ),
    readyChanges: d.timeseries(
      'Ready changes (15m)',
      'How often each node switched between Ready and NotReady in the last 15 minutes. Good: 0; above the line it is flapping.',
      'short',
      [q.readyChanges],
      thresholds=d.above([c.kubeNodeReadinessFlappingChanges]),
      alerts=['KubeNodeReadinessFlapping'],
      min=0,
    ),
    ttl: d.timeseries(
      'Kubelet certificate lifetime left (days)',
      'Days until the client and serving certificates of each kubelet expire. Good: far above the lines; rotation renews them well before.',
      'short',
      [q.clientTtl, q.serverTtl],
      thresholds=d.below([c.kubeletCertificateExpiringCriticalDays, c.kubeletCertificateExpiringDays]),
      alerts=['KubeletClientCertificateExpiringSoon', 'KubeletClientCertificateExpiringCritical', 'KubeletServerCertificateExpiringSoon', 'KubeletServerCertificateExpiringCritical'],
      min=0,
    ),
    renewErrors: d.timeseries(
      'Certificate renewal errors',
      'Failed certificate renewals per interval. Good: 0.',
      'short',
      [q.renewErrors, q.serverRenewErrors],
      alerts=['KubeletCertificateRenewalErrors'],
      min=0,
    ),
    volumeFailures: d.timeseries(
      'Failed volume operations',
      'Volume attach, mount, unmount and expand operations that failed, per interval. Good: 0; failures keep pods from starting.',
      'short',
      [q.volumeFailures],
      alerts=['KubeletVolumeOperationsFailing'],
      min=0,
    ),
  };

  d.withNeighbours(
    d.dashboard({
      uid: 'kubernetes-kubelet',
      title: 'Infrastructure / Kubernetes kubelet',
      tags: ['infrastructure', 'kubernetes'],
      description: 'Are the kubelets healthy? Scrapes, PLEG and pod start latency, pods against capacity, node conditions '
                   + 'and readiness changes, certificates and volume operations of the nodes picked with `node`.',
      variables: [d.variable('node', 'Node', 'kube_node_info')],
      panels: d.layout([
        d.row('Kubelets'),
        [[p.up, 4], [p.down, 8], p.pleg, p.podStart],
        [p.pods, p.runningPods, p.volumeFailures],
        d.row('Nodes'),
        [p.pressure, p.unreachable, p.readyChanges],
        d.row('Certificates'),
        [p.ttl, p.renewErrors],
        d.row('Evictions'),
        [p.evictions],
      ]),
    }),
    [d.neighbour('kubernetes-cluster', 'Kubernetes cluster'), d.neighbour('node-health', 'Node health')],
  )

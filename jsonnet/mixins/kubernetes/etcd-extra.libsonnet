// Kubernetes control plane, etcd beyond membership and disk syncs: client requests failing (the API
// server's reads and writes to its store) and slow backend commits (the bbolt database's own disk
// writes, which stall apply and compaction). Joined to the control-plane area with `+` and, like
// the rest of it, shipped only with the chart's control-plane switch. Its alerts open the area's
// default dashboard: a panel on a series recorded only where the switch is on would read nothing
// everywhere else.
{
  _config+:: {
    etcdGrpcFailedRatioThreshold: 0.05,  // failed share of unary gRPC requests
    etcdBackendCommitThresholdSeconds: 0.25,  // p99 of backend commits
  },

  local c = $._config,
  local rules = (import '../../lib/rules.libsonnet')(c),
  local by = rules.by,
  local etcd = c.etcdSelector,
  local where = 'in {{ $labels.environment }}/{{ $labels.cluster }}',
  local alert(spec) = rules.alert(spec { labels+: { component: 'kubernetes-control-plane' } }),
  // Codes that mean the server failed the request, not that the client asked for something absent
  // (NotFound, AlreadyExists) or gave up (Canceled).
  local failedCodes = 'Unknown|FailedPrecondition|ResourceExhausted|Internal|Unavailable|DataLoss|DeadlineExceeded',
  local grpc(matchers) =
    'sum %s (rate(grpc_server_handled_total{%s, grpc_type="unary"%s}[5m]))' % [by(['instance']), etcd, matchers],

  prometheusRules+:: {
    groups+: [
      rules.group('kubernetes-control-plane-recording-etcd', [
        rules.record(
          'instance:etcd_disk_backend_commit_duration_seconds:p99_rate5m',
          'histogram_quantile(0.99, sum %s (rate(etcd_disk_backend_commit_duration_seconds_bucket{%s}[5m])))'
          % [by(['instance', 'le']), etcd],
        ),
        // No failed series yet means a ratio of 0, not an absent one.
        rules.record(
          'instance:etcd_grpc_server_handled_failed:ratio_rate5m',
          '(%s or %s * 0) / %s' % [grpc(', grpc_code=~"%s"' % failedCodes), grpc(''), grpc('')],
        ),
      ]),
    ],
  },

  prometheusAlerts+:: {
    groups+: [
      rules.group('kubernetes-control-plane-alerts-etcd', [
        alert({
          name: 'EtcdGrpcRequestsFailing',
          expr: 'instance:etcd_grpc_server_handled_failed:ratio_rate5m > %s' % rules.param('threshold'),
          'for': '10m',
          severity: 'warning',
          priority: 'P2',
          summary: 'etcd fails many client requests.',
          description: 'etcd member {{ $labels.instance }} ' + where + ' failed {{ $value | humanizePercentage }} '
                       + 'of its gRPC requests over the last 5 minutes (threshold {{ %s | humanizePercentage }}): '
                         % rules.param('threshold')
                       + 'API server reads and writes fail or retry.',
          params: { threshold: c.etcdGrpcFailedRatioThreshold },
        }),
        alert({
          name: 'EtcdBackendCommitSlow',
          expr: 'instance:etcd_disk_backend_commit_duration_seconds:p99_rate5m > %s' % rules.param('thresholdSeconds'),
          'for': '10m',
          severity: 'warning',
          priority: 'P3',
          summary: 'etcd commits to its database slowly.',
          description: 'The 99th percentile of backend commits of etcd member {{ $labels.instance }} ' + where + ' is '
                       + '{{ $value | humanizeDuration }} (threshold %s s): the disk is too slow for etcd.'
                         % rules.param('thresholdSeconds'),
          params: { thresholdSeconds: c.etcdBackendCommitThresholdSeconds },
        }),
      ]),
    ],
  },

  exporterMetrics+:: {
    etcd+: [
      'etcd_disk_backend_commit_duration_seconds_bucket',
      'grpc_server_handled_total',
    ],
  },
}

// MinIO (asset storage, Loki chunks), from MinIO's own v2 cluster metrics
// (/minio/v2/metrics/cluster; every server answers for the whole deployment, label `server`):
//   minio_cluster_nodes_online_total / minio_cluster_nodes_offline_total   gauges, servers seen online/offline
//   minio_cluster_drive_online_total / minio_cluster_drive_offline_total   gauges, drives seen online/offline
//   minio_cluster_capacity_usable_total_bytes / _free_bytes                gauges, usable (after erasure coding)
//   minio_s3_requests_total / minio_s3_requests_errors_total{server, api}  counters, S3 requests (errors: 4xx and 5xx)
//   minio_s3_traffic_received_bytes / minio_s3_traffic_sent_bytes{server}  counters, S3 bytes in and out
// and `up` of the scrape job. One scrape job is one MinIO deployment: recording rules keep
// cluster, environment and `job`, and take `max` over the servers that report the same numbers.
local config = import '../../lib/config.libsonnet';
local rules = import '../../lib/rules.libsonnet';

{
  _config+:: config {
    // Matchers ANDed into every selector on MinIO's series (its scrape job).
    minioSelector: 'job="minio"',
    minioLabels: { service: 'minio' },
    // Defaults of the declared alert parameters (overridable per environment in Helm values).
    minioDrivesOfflineThreshold: 0,
    minioCapacityWarningRatio: 0.8,
    minioCapacityCriticalRatio: 0.9,
  },

  local c = $._config,
  local selector(extra=[]) =
    local m = std.filter(function(x) x != '', [c.minioSelector] + extra);
    if m == [] then '' else '{' + std.join(', ', m) + '}',
  local by = rules.by(['job']),
  local where = 'MinIO deployment {{ $labels.job }} in {{ $labels.environment }}/{{ $labels.cluster }}',

  prometheusRules+:: {
    groups+: [
      rules.group('minio-recording', [
        rules.record('job:%s:max' % m, 'max %s (%s%s)' % [by, m, selector()])
        for m in [
          'minio_cluster_nodes_online_total',
          'minio_cluster_nodes_offline_total',
          'minio_cluster_drive_online_total',
          'minio_cluster_drive_offline_total',
          'minio_cluster_capacity_usable_total_bytes',
          'minio_cluster_capacity_usable_free_bytes',
        ]
      ] + [
        rules.record(
          'job:minio_cluster_capacity_usable_bytes:used_ratio',
          '1 - job:minio_cluster_capacity_usable_free_bytes:max / job:minio_cluster_capacity_usable_total_bytes:max',
        ),
      ]),
      // S3 traffic (the MinIO dashboard). Every server reports every server's counters (label
      // `server`): `max by (server, ...)` counts each once, then the sum is the deployment's.
      rules.group('minio-recording-s3', [
        rules.record(
          'job_api:%s:rate5m' % m,
          'sum %s (max %s (rate(%s_total%s[5m])))' % [rules.by(['job', 'api']), rules.by(['job', 'server', 'api']), m, selector()],
        )
        for m in ['minio_s3_requests', 'minio_s3_requests_errors']
      ] + [
        rules.record(
          'job:%s:rate5m' % m,
          'sum %s (max %s (rate(%s%s[5m])))' % [by, rules.by(['job', 'server']), m, selector()],
        )
        for m in ['minio_s3_traffic_received_bytes', 'minio_s3_traffic_sent_bytes']
      ]),
    ],
  },

  prometheusAlerts+:: {
    groups+: [
      rules.group('minio-alerts', [
        rules.alert(c, {
          name: 'MinioDown',
          expr: 'sum %s (up%s) == 0' % [by, selector()],
          'for': '2m',
          severity: 'critical',
          priority: 'P1',
          labels: c.minioLabels,
          summary: 'No MinIO server answers.',
          description: 'None of the servers of %s can be scraped; ' % where
                       + 'object storage (assets, uploads, Loki chunks) is likely unavailable.',
        }),
        rules.alert(c, {
          name: 'MinioNodeOffline',
          expr: 'job:minio_cluster_nodes_offline_total:max > 0',
          'for': '5m',
          severity: 'critical',
          priority: 'P2',
          labels: c.minioLabels,
          summary: 'A MinIO server is offline.',
          description: '{{ $value }} server(s) of %s are offline; ' % where
                       + 'their drives are missing from every erasure set they belong to, so one more failure can make objects unreadable.',
        }),
        rules.alert(c, {
          name: 'MinioDrivesOffline',
          expr: 'job:minio_cluster_drive_offline_total:max > %s' % rules.param('threshold'),
          'for': '5m',
          severity: 'warning',
          priority: 'P2',
          labels: c.minioLabels,
          summary: 'MinIO drives are offline.',
          description: '{{ $value }} drive(s) of %s are offline (threshold %s); ' % [where, rules.param('threshold')]
                       + 'erasure coding still serves the data, with less redundancy.',
          params: { threshold: c.minioDrivesOfflineThreshold },
        }),
        rules.alert(c, {
          name: 'MinioCapacityHigh',
          expr: 'job:minio_cluster_capacity_usable_bytes:used_ratio > %s' % rules.param('threshold'),
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          labels: c.minioLabels { symptom: 'minio-capacity' },
          summary: 'MinIO is filling up.',
          description: '%s uses {{ $value | humanizePercentage }} of its usable capacity ' % where
                       + '(threshold {{ %s | humanizePercentage }}).' % rules.param('threshold'),
          params: { threshold: c.minioCapacityWarningRatio },
        }),
        rules.alert(c, {
          name: 'MinioCapacityCritical',
          expr: 'job:minio_cluster_capacity_usable_bytes:used_ratio > %s' % rules.param('threshold'),
          'for': '15m',
          severity: 'critical',
          priority: 'P2',
          labels: c.minioLabels { symptom: 'minio-capacity' },
          summary: 'MinIO is almost full.',
          description: '%s uses {{ $value | humanizePercentage }} of its usable capacity ' % where
                       + '(threshold {{ %s | humanizePercentage }}); uploads fail once it is full.' % rules.param('threshold'),
          params: { threshold: c.minioCapacityCriticalRatio },
        }),
      ]),
    ],
  },

  // Infrastructure / MinIO; thresholds from _config above.
  dashboardFolder:: 'Infrastructure',
  grafanaDashboards+:: {
    'minio.json': (import 'minio.libsonnet')(c),
  },

  exporterMetrics:: {
    minio: [
      'minio_cluster_nodes_online_total',
      'minio_cluster_nodes_offline_total',
      'minio_cluster_drive_online_total',
      'minio_cluster_drive_offline_total',
      'minio_cluster_capacity_usable_total_bytes',
      'minio_cluster_capacity_usable_free_bytes',
      'minio_s3_requests_errors_total',
      'minio_s3_requests_total',
      'minio_s3_traffic_received_bytes',
      'minio_s3_traffic_sent_bytes',
    ],
    prometheus: ['up'],
  },
}

// MinIO (asset storage, Loki chunks), from MinIO's own metrics version 3 (MinIO RELEASE.2024-07-15
// and later; version 2 is deprecated). Two scrape jobs:
//   /minio/metrics/v3/cluster/health on the deployment's Service (job minioSelector; any server
//   answers for the whole cluster, so one target is one deployment), gauges without labels:
//     minio_cluster_health_nodes_online_count / _nodes_offline_count     servers seen online/offline
//     minio_cluster_health_drives_online_count / _drives_offline_count   drives seen online/offline
//     minio_cluster_health_capacity_usable_total_bytes / _free_bytes     usable capacity (after erasure coding)
//   /minio/metrics/v3/api/requests on every server (job minioApiSelector; each server counts only
//   the requests it served, label `server`, the API call in `name`):
//     minio_api_requests_total / minio_api_requests_errors_total (4xx and 5xx)             counters
//     minio_api_requests_traffic_received_bytes / _traffic_sent_bytes                      counters
// and `up` of both jobs. Health rules keep cluster, environment and `job` (the deployment); the API
// rules sum the servers of the cluster.
local config = import '../../lib/config.libsonnet';
local selectors = import '../../lib/selectors.libsonnet';

{
  _config+:: config {
    // Matchers ANDed into every selector on MinIO's series (its scrape job).
    minioSelector: 'job="minio"',
    // ... and on the per-server API series.
    minioApiSelector: 'job="minio-api"',
    minioLabels: { service: 'minio' },
    // Defaults of the declared alert parameters (overridable per environment in Helm values).
    minioDrivesOfflineThreshold: 0,
    minioCapacityWarningRatio: 0.8,
    minioCapacityCriticalRatio: 0.9,
  },

  local c = $._config,
  local rules = (import '../../lib/rules.libsonnet')(c),
  local selector(extra=[]) = selectors.of([c.minioSelector] + extra),
  local apiSelector(extra=[]) = selectors.of([c.minioApiSelector] + extra),
  local by = rules.by(['job']),
  local where = 'MinIO deployment {{ $labels.job }} in {{ $labels.environment }}/{{ $labels.cluster }}',

  prometheusRules+:: {
    groups+: [
      rules.group('minio-recording', [
        rules.record('job:%s:max' % m, 'max %s (%s%s)' % [by, m, selector()])
        for m in [
          'minio_cluster_health_nodes_online_count',
          'minio_cluster_health_nodes_offline_count',
          'minio_cluster_health_drives_online_count',
          'minio_cluster_health_drives_offline_count',
          'minio_cluster_health_capacity_usable_total_bytes',
          'minio_cluster_health_capacity_usable_free_bytes',
        ]
      ] + [
        rules.record(
          'job:minio_cluster_health_capacity_usable_bytes:used_ratio',
          '1 - job:minio_cluster_health_capacity_usable_free_bytes:max / job:minio_cluster_health_capacity_usable_total_bytes:max',
        ),
      ]),
      // S3 traffic (the MinIO dashboard): each server counts the requests it served, so the
      // cluster's are the sum over the servers; `name` is the API call (GetObject, PutObject...).
      rules.group('minio-recording-s3', [
        rules.record(
          'api:%s:rate5m' % m,
          'sum %s (rate(%s_total%s[5m]))' % [rules.by(['name']), m, apiSelector()],
        )
        for m in ['minio_api_requests', 'minio_api_requests_errors']
      ] + [
        rules.record(
          'cluster:%s:rate5m' % m,
          'sum %s (rate(%s%s[5m]))' % [rules.by([]), m, apiSelector()],
        )
        for m in ['minio_api_requests_traffic_received_bytes', 'minio_api_requests_traffic_sent_bytes']
      ]),
    ],
  },

  prometheusAlerts+:: {
    groups+: [
      rules.group('minio-alerts', [
        rules.alert({
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
        rules.alert({
          name: 'MinioNodeOffline',
          expr: 'job:minio_cluster_health_nodes_offline_count:max > 0',
          'for': '5m',
          severity: 'critical',
          priority: 'P2',
          labels: c.minioLabels,
          summary: 'A MinIO server is offline.',
          description: '{{ $value }} server(s) of %s are offline; ' % where
                       + 'their drives are missing from every erasure set they belong to, so one more failure can make objects unreadable.',
        }),
        rules.alert({
          name: 'MinioDrivesOffline',
          expr: 'job:minio_cluster_health_drives_offline_count:max > %s' % rules.param('threshold'),
          'for': '5m',
          severity: 'warning',
          priority: 'P2',
          labels: c.minioLabels,
          summary: 'MinIO drives are offline.',
          description: '{{ $value }} drive(s) of %s are offline (threshold %s); ' % [where, rules.param('threshold')]
                       + 'erasure coding still serves the data, with less redundancy.',
          params: { threshold: c.minioDrivesOfflineThreshold },
        }),
        rules.alert({
          name: 'MinioCapacityHigh',
          expr: 'job:minio_cluster_health_capacity_usable_bytes:used_ratio > %s' % rules.param('threshold'),
          'for': '15m',
          severity: 'warning',
          priority: 'P3',
          labels: c.minioLabels { symptom: 'minio-capacity' },
          summary: 'MinIO is filling up.',
          description: '%s uses {{ $value | humanizePercentage }} of its usable capacity ' % where
                       + '(threshold {{ %s | humanizePercentage }}).' % rules.param('threshold'),
          params: { threshold: c.minioCapacityWarningRatio },
        }),
        rules.alert({
          name: 'MinioCapacityCritical',
          expr: 'job:minio_cluster_health_capacity_usable_bytes:used_ratio > %s' % rules.param('threshold'),
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
      'minio_cluster_health_nodes_online_count',
      'minio_cluster_health_nodes_offline_count',
      'minio_cluster_health_drives_online_count',
      'minio_cluster_health_drives_offline_count',
      'minio_cluster_health_capacity_usable_total_bytes',
      'minio_cluster_health_capacity_usable_free_bytes',
      // Read by the MinIO dashboard only (job minio-api).
      'minio_api_requests_total',
      'minio_api_requests_errors_total',
      'minio_api_requests_traffic_received_bytes',
      'minio_api_requests_traffic_sent_bytes',
    ],
    prometheus: ['up'],
  },
}

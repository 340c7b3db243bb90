// Infrastructure / MinIO: servers and drives online and usable capacity of the deployments picked
// with `job` (MinIO's v3 cluster health), and S3 requests, errors and traffic of the cluster (v3
// API metrics, summed over every server). Reads the
// minio mixin's recording rules; thresholds are its `_config` (`c`), the defaults of its alerts'
// parameters.

function(c)
  local d = (import '../../lib/dashboards.libsonnet')(c);
  local deployment = d.selector(['job=~"$job"']);

  local all = d.selector([]);
  local q = {
    up: d.target('sum by (job) (up%s)' % d.selector([c.minioSelector, 'job=~"$job"']), '{{job}}'),
    nodesOnline: d.target('sum (job:minio_cluster_health_nodes_online_count:max%s)' % deployment, 'online'),
    nodesOffline: d.target('sum (job:minio_cluster_health_nodes_offline_count:max%s)' % deployment, 'offline'),
    drivesOnline: d.target('sum (job:minio_cluster_health_drives_online_count:max%s)' % deployment, 'online'),
    drivesOffline: d.target('sum (job:minio_cluster_health_drives_offline_count:max%s)' % deployment, 'offline'),
    usedMax: d.target('max (job:minio_cluster_health_capacity_usable_bytes:used_ratio%s)' % deployment, 'fullest'),
    used: d.target('job:minio_cluster_health_capacity_usable_bytes:used_ratio%s' % deployment, '{{job}}'),
    total: d.target('job:minio_cluster_health_capacity_usable_total_bytes:max%s' % deployment, '{{job}} usable'),
    free: d.target('job:minio_cluster_health_capacity_usable_free_bytes:max%s' % deployment, '{{job}} free'),
    drivesOfflineByJob: d.target('job:minio_cluster_health_drives_offline_count:max%s' % deployment, '{{job}}'),
    requests: d.target('sum by (name) (api:minio_api_requests:rate5m%s)' % all, '{{name}}'),
    errorRatio: d.target(
      'sum (api:minio_api_requests_errors:rate5m%s) / sum (api:minio_api_requests:rate5m%s)' % [all, all],
      '4xx and 5xx'
    ),
    received: d.target('sum (cluster:minio_api_requests_traffic_received_bytes:rate5m%s)' % all, 'received'),
    sent: d.target('sum (cluster:minio_api_requests_traffic_sent_bytes:rate5m%s)' % all, 'sent'),
  };

  local capacityThresholds = d.above([c.minioCapacityWarningRatio, c.minioCapacityCriticalRatio]);

  local p = {
    nodesOnline: d.stat('Servers online', 'MinIO servers seen online. Good: every server of the deployment.', 'short', [q.nodesOnline], graph=false),
    nodesOffline: d.stat(
      'Servers offline', 'MinIO servers seen offline. Good: 0; MinioNodeOffline fires for any.', 'short', [q.nodesOffline], thresholds=d.countBad, alerts=['MinioNodeOffline']
    ),
    drivesOnline: d.stat('Drives online', 'Drives seen online. Good: every drive of every server.', 'short', [q.drivesOnline], graph=false),
    drivesOffline: d.stat(
      'Drives offline',
      'Drives seen offline. Good: 0; erasure coding still serves the data but with less redundancy.',
      'short',
      [q.drivesOffline],
      thresholds=d.countBad,
    ),
    usedMax: d.stat(
      'Capacity used',
      'Usable capacity in use in the fullest deployment. Good: green, below the MinioCapacityHigh threshold.',
      'percentunit',
      [q.usedMax],
      thresholds=capacityThresholds,
      alerts=['MinioCapacityHigh', 'MinioCapacityCritical'],
    ),
    up: d.timeseries(
      'Servers answering scrapes', 'MinIO servers Prometheus can scrape, per deployment. Good: every server; 0 fires MinioDown.', 'short', [q.up], alerts=['MinioDown'], min=0
    ),
    used: d.timeseries(
      'Capacity used',
      'Share of usable capacity in use per deployment. Good: below the first dashed line (MinioCapacityHigh); uploads fail when full.',
      'percentunit',
      [q.used],
      thresholds=capacityThresholds,
      alerts=['MinioCapacityHigh', 'MinioCapacityCritical'],
      min=0,
      max=1,
    ),
    capacity: d.timeseries(
      'Usable and free capacity', 'Usable capacity (after erasure coding) and what is free. Good: free shrinking slowly enough to add drives in time.', 'bytes', [q.total, q.free], min=0
    ),
    drivesOfflineByJob: d.timeseries(
      'Drives offline by deployment',
      'Offline drives per deployment. Good: 0, at or below the dashed MinioDrivesOffline line.',
      'short',
      [q.drivesOfflineByJob],
      thresholds=d.above([c.minioDrivesOfflineThreshold]),
      alerts=['MinioDrivesOffline'],
      min=0,
    ),
    requests: d.timeseries('S3 requests by API', 'S3 requests per second per API call (GetObject, PutObject...), every server of the cluster. Good: the usual shape.', 'reqps', [q.requests], min=0, stack=true),
    errorRatio: d.timeseries(
      'S3 error ratio',
      'Share of S3 requests answered with a 4xx or 5xx. Good: low and flat; 4xx include clients asking for missing objects.',
      'percentunit',
      [q.errorRatio],
      min=0,
    ),
    traffic: d.timeseries('S3 traffic', 'Bytes per second received (uploads) and sent (downloads). Good: the usual shape.', 'Bps', [q.received, q.sent], min=0),
  };

  d.withNeighbours(
    d.dashboard({
      uid: 'minio',
      title: 'Infrastructure / MinIO',
      tags: ['infrastructure', 'minio', 'storage'],
      description: 'Is object storage (assets, uploads, Loki chunks) available and does it have room? Servers, '
                   + 'drives, capacity and S3 traffic of the MinIO deployments picked with `job`. Dashed lines are the '
                   + 'alert thresholds (Jsonnet defaults; an environment may override them in Helm values).',
      variables: [d.variable('job', 'Deployment', 'job:minio_cluster_health_capacity_usable_total_bytes:max')],
      panels: d.layout([
        d.row('Availability and capacity'),
        d.height(4, [p.nodesOnline, p.nodesOffline, p.drivesOnline, p.drivesOffline, p.usedMax]),
        [p.up, p.drivesOfflineByJob],
        [p.used, p.capacity],
        d.row('S3 traffic'),
        [p.requests, p.errorRatio, p.traffic],
      ]),
    }),
    [
      d.neighbour('loki-log-agents', 'Loki and log agents'),
      d.neighbour('kubernetes-cluster', 'Kubernetes cluster'),
    ],
  )

// Kubernetes control plane of self-managed clusters: kube-scheduler, kube-controller-manager and
// etcd. Its own area (rule file kubernetes-control-plane.yaml) because managed clusters (EKS, GKE,
// AKS) hide these components: the prometheus subchart ships the file and the scrape jobs only with
// scrapeConfigs.kubernetes.controlPlane.enabled. The panels are on Infrastructure / Kubernetes API
// server and DNS.
local config = import '../../lib/config.libsonnet';

{
  _config+:: config {
    kubeApiServerSelector: 'job="apiserver"',
    kubeSchedulerSelector: 'job="kube-scheduler"',
    kubeControllerManagerSelector: 'job="kube-controller-manager"',
    etcdSelector: 'job="etcd"',
    etcdLeaderChangesThreshold: 4,  // leader changes within 15 minutes
    etcdDatabaseQuotaThreshold: 0.8,  // database size / backend quota
    etcdWalFsyncThresholdSeconds: 0.5,  // p99 of WAL fsyncs
  },

  local c = $._config,
  local rules = (import '../../lib/rules.libsonnet')(c),
  local by = rules.by,
  local etcd = c.etcdSelector,
  local where = 'in {{ $labels.environment }}/{{ $labels.cluster }}',
  local alert(spec) = rules.alert(spec { labels+: { component: 'kubernetes-control-plane' } }),
  // No target up, or none discovered while the API server is scraped.
  local down(selector) =
    'max %s (up{%s}) == 0' % [by(), selector]
    + ' or (group %s (up{%s}) * 0 unless %s group %s (up{%s}))'
      % [by(), c.kubeApiServerSelector, rules.on(), by(), selector],

  prometheusRules+:: {
    groups+: [
      rules.group('kubernetes-control-plane-recording', [
        rules.record(
          'instance:etcd_disk_wal_fsync_duration_seconds:p99_rate5m',
          'histogram_quantile(0.99, sum %s (rate(etcd_disk_wal_fsync_duration_seconds_bucket{%s}[5m])))' % [by(['instance', 'le']), etcd],
        ),
        rules.record(
          'instance:etcd_mvcc_db_total_size:ratio',
          'max %s (etcd_mvcc_db_total_size_in_bytes{%s}) / max %s (etcd_server_quota_backend_bytes{%s})'
          % [by(['instance']), etcd, by(['instance']), etcd],
        ),
      ]),
    ],
  },

  prometheusAlerts+:: {
    groups+: [
      rules.group('kubernetes-control-plane-alerts', [
        alert({
          name: 'KubeSchedulerDown',
          expr: down(c.kubeSchedulerSelector),
          'for': '15m',
          severity: 'critical',
          priority: 'P2',
          summary: 'The Kubernetes scheduler is down.',
          description: 'No kube-scheduler target ' + where + ' is up (none answers, or none is discovered): new pods are not scheduled.',
        }),
        alert({
          name: 'KubeControllerManagerDown',
          expr: down(c.kubeControllerManagerSelector),
          'for': '15m',
          severity: 'critical',
          priority: 'P2',
          summary: 'The Kubernetes controller manager is down.',
          description: 'No kube-controller-manager target ' + where + ' is up (none answers, or none is discovered): '
                       + 'Deployments, Jobs, node lifecycle and garbage collection stop.',
        }),
        alert({
          name: 'EtcdMembersDown',
          expr: 'count %s (up{%s} == 0) > 0' % [by(), etcd],
          'for': '10m',
          severity: 'critical',
          priority: 'P2',
          summary: 'etcd members are down.',
          description: '{{ $value }} etcd member(s) ' + where + ' fail their scrapes; one more failure may cost the cluster its quorum.',
        }),
        alert({
          name: 'EtcdNoLeader',
          expr: 'max %s (etcd_server_has_leader{%s}) == 0' % [by(['instance']), etcd],
          'for': '1m',
          severity: 'critical',
          priority: 'P1',
          summary: 'An etcd member has no leader.',
          description: 'etcd member {{ $labels.instance }} ' + where + ' has no leader: it cannot serve writes.',
        }),
        alert({
          name: 'EtcdLeaderChangesHigh',
          expr: 'max %s (increase(etcd_server_leader_changes_seen_total{%s}[15m])) > %s'
                % [by(), etcd, rules.param('changes')],
          'for': '5m',
          severity: 'warning',
          priority: 'P3',
          summary: 'etcd keeps changing its leader.',
          description: 'etcd ' + where + ' changed leader {{ $value | humanize }} times in 15 minutes (threshold %s): '
                                         % rules.param('changes')
                       + 'slow disks or network between members.',
          params: { changes: c.etcdLeaderChangesThreshold },
        }),
        alert({
          name: 'EtcdDatabaseNearQuota',
          expr: 'instance:etcd_mvcc_db_total_size:ratio > %s' % rules.param('threshold'),
          'for': '10m',
          severity: 'warning',
          priority: 'P2',
          summary: 'The etcd database is close to its size quota.',
          description: 'The database of etcd member {{ $labels.instance }} ' + where + ' uses {{ $value | humanizePercentage }} '
                       + 'of its quota (threshold {{ %s | humanizePercentage }}); at 100%% etcd refuses writes.' % rules.param('threshold'),
          params: { threshold: c.etcdDatabaseQuotaThreshold },
        }),
        alert({
          name: 'EtcdWalFsyncSlow',
          expr: 'instance:etcd_disk_wal_fsync_duration_seconds:p99_rate5m > %s' % rules.param('thresholdSeconds'),
          'for': '10m',
          severity: 'warning',
          priority: 'P3',
          summary: 'etcd writes to disk slowly.',
          description: 'The 99th percentile of WAL fsyncs of etcd member {{ $labels.instance }} ' + where + ' is '
                       + '{{ $value | humanizeDuration }} (threshold %s s): the disk is too slow for etcd.' % rules.param('thresholdSeconds'),
          params: { thresholdSeconds: c.etcdWalFsyncThresholdSeconds },
        }),
      ]),
    ],
  },

  exporterMetrics:: {
    etcd: [
      'etcd_disk_wal_fsync_duration_seconds_bucket',
      'etcd_mvcc_db_total_size_in_bytes',
      'etcd_server_has_leader',
      'etcd_server_leader_changes_seen_total',
      'etcd_server_quota_backend_bytes',
    ],
    prometheus: ['up'],
  },

  defaultDashboard:: 'kubernetes-apiserver',
} + (import 'etcd-extra.libsonnet')

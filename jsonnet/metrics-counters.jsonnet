// Exporter counters whose names do not end in _total, _count, _sum or _bucket (older exporters
// name them so). `cfmon check` (dashboards/rate-interval) lets rate(), irate() and increase()
// read these and the suffixed names only; each must be in the metrics catalog.
std.set([
  // Envoy (Envoy Gateway's proxies): Envoy names its counters by its own stat names
  'envoy_cluster_manager_cds_update_rejected',
  'envoy_http_downstream_rq_xx',
  'envoy_listener_manager_lds_update_rejected',
  // ingress-nginx
  'nginx_ingress_controller_requests',
  // kubelet (certificate manager)
  'kubelet_certificate_manager_client_expiration_renew_errors',
  'kubelet_server_expiration_renew_errors',
  // kubelet (evictions by signal)
  'kubelet_evictions',
  // node-exporter (/proc/vmstat)
  'node_vmstat_oom_kill',
  'node_vmstat_pgmajfault',
  // postgres-exporter (pg_stat_database)
  'pg_stat_database_blks_hit',
  'pg_stat_database_blks_read',
  'pg_stat_database_deadlocks',
  'pg_stat_database_xact_commit',
  'pg_stat_database_xact_rollback',
])

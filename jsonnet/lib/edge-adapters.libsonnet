// Edge adapters: each turns one gateway implementation's own metrics into the edge contract that
// the edge mixin's alerts and panels read (and nothing else reads):
//
//   edge:requests:rate5m{edge_adapter, route}                        requests per second
//   edge:requests_errors:rate5m{edge_adapter, route, code_class}     4xx and 5xx answers per second
//   edge:request_duration_seconds:p50|p95|p99{edge_adapter, route}   latency quantiles over 5m
//   edge:connections_active:sum{edge_adapter}                        open client connections
//   edge_instance:gateway_up:max{edge_adapter, job, instance}        1 while a gateway instance serves
//   edge_instance:config_reload_successful:min{edge_adapter, job, instance}  0 after a rejected configuration
//   edge_upstream:endpoints_healthy:ratio{edge_adapter, upstream}    healthy share of a backend's endpoints
//
// plus cluster and environment on every series. `route` is what the adapter can tell apart: an
// Ingress (namespace/name), an Envoy listener (its HTTP connection manager stat prefix), or the
// whole NGINX scrape job. Every adapter reads only the series of its own scrape job, so all of them
// are rendered in every environment and the ones whose job scrapes nothing record nothing; Helm
// values pick the jobs (prometheus.scrapeConfigs.edge). An adapter leaves out what its exporter
// cannot give (`can` below): those series are absent, not 0, and the alerts on them stay silent.
//
// Each adapter's rules(c) takes the edge mixin's _config (its selectors, the aggregation labels).
local sel = (import 'selectors.libsonnet').of;
// `by (cluster, environment, <extra...>)` from the config.
local byOf(c) = (import 'rules.libsonnet')(c).by;
// Copies label `from` into `route` (label_replace keeps the value as is).
local asRoute(expr, from) = 'label_replace(%s, "route", "$1", "%s", "(.*)")' % [expr, from];
local rec(name, expr, adapter) = { record: name, expr: expr, labels: { edge_adapter: adapter } };
local quantiles = ['50', '95', '99'];

{
  // Envoy Gateway (Gateway API): the Envoy proxies' own stats (/stats/prometheus on :19001).
  // Envoy counts per HTTP connection manager (label envoy_http_conn_manager_prefix, one per
  // listener); Envoy Gateway's own readiness/stats listener (eg-*) and the admin one are not traffic.
  // Envoy's latency histogram is in milliseconds. A configuration (xDS) update Envoy rejects keeps
  // the previous one live, like a failed reload.
  'envoy-gateway': {
    name: 'envoy-gateway',
    can: { errors: true, latency: true, configReload: true, upstreams: true },
    metrics: [
      'envoy_http_downstream_rq_total',
      'envoy_http_downstream_rq_xx',
      'envoy_http_downstream_rq_time_bucket',
      'envoy_http_downstream_cx_active',
      'envoy_server_live',
      'envoy_listener_manager_lds_update_rejected',
      'envoy_cluster_manager_cds_update_rejected',
      'envoy_cluster_membership_healthy',
      'envoy_cluster_membership_total',
    ],
    rules(c)::
      local by = byOf(c);
      local s(extra=[]) = sel([c.edgeEnvoySelector] + extra);
      local traffic = 'envoy_http_conn_manager_prefix!~"%s"' % c.edgeEnvoyIgnoredListeners;
      local upstreams = 'envoy_cluster_name!~"%s"' % c.edgeEnvoyIgnoredClusters;
      [
        rec('edge:requests:rate5m', 'sum %s (%s)' % [by(['route']), asRoute('rate(envoy_http_downstream_rq_total%s[5m])' % s([traffic]), 'envoy_http_conn_manager_prefix')], self.name),
        rec(
          'edge:requests_errors:rate5m',
          'sum %s (label_replace(%s, "code_class", "${1}xx", "envoy_response_code_class", "(.*)"))'
          % [by(['route', 'code_class']), asRoute('rate(envoy_http_downstream_rq_xx%s[5m])' % s([traffic, 'envoy_response_code_class=~"4|5"']), 'envoy_http_conn_manager_prefix')],
          self.name,
        ),
      ] + [
        rec(
          'edge:request_duration_seconds:p' + q,
          'histogram_quantile(0.%s, sum %s (%s)) / 1000' % [q, by(['route', 'le']), asRoute('rate(envoy_http_downstream_rq_time_bucket%s[5m])' % s([traffic]), 'envoy_http_conn_manager_prefix')],
          self.name,
        )
        for q in quantiles
      ] + [
        rec('edge:connections_active:sum', 'sum %s (envoy_http_downstream_cx_active%s)' % [by([]), s([traffic])], self.name),
        // envoy_server_live is 0 while the proxy drains; absent when the scrape fails (then `up`).
        rec('edge_instance:gateway_up:max', 'max %s (envoy_server_live%s or up%s)' % [by(['job', 'instance']), s(), s()], self.name),
        rec(
          'edge_instance:config_reload_successful:min',
          '(sum %s (increase(envoy_listener_manager_lds_update_rejected%s[10m])) + sum %s (increase(envoy_cluster_manager_cds_update_rejected%s[10m]))) == bool 0'
          % [by(['job', 'instance']), s(), by(['job', 'instance']), s()],
          self.name,
        ),
        // Every proxy sees the same membership: max over the proxies, not a sum. `> -1` drops
        // the NaN of a backend without endpoints (0/0).
        rec(
          'edge_upstream:endpoints_healthy:ratio',
          'max %s (%s) / max %s (%s) > -1'
          % [
            by(['upstream']),
            'label_replace(envoy_cluster_membership_healthy%s, "upstream", "$1", "envoy_cluster_name", "(.*)")' % s([upstreams]),
            by(['upstream']),
            'label_replace(envoy_cluster_membership_total%s, "upstream", "$1", "envoy_cluster_name", "(.*)")' % s([upstreams]),
          ],
          self.name,
        ),
      ],
  },

  // Plain NGINX through nginx-prometheus-exporter (stub_status): requests and connections only.
  // It cannot give status codes, latency, per-route traffic or configuration reloads (stub_status
  // has none of them; NGINX Plus's API does): the error and latency alerts never fire for this
  // adapter, and `route` is the scrape job. nginx_up is 0 when the exporter runs but NGINX does not
  // answer it; `up` is 0 when the exporter itself is gone.
  nginx: {
    name: 'nginx',
    can: { errors: false, latency: false, configReload: false, upstreams: false },
    metrics: ['nginx_up', 'nginx_http_requests_total', 'nginx_connections_active'],
    rules(c)::
      local by = byOf(c);
      local s(extra=[]) = sel([c.edgeNginxSelector] + extra);
      [
        rec('edge:requests:rate5m', 'sum %s (%s)' % [by(['route']), asRoute('rate(nginx_http_requests_total%s[5m])' % s(), 'job')], self.name),
        rec('edge:connections_active:sum', 'sum %s (nginx_connections_active%s)' % [by([]), s()], self.name),
        rec('edge_instance:gateway_up:max', 'max %s (nginx_up%s or up%s)' % [by(['job', 'instance']), s(), s()], self.name),
      ],
  },

  // ingress-nginx (legacy: the project is retired; kept for clusters that still run it), from the
  // controller's metrics (:10254). The Ingress's namespace label is `exported_namespace` at scrape
  // time (the target's own `namespace` wins); `route` is <namespace>/<ingress>.
  'ingress-nginx': {
    name: 'ingress-nginx',
    can: { errors: true, latency: true, configReload: true, upstreams: false },
    metrics: [
      'nginx_ingress_controller_requests',
      'nginx_ingress_controller_request_duration_seconds_bucket',
      'nginx_ingress_controller_config_last_reload_successful',
      'nginx_ingress_controller_nginx_process_connections',
    ],
    rules(c)::
      local by = byOf(c);
      local s(extra=[]) = sel([c.edgeIngressNginxSelector] + extra);
      local ns = c.edgeIngressNginxNamespaceLabel;
      local route(expr) = 'label_join(%s, "route", "/", "%s", "ingress")' % [expr, ns];
      [
        rec('edge:requests:rate5m', 'sum %s (%s)' % [by(['route']), route('rate(nginx_ingress_controller_requests%s[5m])' % s())], self.name),
        rec(
          'edge:requests_errors:rate5m',
          'sum %s (label_replace(%s, "code_class", "${1}xx", "status", "([45]).."))'
          % [by(['route', 'code_class']), route('rate(nginx_ingress_controller_requests%s[5m])' % s(['status=~"[45].."']))],
          self.name,
        ),
      ] + [
        rec(
          'edge:request_duration_seconds:p' + q,
          'histogram_quantile(0.%s, sum %s (%s))' % [q, by(['route', 'le']), route('rate(nginx_ingress_controller_request_duration_seconds_bucket%s[5m])' % s())],
          self.name,
        )
        for q in quantiles
      ] + [
        rec('edge:connections_active:sum', 'sum %s (nginx_ingress_controller_nginx_process_connections%s)' % [by([]), s(['state="active"'])], self.name),
        rec('edge_instance:gateway_up:max', 'max %s (up%s)' % [by(['job', 'instance']), s()], self.name),
        rec('edge_instance:config_reload_successful:min', 'min %s (nginx_ingress_controller_config_last_reload_successful%s)' % [by(['job', 'instance']), s()], self.name),
      ],
  },
}

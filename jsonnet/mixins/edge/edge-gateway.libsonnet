// Edge / Gateway: the gateway instances in front of the API gateway and the web
// app (up, configuration), then rate, errors and duration per route (the `edge_adapter` and
// `route` variables). Reads only the edge contract the adapters record (lib/edge-adapters.libsonnet),
// so it is the same dashboard for Envoy Gateway, NGINX and ingress-nginx; panels an adapter cannot
// feed (NGINX: errors, latency, upstreams) stay empty for it. Thresholds are the edge mixin's
// `_config` (`c`), the defaults of its alerts' parameters.

function(c)
  local d = (import '../../lib/dashboards.libsonnet')(c);
  local adapter = d.selector(['edge_adapter=~"$edge_adapter"']);
  local routes = d.selector(['edge_adapter=~"$edge_adapter"', 'route=~"$route"']);
  local legend = '{{route}}';

  local q = {
    instancesUp: d.target('sum (edge_instance:gateway_up:max%s)' % adapter, 'up'),
    reloadFailed: d.target('count (edge_instance:config_reload_successful:min%s == 0) or vector(0)' % adapter, 'failed'),
    rateTotal: d.target('sum (edge:requests:rate5m%s)' % routes, 'requests'),
    errorRatioTotal: d.target(
      'sum (edge:requests_errors:rate5m%s) / sum (edge:requests:rate5m%s)'
      % [d.selector(['edge_adapter=~"$edge_adapter"', 'route=~"$route"', 'code_class="5xx"']), routes],
      '5xx'
    ),
    p99Max: d.target('max (edge:request_duration_seconds:p99%s)' % routes, 'slowest p99'),
    rate: d.target('edge:requests:rate5m%s' % routes, legend),
    byClass: d.target('sum by (code_class) (edge:requests_errors:rate5m%s)' % routes, '{{code_class}}'),
    errorRatio: d.target('edge:requests_errors:ratio_rate5m%s' % routes, legend),
    latency(quantile): d.target('edge:request_duration_seconds:p%s%s' % [quantile, routes], legend + ' p' + quantile),
    instances: d.target('edge_instance:gateway_up:max%s' % adapter, '{{instance}}'),
    upstreams: d.target('edge_upstream:endpoints_healthy:ratio%s' % adapter, '{{upstream}}'),
    connections: d.target('sum by (edge_adapter) (edge:connections_active:sum%s)' % adapter, '{{edge_adapter}}'),
  };

  local errorThresholds = d.above([c.edgeErrorRatioWarningThreshold, c.edgeErrorRatioCriticalThreshold]);
  local errorAlerts = ['EdgeErrorRatioHigh', 'EdgeErrorRatioCritical'];
  local latencyThresholds = d.above([c.edgeLatencyP99ThresholdSeconds]);

  local p = {
    instancesUp: d.stat(
      'Gateway instances up',
      'Edge gateway instances that serve (Envoy live, NGINX answering its exporter, controller scraped). Good: every replica; 0 fires EdgeGatewayDown (the platform is unreachable).',
      'short',
      [q.instancesUp],
      alerts=['EdgeGatewayDown'],
      graph=false,
    ),
    reloadFailed: d.stat(
      'Rejected configurations',
      'Instances whose latest configuration was rejected (they keep serving the previous one). Good: 0. NGINX through its exporter cannot tell.',
      'short',
      [q.reloadFailed],
      thresholds=d.countBad,
      alerts=['EdgeConfigReloadFailed'],
    ),
    rateTotal: d.stat('Requests', 'Requests per second to the selected routes. Good: the usual level; a drop to 0 is an outage in front of the cluster.', 'reqps', [q.rateTotal]),
    errorRatioTotal: d.stat(
      'Server errors',
      'Share of requests to the selected routes answered with a 5xx. Good: green, below the EdgeErrorRatioHigh threshold. Empty for NGINX (no status codes).',
      'percentunit',
      [q.errorRatioTotal],
      thresholds=errorThresholds,
      alerts=errorAlerts,
    ),
    p99Max: d.stat(
      'Slowest p99 latency',
      'p99 latency of the slowest selected route. Good: green, below the EdgeLatencyP99High threshold. Empty for NGINX (no latency).',
      's',
      [q.p99Max],
      thresholds=latencyThresholds,
      alerts=['EdgeLatencyP99High'],
    ),
    instances: d.timeseries(
      'Gateway instances',
      'Each gateway instance: 1 serving, 0 down. Good: every line at 1; a line at 0 for 5 minutes fires EdgeGatewayInstanceDown.',
      'short',
      [q.instances],
      alerts=['EdgeGatewayInstanceDown'],
      min=0,
      max=1,
    ),
    rate: d.timeseries('Rate by route', 'Requests per second per route (Ingress, Envoy listener, or the NGINX job). Good: each route at its usual shape.', 'reqps', [q.rate], min=0),
    byClass: d.timeseries(
      'Errors by code class', 'Requests per second answered with a 4xx or 5xx. Good: 5xx near 0; a 4xx jump is often a client release.', 'reqps', [q.byClass], min=0, stack=true
    ),
    errorRatio: d.timeseries(
      'Errors: 5xx ratio by route',
      'Share of requests answered with a 5xx per route. Good: below the first dashed line (EdgeErrorRatioHigh); the alerts ignore routes with very little traffic.',
      'percentunit',
      [q.errorRatio],
      thresholds=errorThresholds,
      alerts=errorAlerts,
      min=0,
    ),
    latency: d.timeseries(
      'Duration: p50 / p95 / p99 by route',
      'Request latency quantiles per route (time to the last byte, backends included). Good: p99 below the dashed EdgeLatencyP99High line.',
      's',
      [q.latency('50'), q.latency('95'), q.latency('99')],
      thresholds=latencyThresholds,
      alerts=['EdgeLatencyP99High'],
      min=0,
    ),
    upstreams: d.timeseries(
      'Healthy backend endpoints',
      "Share of each backend's endpoints the gateway sees healthy (Envoy Gateway only). Good: 100%; a drop means backend pods failing health checks.",
      'percentunit',
      [q.upstreams],
      min=0,
      max=1,
    ),
    connections: d.timeseries(
      'Active client connections', 'Open client connections of all gateway instances. Good: steady; a climb with flat requests means slow clients or backends.', 'short', [q.connections], min=0
    ),
  };

  local requests = 'edge:requests:rate5m';

  d.withNeighbours(
    d.dashboard({
      uid: 'edge-gateway',
      title: 'Edge / Gateway',
      tags: ['infrastructure', 'edge', 'gateway', 'red'],
      description: 'Can users reach the platform, and how fast? The edge gateway instances and the rate, errors and '
                   + 'duration of every route picked with the variables, whichever gateway serves them (Envoy Gateway, '
                   + 'NGINX or ingress-nginx). Dashed lines are the alert thresholds (Jsonnet defaults; an environment '
                   + 'may override them in Helm values).',
      refresh: '30s',
      variables: [
        d.variable('edge_adapter', 'Gateway', requests),
        d.variable('route', 'Route', requests, extra=['edge_adapter=~"$edge_adapter"']),
      ],
      panels: d.layout([
        d.row('Gateway and totals'),
        d.height(4, [p.instancesUp, p.reloadFailed, p.rateTotal, p.errorRatioTotal, p.p99Max]),
        [p.instances, p.connections, p.upstreams],
        d.row('Per route'),
        [p.rate, p.byClass],
        [p.errorRatio, p.latency],
      ]),
    }),
    [
      d.neighbour('application-performance', 'Applications / Performance'),
      d.neighbour('kubernetes-workloads', 'Kubernetes workloads'),
    ],
  )

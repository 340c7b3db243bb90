// Infrastructure / Ingress (nginx): the ingress-nginx controllers in front of the API gateway and
// the web app: controllers up and their configuration reloads, then rate, errors and duration per
// Ingress (the `namespace` and `ingress` variables). Reads the nginx mixin's recording rules;
// thresholds are its `_config` (`c`), the defaults of its alerts' parameters.
local x = import '../../lib/dashboards-extras.libsonnet';
local d = import '../../lib/dashboards.libsonnet';

function(c)
  local ns = c.nginxIngressNamespaceLabel;
  local ing = d.selector(['%s=~"$namespace"' % ns, 'ingress=~"$ingress"']);
  local raw(extra=[]) = d.selector([c.nginxSelector] + extra);
  local legend = '{{%s}}/{{ingress}}' % ns;

  local q = {
    controllersUp: d.target('sum (up%s)' % raw(), 'up'),
    reloadFailed: d.target('count (nginx_ingress_controller_config_last_reload_successful%s == 0) or vector(0)' % raw(), 'failed'),
    rateTotal: d.target('sum (ingress:nginx_ingress_controller_requests:rate5m%s)' % ing, 'requests'),
    errorRatioTotal: d.target(
      'sum (ingress:nginx_ingress_controller_requests_errors:rate5m%s) / sum (ingress:nginx_ingress_controller_requests:rate5m%s)'
      % [ing, ing],
      '5xx'
    ),
    p99Max: d.target('max (ingress:nginx_ingress_controller_request_duration_seconds:p99_rate5m%s)' % ing, 'slowest p99'),
    rate: d.target('ingress:nginx_ingress_controller_requests:rate5m%s' % ing, legend),
    byStatus: d.target(
      'sum by (status) (rate(nginx_ingress_controller_requests%s[$__rate_interval]))'
      % raw(['%s=~"$namespace"' % ns, 'ingress=~"$ingress"']),
      '{{status}}'
    ),
    errorRatio: d.target('ingress:nginx_ingress_controller_requests_errors:ratio_rate5m%s' % ing, legend),
    latency(quantile): d.target(
      'ingress:nginx_ingress_controller_request_duration_seconds:p%s_rate5m%s' % [quantile, ing], legend + ' p' + quantile
    ),
    heatmap: d.target(
      'sum by (le) (ingress_le:nginx_ingress_controller_request_duration_seconds_bucket:rate5m%s)' % ing, '{{le}}', format='heatmap'
    ),
    connections: d.target('sum by (state) (nginx_ingress_controller_nginx_process_connections%s)' % raw(), '{{state}}'),
  };

  local errorThresholds = d.above([c.nginxErrorRatioWarningThreshold, c.nginxErrorRatioCriticalThreshold]);
  local errorAlerts = ['NginxIngressErrorRatioHigh', 'NginxIngressErrorRatioCritical'];
  local latencyThresholds = d.above([c.nginxLatencyP99ThresholdSeconds]);

  local p = {
    controllersUp: d.stat(
      'Controllers up',
      'ingress-nginx controller pods Prometheus can scrape. Good: every replica; 0 fires NginxIngressAllControllersDown (the platform is unreachable).',
      'short',
      [q.controllersUp],
      alerts=['NginxIngressControllerDown', 'NginxIngressAllControllersDown'],
      graph=false,
    ),
    reloadFailed: d.stat(
      'Failed config reloads',
      'Controllers whose last configuration reload failed (they keep serving the previous one). Good: 0.',
      'short',
      [q.reloadFailed],
      thresholds=x.countBad,
      alerts=['NginxIngressConfigReloadFailed'],
    ),
    rateTotal: d.stat('Requests', 'Requests per second to the selected Ingresses. Good: the usual level; a drop to 0 is an outage in front of the cluster.', 'reqps', [q.rateTotal]),
    errorRatioTotal: d.stat(
      'Server errors',
      'Share of requests to the selected Ingresses answered with a 5xx. Good: green, below the NginxIngressErrorRatioHigh threshold.',
      'percentunit',
      [q.errorRatioTotal],
      thresholds=errorThresholds,
      alerts=errorAlerts,
    ),
    p99Max: d.stat(
      'Slowest p99 latency',
      'p99 latency of the slowest selected Ingress. Good: green, below the NginxIngressLatencyP99High threshold.',
      's',
      [q.p99Max],
      thresholds=latencyThresholds,
      alerts=['NginxIngressLatencyP99High'],
    ),
    rate: d.timeseries('Rate by Ingress', 'Requests per second per Ingress. Good: each Ingress at its usual shape.', 'reqps', [q.rate], min=0),
    byStatus: d.timeseries(
      'Requests by status', 'Requests per second per HTTP status. Good: mostly 2xx/3xx; 5xx near 0; a 4xx jump is often a client release.', 'reqps', [q.byStatus], min=0, stack=true
    ),
    errorRatio: d.timeseries(
      'Errors: 5xx ratio by Ingress',
      'Share of requests answered with a 5xx per Ingress. Good: below the first dashed line (NginxIngressErrorRatioHigh); the alerts ignore Ingresses with very little traffic.',
      'percentunit',
      [q.errorRatio],
      thresholds=errorThresholds,
      alerts=errorAlerts,
      min=0,
    ),
    latency: d.timeseries(
      'Duration: p50 / p95 / p99 by Ingress',
      'Request latency quantiles per Ingress (time to the last byte, backends included). Good: p99 below the dashed NginxIngressLatencyP99High line.',
      's',
      [q.latency('50'), q.latency('95'), q.latency('99')],
      thresholds=latencyThresholds,
      alerts=['NginxIngressLatencyP99High'],
      min=0,
    ),
    heatmap: d.heatmap(
      'Latency distribution', 'Requests per latency bucket over time (selected Ingresses). Good: mass in the low buckets, no band creeping upwards.', 's', [q.heatmap]
    ),
    connections: d.timeseries(
      'Client connections by state', 'Connections of all controllers per state (active, reading, writing, waiting). Good: steady; many "writing" means slow backends.', 'short', [q.connections], min=0
    ),
  };

  local requests = 'ingress:nginx_ingress_controller_requests:rate5m';

  x.withNeighbours(
    d.dashboard({
      uid: 'ingress-nginx',
      title: 'Infrastructure / Ingress (nginx)',
      tags: ['infrastructure', 'ingress', 'nginx', 'red'],
      description: 'Can users reach the platform, and how fast? The ingress-nginx controllers and the rate, errors and '
                   + 'duration of every Ingress picked with the variables. Dashed lines are the alert thresholds (Jsonnet '
                   + 'defaults; an environment may override them in Helm values).',
      refresh: '30s',
      variables: [
        d.variable('namespace', 'Namespace', requests, labelName=ns),
        d.variable('ingress', 'Ingress', requests, extra=['%s=~"$namespace"' % ns]),
      ],
      panels: d.layout([
        d.row('Controllers and totals'),
        d.height(4, [p.controllersUp, p.reloadFailed, p.rateTotal, p.errorRatioTotal, p.p99Max]),
        d.row('Per Ingress'),
        [p.rate, p.byStatus],
        [p.errorRatio, p.latency],
        [p.heatmap, p.connections],
      ]),
    }),
    [
      x.neighbour('application-performance', 'Applications / Performance'),
      x.neighbour('kubernetes-workloads', 'Kubernetes workloads'),
    ],
  )

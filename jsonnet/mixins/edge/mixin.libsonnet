// The edge in front of the API gateway and the web app, whatever serves it: Envoy Gateway (Gateway
// API), plain NGINX with nginx-prometheus-exporter, or ingress-nginx (legacy). The adapters in
// lib/edge-adapters.libsonnet record each implementation's metrics as one contract (edge:*,
// edge_instance:*, edge_upstream:*); the alerts and the Edge / Gateway dashboard read only that.
// Every adapter in `edgeAdapters` is rendered; each reads only its own scrape job, so an adapter
// whose job is not scraped (prometheus.scrapeConfigs.edge in Helm values) records nothing.
local config = import '../../lib/config.libsonnet';
local adapters = import '../../lib/edge-adapters.libsonnet';

{
  _config+:: config {
    // The adapters whose recording rules are rendered (keys of lib/edge-adapters.libsonnet).
    edgeAdapters: ['envoy-gateway', 'nginx', 'ingress-nginx'],
    // Matchers ANDed into every selector on each adapter's series (its scrape job).
    edgeEnvoySelector: 'job="envoy-gateway"',
    edgeNginxSelector: 'job="nginx-exporter"',
    edgeIngressNginxSelector: 'job="ingress-nginx"',
    // Envoy listeners that carry no user traffic: Envoy Gateway's readiness/stats listener and the
    // admin interface (a RE2 regex on envoy_http_conn_manager_prefix, anchored).
    edgeEnvoyIgnoredListeners: 'eg-.*|admin',
    // Envoy clusters that are not backends: the xDS connection and the stats loop-back.
    edgeEnvoyIgnoredClusters: 'xds_cluster|prometheus_stats',
    // The label holding an Ingress's namespace on ingress-nginx series (exported_namespace with
    // honor_labels: false, namespace with honor_labels: true).
    edgeIngressNginxNamespaceLabel: 'exported_namespace',
    edgeLabels: { service: 'edge' },
    // Defaults of the declared alert parameters (overridable per environment in Helm values).
    edgeErrorRatioWarningThreshold: 0.05,
    edgeErrorRatioCriticalThreshold: 0.1,
    edgeLatencyP99ThresholdSeconds: 1,
    // Routes with less traffic than this do not alert on ratios or percentiles (too few requests).
    edgeMinRequestsPerSecond: 1,
  },

  local c = $._config,
  local rules = (import '../../lib/rules.libsonnet')(c),
  local used = [adapters[a] for a in c.edgeAdapters],
  local env = '{{ $labels.environment }}/{{ $labels.cluster }}',
  local route = 'route {{ $labels.route }} ({{ $labels.edge_adapter }}) in ' + env,
  local gateway = 'edge gateway instance {{ $labels.instance }} (job {{ $labels.job }}, {{ $labels.edge_adapter }}) in ' + env,
  local busy = ' and edge:requests:rate5m > ' + rules.param('minRequestsPerSecond'),
  // Adapters that count answers by status: the ratio is 0 (not absent) on their routes without errors.
  local withErrors = std.join('|', [a.name for a in used if a.can.errors]),
  local errorAlert(name, severity, priority, threshold, summary, consequence) = rules.alert({
    name: name,
    expr: 'edge:requests_errors:ratio_rate5m > %s' % rules.param('threshold') + busy,
    'for': '5m',
    severity: severity,
    priority: priority,
    // One symptom at two thresholds: the critical silences the warning of its route.
    labels: c.edgeLabels { symptom: 'edge-error-ratio' },
    summary: summary,
    description: '{{ $value | humanizePercentage }} of the requests to %s were answered with a 5xx ' % route
                 + 'over the last 5 minutes (threshold {{ %s | humanizePercentage }}); %s'
                   % [rules.param('threshold'), consequence],
    params: { threshold: threshold, minRequestsPerSecond: c.edgeMinRequestsPerSecond },
  }),

  prometheusRules+:: {
    groups+: [
      rules.group('edge-%s-recording' % a.name, a.rules(c))
      for a in used
    ] + [
      // Read by the alerts: computed from the contract, so the same for every adapter.
      rules.group('edge-recording', [
        rules.record(
          'edge:requests_errors:ratio_rate5m',
          '(sum without (code_class) (edge:requests_errors:rate5m{code_class="5xx"}) or edge:requests:rate5m{edge_adapter=~"%s"} * 0)' % withErrors
          + ' / edge:requests:rate5m',
        ),
      ]),
    ],
  },

  prometheusAlerts+:: {
    groups+: [
      rules.group('edge-alerts', [
        rules.alert({
          name: 'EdgeGatewayInstanceDown',
          expr: 'edge_instance:gateway_up:max == 0',
          'for': '5m',
          severity: 'warning',
          priority: 'P2',
          labels: c.edgeLabels { symptom: 'edge-gateway-down' },
          summary: 'An edge gateway instance does not serve.',
          description: 'The %s is down or cannot be scraped; ' % gateway
                       + 'the other instances carry its traffic, if there are any.',
        }),
        rules.alert({
          name: 'EdgeGatewayDown',
          // Per instance, so it carries the same labels as EdgeGatewayInstanceDown and silences it
          // (same symptom, same instance) while every instance of the job is down.
          expr: 'edge_instance:gateway_up:max == 0 unless %s max %s (edge_instance:gateway_up:max) > 0'
                % [rules.on(['job']), rules.by(['job'])],
          'for': '2m',
          severity: 'critical',
          priority: 'P1',
          labels: c.edgeLabels { symptom: 'edge-gateway-down' },
          summary: 'No edge gateway instance serves.',
          description: 'Every instance of the edge gateway (job {{ $labels.job }}, {{ $labels.edge_adapter }}) in %s is down, ' % env
                       + 'including {{ $labels.instance }}; the platform is most likely unreachable from outside the cluster.',
        }),
        errorAlert(
          'EdgeErrorRatioHigh',
          'warning',
          'P3',
          c.edgeErrorRatioWarningThreshold,
          'An edge route answers many requests with a server error.',
          'check the backend behind it.',
        ),
        errorAlert(
          'EdgeErrorRatioCritical',
          'critical',
          'P2',
          c.edgeErrorRatioCriticalThreshold,
          'An edge route answers a large share of requests with a server error.',
          'users of everything behind it see failures.',
        ),
        rules.alert({
          name: 'EdgeLatencyP99High',
          expr: 'edge:request_duration_seconds:p99 > %s' % rules.param('thresholdSeconds') + busy,
          'for': '10m',
          severity: 'warning',
          priority: 'P3',
          labels: c.edgeLabels,
          summary: 'An edge route is slow for its slowest requests.',
          description: 'p99 latency of %s is {{ $value | humanizeDuration }} ' % route
                       + 'over the last 5 minutes (threshold {{ %s | humanizeDuration }}).'
                         % rules.param('thresholdSeconds'),
          params: {
            thresholdSeconds: c.edgeLatencyP99ThresholdSeconds,
            minRequestsPerSecond: c.edgeMinRequestsPerSecond,
          },
        }),
        rules.alert({
          name: 'EdgeConfigReloadFailed',
          expr: 'edge_instance:config_reload_successful:min == 0',
          'for': '5m',
          severity: 'warning',
          priority: 'P3',
          labels: c.edgeLabels,
          summary: 'An edge gateway failed to load its latest configuration.',
          description: 'The %s rejected its latest configuration; ' % gateway
                       + 'it keeps serving the previous one, so recent route changes are not live.',
        }),
      ]),
    ],
  },

  // Edge / Gateway; thresholds from _config above.
  dashboardFolder:: 'Edge',
  grafanaDashboards+:: {
    'edge-gateway.json': (import 'edge-gateway.libsonnet')(c),
  },

  exporterMetrics:: {
    [a.name]: a.metrics
    for a in used
  } + {
    prometheus: ['up'],
  },
}

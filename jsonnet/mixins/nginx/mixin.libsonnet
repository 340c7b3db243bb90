// The ingress-nginx controller in front of the API gateway and the web app, from the controller's own
// metrics (port 10254):
//   nginx_ingress_controller_requests{namespace, ingress, service, host, method, path, status}   counter
//   nginx_ingress_controller_request_duration_seconds_bucket{namespace, ingress, ..., le}        histogram
//   nginx_ingress_controller_config_last_reload_successful{controller_pod, controller_class, ...} gauge, 1/0
// and `up` of the controller's scrape job. The metrics' `namespace` (the Ingress's namespace)
// collides with the scrape-time target label `namespace` (the controller's), so Prometheus stores
// it as `exported_namespace` (honor_labels: false); set `nginxIngressNamespaceLabel: 'namespace'`
// for a scrape job with honor_labels: true. `service` is the Ingress's backend Service.
// Recording rules keep cluster, environment and the Ingress (namespace + name).
local config = import '../../lib/config.libsonnet';
local rules = import '../../lib/rules.libsonnet';

{
  _config+:: config {
    // Matchers ANDed into every selector on the controller's series (its scrape job).
    nginxSelector: 'job="ingress-nginx"',
    nginxIngressNamespaceLabel: 'exported_namespace',
    nginxLabels: { service: 'ingress-nginx' },
    // Defaults of the declared alert parameters (overridable per environment in Helm values).
    nginxErrorRatioWarningThreshold: 0.05,
    nginxErrorRatioCriticalThreshold: 0.1,
    nginxLatencyP99ThresholdSeconds: 1,
    // Ingresses with less traffic than this do not alert on ratios or percentiles (too few requests).
    nginxMinRequestsPerSecond: 1,
  },

  local c = $._config,
  local selector(extra=[]) =
    local m = std.filter(function(x) x != '', [c.nginxSelector] + extra);
    if m == [] then '' else '{' + std.join(', ', m) + '}',
  local ingressLabels = [c.nginxIngressNamespaceLabel, 'ingress'],
  local by(extra=[]) = rules.by(ingressLabels + extra),
  local env = '{{ $labels.environment }}/{{ $labels.cluster }}',
  local ingress = 'ingress {{ $labels.%s }}/{{ $labels.ingress }} in %s' % [c.nginxIngressNamespaceLabel, env],
  local busy = ' and ingress:nginx_ingress_controller_requests:rate5m > ' + rules.param('minRequestsPerSecond'),
  local errorAlert(name, severity, priority, threshold, summary, consequence) = rules.alert(c, {
    name: name,
    expr: 'ingress:nginx_ingress_controller_requests_errors:ratio_rate5m > %s' % rules.param('threshold') + busy,
    'for': '5m',
    severity: severity,
    priority: priority,
    // One symptom at two thresholds: the critical silences the warning of its ingress.
    labels: c.nginxLabels { symptom: 'nginx-ingress-error-ratio' },
    summary: summary,
    description: '{{ $value | humanizePercentage }} of the requests to %s were answered with a 5xx ' % ingress
                 + 'over the last 5 minutes (threshold {{ %s | humanizePercentage }}); %s'
                   % [rules.param('threshold'), consequence],
    params: { threshold: threshold, minRequestsPerSecond: c.nginxMinRequestsPerSecond },
  }),

  prometheusRules+:: {
    groups+: [
      rules.group('nginx-recording', [
        rules.record(
          'ingress:nginx_ingress_controller_requests:rate5m',
          'sum %s (rate(nginx_ingress_controller_requests%s[5m]))' % [by(), selector()],
        ),
        rules.record(
          'ingress:nginx_ingress_controller_requests_errors:rate5m',
          'sum %s (rate(nginx_ingress_controller_requests%s[5m]))' % [by(), selector(['status=~"5.."'])],
        ),
        // 0 (not absent) for an ingress without any 5xx series.
        rules.record(
          'ingress:nginx_ingress_controller_requests_errors:ratio_rate5m',
          '(ingress:nginx_ingress_controller_requests_errors:rate5m or ingress:nginx_ingress_controller_requests:rate5m * 0)'
          + ' / ingress:nginx_ingress_controller_requests:rate5m',
        ),
        rules.record(
          'ingress_le:nginx_ingress_controller_request_duration_seconds_bucket:rate5m',
          'sum %s (rate(nginx_ingress_controller_request_duration_seconds_bucket%s[5m]))' % [by(['le']), selector()],
        ),
      ] + [
        rules.record(
          'ingress:nginx_ingress_controller_request_duration_seconds:p%s_rate5m' % q,
          'histogram_quantile(0.%s, ingress_le:nginx_ingress_controller_request_duration_seconds_bucket:rate5m)' % q,
        )
        for q in ['50', '95', '99']
      ]),
    ],
  },

  prometheusAlerts+:: {
    groups+: [
      rules.group('nginx-alerts', [
        errorAlert(
          'NginxIngressErrorRatioHigh',
          'warning',
          'P3',
          c.nginxErrorRatioWarningThreshold,
          'An ingress answers many requests with a server error.',
          'check the backend behind it.',
        ),
        errorAlert(
          'NginxIngressErrorRatioCritical',
          'critical',
          'P2',
          c.nginxErrorRatioCriticalThreshold,
          'An ingress answers a large share of requests with a server error.',
          'users of everything behind it see failures.',
        ),
        rules.alert(c, {
          name: 'NginxIngressLatencyP99High',
          expr: 'ingress:nginx_ingress_controller_request_duration_seconds:p99_rate5m > %s'
                % rules.param('thresholdSeconds') + busy,
          'for': '10m',
          severity: 'warning',
          priority: 'P3',
          labels: c.nginxLabels,
          summary: 'An ingress is slow for its slowest requests.',
          description: 'p99 latency of %s is {{ $value | humanizeDuration }} ' % ingress
                       + 'over the last 5 minutes (threshold {{ %s | humanizeDuration }}).'
                         % rules.param('thresholdSeconds'),
          params: {
            thresholdSeconds: c.nginxLatencyP99ThresholdSeconds,
            minRequestsPerSecond: c.nginxMinRequestsPerSecond,
          },
        }),
        rules.alert(c, {
          name: 'NginxIngressControllerDown',
          expr: 'up%s == 0' % selector(),
          'for': '5m',
          severity: 'warning',
          priority: 'P2',
          labels: c.nginxLabels,
          summary: 'An ingress-nginx controller pod cannot be scraped.',
          description: 'The ingress-nginx controller {{ $labels.instance }} (job {{ $labels.job }}) in %s ' % env
                       + 'does not answer scrapes; the other replicas carry its traffic, if there are any.',
        }),
        rules.alert(c, {
          name: 'NginxIngressAllControllersDown',
          expr: 'sum %s (up%s) == 0' % [rules.by(['job']), selector()],
          'for': '2m',
          severity: 'critical',
          priority: 'P1',
          labels: c.nginxLabels,
          summary: 'No ingress-nginx controller answers.',
          description: 'None of the ingress-nginx controllers (job {{ $labels.job }}) in %s can be scraped; ' % env
                       + 'the platform is most likely unreachable from outside the cluster.',
        }),
        rules.alert(c, {
          name: 'NginxIngressConfigReloadFailed',
          expr: 'nginx_ingress_controller_config_last_reload_successful%s == 0' % selector(),
          'for': '5m',
          severity: 'warning',
          priority: 'P3',
          labels: c.nginxLabels,
          summary: 'ingress-nginx failed to load its latest configuration.',
          description: 'The last configuration reload of ingress-nginx controller {{ $labels.controller_pod }} in %s failed; ' % env
                       + 'it keeps serving the previous configuration, so recent Ingress changes are not live.',
        }),
      ]),
    ],
  },

  // Infrastructure / Ingress (nginx); thresholds from _config above.
  dashboardFolder:: 'Infrastructure',
  grafanaDashboards+:: {
    'ingress-nginx.json': (import 'ingress-nginx.libsonnet')(c),
  },

  exporterMetrics:: {
    'ingress-nginx': [
      'nginx_ingress_controller_requests',
      'nginx_ingress_controller_request_duration_seconds_bucket',
      'nginx_ingress_controller_config_last_reload_successful',
      // Read by the Ingress dashboard only.
      'nginx_ingress_controller_nginx_process_connections',
    ],
    prometheus: ['up'],
  },
}

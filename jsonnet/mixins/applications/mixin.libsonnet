// Applications: the platform's own HTTP services, from the HTTP metrics contract every service
// exposes:
//   http_requests_total{service, method, route, status}            counter, status is the code ("503")
//   http_request_duration_seconds_bucket{service, method, route, le} histogram (+ _sum, _count)
// Recording rules aggregate per service (keeping cluster and environment) so alerts and
// dashboards read small, cheap series.
local config = import '../../lib/config.libsonnet';
local rules = import '../../lib/rules.libsonnet';

{
  _config+:: config {

    // Extra matchers ANDed into every selector on the raw HTTP metrics,
    // e.g. 'namespace=~"creativeflow-.*"'. Empty: every service exposing the contract.
    httpSelector: '',
    apiGatewayService: 'api-gateway',
    // Defaults of the declared alert parameters (overridable per environment in Helm values).
    apiGatewayErrorRatioThreshold: 0.05,
    apiGatewayLatencyP99ThresholdSeconds: 0.5,
  },

  local c = $._config,
  // `{a, b}` from the configured selector plus extra matchers; '' when there are none.
  local selector(extra=[]) =
    local m = std.filter(function(x) x != '', [c.httpSelector] + extra);
    if m == [] then '' else '{' + std.join(', ', m) + '}',
  local by(extra=[]) = 'by (' + std.join(', ', c.aggregationLabels + ['service'] + extra) + ')',

  prometheusRules+:: {
    groups+: [
      rules.group('applications-recording', [
        rules.record(
          'service:http_requests:rate5m',
          'sum %s (rate(http_requests_total%s[5m]))' % [by(), selector()],
        ),
        rules.record(
          'service:http_requests_errors:rate5m',
          'sum %s (rate(http_requests_total%s[5m]))' % [by(), selector(['status=~"5.."'])],
        ),
        // A service that never returned a 5xx has no errors series; `or ... * 0` makes its ratio
        // 0 instead of absent, so dashboards show 0% and absence means "no traffic".
        rules.record(
          'service:http_requests_errors:ratio_rate5m',
          '(service:http_requests_errors:rate5m or service:http_requests:rate5m * 0)'
          + ' / service:http_requests:rate5m',
        ),
        rules.record(
          'service_le:http_request_duration_seconds_bucket:rate5m',
          'sum %s (rate(http_request_duration_seconds_bucket%s[5m]))' % [by(['le']), selector()],
        ),
        rules.record(
          'service:http_request_duration_seconds:p99_rate5m',
          'histogram_quantile(0.99, service_le:http_request_duration_seconds_bucket:rate5m)',
        ),
      ]),
    ],
  },

  prometheusAlerts+:: {
    groups+: [
      rules.group('applications-alerts', [
        rules.alert(c, {
          name: 'ApiGatewayErrorRatioHigh',
          expr: 'service:http_requests_errors:ratio_rate5m{service="%s"} > %s'
                % [c.apiGatewayService, rules.param('threshold')],
          'for': '5m',
          severity: 'critical',
          priority: 'P1',
          labels: { service: c.apiGatewayService },
          summary: 'The API gateway answers too many requests with a server error.',
          description: '{{ $value | humanizePercentage }} of requests to {{ $labels.service }} in '
                       + '{{ $labels.environment }}/{{ $labels.cluster }} failed with a 5xx status '
                       + 'over the last 5 minutes (threshold {{ %s | humanizePercentage }}).'
                         % rules.param('threshold'),
          params: { threshold: c.apiGatewayErrorRatioThreshold },
        }),
        rules.alert(c, {
          name: 'ApiGatewayLatencyP99High',
          expr: 'service:http_request_duration_seconds:p99_rate5m{service="%s"} > %s'
                % [c.apiGatewayService, rules.param('thresholdSeconds')],
          'for': '10m',
          severity: 'warning',
          priority: 'P2',
          labels: { service: c.apiGatewayService },
          summary: 'The API gateway is slow for its slowest requests.',
          description: 'p99 latency of {{ $labels.service }} in '
                       + '{{ $labels.environment }}/{{ $labels.cluster }} is {{ $value | humanizeDuration }} '
                       + 'over the last 5 minutes (threshold {{ %s | humanizeDuration }}).'
                         % rules.param('thresholdSeconds'),
          params: { thresholdSeconds: c.apiGatewayLatencyP99ThresholdSeconds },
        }),
      ]),
    ],
  },

  grafanaDashboards+:: {},
}

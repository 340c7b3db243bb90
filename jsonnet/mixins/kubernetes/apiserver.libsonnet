// Kubernetes API server: availability and latency SLOs with multi-window multi-burn-rate alerts
// (lib/slo.libsonnet), client certificates about to expire, aggregated APIs failing, requests the
// server terminates to protect itself; and kube-state-metrics failing to list or watch. Joined to
// the kubernetes mixin with `+`.
// Prometheus 3 stores histogram `le` values as floats ("1.0"); matchers accept both spellings.
local slo = import '../../lib/slo.libsonnet';

{
  _config+:: {
    kubeStateMetricsTelemetrySelector: 'job="kube-state-metrics-telemetry"',
    kubeApiServerAvailabilityTarget: 0.999,
    kubeApiServerLatencyTarget: 0.99,
    kubeClientCertificateExpiringDays: 7,
    kubeClientCertificateExpiringCriticalDays: 1,
    kubeAggregatedApiErrorsThreshold: 4,  // unavailability events within 10 minutes
    kubeAggregatedApiDownThreshold: 0.15,  // unavailable share of the last 10 minutes
    kubeApiServerTerminatedRequestsThreshold: 0.2,  // terminated share of requests
    kubeStateMetricsErrorsThreshold: 0.01,  // failed share of list or watch calls
  },

  local c = $._config,
  local rules = (import '../../lib/rules.libsonnet')(c),
  local by = rules.by,
  local api = c.kubeApiServerSelector,
  local telemetry = c.kubeStateMetricsTelemetrySelector,
  local where = 'in {{ $labels.environment }}/{{ $labels.cluster }}',
  local alert(spec) = rules.alert(spec { labels+: { component: 'kubernetes' } }),
  local requests = api + ', verb!~"WATCH|CONNECT"',
  local sliCount(w, verbs) =
    'sum %s (rate(apiserver_request_sli_duration_seconds_count{%s, verb%s}[%s]))' % [by(), api, verbs, w],
  local sliBucket(w, verbs, le) =
    'sum %s (rate(apiserver_request_sli_duration_seconds_bucket{%s, verb%s, le=~"%s|%s.0"}[%s]))' % [by(), api, verbs, le, le, w],

  local availability = slo.new(c, {
    name: 'kube-apiserver-availability',
    alertName: 'KubeApiServerAvailability',
    title: 'Kubernetes API server availability',
    service: 'kube-apiserver',
    target: c.kubeApiServerAvailabilityTarget,
    what: 'API server requests answered without a server error',
    errorRate(w): 'sum %s (rate(apiserver_request_total{%s, code=~"5.."}[%s]))' % [by(), requests, w],
    totalRate(w): 'sum %s (rate(apiserver_request_total{%s}[%s]))' % [by(), requests, w],
    labels: { component: 'kubernetes' },
  }),
  // Slow: a single-object request above 1 s, a LIST above 30 s (the time the server itself spent,
  // webhooks and priority-and-fairness queueing excluded by the _sli_ histogram).
  local latency = slo.new(c, {
    name: 'kube-apiserver-latency',
    alertName: 'KubeApiServerLatency',
    title: 'Kubernetes API server latency',
    service: 'kube-apiserver',
    target: c.kubeApiServerLatencyTarget,
    what: 'API server requests answered within 1 s (30 s for LIST)',
    errorRate(w): '(%s - %s) + (%s - %s)' % [
      sliCount(w, '!~"LIST|WATCH|CONNECT"'),
      sliBucket(w, '!~"LIST|WATCH|CONNECT"', '1'),
      sliCount(w, '="LIST"'),
      sliBucket(w, '="LIST"', '30'),
    ],
    totalRate(w): sliCount(w, '!~"WATCH|CONNECT"'),
    labels: { component: 'kubernetes' },
  }),

  local certificate(level) = alert({
    name: 'KubeClientCertificate' + level.suffix,
    expr: 'histogram_quantile(0.01, sum %s (rate(apiserver_client_certificate_expiration_seconds_bucket{%s}[5m])))'
          % [by(['le']), api]
          + ' < %s * 86400' % rules.param('days'),
    'for': level['for'],
    severity: level.severity,
    priority: level.priority,
    labels: { symptom: 'kube-client-certificate-expiry' },
    summary: level.summary,
    description: 'A client certificate used against the API server ' + where + ' expires in '
                 + '{{ $value | humanizeDuration }} (first percentile of the certificates seen in the last 5 minutes; '
                 + 'threshold %s days).' % rules.param('days'),
    params: { days: level.days },
  }),

  prometheusRules+:: {
    groups+: [availability.recordingGroup, latency.recordingGroup],
  },

  prometheusAlerts+:: {
    groups+: [
      rules.group('kubernetes-alerts-apiserver-slo', availability.alerts + latency.alerts),
      rules.group('kubernetes-alerts-apiserver-health', [
        certificate({ suffix: 'ExpiringSoon', 'for': '15m', severity: 'warning', priority: 'P3', days: c.kubeClientCertificateExpiringDays, summary: 'A Kubernetes client certificate expires soon.' }),
        certificate({ suffix: 'ExpiringCritical', 'for': '5m', severity: 'critical', priority: 'P2', days: c.kubeClientCertificateExpiringCriticalDays, summary: 'A Kubernetes client certificate is about to expire.' }),
        alert({
          name: 'KubeAggregatedApiErrors',
          expr: 'sum %s (increase(aggregator_unavailable_apiservice_total{%s}[10m])) > %s'
                % [by(['name']), api, rules.param('threshold')],
          'for': '10m',
          severity: 'warning',
          priority: 'P3',
          summary: 'An aggregated API keeps becoming unavailable.',
          description: 'Aggregated API {{ $labels.name }} ' + where + ' was reported unavailable {{ $value | humanize }} '
                       + 'times in the last 10 minutes (threshold %s).' % rules.param('threshold'),
          params: { threshold: c.kubeAggregatedApiErrorsThreshold },
        }),
        alert({
          name: 'KubeAggregatedApiDown',
          expr: 'max %s (avg_over_time(aggregator_unavailable_apiservice{%s}[10m])) > %s'
                % [by(['name']), api, rules.param('threshold')],
          'for': '5m',
          severity: 'warning',
          priority: 'P3',
          summary: 'An aggregated API is down.',
          description: 'Aggregated API {{ $labels.name }} ' + where + ' was unavailable {{ $value | humanizePercentage }} '
                       + 'of the last 10 minutes (threshold {{ %s | humanizePercentage }}); kubectl and controllers '
                         % rules.param('threshold')
                       + 'using it (metrics.k8s.io: autoscaling) fail.',
          params: { threshold: c.kubeAggregatedApiDownThreshold },
        }),
        alert({
          name: 'KubeApiServerTerminatedRequests',
          expr: 'sum %s (rate(apiserver_request_terminations_total{%s}[10m]))' % [by(), api]
                + ' / (sum %s (rate(apiserver_request_total{%s}[10m])) + sum %s (rate(apiserver_request_terminations_total{%s}[10m]))) > %s'
                  % [by(), api, by(), api, rules.param('threshold')],
          'for': '5m',
          severity: 'warning',
          priority: 'P3',
          summary: 'The Kubernetes API server terminates many incoming requests.',
          description: 'The API server ' + where + ' terminated {{ $value | humanizePercentage }} of its requests over '
                       + 'the last 10 minutes to protect itself (threshold {{ %s | humanizePercentage }}).' % rules.param('threshold'),
          params: { threshold: c.kubeApiServerTerminatedRequestsThreshold },
        }),
      ] + [
        alert({
          name: 'KubeStateMetrics%sErrors' % kind,
          expr: 'sum %s (rate(kube_state_metrics_%s_total{%s, result="error"}[5m]))' % [by(), std.asciiLower(kind), telemetry]
                + ' / sum %s (rate(kube_state_metrics_%s_total{%s}[5m])) > %s' % [by(), std.asciiLower(kind), telemetry, rules.param('threshold')],
          'for': '15m',
          severity: 'critical',
          priority: 'P2',
          summary: 'kube-state-metrics fails to %s Kubernetes objects.' % std.asciiLower(kind),
          description: '{{ $value | humanizePercentage }} of the %s calls of kube-state-metrics ' % std.asciiLower(kind) + where
                       + ' failed over the last 5 minutes (threshold {{ %s | humanizePercentage }}); the object state it exports is stale.'
                         % rules.param('threshold'),
          params: { threshold: c.kubeStateMetricsErrorsThreshold },
        })
        for kind in ['List', 'Watch']
      ]),
    ],
  },

  exporterMetrics+:: {
    'kube-apiserver'+: [
      'aggregator_unavailable_apiservice',
      'aggregator_unavailable_apiservice_total',
      'apiserver_client_certificate_expiration_seconds_bucket',
      'apiserver_request_sli_duration_seconds_bucket',
      'apiserver_request_sli_duration_seconds_count',
      'apiserver_request_terminations_total',
    ],
    'kube-state-metrics'+: ['kube_state_metrics_list_total', 'kube_state_metrics_watch_total'],
  },
}

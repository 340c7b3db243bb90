// Kubernetes DNS: CoreDNS down, answering with server failures, slow, or failing to reach its
// upstream resolvers (the forward plugin). Scraped by the prometheus subchart's `coredns` job.
// Joined to the kubernetes mixin with `+`.

{
  _config+:: {
    corednsSelector: 'job="coredns"',
    corednsErrorsThreshold: 0.03,  // SERVFAIL share of responses
    corednsLatencyThresholdSeconds: 1,  // p99 of request durations
    corednsForwardErrorsThreshold: 0.03,  // SERVFAIL share of upstream responses
  },

  local c = $._config,
  local rules = (import '../../lib/rules.libsonnet')(c),
  local by = rules.by,
  local dns = c.corednsSelector,
  local where = 'in {{ $labels.environment }}/{{ $labels.cluster }}',
  local alert(spec) = rules.alert(spec { labels+: { component: 'coredns' } }),
  local servfail(metric, extra=[]) =
    'sum %s (rate(%s{%s, rcode="SERVFAIL"}[5m])) / sum %s (rate(%s{%s}[5m]))' % [by(extra), metric, dns, by(extra), metric, dns],

  prometheusRules+:: {
    groups+: [
      rules.group('kubernetes-recording-coredns', [
        rules.record('cluster:coredns_dns_responses_servfail:ratio_rate5m', servfail('coredns_dns_responses_total')),
        rules.record('cluster:coredns_forward_responses_servfail:ratio_rate5m', servfail('coredns_forward_responses_total')),
        rules.record(
          'cluster:coredns_dns_request_duration_seconds:p99_rate5m',
          'histogram_quantile(0.99, sum %s (rate(coredns_dns_request_duration_seconds_bucket{%s}[5m])))' % [by(['le']), dns],
        ),
      ]),
    ],
  },

  prometheusAlerts+:: {
    groups+: [
      rules.group('kubernetes-alerts-coredns', [
        alert({
          name: 'CoreDnsDown',
          expr: 'max %s (up{%s}) == 0' % [by(), dns]
                + ' or (group %s (up{%s}) * 0 unless %s group %s (up{%s}))'
                  % [by(), c.kubeletSelector, rules.on(), by(), dns],
          'for': '15m',
          severity: 'critical',
          priority: 'P2',
          summary: 'CoreDNS is down.',
          description: 'No CoreDNS target ' + where + ' is up (none answers, or none is discovered): '
                       + 'in-cluster name resolution is failing.',
        }),
        alert({
          name: 'CoreDnsErrorsHigh',
          expr: 'cluster:coredns_dns_responses_servfail:ratio_rate5m > %s' % rules.param('threshold'),
          'for': '10m',
          severity: 'warning',
          priority: 'P3',
          summary: 'CoreDNS answers many queries with SERVFAIL.',
          description: '{{ $value | humanizePercentage }} of the DNS answers of CoreDNS ' + where + ' over the last '
                       + '5 minutes were SERVFAIL (threshold {{ %s | humanizePercentage }}).' % rules.param('threshold'),
          params: { threshold: c.corednsErrorsThreshold },
        }),
        alert({
          name: 'CoreDnsLatencyHigh',
          expr: 'cluster:coredns_dns_request_duration_seconds:p99_rate5m > %s' % rules.param('thresholdSeconds'),
          'for': '10m',
          severity: 'warning',
          priority: 'P3',
          summary: 'CoreDNS is slow.',
          description: 'The 99th percentile of DNS request durations of CoreDNS ' + where + ' is '
                       + '{{ $value | humanizeDuration }} (threshold %s s).' % rules.param('thresholdSeconds'),
          params: { thresholdSeconds: c.corednsLatencyThresholdSeconds },
        }),
        alert({
          name: 'CoreDnsForwardErrorsHigh',
          expr: 'cluster:coredns_forward_responses_servfail:ratio_rate5m > %s' % rules.param('threshold'),
          'for': '10m',
          severity: 'warning',
          priority: 'P3',
          summary: 'The upstream resolvers of CoreDNS answer with SERVFAIL.',
          description: '{{ $value | humanizePercentage }} of the answers CoreDNS ' + where + ' got from its upstream '
                       + 'resolvers over the last 5 minutes were SERVFAIL (threshold {{ %s | humanizePercentage }}): '
                         % rules.param('threshold')
                       + 'external names fail to resolve.',
          params: { threshold: c.corednsForwardErrorsThreshold },
        }),
      ]),
    ],
  },

  exporterMetrics+:: {
    coredns: [
      'coredns_dns_request_duration_seconds_bucket',
      'coredns_dns_requests_total',
      'coredns_dns_responses_total',
      'coredns_forward_requests_total',
      'coredns_forward_responses_total',
    ],
    prometheus+: ['up'],
  },
}

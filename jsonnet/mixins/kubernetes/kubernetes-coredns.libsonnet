// Infrastructure / Kubernetes CoreDNS: the cluster's DNS per CoreDNS pod: requests by type and
// pod, response codes, SERVFAIL share and p99 latency against the alert lines, the upstream
// resolvers (forwarded requests, their SERVFAILs, broken health checks) and panics. The
// API server dashboard keeps a CoreDNS summary row; this is the detail. Panels name the alerts of
// coredns.libsonnet; thresholds are their parameters' defaults.

function(c)
  local d = (import '../../lib/dashboards.libsonnet')(c);
  local s = d.selector();
  local dns(extra=[]) = d.selector([c.corednsSelector] + extra);
  local rate(metric, by, extra=[]) = 'sum by (%s) (rate(%s%s[$__rate_interval]))' % [by, metric, dns(extra)];

  local q = {
    up: d.target('sum (up%s)' % dns(), 'up'),
    byType: d.target(rate('coredns_dns_requests_total', 'type'), '{{type}}'),
    byPod: d.target(rate('coredns_dns_requests_total', 'instance'), '{{instance}}'),
    rcodes: d.target(rate('coredns_dns_responses_total', 'rcode'), '{{rcode}}'),
    servfail: d.target('cluster:coredns_dns_responses_servfail:ratio_rate5m%s' % s, 'SERVFAIL'),
    latency: d.target('cluster:coredns_dns_request_duration_seconds:p99_rate5m%s' % s, 'p99'),
    forward: d.target(rate('coredns_forward_requests_total', 'to'), '{{to}}'),
    forwardServfail: d.target('cluster:coredns_forward_responses_servfail:ratio_rate5m%s' % s, 'upstream SERVFAIL'),
    broken: d.target(
      'sum (increase(coredns_forward_healthcheck_broken_total%s[$__rate_interval])) or vector(0)' % dns(), 'all upstreams unhealthy'
    ),
    panics: d.target('sum by (instance) (increase(coredns_panics_total%s[$__rate_interval]))' % dns(), '{{instance}}'),
  };

  local p = {
    up: d.upStat('CoreDNS targets up', 'CoreDNS pods answering scrapes. Good: every replica.', [q.up], alerts=['CoreDnsDown']),
    byType: d.timeseries('Requests by type', 'Queries per second by record type. Good: steady; AAAA next to A is normal.', 'reqps', [q.byType], min=0, stack=true),
    byPod: d.timeseries('Requests by pod', 'Queries per second each CoreDNS pod answers. Good: spread evenly over the replicas.', 'reqps', [q.byPod], min=0),
    rcodes: d.timeseries('Responses by code', 'Answers per second by response code. Good: NOERROR and NXDOMAIN (search-path misses) dominate.', 'reqps', [q.rcodes], min=0, stack=true),
    servfail: d.timeseries(
      'SERVFAIL share',
      'Share of the answers that are SERVFAIL. Good: near 0, below the line.',
      'percentunit',
      [q.servfail],
      thresholds=d.above([c.corednsErrorsThreshold]),
      alerts=['CoreDnsErrorsHigh'],
      min=0,
    ),
    latency: d.timeseries(
      'Latency p99',
      '99th percentile of the time CoreDNS takes to answer. Good: milliseconds, below the line.',
      's',
      [q.latency],
      thresholds=d.above([c.corednsLatencyThresholdSeconds]),
      alerts=['CoreDnsLatencyHigh'],
      min=0,
    ),
    forward: d.timeseries('Forwarded requests by upstream', 'Queries per second sent to each upstream resolver (names outside the cluster). Good: steady.', 'reqps', [q.forward], min=0),
    forwardServfail: d.timeseries(
      'Upstream SERVFAIL share',
      'Share of the upstream answers that are SERVFAIL. Good: near 0, below the line.',
      'percentunit',
      [q.forwardServfail],
      thresholds=d.above([c.corednsForwardErrorsThreshold]),
      alerts=['CoreDnsForwardErrorsHigh'],
      min=0,
    ),
    broken: d.timeseries('Upstreams all unhealthy', 'Times every upstream failed its health check at once (CoreDNS then tries them at random). Good: 0.', 'short', [q.broken], thresholds=d.countBad, min=0),
    panics: d.timeseries('Panics', 'CoreDNS panics per pod (the pod recovers, the query fails). Good: 0.', 'short', [q.panics], thresholds=d.countBad, min=0),
  };

  d.withNeighbours(
    d.dashboard({
      uid: 'kubernetes-coredns',
      title: 'Infrastructure / Kubernetes CoreDNS',
      tags: ['infrastructure', 'kubernetes'],
      description: 'Is cluster DNS answering? Requests by type and pod, response codes, SERVFAILs and latency against '
                   + 'the alert lines, the upstream resolvers and panics.',
      panels: d.layout([
        d.row('Requests'),
        [[p.up, 4], p.byType, p.byPod, p.rcodes],
        d.row('Errors and latency'),
        [p.servfail, p.latency, p.panics],
        d.row('Upstream resolvers'),
        [p.forward, p.forwardServfail, p.broken],
      ]),
    }),
    [d.neighbour('kubernetes-apiserver', 'Kubernetes API server and DNS')],
  )

// Infrastructure / Kubernetes API server and DNS: the API server's availability and latency SLOs
// (error ratios over the burn-rate windows, budget left), requests, terminations, client
// certificates and aggregated APIs; kube-state-metrics' list/watch errors; CoreDNS answers,
// errors, latency and upstream health. Panels name the alerts of apiserver.libsonnet and
// coredns.libsonnet; thresholds are their parameters' defaults.
local sloLib = import '../../lib/slo.libsonnet';

function(c)
  local d = (import '../../lib/dashboards.libsonnet')(c);
  local s = d.selector();
  local api(extra=[]) = d.selector([c.kubeApiServerSelector] + extra);
  local dns(extra=[]) = d.selector([c.corednsSelector] + extra);
  local slo(name, extra=[]) = d.selector(['slo="%s"' % name] + extra);
  // Burn rate over each window: error ratio / error budget (1 spends the budget in exactly 30 days).
  local burn(name, target) = [
    d.target('slo:sli_error:ratio_rate%s%s / %g' % [w, slo(name), 1 - target], w)
    for w in ['5m', '1h', '6h', '1d']
  ];
  // A line per burn-rate factor of the SLO alerts (slow ticket 1 and 3, fast page 6 and 14.4).
  local burnLines = d.steps('green', [
    [f, ['yellow', 'orange', 'red', 'dark-red'][i]]
    for factors in [std.set([sloLib.fast[k][0] for k in std.objectFields(sloLib.fast)] + [sloLib.slow[k][0] for k in std.objectFields(sloLib.slow)])]
    for i in std.range(0, std.length(factors) - 1)
    for f in [factors[i]]
  ]);

  local q = {
    budgetAvailability: d.target('slo:error_budget_remaining:ratio_rate30d%s' % slo('kube-apiserver-availability'), 'availability'),
    budgetLatency: d.target('slo:error_budget_remaining:ratio_rate30d%s' % slo('kube-apiserver-latency'), 'latency'),
    // Requests and terminations are recorded as 5m rates (dashboard-rules.libsonnet, mixin.libsonnet)
    // instead of rates over $__rate_interval (about 1m over the default 6 hours): still requests per
    // second by code and still the terminated share, only smoothed over 5 minutes, as the SLO
    // panels and the alerts see them (a burst shows lower and longer).
    byCode: d.target('sum by (code) (code:apiserver_request:rate5m%s)' % s, '{{code}}'),
    terminated: d.target(
      'sum (cluster:apiserver_request_terminations:rate5m%s) / (sum (cluster:apiserver_request:rate5m%s) + sum (cluster:apiserver_request_terminations:rate5m%s))'
      % [s, s, s],
      'terminated'
    ),
    certs: d.target(
      'histogram_quantile(0.01, sum by (le) (rate(apiserver_client_certificate_expiration_seconds_bucket%s[$__rate_interval]))) / 86400' % api(),
      'first percentile'
    ),
    aggregatedErrors: d.target('sum by (name) (rate(aggregator_unavailable_apiservice_total%s[$__rate_interval])) * 600' % api(), '{{name}}'),
    aggregatedDown: d.target('max by (name) (aggregator_unavailable_apiservice%s)' % api(), '{{name}}'),
    ksmList: d.target(
      'sum (rate(kube_state_metrics_list_total%s[$__rate_interval])) / sum (rate(kube_state_metrics_list_total%s[$__rate_interval]))'
      % [d.selector([c.kubeStateMetricsTelemetrySelector, 'result="error"']), d.selector([c.kubeStateMetricsTelemetrySelector])],
      'list'
    ),
    ksmWatch: d.target(
      'sum (rate(kube_state_metrics_watch_total%s[$__rate_interval])) / sum (rate(kube_state_metrics_watch_total%s[$__rate_interval]))'
      % [d.selector([c.kubeStateMetricsTelemetrySelector, 'result="error"']), d.selector([c.kubeStateMetricsTelemetrySelector])],
      'watch'
    ),
    dnsUp: d.target('sum (up%s)' % dns(), 'up'),
    dnsRequests: d.target('sum by (type) (rate(coredns_dns_requests_total%s[$__rate_interval]))' % dns(), '{{type}}'),
    dnsRcodes: d.target('sum by (rcode) (rate(coredns_dns_responses_total%s[$__rate_interval]))' % dns(), '{{rcode}}'),
    dnsServfail: d.target('cluster:coredns_dns_responses_servfail:ratio_rate5m%s' % s, 'SERVFAIL'),
    dnsLatency: d.target('cluster:coredns_dns_request_duration_seconds:p99_rate5m%s' % s, 'p99'),
    forwardServfail: d.target('cluster:coredns_forward_responses_servfail:ratio_rate5m%s' % s, 'upstream SERVFAIL'),
    forwardRequests: d.target('sum by (to) (rate(coredns_forward_requests_total%s[$__rate_interval]))' % dns(), '{{to}}'),
  };

  local p = {
    availability: d.timeseries(
      'Availability SLO: burn rate by window',
      'How fast 5xx answers spend the 30-day error budget, over the burn-rate windows (1 = exactly the budget). Good: below 1; the alerts need a long and a short window above the same line together.',
      'short',
      burn('kube-apiserver-availability', c.kubeApiServerAvailabilityTarget),
      thresholds=burnLines,
      alerts=['KubeApiServerAvailabilityBudgetBurnFast', 'KubeApiServerAvailabilityBudgetBurnSlow'],
      min=0,
    ),
    latency: d.timeseries(
      'Latency SLO: burn rate by window',
      'How fast requests slower than 1 s (LIST: 30 s) spend the 30-day error budget, over the burn-rate windows. Good: below 1.',
      'short',
      burn('kube-apiserver-latency', c.kubeApiServerLatencyTarget),
      thresholds=burnLines,
      alerts=['KubeApiServerLatencyBudgetBurnFast', 'KubeApiServerLatencyBudgetBurnSlow'],
      min=0,
    ),
    budget: d.timeseries(
      'Error budget left (30 days)',
      'Share of the 30-day error budget of each SLO still unspent. Good: above 0; below 0 the objective is missed.',
      'percentunit',
      [q.budgetAvailability, q.budgetLatency],
      max=1,
    ),
    byCode: d.timeseries('Requests by code', 'API requests per second by HTTP code. Good: 2xx dominate; 5xx near 0.', 'reqps', [q.byCode], min=0, stack=true),
    terminated: d.timeseries(
      'Terminated requests',
      'Share of requests the API server terminated (priority and fairness shedding, timeouts). Good: near 0; above the line it protects itself from overload.',
      'percentunit',
      [q.terminated],
      thresholds=d.above([c.kubeApiServerTerminatedRequestsThreshold]),
      alerts=['KubeApiServerTerminatedRequests'],
      min=0,
    ),
    certs: d.timeseries(
      'Client certificates: days left (first percentile)',
      'Days until the soonest-expiring client certificates seen by the API server expire. Good: far above the lines.',
      'short',
      [q.certs],
      thresholds=d.below([c.kubeClientCertificateExpiringCriticalDays, c.kubeClientCertificateExpiringDays]),
      alerts=['KubeClientCertificateExpiringSoon', 'KubeClientCertificateExpiringCritical'],
      min=0,
    ),
    aggregatedErrors: d.timeseries(
      'Aggregated APIs: unavailability events per 10 minutes',
      'How often each aggregated API is reported unavailable, as a count per 10 minutes at the current rate. Good: 0.',
      'short',
      [q.aggregatedErrors],
      thresholds=d.above([c.kubeAggregatedApiErrorsThreshold]),
      alerts=['KubeAggregatedApiErrors'],
      min=0,
    ),
    aggregatedDown: d.timeseries(
      'Aggregated APIs: unavailable',
      'Aggregated APIs the API server currently considers unavailable (1). Good: 0.',
      'short',
      [q.aggregatedDown],
      thresholds=d.above([c.kubeAggregatedApiDownThreshold]),
      alerts=['KubeAggregatedApiDown'],
      min=0,
      max=1,
    ),
    ksm: d.timeseries(
      'kube-state-metrics: failed list and watch calls',
      'Failed share of the list and watch calls kube-state-metrics makes. Good: 0; above the line its data goes stale.',
      'percentunit',
      [q.ksmList, q.ksmWatch],
      thresholds=d.above([c.kubeStateMetricsErrorsThreshold]),
      alerts=['KubeStateMetricsListErrors', 'KubeStateMetricsWatchErrors'],
      min=0,
    ),
    dnsUp: d.upStat('CoreDNS targets up', 'CoreDNS pods answering scrapes. Good: every replica.', [q.dnsUp], alerts=['CoreDnsDown']),
    dnsRequests: d.timeseries('DNS requests by type', 'Queries per second CoreDNS answers, by record type. Good: steady.', 'reqps', [q.dnsRequests], min=0, stack=true),
    dnsRcodes: d.timeseries('DNS responses by code', 'Answers per second by response code. Good: NOERROR and NXDOMAIN (search-path misses) dominate.', 'reqps', [q.dnsRcodes], min=0, stack=true),
    dnsServfail: d.timeseries(
      'DNS SERVFAIL ratio',
      'Share of answers that are SERVFAIL. Good: near 0, below the line.',
      'percentunit',
      [q.dnsServfail],
      thresholds=d.above([c.corednsErrorsThreshold]),
      alerts=['CoreDnsErrorsHigh'],
      min=0,
    ),
    dnsLatency: d.timeseries(
      'DNS latency (p99)',
      '99th percentile of the time CoreDNS takes to answer. Good: milliseconds; cluster names are answered from memory.',
      's',
      [q.dnsLatency],
      thresholds=d.above([c.corednsLatencyThresholdSeconds]),
      alerts=['CoreDnsLatencyHigh'],
      min=0,
    ),
    forward: d.timeseries(
      'Upstream: SERVFAIL ratio',
      'Share of the answers from the upstream resolvers that are SERVFAIL. Good: near 0.',
      'percentunit',
      [q.forwardServfail],
      thresholds=d.above([c.corednsForwardErrorsThreshold]),
      alerts=['CoreDnsForwardErrorsHigh'],
      min=0,
    ),
    forwardRequests: d.timeseries('Upstream: requests by resolver', 'Queries per second CoreDNS forwards to each upstream resolver. Good: spread over the resolvers.', 'reqps', [q.forwardRequests], min=0),
  };

  d.withNeighbours(
    d.dashboard({
      uid: 'kubernetes-apiserver',
      title: 'Infrastructure / Kubernetes API server and DNS',
      tags: ['infrastructure', 'kubernetes'],
      description: 'Is the control plane serving? API server availability and latency SLOs, requests, terminations, client '
                   + 'certificates and aggregated APIs; kube-state-metrics errors; CoreDNS answers, errors, latency and upstreams.',
      panels: d.layout([
        d.row('API server SLOs'),
        [p.availability, p.latency, p.budget],
        d.row('API server'),
        [p.byCode, p.terminated, p.certs],
        [p.aggregatedErrors, p.aggregatedDown, p.ksm],
        d.row('CoreDNS'),
        [[p.dnsUp, 4], p.dnsRequests, p.dnsRcodes],
        [p.dnsServfail, p.dnsLatency, p.forward, p.forwardRequests],
      ]),
    }),
    [d.neighbour('kubernetes-cluster', 'Kubernetes cluster')],
  )

// Applications / Performance: RED (rate, errors, duration) per service, with a `service`
// variable, then the signals of the services with their own alerts (API gateway, Odoo, n8n,
// auth, billing, collaboration, notifications). Reads the applications mixin's recording rules;
// thresholds are the mixin's `_config` (`c`), the defaults of its alerts' parameters.

function(c)
  local d = (import '../../lib/dashboards.libsonnet')(c);
  // Queries and panels live in application-performance/ (queries.libsonnet, panels.libsonnet); this file lays them out.
  local p = (import 'application-performance/panels.libsonnet')(c);

  d.dashboard({
    uid: 'application-performance',
    title: 'Applications / Performance',
    tags: ['applications', 'red'],
    description: 'Rate, errors and duration of every CreativeFlow service (the `service` variable), then the '
                 + 'signals of the API gateway, Odoo, n8n, auth, billing, collaboration and notifications. '
                 + 'Dashed lines are the alert thresholds (Jsonnet defaults; an environment may override them in Helm values).',
    refresh: '30s',
    time: 'now-3h',
    variables: [d.variable('service', 'Service', 'service:http_requests:rate5m')],
    panels: d.layout([
      d.row('Selected services'),
      d.height(4, [p.rateTotal, p.errorRatioTotal, p.p99Max]),
      [p.rate, p.errorRatio],
      [p.latency, p.heatmap],
      d.row('API gateway and Odoo'),
      [p.gatewayP99, p.gatewayErrors],
      [p.odooLatency, p.odooErrors, p.odooJobs],
      d.row('n8n workflows'),
      [p.n8nRate, p.n8nFailures, p.n8nOldest],
      d.row('Auth and billing'),
      [p.authRate, p.authFailures],
      [p.billingErrors, p.subscriptionErrors],
      d.row('Collaboration and notifications'),
      [p.collaborationLatency, p.collaborationSessions],
      [p.notificationQueue, p.notificationFailures],
    ]),
  })

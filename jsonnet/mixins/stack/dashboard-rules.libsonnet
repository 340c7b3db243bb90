// Recording rules that the Stack / Prometheus and Alertmanager dashboard reads instead of counting
// every scrape target's `up` series at each step of the range (a series per target, about a
// thousand in production). Joined to the stack mixin with `+`.
{
  local c = $._config,
  local rules = (import '../../lib/rules.libsonnet')(c),
  local by = rules.by,

  prometheusRules+:: {
    groups+: [
      // Stack / Prometheus and Alertmanager: the share of each scrape job's targets that are down.
      rules.group('stack-recording-prometheus-dashboard', [
        // Targets of each job, and those of them up (`up` is 1 or 0, so the difference is the
        // targets down, and 0 rather than absent when none is).
        rules.record('job:up:count', 'count %s (up)' % by(['job'])),
        rules.record('job:up:sum', 'sum %s (up)' % by(['job'])),
      ]),
    ],
  },
}

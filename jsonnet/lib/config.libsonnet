// Settings every mixin shares. A mixin starts its _config from these (`_config+:: config {...}`)
// and builds its helpers from that _config (`(import '../../lib/rules.libsonnet')(c)`, likewise
// dashboards.libsonnet), so a change here, or in one mixin's _config, reaches every rule and panel.
{
  // Alerts link docs/runbooks/<AlertName>.md here (cfmon's alerts/runbook-url check expects it).
  runbookBaseUrl: 'https://github.com/creativeflow-ai/creativeflow-monitoring/blob/main/docs/runbooks',
  // Labels every aggregation keeps, so one Prometheus (or a federated/remote-write one) can hold
  // several clusters and environments without mixing them (checked by rules/aggregation-labels).
  aggregationLabels: ['cluster', 'environment'],
  // How often a group of recording rules is evaluated (alert groups use the global evaluation
  // interval, 15 s). The records aggregate 5-minute (or longer) windows, so a value 30 s old
  // differs little from a fresh one, while evaluating them half as often halves the largest part
  // of Prometheus' rule CPU: the raw histogram buckets and per-CPU counters they read.
  // A group that gives its own interval keeps it.
  recordingInterval: '30s',
}

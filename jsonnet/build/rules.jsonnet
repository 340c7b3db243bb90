// Entry point of `cfmon generate` for Prometheus rules: { <path from repo root>: <content> }.
// The CLI serialises each value by file extension, adds the generated header and sorts keys.
local main = import '../main.libsonnet';

local files = 'charts/creativeflow-monitoring/charts/prometheus/files/';

{
  [files + 'rules/' + name]: main.ruleFiles[name]
  for name in std.objectFields(main.ruleFiles)
} + {
  [files + 'alert-params.yaml']: main.alertParams,
  [files + 'longterm-tiers.yaml']: main.longterm,
  // The same facts for the long-term store (its retention must cover every tier).
  'charts/creativeflow-monitoring/charts/victoria-metrics/files/longterm-tiers.yaml': main.longterm,
}

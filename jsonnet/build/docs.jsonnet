// Entry point of `cfmon generate` for reference docs that depend only on Jsonnet:
// docs/metrics.md, the metrics contract and the exporter metrics the rules read.
// (docs/alerts.md depends on each environment's values, so `cfmon docs` writes it from the renders.)
local main = import '../main.libsonnet';

local app = main.metrics.application;
local exporters = main.metrics.exporters;
local cell(s) = std.strReplace(s, '|', '\\|');
local code(xs) = std.join(', ', ['`%s`' % x for x in xs]);

local contractTable = [
  '| metric | type | unit | labels | source | what it measures | replaces |',
  '|---|---|---|---|---|---|---|',
] + [
  '| `%s` | %s | %s | %s | %s | %s | %s |' % [
    name,
    app[name].type,
    app[name].unit,
    code(app[name].labels),
    app[name].source,
    cell(app[name].help),
    if std.objectHas(app[name], 'replaces') then app[name].replaces else '',
  ]
  for name in std.objectFields(app)
];

local exporterSections = std.flattenArrays([
  ['', '### %s' % e, '', code(exporters[e])]
  for e in std.objectFields(exporters)
]);

{
  'docs/metrics.md': std.join('\n', [
    '# Metrics contract',
    '',
    'The metrics the rules and dashboards read. Source: `jsonnet/lib/metrics.libsonnet` (the',
    "application contract) and each mixin's `exporterMetrics`. `cfmon check` (rules/metrics-known)",
    'fails when a rule reads a metric that is in neither.',
    '',
    '## Application metrics (the contract every service implements)',
    '',
    'Every series also carries the scrape-time labels `cluster`, `environment`, `namespace`, `pod`',
    "and `service` (the pod's `app.kubernetes.io/name`). Histograms expose `_bucket`, `_sum` and",
    '`_count`; durations are in seconds.',
    '',
  ] + contractTable + [
    '',
    '## Exporter metrics the rules read',
  ] + exporterSections) + '\n',
}

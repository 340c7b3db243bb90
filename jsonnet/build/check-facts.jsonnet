// Entry point of `cfmon generate` for the facts `cfmon check` needs from Jsonnet, so no check
// evaluates Jsonnet: the metrics catalog (series names rules and panels may read), the exporter
// counters without a counter suffix, and the application metrics contract (the platform's
// services' exporter sample for conformance/selectors), and the conventions the Jsonnet owns and
// the checks verify (aggregation labels, runbook base URL and link title, dashboard grid width,
// tag, first variables and datasource types, relabel actions).
// Written under jsonnet/generated/, which the chart does not ship.
local config = import '../lib/config.libsonnet';
local dashboards = (import '../lib/dashboards.libsonnet')(config);
local relabel = import '../lib/relabel.libsonnet';

{
  'jsonnet/generated/metrics-catalog.json': { metrics: import '../metrics-catalog.jsonnet' },
  'jsonnet/generated/metrics-counters.json': { counters: import '../metrics-counters.jsonnet' },
  'jsonnet/generated/metrics-contract.json': { contract: import '../metrics-contract.jsonnet' },
  'jsonnet/generated/conventions.json': {
    aggregationLabels: config.aggregationLabels,
    runbookBaseUrl: config.runbookBaseUrl,
    gridColumns: dashboards.gridWidth,
    dashboardTag: dashboards.grafanaTag,
    runbookLinkPrefix: dashboards.runbookLinkPrefix,
    dashboardVariables: dashboards.standardVariableNames,
    datasourceTypes: dashboards.datasourceTypes,
    relabelActions: relabel.actions,
  },
}

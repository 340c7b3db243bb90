// Entry point of `cfmon generate` for the facts `cfmon check` needs from Jsonnet, so no check
// evaluates Jsonnet: the metrics catalog (series names rules and panels may read), the exporter
// counters without a counter suffix, and the application metrics contract (the platform's
// services' exporter sample for conformance/selectors). Written under jsonnet/generated/, which
// the chart does not ship.
{
  'jsonnet/generated/metrics-catalog.json': { metrics: import '../metrics-catalog.jsonnet' },
  'jsonnet/generated/metrics-counters.json': { counters: import '../metrics-counters.jsonnet' },
  'jsonnet/generated/metrics-contract.json': { contract: import '../metrics-contract.jsonnet' },
}

"""Readers of a render: what ships, read from build/rendered/<env>/ (the chart's objects) and never
from the Jsonnet sources. Checks, docs, golden, sandbox, preview, conformance and the benchmarks
read the render through these modules only:

- `rules`: Prometheus rule groups, rules and alerts, with the mixin each rule file comes from and
  the Grafana URLs the alerts' dashboard_url links start with;
- `prometheus`: the Prometheus pod's config, its mounted files and the rule files it loads;
- `grafana`: dashboards, panels, targets and template variables, and the URL Grafana serves at;
- `alertmanager`: the Alertmanager pod's mounted files (alertmanager.yml and its templates);
- `loki`: loki.yaml of the loki subchart, parsed;
- `logagents`: the log agent's (Promtail or Alloy) config text.
"""

"""`dashboards/metrics-known`: Every metric a dashboard reads is in the metrics contract, an exporter
list or a recording rule.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

from cfmon import promql
from cfmon.catalog import CONTRACT, catalog
from cfmon.checks.base import Context, Finding
from cfmon.checks.dashboards.common import (
    DashboardCheck,
    promql_queries,
    recording_rules,
)
from cfmon.rendered import grafana


class DashboardMetricsKnown(DashboardCheck):
    """Every metric a dashboard reads is in the metrics contract, an exporter list or a recording rule.

    Why: a misspelt metric draws an empty panel ("No data") that looks like a quiet system. Bad:
    `http_request_total` (missing s). Good: a name from docs/metrics.md or a recording rule such as
    `service:http_requests:rate5m`.
    """

    id = "dashboards/metrics-known"

    def run(self, ctx: Context) -> list[Finding]:
        found = list(promql_queries(ctx))
        if not found:
            return []
        known = catalog(ctx.project.root.resolve()) | set(recording_rules(ctx))
        findings = []
        for q, tree in found:
            names = promql.metric_names(tree)
            for name in sorted(n for n in names - known if grafana.PLACEHOLDER not in n):
                findings.append(
                    self.report(
                        ctx,
                        q.dashboard,
                        f"{q.where} reads {name}, which is not in the metrics contract, "
                        "an exporter list or a recording rule",
                        needle=q.needle,
                        hint=f"fix the name, or add it to {CONTRACT} (application metric) or to the "
                        "mixin's exporterMetrics (exporter metric)",
                    )
                )
        return findings

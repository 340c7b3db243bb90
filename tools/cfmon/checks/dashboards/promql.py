"""`dashboards/promql`: Every PromQL query of a dashboard (panel targets and query variables) parses,
with Grafana's variables ($__rate_interval, $service, ${env:regex}, [[x]]) substituted.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

from cfmon import promql
from cfmon.checks.base import Context, Finding
from cfmon.checks.dashboards.common import (
    DashboardCheck,
    _one_line,
    queries,
)


class DashboardPromql(DashboardCheck):
    """Every PromQL query of a dashboard (panel targets and query variables) parses, with Grafana's
    variables ($__rate_interval, $service, ${env:regex}, [[x]]) substituted.

    Why: a query that does not parse shows an error box instead of the graph, and nobody notices
    until the incident. Bad: `sum(rate(http_requests_total[$__rate_interval])` (unclosed), `rate(x)`.
    Good: `sum by (service) (rate(http_requests_total{service=~"$service"}[$__rate_interval]))`.
    """

    id = "dashboards/promql"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        for q in queries(ctx):
            if q.language != "prometheus":
                continue
            try:
                promql.parse(q.text)
            except promql.PromqlError as exc:
                findings.append(
                    self.report(
                        ctx,
                        q.dashboard,
                        f"{q.where}: PromQL does not parse: {_one_line(str(exc))} "
                        f"(query: {_one_line(q.expr)})",
                        needle=q.needle,
                        hint="fix the expression (try it in Prometheus' query page)",
                    )
                )
        return findings

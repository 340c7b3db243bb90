"""`dashboards/variables`: Every `$variable` a query uses (panel targets and query variables) is a
variable of the dashboard or one of Grafana's built-ins (`$__rate_interval`, `$__range`, ...).

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

from cfmon.checks.base import Context, Finding
from cfmon.checks.dashboards.common import (
    DashboardCheck,
    _one_line,
    queries,
)
from cfmon.rendered import grafana


class DashboardVariables(DashboardCheck):
    """Every `$variable` a query uses (panel targets and query variables) is a variable of the
    dashboard or one of Grafana's built-ins (`$__rate_interval`, `$__range`, ...).

    Why: Grafana leaves an undefined `$team` in the query as it is, so the panel matches nothing and
    shows "No data" with no error; it happens when a variable is renamed or a panel is copied from
    another dashboard. Bad: `sum(rate(x{team="$team"}[$__rate_interval]))` on a dashboard without a
    `team` variable. Good: the same query with a `team` variable, or without the matcher. (`$1` in
    label_replace is not a variable.)
    """

    id = "dashboards/variables"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        for q in queries(ctx):
            defined = {str(v.get("name")) for v in grafana.variables(q.dashboard.model)}
            undefined: list[str] = []
            for m in grafana.VARIABLE.finditer(q.expr):
                name = next(g for g in (m.group(1), m.group(2), m.group(4)) if g)
                if name[0].isdigit() or name.startswith("__") or name in defined or name in undefined:
                    continue
                undefined.append(name)
            for name in undefined:
                findings.append(
                    self.report(
                        ctx,
                        q.dashboard,
                        f"{q.where} uses ${name}, which is not a variable of the dashboard "
                        f"(query: {_one_line(q.expr)})",
                        needle=q.needle,
                        hint=f"add a {name!r} variable to the dashboard's templating, or drop ${name} "
                        "from the query",
                    )
                )
        return findings

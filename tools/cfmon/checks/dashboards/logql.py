"""`dashboards/logql`: Every LogQL query of a dashboard (Loki panel targets and query variables) is
well-formed: a stream selector with at least one matcher that narrows the streams, then line
filters, parsers (json, logfmt, pattern, regexp), label filters and formatting stages, or a metric
query (count_over_time, rate, ... over a positive [range], aggregated by sum/topk/sort_desc).

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

from cfmon import logql
from cfmon.checks.base import Context, Finding
from cfmon.checks.dashboards.common import (
    DashboardCheck,
    _one_line,
    queries,
)


class DashboardLogql(DashboardCheck):
    """Every LogQL query of a dashboard (Loki panel targets and query variables) is well-formed: a
    stream selector with at least one matcher that narrows the streams, then line filters, parsers
    (json, logfmt, pattern, regexp), label filters and formatting stages, or a metric query
    (count_over_time, rate, ... over a positive [range], aggregated by sum/topk/sort_desc).

    Why: Loki only reports a bad query when someone opens the panel; a selector such as
    `{app=~".*"}` is refused outright. Bad: `{app=~".*"}`, `{app="x"} | jsno`,
    `sum(count_over_time({app="x"}))` (no range). Good:
    `sum by (level) (count_over_time({namespace="creativeflow"} | json | level=~"error|fatal" [$__auto]))`.
    """

    id = "dashboards/logql"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        for q in queries(ctx):
            if q.language != "loki":
                continue
            try:
                logql.parse(q.text)
            except logql.LogqlError as exc:
                findings.append(
                    self.report(
                        ctx,
                        q.dashboard,
                        f"{q.where}: LogQL is not well-formed: {exc.reason} (query: {_one_line(q.expr)})",
                        needle=q.needle,
                        hint="fix the query (Grafana's Explore with the Loki datasource shows it too)",
                    )
                )
        return findings

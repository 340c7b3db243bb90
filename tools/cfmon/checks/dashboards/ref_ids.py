"""`dashboards/ref-ids`: The queries of a panel have distinct refIds.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

from cfmon.checks.base import Context, Finding
from cfmon.checks.dashboards.common import (
    DashboardCheck,
    valid_dashboards,
)
from cfmon.rendered import grafana


class PanelRefIds(DashboardCheck):
    """The queries of a panel have distinct refIds.

    Why: Grafana keys a panel's queries, their results, transformations and overrides by refId; two
    queries with one refId show one series where two were meant, or the wrong one. Bad: two targets
    with refId A. Good: refIds A, B, C, ... (the Jsonnet helper letters them).
    """

    id = "dashboards/ref-ids"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        for d in valid_dashboards(ctx):
            for panel in grafana.panels(d.model):
                refs = [str(t.get("refId")) for t in panel.targets() if t.get("refId") is not None]
                dupes = sorted({r for r in refs if refs.count(r) > 1})
                if dupes:
                    findings.append(
                        self.report(
                            ctx,
                            d,
                            f"{panel.label} has more than one query with refId {', '.join(dupes)} "
                            f"(refIds {', '.join(refs)})",
                            needle=panel.title,
                            hint="give each query of the panel its own refId (A, B, C, ...)",
                        )
                    )
        return findings

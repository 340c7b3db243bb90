"""`dashboards/panel-ids`: Every panel, rows and the panels of collapsed rows included, has its own
integer id.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

from cfmon.checks.base import Context, Finding
from cfmon.checks.dashboards.common import (
    DashboardCheck,
    valid_dashboards,
)
from cfmon.rendered import grafana
from cfmon.rendered.grafana import Panel


class PanelIds(DashboardCheck):
    """Every panel, rows and the panels of collapsed rows included, has its own integer id.

    Why: Grafana keys panel links (`viewPanel=3`), library panels and its own edits by id; two panels
    with one id make links open the wrong panel and edits overwrite each other. Bad: two panels with
    id 2, or none. Good: ids 1, 2, 3, ... (the Jsonnet helper numbers them).
    """

    id = "dashboards/panel-ids"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        for d in valid_dashboards(ctx):
            seen: dict[int, Panel] = {}
            for panel in grafana.panels(d.model):
                pid = panel.id
                if not isinstance(pid, int) or isinstance(pid, bool):
                    findings.append(
                        self.report(
                            ctx,
                            d,
                            f'panel "{panel.title}" has no integer id (id: {pid!r})',
                            needle=panel.title,
                            hint="number panels uniquely (1, 2, 3, ...)",
                        )
                    )
                elif pid in seen:
                    findings.append(
                        self.report(
                            ctx,
                            d,
                            f'panel id {pid} is used by "{seen[pid].title}" and "{panel.title}"',
                            needle=panel.title,
                            hint="give each panel its own id",
                        )
                    )
                else:
                    seen[pid] = panel
        return findings

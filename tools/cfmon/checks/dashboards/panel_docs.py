"""`dashboards/panel-docs`: Every panel has a description, and every panel that shows numbers has a
unit.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

from cfmon.checks.base import Context, Finding
from cfmon.checks.dashboards.common import (
    DashboardCheck,
    valid_dashboards,
)
from cfmon.rendered import grafana

# Panels that show text or log lines: no unit (and for rows and text, no description) to give.
NO_UNIT = {"row", "text", "logs", "dashlist", "alertlist", "annolist", "news", "traces", "nodeGraph"}
NO_DESCRIPTION = {"row", "text"}


class PanelDocs(DashboardCheck):
    """Every panel has a description, and every panel that shows numbers has a unit.

    Why: the description is the (i) tooltip that tells an on-call engineer what a line means and
    what is normal; without a unit, 0.25 may be seconds, a ratio or requests. Bad: a timeseries
    with no `description` and no `fieldConfig.defaults.unit`. Good: description 'Requests per
    second served, by route; a drop to 0 means no traffic reaches the service.', unit `reqps`.
    Rows and text panels need neither; logs panels need no unit.
    """

    id = "dashboards/panel-docs"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        for d in valid_dashboards(ctx):
            for panel in grafana.panels(d.model):
                missing = []
                if panel.type not in NO_DESCRIPTION and not str(panel.obj.get("description") or "").strip():
                    missing.append("a description")
                unit = ((panel.obj.get("fieldConfig") or {}).get("defaults") or {}).get("unit")
                if panel.type not in NO_UNIT and not str(unit or "").strip():
                    missing.append("a unit (fieldConfig.defaults.unit)")
                if missing:
                    findings.append(
                        self.report(
                            ctx,
                            d,
                            f"{panel.type} {panel.label} has no " + " and no ".join(m[2:] for m in missing),
                            needle=panel.title,
                            hint="give the panel "
                            + " and ".join(missing)
                            + " (units: reqps, s, percentunit, bytes, short, ...)",
                        )
                    )
        return findings

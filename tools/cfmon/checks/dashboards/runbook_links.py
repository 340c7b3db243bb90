"""`dashboards/runbook-links`: A panel's `Runbook: <Alert>` link names an alert the render has.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

from cfmon.catalog import conventions
from cfmon.checks.base import Context, Finding
from cfmon.checks.dashboards.common import (
    DashboardCheck,
    valid_dashboards,
)
from cfmon.rendered import grafana


class RunbookLinks(DashboardCheck):
    """A panel's `Runbook: <Alert>` link names an alert the render has.

    Why: the runbook link is how the on-call gets from the graph of an alerting signal to what to do;
    a link naming an alert that was renamed or removed leads to a missing page in the middle of an
    incident. Bad: `Runbook: ServiceErrorRateHigh` when the alert is ServiceErrorRatioHigh. Good:
    the link the panel helper adds for an alert of the mixin, `Runbook: ServiceErrorRatioHigh`.
    """

    id = "dashboards/runbook-links"

    def run(self, ctx: Context) -> list[Finding]:
        alerts = {str(r["alert"]) for _, _, r in ctx.rendered.model.rules if "alert" in r}
        findings = []
        prefix = conventions().runbook_link_prefix
        for d in valid_dashboards(ctx):
            for panel in grafana.panels(d.model):
                for link in panel.obj.get("links") or []:
                    title = str(link.get("title") or "") if isinstance(link, dict) else ""
                    alert = title.removeprefix(prefix).strip()
                    if not title.startswith(prefix) or alert in alerts:
                        continue
                    findings.append(
                        self.report(
                            ctx,
                            d,
                            f"{panel.label} links the runbook of {alert}, which is not an alert of the "
                            "rendered rules",
                            needle=panel.title,
                            hint="link the runbook of an alert that exists (the panel helper's alert "
                            "argument), or drop the link",
                        )
                    )
        return findings

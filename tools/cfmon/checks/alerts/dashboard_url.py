"""`alerts/dashboard-url`: every alert's `dashboard_url` opens a dashboard this release ships, at a
panel it has, on the environment's Grafana.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

import re

from cfmon.checks.base import Check, Context, Finding
from cfmon.rendered.grafana import panels, variables
from cfmon.rendered.rules import DASHBOARD_URL

VIEW_PANEL = re.compile(r"(?:^|&)viewPanel=([^&]*)")
QUERY_VARIABLE = re.compile(r"(?:^|&)var-([^=&]+)=")


class AlertDashboardUrl(Check):
    """Every alert's `dashboard_url` opens a dashboard this release ships, at a panel it has, on the
    environment's Grafana: `<root_url>/d/<uid>?var-...&viewPanel=<id>`.

    Why: the link in a page is the first click of the on-call; a renamed uid, a removed panel or
    another environment's Grafana sends them to an error page. The dashboard (and panel) come from
    the panels' `alerts=[...]` (jsonnet/lib/alert-links.libsonnet); the host from global.grafanaUrl.
    Bad: no dashboard_url; `/d/nodez`; `viewPanel=99` on a dashboard without panel 99; a `var-`
    the dashboard does not define; `https://grafana.staging.creativeflow.ai/d/...` in prod.
    Good: `https://grafana.creativeflow.ai/d/nodes?var-environment=...&viewPanel=8`, where the
    rendered Grafana has root_url https://grafana.creativeflow.ai and dashboard nodes has panel 8.
    The Grafana URL is the one the rendered Grafana serves at: grafana.ini's root_url
    (grafana.rootUrl, else global.grafanaUrl), so a grafana.rootUrl that differs from
    global.grafanaUrl is reported on every link. A release without Grafana (grafana.enabled: false)
    ships nothing to compare a link with: only its form is checked, not its host, uid or panel.
    """

    id = "alerts/dashboard-url"

    def run(self, ctx: Context) -> list[Finding]:
        model = ctx.rendered.model
        root = model.grafana_root_url
        shipped = {
            d.uid: ({str(p.id) for p in panels(d.model)}, {str(v.get("name")) for v in variables(d.model)})
            for d in model.dashboards
            if d.uid
        }
        findings = []
        for file, rule in model.alerts:
            for problem, hint in self.problems(rule, root, shipped if root else None):
                findings.append(
                    self.rule_finding(
                        ctx,
                        f"alert {rule['alert']}: {problem}",
                        rule_file=file,
                        rule=rule,
                        hint=hint,
                    )
                )
        return findings

    def problems(
        self, rule: dict, base: str | None, shipped: dict[str, tuple[set[str], set[str]]] | None
    ) -> list[tuple[str, str]]:
        """(what is wrong, how to fix it) for one alert; `shipped`: uid -> (panel ids, variables)."""
        name = rule["alert"]
        url = str((rule.get("annotations") or {}).get("dashboard_url") or "")
        from_panels = (
            f"give the panel that shows it alerts=['{name}'] (or the mixin a defaultDashboard), "
            "then cfmon generate; or fix the values override "
            f"prometheus.alerts.{name}.annotations.dashboard_url"
        )
        if not url:
            return [("no dashboard_url", from_panels)]
        m = DASHBOARD_URL.match(url)
        if not m:
            return [(f"dashboard_url {url} is not <Grafana URL>/d/<uid>?...", from_panels)]
        problems = []
        if base is not None and m.group("base").rstrip("/") != base.rstrip("/"):
            problems.append(
                (
                    f"dashboard_url points at {m.group('base')}, not this environment's Grafana {base}",
                    "links start with global.grafanaUrl and Grafana serves at grafana.rootUrl, else "
                    "global.grafanaUrl: set global.grafanaUrl in the environment's values file and "
                    "leave grafana.rootUrl unset (or the same URL)",
                )
            )
        if shipped is None:
            return problems
        uid = m.group("uid")
        if uid not in shipped:
            problems.append(
                (f"dashboard_url names dashboard {uid!r}, which this release does not ship", from_panels)
            )
            return problems
        panel_ids, names = shipped[uid]
        query = m.group("query") or ""
        for view in VIEW_PANEL.findall(query):
            if view not in panel_ids:
                problems.append(
                    (f"dashboard_url opens panel {view!r}, which dashboard {uid} does not have", from_panels)
                )
        unknown = sorted(set(QUERY_VARIABLE.findall(query)) - names)
        if unknown:
            problems.append(
                (
                    f"dashboard_url sets {', '.join('var-' + v for v in unknown)}, "
                    f"not variables of dashboard {uid} (Grafana ignores them)",
                    from_panels,
                )
            )
        return problems

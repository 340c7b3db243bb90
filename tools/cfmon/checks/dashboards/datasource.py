"""`dashboards/datasource`: Panels, queries, query variables and annotations name their datasource by
a datasource variable (`${datasource}`) or by a uid Grafana provisions in the same render; a
provisioned uid only where the `datasource` variable selects another type.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cfmon.checks.base import Context, Finding
from cfmon.checks.dashboards.common import (
    DashboardCheck,
    provisioned,
    valid_dashboards,
)
from cfmon.rendered import grafana
from cfmon.rendered.grafana import Dashboard


class DashboardDatasource(DashboardCheck):
    """Panels, queries, query variables and annotations name their datasource by a datasource
    variable (`${datasource}`) or by a uid Grafana provisions in the same render; a provisioned uid
    only where the `datasource` variable selects another type (a Loki panel on a Prometheus dashboard).

    Why: a datasource by name, by an unknown uid or left out (the default) breaks when the datasource
    is renamed, in another environment, or when a second datasource of the type is added; a uid the
    render does not provision shows "datasource not found"; a panel or query variable that names the
    provisioned uid while the dashboard's datasource picker selects that type ignores the picker, so
    switching to another Prometheus shows a mix of both. Bad: `"datasource": "Prometheus-Main"`,
    `{uid: 'P1809F7CD0C75ACF3'}`, `{type: 'loki', uid: 'prometheus'}`, no datasource, `{type:
    'prometheus', uid: 'prometheus'}` on a dashboard whose `datasource` variable selects prometheus.
    Good: `{type: 'prometheus', uid: '${datasource}'}`, `{type: 'loki', uid: 'loki'}` on a Prometheus
    dashboard.
    """

    id = "dashboards/datasource"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        known = provisioned(ctx)
        for d in valid_dashboards(ctx):
            for where, needle, ds, required in self._references(d):
                problem = self._problem(ds, d, known, required)
                if problem:
                    findings.append(
                        self.report(
                            ctx,
                            d,
                            f"{where} {problem}",
                            needle=needle,
                            hint="use {type: 'prometheus', uid: '${datasource}'} or a provisioned uid "
                            f"({', '.join(sorted(known)) or 'none provisioned'})",
                        )
                    )
        return findings

    def _references(self, d: Dashboard) -> Iterator[tuple[str, str, Any, bool]]:
        """(where, Jsonnet needle, datasource reference, whether one is required)."""
        for panel in grafana.panels(d.model):
            targets = panel.targets()
            if panel.type != "row" and (targets or "datasource" in panel.obj):
                yield panel.label, panel.title, panel.obj.get("datasource"), bool(targets)
            for target in targets:
                if "datasource" in target:
                    yield (
                        f"{panel.label} refId {target.get('refId', '?')}",
                        panel.title,
                        target["datasource"],
                        False,
                    )
        for var in grafana.variables(d.model):
            if var.get("type") == "query":
                yield f'variable "{var.get("name")}"', str(var.get("name")), var.get("datasource"), True
        for ann in (d.model.get("annotations") or {}).get("list") or []:
            if isinstance(ann, dict):
                yield f'annotation "{ann.get("name")}"', str(ann.get("name")), ann.get("datasource"), True

    @staticmethod
    def _problem(ds: Any, d: Dashboard, known: dict[str, str], required: bool) -> str | None:
        if ds is None:
            return "has no datasource (Grafana would use whichever is the default)" if required else None
        if isinstance(ds, str):
            kind = "a variable" if grafana.variable_ref(ds) else "name"
            return f"refers to its datasource as the string {ds!r} (by {kind}), not {{type, uid}}"
        if not isinstance(ds, dict):
            return f"has a datasource that is neither a {{type, uid}} object nor a string: {ds!r}"
        uid = str(ds.get("uid") or "")
        declared = str(ds.get("type") or "")
        if uid in grafana.BUILTIN_DATASOURCES:
            return None
        name = grafana.variable_ref(uid)
        if name:
            var = next((v for v in grafana.variables(d.model) if v.get("name") == name), None)
            if var is None or var.get("type") != "datasource":
                return f"uses datasource {uid}, but the dashboard has no datasource variable {name!r}"
            plugin = str(var.get("query") or "")
            if declared and plugin and declared != plugin:
                return f"declares type {declared!r} but variable {name!r} selects {plugin} datasources"
            return None
        if not uid:
            return "has a datasource without a uid"
        if uid not in known:
            return f"uses datasource uid {uid!r}, which this render does not provision"
        if declared and declared != known[uid]:
            return f"declares type {declared!r} for uid {uid!r}, which is a {known[uid]} datasource"
        picker = next((v for v in grafana.variables(d.model) if v.get("name") == "datasource"), None)
        if picker is not None and picker.get("type") == "datasource" and picker.get("query") == known[uid]:
            return (
                f"uses datasource uid {uid!r} directly, bypassing the datasource variable, which selects "
                f"{known[uid]} datasources"
            )
        return None

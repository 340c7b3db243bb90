"""`dashboards/metadata`: A dashboard is a JSON object whose uid is its file name, titled `Area /
Topic`, with tags, and with the variables `datasource`, `environment`, `cluster` first (in that
order).

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

import re

from cfmon.checks.base import Context, Finding
from cfmon.checks.dashboards.common import (
    DashboardCheck,
    dashboards,
)
from cfmon.rendered import grafana

FIRST_VARIABLES = ("datasource", "environment", "cluster")
TITLE = re.compile(r"[A-Z0-9][^/]* / [A-Z0-9][^/]*")


class DashboardMetadata(DashboardCheck):
    """A dashboard is a JSON object whose uid is its file name, titled `Area / Topic`, with tags, and
    with the variables `datasource`, `environment`, `cluster` first (in that order).

    Why: links, alerts' dashboard_url and the docs refer to dashboards by uid; people find them by
    folder, title and tag; the same three variables first means every dashboard switches prod/dev and
    cluster the same way. Bad: uid `abc123` in platform-overview.json, title `overview`, no tags,
    `cluster` before `datasource`. Good: uid `platform-overview`, title `Platform / Overview`,
    tags `["creativeflow", "platform"]`, variables datasource, environment, cluster, then the area's.
    """

    id = "dashboards/metadata"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        for d in dashboards(ctx):
            if d.error:
                findings.append(
                    self.finding(
                        ctx,
                        f"dashboard {d.key} (ConfigMap {d.configmap}) is {d.error}",
                        file=d.generated,
                        hint="fix the Jsonnet that generates it and run `cfmon generate` "
                        "(generated dashboards are never edited by hand)",
                    )
                )
                continue
            model = d.model
            if d.uid != d.stem:
                findings.append(
                    self.report(
                        ctx,
                        d,
                        f"uid {d.uid!r} differs from its file name {d.key}",
                        hint=f"set uid: '{d.stem}' (or rename the file to {d.uid}.json)",
                    )
                )
            if not TITLE.fullmatch(d.title):
                findings.append(
                    self.report(
                        ctx,
                        d,
                        f"title {d.title!r} is not `Area / Topic`",
                        hint="title it like 'Platform / Overview' or 'AI Models / Inference'",
                    )
                )
            tags = model.get("tags")
            if not isinstance(tags, list) or not tags or not all(isinstance(t, str) and t for t in tags):
                findings.append(
                    self.report(
                        ctx, d, "has no tags", hint="tag it with its area, e.g. ['creativeflow', 'platform']"
                    )
                )
            names = [str(v.get("name")) for v in grafana.variables(model)]
            if tuple(names[: len(FIRST_VARIABLES)]) != FIRST_VARIABLES:
                findings.append(
                    self.report(
                        ctx,
                        d,
                        f"variables start with {', '.join(names[:3]) or 'nothing'}, not "
                        f"{', '.join(FIRST_VARIABLES)}",
                        hint="put the datasource, environment and cluster variables first, then the area's",
                    )
                )
            ds_var = next((v for v in grafana.variables(model) if v.get("name") == "datasource"), None)
            if ds_var is not None and ds_var.get("type") != "datasource":
                findings.append(
                    self.report(
                        ctx,
                        d,
                        f"variable datasource is of type {ds_var.get('type')!r}, not datasource",
                        needle="datasource",
                        hint="make it {type: 'datasource', query: 'prometheus'}",
                    )
                )
        return findings

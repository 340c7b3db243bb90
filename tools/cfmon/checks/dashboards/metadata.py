"""`dashboards/metadata`: A dashboard is a JSON object whose uid is its file name, titled `Area /
Topic`, tagged `creativeflow`, linked to the other creativeflow dashboards, with a shared crosshair, a
refresh interval and a description, and with the variables `datasource` (Prometheus or Loki),
`environment`, `cluster` (filtered by `$environment`) first, in that order.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

import json
import re

from cfmon.catalog import conventions
from cfmon.checks.base import Context, Finding
from cfmon.checks.dashboards.common import (
    DashboardCheck,
    dashboards,
)
from cfmon.rendered import grafana

TITLE = re.compile(r"[A-Z0-9][^/]* / [A-Z0-9][^/]*")


class DashboardMetadata(DashboardCheck):
    """A dashboard is a JSON object whose uid is its file name, titled `Area / Topic`, tagged
    `creativeflow`, linked to the other creativeflow dashboards, with a shared crosshair
    (`graphTooltip: 1`), a refresh interval and a description, and with the variables `datasource`
    (a Prometheus or Loki datasource variable), `environment`, `cluster` (filtered by `$environment`)
    first, in that order.

    Why: links, alerts' dashboard_url and the docs refer to dashboards by uid; people find them by
    folder, title and tag, and move between them by the `creativeflow` tag's link menu; a shared
    crosshair lines a spike up across panels; a dashboard that does not refresh shows a stale
    incident; the same three variables first means every dashboard switches prod/dev and cluster the
    same way, and a cluster list not filtered by environment offers clusters with no data. Bad: uid
    `abc123` in platform-overview.json, title `overview`, tags `["platform"]`, no links, no refresh,
    `cluster` before `datasource`, `label_values(up, cluster)`. Good: uid `platform-overview`, title
    `Platform / Overview`, tags `["creativeflow", "platform"]`, links `[{type: 'dashboards', tags:
    ['creativeflow'], asDropdown: true}]`, `graphTooltip: 1`, `refresh: '30s'`, a description, variables
    datasource, environment, cluster (`label_values(up{environment="$environment"}, cluster)`), then the
    area's.
    """

    id = "dashboards/metadata"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        tag = conventions().dashboard_tag  # the tag the dashboards' link menu lists
        first = conventions().dashboard_variables  # every dashboard starts with these variables
        types = conventions().datasource_types  # what its datasource variable may select
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
                        ctx, d, "has no tags", hint=f"tag it with its area, e.g. ['{tag}', 'platform']"
                    )
                )
            elif tag not in tags:
                findings.append(
                    self.report(
                        ctx,
                        d,
                        f"tags {tags} lack {tag!r}",
                        hint=f"add {tag!r} to its tags (the dashboards' link menu lists them by that tag)",
                    )
                )
            if not any(
                isinstance(link, dict)
                and link.get("type") == "dashboards"
                and tag in (link.get("tags") or [])
                for link in model.get("links") or []
            ):
                findings.append(
                    self.report(
                        ctx,
                        d,
                        f"has no link to the other {tag} dashboards",
                        hint=f"add links: [{{type: 'dashboards', tags: ['{tag}'], asDropdown: true, "
                        "includeVars: true, keepTime: true}] (the dashboard helper does)",
                    )
                )
            if model.get("graphTooltip") != 1:
                findings.append(
                    self.report(
                        ctx,
                        d,
                        f"graphTooltip is {model.get('graphTooltip')!r}, not 1 (a shared crosshair)",
                        hint="set graphTooltip: 1",
                    )
                )
            if not model.get("refresh"):
                findings.append(
                    self.report(ctx, d, "has no refresh interval", hint="set refresh, e.g. '30s' or '1m'")
                )
            if not str(model.get("description") or "").strip():
                findings.append(
                    self.report(
                        ctx,
                        d,
                        "has no description",
                        hint="describe what the dashboard is for and who reads it",
                    )
                )
            names = [str(v.get("name")) for v in grafana.variables(model)]
            if tuple(names[: len(first)]) != first:
                findings.append(
                    self.report(
                        ctx,
                        d,
                        f"variables start with {', '.join(names[:3]) or 'nothing'}, not {', '.join(first)}",
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
            elif ds_var is not None and ds_var.get("query") not in types:
                findings.append(
                    self.report(
                        ctx,
                        d,
                        f"variable datasource selects {ds_var.get('query')!r} datasources, not "
                        f"{' or '.join(types)}",
                        needle="datasource",
                        hint="set its query to 'prometheus' (or 'loki' for a logs dashboard)",
                    )
                )
            by_name = {str(v.get("name")): v for v in grafana.variables(model)}
            if tuple(names[: len(first)]) == first and "$environment" not in json.dumps(
                by_name["cluster"].get("query")
            ):
                findings.append(
                    self.report(
                        ctx,
                        d,
                        "variable cluster is not filtered by $environment",
                        needle="cluster",
                        hint='query label_values(up{environment="$environment"}, cluster)',
                    )
                )
        return findings

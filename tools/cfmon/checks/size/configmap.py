"""`size/configmap`: every ConfigMap and Secret under 900 KiB of data; each dashboard ConfigMap
under 200 KiB.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

from cfmon.checks.base import Check, Context, Finding
from cfmon.rendered import grafana

CONFIGMAP_BUDGET = 900 * 1024  # etcd's limit is 1 MiB per object; keep 10% headroom
# One dashboard per ConfigMap, at most 200 KiB: past that (~100 panels at ~2 KiB each) a dashboard is
# slow to load and too much to read, and `kubectl apply` without --server-side, which copies the object
# into its last-applied-configuration annotation (capped at 256 KiB), fails: JSON escaping adds ~12%.
DASHBOARD_BUDGET = 200 * 1024


class ConfigMapSize(Check):
    """Every ConfigMap and Secret under 900 KiB of data; each dashboard ConfigMap under 200 KiB.

    Why: past 1 MiB the API server refuses the object and the whole sync fails; a dashboard past
    200 KiB is too slow and too big to read (see DASHBOARD_BUDGET). Bad: every dashboard in one
    ConfigMap, a 300-panel dashboard. Good: one ConfigMap per dashboard or rule file group.
    """

    id = "size/configmap"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        for res in ctx.objects():
            if res.kind not in ("ConfigMap", "Secret"):
                continue
            size = sum(
                len(str(v).encode())
                for field in ("data", "binaryData", "stringData")
                for v in (res.obj.get(field) or {}).values()
            )
            dashboards = grafana.rendered_dashboards([res]) if grafana.is_dashboard_configmap(res) else []
            budget = DASHBOARD_BUDGET if dashboards else CONFIGMAP_BUDGET
            if size > budget:
                findings.append(
                    self.finding(
                        ctx,
                        f"{res.key} holds {size // 1024} KiB (budget {budget // 1024} KiB)",
                        file=grafana.source(ctx.project.root, dashboards[0])[0] if dashboards else res.source,
                        hint="split the dashboard by topic"
                        if dashboards
                        else "split it into several ConfigMaps",
                    )
                )
        return findings

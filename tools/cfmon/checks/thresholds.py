"""Dashboard threshold lines drawn where the alert fires, in each render (overrides applied)."""

from __future__ import annotations

import json
import re
from typing import Any

from cfmon.checks.base import Check, Context, Finding
from cfmon.checks.dashboards import valid_dashboards

# A threshold step of a generated dashboard that stands for an alert parameter (dashboards.libsonnet).
TOKEN = re.compile(r"^\$\{([A-Z][A-Za-z0-9]*)\.([A-Za-z0-9]+)\}$")
SETTING = "prometheus.alerts.{alert}.params.{param}"


def _steps(panels: list[dict[str, Any]], prefix: str = "") -> dict[tuple[str, int], Any]:
    """(panel title, step index) -> step value, for every panel (rows' panels too)."""
    out: dict[tuple[str, int], Any] = {}
    for panel in panels:
        steps = ((panel.get("fieldConfig") or {}).get("defaults") or {}).get("thresholds") or {}
        for i, step in enumerate(steps.get("steps") or []):
            out[(prefix + str(panel.get("title")), i)] = step.get("value")
        out |= _steps(panel.get("panels") or [], prefix + str(panel.get("title")) + " / ")
    return out


class PanelThresholds(Check):
    """Every threshold line that stands for an alert parameter draws the value the rule uses.

    Why: an override in values (prometheus.alerts.<Alert>.params) moves the alert; a line left at
    the default tells the on-call "fine" while it pages (or the reverse).
    Bad: dev sets ApiGatewayLatencyP99High's thresholdSeconds to 1.0 and its panel still draws 0.5.
    Good: the rendered panel draws 1.0 wherever the rendered rule fires above 1.0.
    Compares each step holding a ${Alert.param} token in the generated dashboard with the same
    step rendered, and with the value the chart put in the alert's rendered expression.
    """

    id = "dashboards/thresholds"

    def run(self, ctx: Context) -> list[Finding]:
        # cfmon.docs reads the checks' rule helpers: imported here, not at load (a cycle).
        from cfmon.docs import source_alerts, thresholds

        findings: list[Finding] = []
        sources = source_alerts(ctx.project)
        rules = {r["alert"]: r for _, _, r in ctx.rendered.model.rules if "alert" in r}
        for dashboard in valid_dashboards(ctx):
            generated = ctx.project.path(dashboard.generated)
            if not generated.is_file():
                continue  # dashboards/metadata names a dashboard without its generated file
            want = _steps(json.loads(generated.read_text()).get("panels") or [])
            got = _steps(dashboard.model.get("panels") or [])
            for (title, i), value in sorted(want.items()):
                m = TOKEN.match(value) if isinstance(value, str) else None
                if not m:
                    continue
                alert, param = m.groups()
                drawn = got.get((title, i))
                where = f"dashboard {dashboard.uid}, panel {title!r}, threshold step {i}"
                if not isinstance(drawn, (int, float)) or isinstance(drawn, bool):
                    findings.append(
                        self.finding(
                            ctx,
                            f"{where}: draws {drawn!r}, not the number of {alert}.{param}",
                            file=dashboard.template,
                            hint="the umbrella chart's templates/grafana-dashboards.yaml fills the "
                            "tokens: run `cfmon generate`",
                        )
                    )
                    continue
                if alert not in rules or alert not in sources:
                    continue  # the alert is disabled here: its line stays at the parameter
                fired = thresholds(str(sources[alert][1].get("expr", "")), str(rules[alert].get("expr", "")))
                if param not in fired:
                    continue  # a parameter of the description only
                try:
                    same = float(fired[param]) == float(drawn)
                except ValueError:
                    same = False
                if not same:
                    findings.append(
                        self.finding(
                            ctx,
                            f"{where}: draws {drawn} but {alert} fires at {param} = {fired[param]}",
                            file=dashboard.template,
                            hint=f"both come from {SETTING.format(alert=alert, param=param)}: "
                            "fill the dashboard token from the same value",
                        )
                    )
        return findings

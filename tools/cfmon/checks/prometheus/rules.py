"""`prometheus/rules`: `promtool check rules` on every rule file as rendered (overrides applied).

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

from cfmon.checks.base import Check, Context, Finding
from cfmon.checks.prometheus.common import prometheus_layout, rules_valid
from cfmon.mounts import has_container
from cfmon.rendered.prometheus import CONTAINER, rule_files
from cfmon.rendered.rules import rules_source


class PrometheusRules(Check):
    """`promtool check rules` on every rule file as rendered (overrides applied).

    Why: Prometheus refuses a whole rule file when one expression is invalid.
    Bad: `expr: rate(x[5m]` (unbalanced). Good: a file promtool accepts with no lint findings.
    """

    id = "prometheus/rules"

    def run(self, ctx: Context) -> list[Finding]:
        if not has_container(ctx.rendered.resources, CONTAINER):
            return []
        findings = []
        for name, path in rule_files(prometheus_layout(ctx)).items():
            ok, output = rules_valid(ctx, path)
            if not ok:
                findings.append(
                    self.finding(
                        ctx,
                        f"promtool rejects rule file {name}: {output}",
                        file=rules_source(ctx.project.root, name),
                        hint="fix the Jsonnet expression (or its values override), then cfmon generate",
                    )
                )
        return findings

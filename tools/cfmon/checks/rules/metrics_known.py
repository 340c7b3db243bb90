"""`rules/metrics-known`: every metric a rule reads is a recording rule, in the metrics contract or
an exporter list.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

from cfmon import promql
from cfmon.catalog import CONTRACT, catalog
from cfmon.checks.base import Check, Context, Finding
from cfmon.rendered.rules import rule_name


class MetricsKnown(Check):
    """Every metric a rule reads is a recording rule, in the metrics contract or an exporter list.

    Why: a misspelt metric never fires and never errors; the contract is what services implement.
    Bad: `http_request_total` (missing s). Good: a name from docs/metrics.md.
    """

    id = "rules/metrics-known"

    def run(self, ctx: Context) -> list[Finding]:
        rules = list(ctx.rendered.model.rules)
        if not rules:
            return []
        known = catalog(ctx.project.root.resolve()) | {str(r["record"]) for _, _, r in rules if "record" in r}
        findings = []
        for file, _, rule in rules:
            try:
                names = promql.metric_names(str(rule.get("expr", "")))
            except promql.PromqlError:
                continue
            for name in sorted(names - known):
                findings.append(
                    self.rule_finding(
                        ctx,
                        f"{rule_name(rule)} reads {name}, which is not in the metrics contract, "
                        "an exporter list or a recording rule",
                        rule_file=file,
                        rule=rule,
                        hint=f"fix the name, or add it to {CONTRACT} (application metric) or to the "
                        "mixin's exporterMetrics (exporter metric)",
                    )
                )
        return findings

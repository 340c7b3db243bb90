"""`rules/aggregation-labels`: every aggregation keeps the `cluster` and `environment` labels.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

from cfmon import promql
from cfmon.checks.base import Check, Context, Finding
from cfmon.checks.rules.common import lost_labels, parsed
from cfmon.rendered.rules import rule_name

# topk/bottomk/limitk select series and keep all their labels; every other operator drops labels.
LABEL_PRESERVING = {"topk", "bottomk", "limitk", "limit_ratio"}


class AggregationLabels(Check):
    """Every aggregation keeps the `cluster` and `environment` labels.

    Why: one Prometheus (or a remote-write/federated one) holds several clusters and environments;
    an aggregation that drops them mixes prod with dev and alerts lose where they come from.
    Bad: `sum(rate(x[5m]))`, `sum by (service) (...)`, `avg without (cluster) (...)`.
    Good: `sum by (cluster, environment, service) (...)`.
    """

    id = "rules/aggregation-labels"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        for file, rule, agg in parsed(ctx, promql.aggregations):
            if agg.op in LABEL_PRESERVING:
                continue
            lost = lost_labels(agg.labels, listed_are_kept=agg.grouping != "without")
            if lost:
                findings.append(
                    self.rule_finding(
                        ctx,
                        f"{rule_name(rule)}: `{agg.text}` drops {', '.join(lost)}",
                        rule_file=file,
                        rule=rule,
                        hint="group with rules.by([...]) (by cluster, environment, ...)",
                    )
                )
        return findings

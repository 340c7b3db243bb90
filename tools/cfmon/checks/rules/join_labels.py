"""`rules/join-labels`: every vector match keeps the `cluster` and `environment` labels.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

from cfmon import promql
from cfmon.checks.base import Check, Context, Finding
from cfmon.checks.rules.common import lost_labels, parsed
from cfmon.rendered.rules import rule_name


class JoinLabels(Check):
    """Every vector match (`on (...)`, `ignoring (...)`) keeps the `cluster` and `environment` labels.

    Why: where one Prometheus (or a remote-write/federated one) holds several clusters, a match on
    the target alone pairs a series of one cluster with the same target of another: the rule fails
    with "found duplicate series for the match group" or, worse, labels one cluster's series with
    another's names. Bad: `x * on (instance, job) group_left (node) info`, `a / ignoring (cluster) b`.
    Good: `x * on (cluster, environment, instance, job) group_left (node) info` (rules.on([...])).
    """

    id = "rules/join-labels"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        for file, rule, join in parsed(ctx, promql.joins):
            lost = lost_labels(join.labels, listed_are_kept=join.matching == "on")
            if lost:
                findings.append(
                    self.rule_finding(
                        ctx,
                        f"{rule_name(rule)}: `{join.text}` matches across {', '.join(lost)}",
                        rule_file=file,
                        rule=rule,
                        hint="match with rules.on([...]) (on cluster, environment, ...)",
                    )
                )
        return findings

"""Rule-file conventions read from the rules as rendered: names, group sizes, aggregations that
keep the cluster/environment labels, and metrics that exist in the contract or an exporter list."""

from __future__ import annotations

import re

from cfmon import promql
from cfmon.catalog import CONTRACT, catalog, conventions
from cfmon.checks.base import Check, Context, Finding
from cfmon.rendered.rules import rendered_groups, rendered_rules, rule_name, rules_source

MAX_GROUP_RULES = 20
# topk/bottomk/limitk select series and keep all their labels; every other operator drops labels.
LABEL_PRESERVING = {"topk", "bottomk", "limitk", "limit_ratio"}
ALERT_NAME = re.compile(r"[A-Z][A-Za-z0-9]*")
RECORD_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z0-9_]+:[a-zA-Z0-9_]+")


class RuleNaming(Check):
    """Alert names are CamelCase; recording rules are named level:metric:operations.

    Why: routing, silences, runbook file names and dashboards refer to these names.
    Bad: `api_gateway_errors` as an alert, `gateway_error_ratio` as a record.
    Good: `ApiGatewayErrorRatioHigh`, `service:http_requests_errors:ratio_rate5m`.
    """

    id = "rules/naming"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        for file, group, rule in rendered_rules(ctx.rendered.resources):
            if "alert" in rule and not ALERT_NAME.fullmatch(str(rule["alert"])):
                findings.append(
                    self.finding(
                        ctx,
                        f"alert {rule['alert']!r} (group {group}) is not CamelCase",
                        file=rules_source(ctx.project.root, file),
                        hint="name alerts like PostgresReplicationLagHigh",
                    )
                )
            if "record" in rule and not RECORD_NAME.fullmatch(str(rule["record"])):
                findings.append(
                    self.finding(
                        ctx,
                        f"recording rule {rule['record']!r} (group {group}) is not level:metric:operations",
                        file=rules_source(ctx.project.root, file),
                        hint="e.g. service:http_requests:rate5m",
                    )
                )
        return findings


class RuleGroupSize(Check):
    """A rule group holds at most 20 rules.

    Why: a group is evaluated sequentially in one goroutine; a huge group misses its interval and
    one slow rule delays every alert in it. Bad: 40 rules in `kubernetes-alerts`. Good: split by topic.
    """

    id = "rules/group-size"

    def run(self, ctx: Context) -> list[Finding]:
        return [
            self.finding(
                ctx,
                f"group {group.get('name')} has {len(group.get('rules') or [])} rules "
                f"(at most {MAX_GROUP_RULES})",
                file=rules_source(ctx.project.root, file),
                hint="split the group by topic in the mixin",
            )
            for file, group in rendered_groups(ctx.rendered.resources)
            if len(group.get("rules") or []) > MAX_GROUP_RULES
        ]


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
        for file, _, rule in rendered_rules(ctx.rendered.resources):
            try:
                aggs = promql.aggregations(str(rule.get("expr", "")))
            except promql.PromqlError:
                continue  # prometheus/rules reports expressions that do not parse
            for agg in aggs:
                if agg.op in LABEL_PRESERVING:
                    continue
                if agg.grouping == "without":
                    lost = [label for label in conventions().aggregation_labels if label in agg.labels]
                else:
                    lost = [label for label in conventions().aggregation_labels if label not in agg.labels]
                if lost:
                    findings.append(
                        self.finding(
                            ctx,
                            f"{rule_name(rule)}: `{agg.text}` drops {', '.join(lost)}",
                            file=rules_source(ctx.project.root, file),
                            hint="group with rules.by([...]) (by cluster, environment, ...)",
                        )
                    )
        return findings


class MetricsKnown(Check):
    """Every metric a rule reads is a recording rule, in the metrics contract or an exporter list.

    Why: a misspelt metric never fires and never errors; the contract is what services implement.
    Bad: `http_request_total` (missing s). Good: a name from docs/metrics.md.
    """

    id = "rules/metrics-known"

    def run(self, ctx: Context) -> list[Finding]:
        rules = list(rendered_rules(ctx.rendered.resources))
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
                    self.finding(
                        ctx,
                        f"{rule_name(rule)} reads {name}, which is not in the metrics contract, "
                        "an exporter list or a recording rule",
                        file=rules_source(ctx.project.root, file),
                        hint=f"fix the name, or add it to {CONTRACT} (application metric) or to the "
                        "mixin's exporterMetrics (exporter metric)",
                    )
                )
        return findings

"""`rules/record-windows`: a range over a recorded series spans at least two evaluations of the group
that records it.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

import promql_parser
import yaml

from cfmon import promql
from cfmon.checks.base import Check, Context, Finding
from cfmon.checks.rules.common import parsed
from cfmon.durations import DurationError, format_ms, parse_ms
from cfmon.rendered.rules import rule_name
from cfmon.serialize import parse_yaml

PROMETHEUS_DEFAULT = "1m"  # Prometheus' own evaluation_interval when the configuration sets none


def _matrix_selectors(expr: str) -> list[tuple[str, int]]:
    """(metric name, range in ms) of every range selector over a named series (not subqueries)."""
    return [
        (node.vector_selector.name, round(node.range.total_seconds() * 1000))
        for node in promql.walk(promql.parse(expr))
        if isinstance(node, promql_parser.MatrixSelector) and node.vector_selector.name
    ]


def _global_interval(ctx: Context) -> str:
    """The rendered Prometheus configuration's global evaluation_interval."""
    for res in ctx.objects("ConfigMap"):
        payload = (res.obj.get("data") or {}).get("prometheus.yml")
        if not payload:
            continue
        try:
            doc = parse_yaml(payload)
        except yaml.YAMLError:
            return PROMETHEUS_DEFAULT  # prometheus/config reports the file
        glob = (doc.get("global") if isinstance(doc, dict) else None) or {}
        return str(glob.get("evaluation_interval", PROMETHEUS_DEFAULT))
    return PROMETHEUS_DEFAULT


class RecordWindows(Check):
    """A range over a recorded series spans at least two evaluations of the group that records it.

    Why: a recording rule writes one sample per evaluation of its group. A window shorter than two
    of them holds one sample or none: rate(), increase() and deriv() return nothing, and the
    *_over_time() functions see a single value, so the rule that reads it goes quiet without an
    error. Recording groups evaluate less often than alert groups (every 30 s where alerts run every
    15 s), so a window that was wide enough when written can become too short when a group's
    interval grows. Bad: `rate(job:x_total:sum[30s])` where the record's group runs every 30 s.
    Good: `avg_over_time(job:x:rate5m[5m])`, `max_over_time(job:x:rate5m[1m])` (two evaluations).
    """

    id = "rules/record-windows"

    def run(self, ctx: Context) -> list[Finding]:
        default = _global_interval(ctx)
        every: dict[str, int] = {}  # record -> its group's evaluation interval in ms
        for _, group in ctx.rendered.model.rule_groups:
            try:
                interval = parse_ms(group.get("interval", default))
            except DurationError:
                continue  # promtool's check of the rule file or the configuration reports it
            for rule in group.get("rules") or []:
                if isinstance(rule, dict) and "record" in rule:
                    every[str(rule["record"])] = max(interval, every.get(str(rule["record"]), 0))
        findings = []
        for file, rule, (name, window) in parsed(ctx, _matrix_selectors):
            if name in every and window < 2 * every[name]:
                findings.append(
                    self.rule_finding(
                        ctx,
                        f"{rule_name(rule)}: `{name}[{format_ms(window)}]` spans fewer than two "
                        f"evaluations of its recording group (every {format_ms(every[name])})",
                        rule_file=file,
                        rule=rule,
                        hint=f"widen the window to at least {format_ms(2 * every[name])}",
                    )
                )
        return findings

"""`dashboards/quantile`: A dashboard reads a recorded quantile instead of computing
histogram_quantile over raw `_bucket` series when a recording rule already records that quantile
(with the labels the panel groups and filters by).

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import promql_parser

from cfmon import promql
from cfmon.checks.base import Context, Finding
from cfmon.checks.dashboards.common import (
    DashboardCheck,
    promql_queries,
    recording_rules,
)


def _unwrap(node):
    while isinstance(node, promql_parser.ParenExpr):
        node = node.expr
    return node


def _quantile_calls(tree) -> Iterator[tuple[float, Any]]:
    """(quantile, inner expression) of every histogram_quantile with a literal quantile."""
    for node in promql.walk(tree):
        if (
            isinstance(node, promql_parser.Call)
            and node.func.name == "histogram_quantile"
            and len(node.args) == 2
        ):
            q = _unwrap(node.args[0])
            if isinstance(q, promql_parser.NumberLiteral):
                yield float(q.val), node.args[1]


def _grouping(node) -> tuple[str, ...] | None:
    """Labels an expression's result keeps besides `le`, from its outermost `by` aggregation
    (None: it keeps every label)."""
    for n in promql.walk(node):
        if isinstance(n, promql_parser.AggregateExpr):
            modifier = n.modifier
            if modifier is not None and str(modifier.type).endswith("By"):
                return tuple(sorted(set(modifier.labels) - {"le"}))
            return None
    return None


@dataclass(frozen=True)
class RecordedQuantile:
    record: str
    labels: tuple[str, ...] | None  # labels the recorded series keeps (None: all)


def recorded_quantiles(ctx: Context) -> dict[tuple[float, str], list[RecordedQuantile]]:
    """(quantile, raw _bucket metric) -> the recording rules that already record that quantile,
    following recorded bucket rates (`service_le:x_bucket:rate5m`) back to the raw buckets."""
    records = recording_rules(ctx)
    parsed = {}
    for name, expr in records.items():
        try:
            parsed[name] = promql.parse(expr)
        except promql.PromqlError:
            continue

    def raw(node, seen: frozenset[str]) -> tuple[set[str], tuple[str, ...] | None]:
        buckets, labels = set(), _grouping(node)
        for metric in promql.metric_names(node):
            if metric in parsed and metric not in seen:
                inner, inner_labels = raw(parsed[metric], seen | {metric})
                buckets |= inner
                labels = labels if labels is not None else inner_labels
            elif metric.endswith("_bucket"):
                buckets.add(metric)
        return buckets, labels

    out: dict[tuple[float, str], list[RecordedQuantile]] = {}
    for name, tree in sorted(parsed.items()):
        top = _unwrap(tree)
        if not (isinstance(top, promql_parser.Call) and top.func.name == "histogram_quantile"):
            continue
        for q, inner in _quantile_calls(top):
            buckets, labels = raw(inner, frozenset({name}))
            for bucket in buckets:
                out.setdefault((q, bucket), []).append(RecordedQuantile(name, labels))
    return out


def _labels_used(node) -> set[str]:
    used = set(_grouping(node) or ())
    for n in promql.walk(node):
        if isinstance(n, promql_parser.VectorSelector):
            used |= {m.name for m in n.matchers.matchers if m.name not in ("__name__", "le")}
    return used


class RecordedQuantileUsed(DashboardCheck):
    """A dashboard reads a recorded quantile instead of computing histogram_quantile over raw
    `_bucket` series when a recording rule already records that quantile (with the labels the
    panel groups and filters by).

    Why: histogram_quantile over raw buckets reads every bucket series of every pod on each refresh
    (slow panels, a loaded Prometheus) and can disagree with what the alerts see. Bad:
    `histogram_quantile(0.99, sum by (le, service) (rate(http_request_duration_seconds_bucket[...])))`.
    Good: `service:http_request_duration_seconds:p99_rate5m{service=~"$service"}`.
    """

    id = "dashboards/quantile"

    def run(self, ctx: Context) -> list[Finding]:
        found = list(promql_queries(ctx))
        if not found:
            return []
        recorded = recorded_quantiles(ctx)
        records = recording_rules(ctx)
        findings = []
        for q, tree in found:
            for quantile, inner in _quantile_calls(tree):
                grouped = _grouping(inner) is not None
                used = _labels_used(inner)
                for bucket in sorted(promql.metric_names(inner)):
                    if bucket in records or not bucket.endswith("_bucket"):
                        continue
                    usable = [
                        r.record
                        for r in recorded.get((quantile, bucket), [])
                        if r.labels is None or (grouped and used <= set(r.labels))
                    ]
                    if usable:
                        findings.append(
                            self.report(
                                ctx,
                                q.dashboard,
                                f"{q.where} computes histogram_quantile({quantile:g}, ...) of raw {bucket}; "
                                f"the recording rule {usable[0]} already records it",
                                needle=q.needle,
                                hint=f"query {usable[0]} (with the same label filters) instead",
                            )
                        )
        return findings

"""PromQL as data: the aggregations and metric names of an expression (promql-parser's AST).

The checks that read rules use this instead of regexes, so `sum by (cluster) (x)` inside a
string or a label matcher never confuses them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import promql_parser


class PromqlError(ValueError):
    """The expression does not parse (promtool reports those; callers usually skip them)."""


@dataclass(frozen=True)
class Aggregation:
    op: str  # sum, avg, count, ...
    grouping: str | None  # "by" | "without" | None (no modifier: every label dropped)
    labels: tuple[str, ...]
    text: str  # the aggregation as PromQL, for messages


@lru_cache(maxsize=65536)
def parse(expr: str):
    """The expression's syntax tree, parsed once per distinct text (checks, docs and the benchmarks
    parse the same rule and panel expressions many times); shared, so read it and never change it."""
    try:
        return promql_parser.parse(expr)
    except ValueError as exc:
        raise PromqlError(str(exc)) from None


def _children(node) -> Iterator:
    if isinstance(node, promql_parser.BinaryExpr):
        yield node.lhs
        yield node.rhs
    elif isinstance(node, promql_parser.AggregateExpr):
        if node.param is not None:
            yield node.param
        yield node.expr
    elif isinstance(node, promql_parser.Call):
        yield from node.args
    elif isinstance(node, (promql_parser.ParenExpr, promql_parser.UnaryExpr, promql_parser.SubqueryExpr)):
        yield node.expr
    elif isinstance(node, promql_parser.MatrixSelector):
        yield node.vector_selector


def walk(node) -> Iterator:
    """Every node of the tree, parents before children."""
    yield node
    for child in _children(node):
        yield from walk(child)


def aggregations(expr: str) -> list[Aggregation]:
    found = []
    for node in walk(parse(expr)):
        if isinstance(node, promql_parser.AggregateExpr):
            modifier = node.modifier
            grouping = None
            labels: tuple[str, ...] = ()
            if modifier is not None:
                grouping = "by" if str(modifier.type).endswith("By") else "without"
                labels = tuple(modifier.labels)
            found.append(Aggregation(str(node.op).lower(), grouping, labels, node.prettify().split("\n")[0]))
    return found


@dataclass(frozen=True)
class Join:
    matching: str  # "on" | "ignoring"
    labels: tuple[str, ...]
    text: str  # the modifier as PromQL, for messages


def joins(expr: str) -> list[Join]:
    """Every binary operation between two vectors that names its matching labels (on / ignoring)."""
    found = []
    for node in walk(parse(expr)):
        if isinstance(node, promql_parser.BinaryExpr) and node.modifier and node.modifier.matching:
            matching = node.modifier.matching
            kind = "on" if str(matching.type).endswith("Include") else "ignoring"
            labels = tuple(matching.labels)
            found.append(Join(kind, labels, f"{kind} ({', '.join(labels)})"))
    return found


def metric_names(expr) -> set[str]:
    """Metric names the expression (text, or a parsed tree) selects (by name or by an exact
    `__name__` matcher)."""
    names = set()
    for node in walk(parse(expr) if isinstance(expr, str) else expr):
        if isinstance(node, promql_parser.VectorSelector):
            if node.name:
                names.add(node.name)
            for m in node.matchers.matchers:
                if m.name == "__name__" and str(m.op).endswith("Equal") and "Not" not in str(m.op):
                    names.add(m.value)
    return names

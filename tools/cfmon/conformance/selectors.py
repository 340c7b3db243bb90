"""The vector selectors every rule and dashboard query reads, with the labels their series must carry.

A selector is only half of what a query needs from an exporter: `sum by (queue) (x)` reads `x` and
needs `queue` on it, `a / on (instance) group_left (version) b` needs `instance` on both sides
and `version` on `b`, `histogram_quantile(0.99, ...)` needs `le`. Walking the parsed tree from the
root down, each node says which labels its operand's series must bring:

- `by (L)`: L (the labels asked for above are what L keeps); `without (L)`: L and what is asked
  above (a `without` label that no series has is a no-op, almost always a misspelt name);
  an aggregation without a modifier: nothing. topk/bottomk/limitk keep their series' labels.
- `on (L)`: L on both sides; `group_left (I)`/`group_right (I)`: I on the "one" side.
  `ignoring (L)` names labels one side has and the other lacks, so it requires nothing.
  `and`/`unless` return the left side's series: what is asked above goes to the left only.
- `label_replace(v, dst, r, src, re)` / `label_join(v, dst, sep, src...)`: the src labels; dst is
  made here, not read. `count_values("l", v)` makes l. `histogram_quantile` needs `le`.
- A recorded series (`level:metric:operations`) is replaced by its recording rule's expression,
  asked for the labels above plus the labels its own matchers test (their values may be made by
  the rule, so only the names are checked); labels the rule sets itself (`labels:`) are dropped.

A label asked for above a `by (...)` (or a bare aggregation) that does not keep it can never be
there: that is recorded as a Drop, whatever the exporter exposes.

Label values a dashboard gets from Grafana variables are unknown: a matcher on such a value only
requires the label (see cfmon.rendered.grafana.PLACEHOLDER). `check` then matches a selector against a
set of series; regexes are Python's `re`, anchored like Prometheus's RE2 (the syntax the rules use
means the same in both).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import promql_parser

from cfmon import promql
from cfmon.rendered import grafana

RECORDED = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z0-9_:]+")
LABEL_PRESERVING = {"topk", "bottomk", "limitk", "limit_ratio"}
MAX_DEPTH = 20  # recording rules reading recording rules; a cycle is promtool's to report


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str  # =, !=, =~, !~
    value: str

    def __str__(self) -> str:
        return f'{self.name}{self.op}"{self.value}"'

    @property
    def variable(self) -> bool:
        """The value comes from a Grafana variable (substituted by a placeholder): unknown."""
        return grafana.PLACEHOLDER in self.value


@dataclass(frozen=True)
class Selector:
    """One vector selector as some rule or panel reads it."""

    metric: str | None  # None: selected by matchers only
    matchers: tuple[Matcher, ...]
    labels: frozenset[str]  # labels the levels above need from its series
    via: tuple[str, ...] = ()  # recording rules it was reached through, outermost first
    absent: bool = False  # inside absent()/absent_over_time(): no labels asked

    @property
    def text(self) -> str:
        inner = ", ".join(str(m) for m in self.matchers)
        return f"{self.metric or ''}{{{inner}}}" if inner or not self.metric else self.metric

    def describe(self) -> str:
        need = f" needing ({', '.join(sorted(self.labels))})" if self.labels else ""
        through = f" via {' -> '.join(self.via)}" if self.via else ""
        return f"{self.text}{need}{through}"


@dataclass(frozen=True)
class Drop:
    """Labels asked for above an aggregation that does not keep them: the result never has them."""

    aggregation: str  # the aggregation as PromQL (first line)
    labels: frozenset[str]
    via: tuple[str, ...] = ()  # the recording rules it is in, outermost first


@dataclass(frozen=True)
class Reader:
    """A rule or a dashboard query, and where a user edits it."""

    kind: str  # alert | record | panel | variable
    name: str  # the alert or record name, or `dashboard <uid> panel "T" (id N) refId A`
    file: str | None  # the mixin of a rule; None for a dashboard query (see `locate`)
    expr: str
    extra_labels: frozenset[str] = frozenset()  # label_values(selector, label): label
    selectors: list[Selector] = field(default_factory=list)
    drops: list[Drop] = field(default_factory=list)
    dashboard: Any = None  # the grafana.Dashboard of a dashboard query
    needle: str | None = None  # its panel title or variable name

    def locate(self, root) -> tuple[str, int | None]:
        """The file (and line) a user edits: the rule's mixin, or the dashboard's Jsonnet source at
        the panel (looked up only for findings: it scans the mixins)."""
        if self.dashboard is None:
            return str(self.file), None
        return grafana.source(root, self.dashboard, self.needle)


_OPS = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}


def _op(op) -> str:
    name = str(op).rsplit(".", 1)[-1]
    return _OPS.get(name, name)


def _matchers(node) -> tuple[str | None, tuple[Matcher, ...]]:
    name = node.name or None
    out = []
    for m in node.matchers.matchers:
        op = _op(m.op)
        if m.name == "__name__" and op == "=" and name is None:
            name = m.value
            continue
        out.append(Matcher(m.name, op, m.value))
    return name, tuple(out)


def _strings(args) -> list[str]:
    return [a.val for a in args if isinstance(a, promql_parser.StringLiteral)]


class Extractor:
    """Selectors of expressions, recorded series resolved through `records` (name -> rules)."""

    def __init__(self, records: dict[str, list[dict]]) -> None:
        self.records = records
        self.drops: list[Drop] = []

    def selectors(self, expr: str, labels: Iterable[str] = ()) -> list[Selector]:
        """Every raw selector of `expr` (raises promql.PromqlError when it does not parse); the
        aggregations that drop a label asked for above them are left in `self.drops`."""
        out: list[Selector] = []
        self.drops = []
        self._walk(promql.parse(expr), frozenset(labels), (), out, absent=False)
        return out

    def _walk(self, node, need: frozenset[str], via: tuple[str, ...], out: list[Selector], *, absent: bool):
        P = promql_parser
        if isinstance(node, P.VectorSelector):
            self._selector(node, need, via, out, absent=absent)
        elif isinstance(node, P.MatrixSelector):
            self._walk(node.vector_selector, need, via, out, absent=absent)
        elif isinstance(node, (P.ParenExpr, P.UnaryExpr, P.SubqueryExpr)):
            self._walk(node.expr, need, via, out, absent=absent)
        elif isinstance(node, P.AggregateExpr):
            op = str(node.op).lower()
            mod = node.modifier
            labels = frozenset(mod.labels) if mod is not None else frozenset()
            by = mod is not None and str(mod.type).endswith("By")
            if op in LABEL_PRESERVING:
                child = need | labels
            elif mod is None:
                child = frozenset()
            elif by:
                child = labels
            else:
                child = need | labels
            lost = need - child if op not in LABEL_PRESERVING and (mod is None or by) else frozenset()
            if lost and not absent:
                self.drops.append(Drop(node.prettify().split("\n")[0], frozenset(lost), via))
            if op == "count_values" and node.param is not None:
                child -= set(_strings([node.param]))
            self._walk(node.expr, child, via, out, absent=absent)
        elif isinstance(node, P.BinaryExpr):
            self._binary(node, need, via, out, absent=absent)
        elif isinstance(node, P.Call):
            self._call(node, need, via, out, absent=absent)

    def _binary(self, node, need, via, out, *, absent):
        mod = node.modifier
        op = str(node.op).rsplit(".", 1)[-1].lower()
        on: frozenset[str] = frozenset()
        ignoring = False
        include: frozenset[str] = frozenset()
        card = "OneToOne"
        if mod is not None:
            if mod.matching is not None:
                names = frozenset(mod.matching.labels)
                if str(mod.matching.type).endswith("Include"):
                    on = names
                else:
                    ignoring = True
            include = frozenset(mod.group_labels or ())
            card = str(mod.card).rsplit(".", 1)[-1]
        lhs_need = rhs_need = need | on
        if card == "ManyToOne":  # group_left: the right side is the "one" side
            rhs_need = on | include if on or ignoring else include
            lhs_need = (need - include) | on
        elif card == "OneToMany":
            lhs_need = on | include if on or ignoring else include
            rhs_need = (need - include) | on
        elif op in ("land", "lunless", "and", "unless"):
            rhs_need = on
        elif on:  # one-to-one on(L): the result has only L
            lhs_need = rhs_need = on
        self._walk(node.lhs, lhs_need, via, out, absent=absent)
        self._walk(node.rhs, rhs_need, via, out, absent=absent)

    def _call(self, node, need, via, out, *, absent):
        func = node.func.name
        args = list(node.args)
        strings = _strings(args)
        if func == "label_replace" and len(strings) >= 4:
            dst, _, src, _ = strings[:4]
            child = (need - {dst}) | ({src} if src else set())
        elif func == "label_join" and len(strings) >= 2:
            dst, _, *srcs = strings
            child = (need - {dst}) | {s for s in srcs if s}
        elif func == "histogram_quantile":
            child = need | {"le"}
        elif func in ("scalar", "vector", "time", "timestamp"):
            child = frozenset() if func == "scalar" else need
        else:
            child = need
        is_absent = absent or func in ("absent", "absent_over_time")
        if func in ("absent", "absent_over_time"):
            child = frozenset()
        for arg in args:
            self._walk(arg, frozenset(child), via, out, absent=is_absent)

    def _selector(self, node, need, via, out, *, absent):
        name, matchers = _matchers(node)
        if name and name in self.records and len(via) < MAX_DEPTH and name not in via:
            asked = need | {m.name for m in matchers if m.name != "__name__"}
            for rule in self.records[name]:
                made = set((rule.get("labels") or {}).keys())
                try:
                    tree = promql.parse(str(rule.get("expr", "")))
                except promql.PromqlError:
                    continue  # prometheus/rules reports it
                self._walk(tree, frozenset(asked - made), (*via, name), out, absent=absent)
            return
        out.append(Selector(name, matchers, frozenset() if absent else need, via, absent))


# ---- the readers of a render --------------------------------------------------------------------


def records(rules: Iterable[tuple[str, str, dict]]) -> dict[str, list[dict]]:
    """record name -> its rules (a name may be recorded by several rules, one per label set)."""
    out: dict[str, list[dict]] = {}
    for _, _, rule in rules:
        if "record" in rule:
            out.setdefault(str(rule["record"]), []).append(rule)
    return out


def rule_readers(rules: Iterable[tuple[str, str, dict]], source) -> Iterator[Reader]:
    """A Reader per rendered rule; `source(rule file)` names the file a user edits."""
    for file, _, rule in rules:
        kind = "alert" if "alert" in rule else "record"
        yield Reader(kind, str(rule.get(kind)), source(file), str(rule.get("expr", "")))


def label_values_label(query: str) -> str | None:
    """The label of a `label_values(selector, label)` variable query."""
    m = re.fullmatch(r"\s*label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*", query, re.S)
    return m.group(2) if m else None


# ---- matching ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """Why a selector reads nothing from a set of series."""

    kind: str  # metric-absent | matcher-unmatched | label-absent
    detail: str


def check(selector: Selector, series: list[dict[str, str]]) -> Problem | None:
    """None when at least one series has the metric name, satisfies every matcher and carries the
    labels asked for; else what is missing, the first failing step first."""
    from cfmon.conformance.series import matches

    named = [s for s in series if selector.metric is None or s.get("__name__") == selector.metric]
    if not named:
        return Problem("metric-absent", f"no series named {selector.metric}")
    valued = [m for m in selector.matchers if not m.variable and m.name != "__name__"]
    # A Grafana variable's value is unknown; such a matcher asks only that the label exist.
    asked = set(selector.labels) | {m.name for m in selector.matchers if m.variable and m.op in ("=", "=~")}
    hits = [s for s in named if all(matches(s.get(m.name), m.op, m.value) for m in valued)]
    if not hits:
        alone = [m for m in valued if not any(matches(s.get(m.name), m.op, m.value) for s in named)]
        if alone:
            values = _values(named, alone[0].name)
            return Problem(
                "matcher-unmatched",
                f"no {selector.metric or 'series'} satisfies {', '.join(str(m) for m in alone)}"
                f" ({alone[0].name} is {values})",
            )
        return Problem(
            "matcher-unmatched",
            f"no single {selector.metric or 'series'} satisfies all of {', '.join(str(m) for m in valued)}",
        )
    missing = sorted(label for label in asked if not any(label in s for s in hits))
    if missing:
        have = sorted({k for s in hits for k in s if k != "__name__"} - {"exported_" + m for m in missing})
        return Problem(
            "label-absent",
            f"{selector.metric or 'the series'} has no label {', '.join(missing)} "
            f"(it has {', '.join(have) or 'none'})",
        )
    if asked and not any(all(label in s for label in asked) for s in hits):
        return Problem("label-absent", f"no single series carries all of {', '.join(sorted(asked))}")
    return None


def _values(series: list[dict[str, str]], label: str, limit: int = 6) -> str:
    from cfmon.conformance.series import ANY

    values = sorted({s.get(label, "") for s in series} - {ANY})
    if not values or values == [""]:
        return "absent"
    shown = ", ".join(f'"{v}"' for v in values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")

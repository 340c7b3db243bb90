"""Time scaling for the sandbox: every duration of a config, rule or PromQL expression divided by one
factor, so a scenario of an hour replays in seconds with the same semantics.

Scaling time by N keeps everything that counts samples or compares values (`*_over_time`,
`increase`, `delta`, `changes`, ratios, thresholds) identical, because every interval shrinks by
the same factor. Per-second functions do not: `rate`, `irate` and `deriv` return N times the
scenario's per-second value, so they are rewritten to `(rate(...) / N)`; `predict_linear(v, t)`
gets `t / N`. Wall-clock functions (`time()`, `timestamp()`, `hour()`, ...) and `@` cannot be
scaled: they are refused (ScaleError), never approximated.

Expressions are rewritten on promql-parser's AST and printed by our own printer (the library's
printer loses escapes and sub-second durations); the result is parsed again and compared node by
node with the original, so a rewrite that changed anything else fails loudly.
"""

from __future__ import annotations

import math
from datetime import timedelta

import promql_parser as pp

from cfmon.durations import format_ms, parse_ms
from cfmon.errors import UserError

# Functions whose result is "per second": N times larger when time runs N times faster.
PER_SECOND = frozenset({"rate", "irate", "deriv"})
# Functions that read the wall clock or sample timestamps: meaningless under scaled time.
WALL_CLOCK = frozenset(
    {
        "time",
        "timestamp",
        "minute",
        "hour",
        "day_of_month",
        "day_of_week",
        "day_of_year",
        "days_in_month",
        "month",
        "year",
    }
)


class ScaleError(UserError):
    """A duration or expression that cannot be scaled exactly."""


def scaled_ms(ms: int, speed: int, where: str) -> int:
    if ms % speed:
        raise ScaleError(
            f"{format_ms(ms)} divided by speed {speed} is not a whole number of milliseconds",
            key=where,
            hint="use a speed that divides every duration (e.g. 100, 200 or 250), or --speed 1",
        )
    return ms // speed


def scale_duration(text: str, speed: int, where: str) -> str:
    """One duration string divided by `speed` (exactly, in whole milliseconds)."""
    try:
        ms = parse_ms(text)
    except ValueError:
        raise ScaleError(f"{text!r} is not a duration", key=where) from None
    return format_ms(scaled_ms(ms, speed, where))


def _td_ms(delta: timedelta) -> int:
    return round(delta.total_seconds() * 1000)


# ---- printing an AST back to PromQL ---------------------------------------------------------------


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _number(val: float) -> str:
    if math.isnan(val):
        return "NaN"
    if math.isinf(val):
        return "Inf" if val > 0 else "-Inf"
    if val == int(val) and abs(val) < 1e15:
        return str(int(val))
    return repr(val)


def _labels(labels) -> str:
    return "(" + ", ".join(labels or []) + ")"


def _selector(node) -> str:
    if node.matchers.or_matchers:
        raise ScaleError("`or` inside a selector is not supported by Prometheus 3.5")
    matchers = ",".join(f"{m.name}{_MATCH_OPS[str(m.op)]}{_quote(m.value)}" for m in node.matchers.matchers)
    return (node.name or "") + "{" + matchers + "}"


_MATCH_OPS = {"MatchOp.Equal": "=", "MatchOp.NotEqual": "!=", "MatchOp.Re": "=~", "MatchOp.NotRe": "!~"}


def _offset(delta: timedelta | None) -> str:
    if delta is None:
        return ""
    ms = _td_ms(delta)
    return f" offset -{format_ms(-ms)}" if ms < 0 else f" offset {format_ms(ms)}"


def _modifier(mod) -> str:
    if mod is None:
        return ""
    parts = []
    if mod.return_bool:
        parts.append("bool")
    fill = mod.fill_values
    if fill is not None and (fill.lhs is not None or fill.rhs is not None):
        raise ScaleError("fill() vector matching is not supported by Prometheus 3.5")
    if mod.matching is not None:
        kind = "on" if str(mod.matching.type).endswith("Include") else "ignoring"
        parts.append(kind + " " + _labels(mod.matching.labels))
    card = str(mod.card)
    if card.endswith("ManyToOne"):
        parts.append("group_left " + _labels(mod.group_labels))
    elif card.endswith("OneToMany"):
        parts.append("group_right " + _labels(mod.group_labels))
    return " ".join(parts)


def to_promql(node, speed: int = 1, where: str | None = None) -> str:
    """The PromQL text of an AST (every node type promql-parser produces for Prometheus 3.5).

    With `speed` > 1, time is scaled on the way: every range, step and offset is divided by `speed`
    and per-second results are rescaled (replacements in parentheses); see scale_expr."""
    scaling = speed != 1

    def text(child) -> str:
        return to_promql(child, speed, where)

    def span(delta: timedelta) -> str:
        ms = _td_ms(delta)
        return format_ms(scaled_ms(ms, speed, where or "expr") if scaling else ms)

    def offset(delta: timedelta | None) -> str:
        return _offset(_scaled_td(delta, speed, where or "expr") if scaling else delta)

    def no_at(at) -> None:
        if at is None:
            return
        if scaling:
            raise ScaleError("the @ modifier pins a wall-clock time; it cannot be time-scaled", key=where)
        raise ScaleError("the @ modifier is not supported here")

    if isinstance(node, pp.NumberLiteral):
        return _number(node.val)
    if isinstance(node, pp.StringLiteral):
        return _quote(node.val)
    if isinstance(node, pp.VectorSelector):
        no_at(node.at)
        return _selector(node) + offset(node.offset)
    if isinstance(node, pp.MatrixSelector):
        vs = node.vector_selector
        no_at(vs.at)
        rng = span(node.range)
        return f"{_selector(vs)}[{rng}]{offset(vs.offset)}"
    if isinstance(node, pp.SubqueryExpr):
        no_at(node.at)
        rng = span(node.range)
        step = span(node.step) if node.step is not None else ""
        return f"{text(node.expr)}[{rng}:{step}]{offset(node.offset)}"
    if isinstance(node, pp.ParenExpr):
        return f"({text(node.expr)})"
    if isinstance(node, pp.UnaryExpr):
        return f"-{text(node.expr)}"
    if isinstance(node, pp.BinaryExpr):
        mod = _modifier(node.modifier)
        op = str(node.op) + (f" {mod}" if mod else "")
        return f"{text(node.lhs)} {op} {text(node.rhs)}"
    if isinstance(node, pp.AggregateExpr):
        head = str(node.op)
        if node.modifier is not None:
            kind = "by" if str(node.modifier.type).endswith("By") else "without"
            head += f" {kind} {_labels(node.modifier.labels)}"
        args = ([text(node.param)] if node.param is not None else []) + [text(node.expr)]
        return f"{head} ({', '.join(args)})"
    if isinstance(node, pp.Call):
        name = node.func.name
        if scaling and name in WALL_CLOCK:
            raise ScaleError(
                f"{name}() reads the wall clock; an expression using it cannot be time-scaled",
                key=where,
                hint="run the sandbox with --speed 1, or leave this rule out of the scenario's environment",
            )
        args = [text(a) for a in node.args]
        if scaling and name == "predict_linear":
            args[1] = f"({args[1]}) / {speed}"
        call = f"{name}({', '.join(args)})"
        return f"({call} / {speed})" if scaling and name in PER_SECOND else call
    raise ScaleError(f"unsupported PromQL node {type(node).__name__}", key=where)


# ---- scaling an expression ------------------------------------------------------------------------


def _scaled_td(delta: timedelta | None, speed: int, where: str) -> timedelta | None:
    if delta is None:
        return None
    ms = _td_ms(delta)
    sign = -1 if ms < 0 else 1
    return timedelta(milliseconds=sign * scaled_ms(abs(ms), speed, where))


def unscalable(expr: str) -> str | None:
    """Why an expression cannot be time-scaled (what in it reads the wall clock), or None."""
    found: list[str] = []

    def visit(node):
        if isinstance(node, pp.Call) and node.func.name in WALL_CLOCK:
            found.append(f"{node.func.name}()")
        if isinstance(node, (pp.VectorSelector, pp.SubqueryExpr)) and node.at is not None:
            found.append("@")
        return True

    try:
        pp.walk(pp.parse(expr), visit)
    except ValueError:
        return None  # scale_expr reports the parse error, with where it is
    return ", ".join(sorted(set(found))) or None


def scale_expr(expr: str, speed: int, where: str = "expr") -> str:
    """`expr` with every duration divided by `speed` and per-second results rescaled; verified."""
    try:
        original = pp.parse(expr)
    except ValueError as exc:
        raise ScaleError(f"does not parse: {exc}", key=where) from None
    if speed == 1:
        return expr
    text = to_promql(original, speed, where)
    try:
        again = pp.parse(text)
    except ValueError as exc:
        raise ScaleError(f"the scaled expression does not parse ({exc}): {text}", key=where) from None
    problem = _compare(original, again, speed)
    if problem:
        raise ScaleError(f"scaling changed the expression ({problem}): {expr!r} -> {text!r}", key=where)
    return text


# ---- verification: the scaled AST is the original with only time changed --------------------------


def _same_selector(a, b) -> bool:
    return (
        a.name == b.name
        and [(m.name, str(m.op), m.value) for m in a.matchers.matchers]
        == [(m.name, str(m.op), m.value) for m in b.matchers.matchers]
        and a.at is None
        and b.at is None
    )


def _div(a: timedelta | None, b: timedelta | None, speed: int) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return _td_ms(a) == _td_ms(b) * speed


def _is_div_by(node, speed: int):
    """`(X / speed)` or `X / speed` -> X, else None."""
    if isinstance(node, pp.ParenExpr):
        node = node.expr
    if (
        isinstance(node, pp.BinaryExpr)
        and str(node.op) == "/"
        and node.modifier is None
        and isinstance(node.rhs, pp.NumberLiteral)
        and node.rhs.val == speed
    ):
        return node.lhs
    return None


def _compare(a, b, speed: int) -> str | None:
    """None when `b` is `a` with time scaled by `speed`; else what differs."""
    if isinstance(a, pp.Call) and a.func.name in PER_SECOND and speed != 1:
        inner = _is_div_by(b, speed)
        if inner is None:
            return f"{a.func.name}() is not divided by {speed}"
        b = inner
    if type(a) is not type(b):
        return f"{type(a).__name__} became {type(b).__name__}"
    if isinstance(a, pp.NumberLiteral):
        same = a.val == b.val or (math.isnan(a.val) and math.isnan(b.val))
        return None if same else f"number {a.val} became {b.val}"
    if isinstance(a, pp.StringLiteral):
        return None if a.val == b.val else f"string {a.val!r} became {b.val!r}"
    if isinstance(a, pp.VectorSelector):
        ok = _same_selector(a, b) and _div(a.offset, b.offset, speed)
        return None if ok else f"selector {to_promql(a)} became {to_promql(b)}"
    if isinstance(a, pp.MatrixSelector):
        va, vb = a.vector_selector, b.vector_selector
        ok = _same_selector(va, vb) and _div(a.range, b.range, speed) and _div(va.offset, vb.offset, speed)
        return None if ok else f"range selector {to_promql(a)} became {to_promql(b)}"
    if isinstance(a, pp.SubqueryExpr):
        if not (_div(a.range, b.range, speed) and _div(a.step, b.step, speed)):
            return "subquery range or step not scaled"
        if not _div(a.offset, b.offset, speed):
            return "subquery offset not scaled"
        return _compare(a.expr, b.expr, speed)
    if isinstance(a, (pp.ParenExpr, pp.UnaryExpr)):
        return _compare(a.expr, b.expr, speed)
    if isinstance(a, pp.BinaryExpr):
        if str(a.op) != str(b.op) or _modifier(a.modifier) != _modifier(b.modifier):
            return f"operator {a.op} {_modifier(a.modifier)} became {b.op} {_modifier(b.modifier)}"
        return _compare(a.lhs, b.lhs, speed) or _compare(a.rhs, b.rhs, speed)
    if isinstance(a, pp.AggregateExpr):
        ma = (str(a.modifier.type), list(a.modifier.labels)) if a.modifier else None
        mb = (str(b.modifier.type), list(b.modifier.labels)) if b.modifier else None
        if str(a.op) != str(b.op) or ma != mb:
            return f"aggregation {a.op} became {b.op}"
        if (a.param is None) != (b.param is None):
            return "aggregation parameter changed"
        return (_compare(a.param, b.param, speed) if a.param is not None else None) or _compare(
            a.expr, b.expr, speed
        )
    if isinstance(a, pp.Call):
        if a.func.name != b.func.name or len(a.args) != len(b.args):
            return f"call {a.func.name} became {b.func.name}"
        for i, (x, y) in enumerate(zip(a.args, b.args, strict=True)):
            if a.func.name == "predict_linear" and i == 1 and speed != 1:
                # printed as `(t) / speed`: one added pair of parentheses around the original
                y = _is_div_by(y, speed)
                if not isinstance(y, pp.ParenExpr):
                    return f"predict_linear's horizon is not divided by {speed}"
                y = y.expr
            problem = _compare(x, y, speed)
            if problem:
                return problem
        return None
    return f"unsupported node {type(a).__name__}"

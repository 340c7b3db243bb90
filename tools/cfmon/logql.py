"""LogQL as data: a parser for the subset our dashboards use, with the checks Loki itself makes.

No Loki binary runs on the build machines, so `dashboards/logql` parses each query here:

- log queries: a stream selector `{app="x", level=~"error|fatal"}` (=, !=, =~, !~), then a pipeline
  of line filters (`|= "x"`, `!= "x"`, `|~ "re"`, `!~ "re"`, each with `or "y"`), parsers
  (`| json`, `| logfmt`, `| pattern "<ip> <_>"`, `| regexp "(?P<x>...)"`, `| unpack`), label
  filters (`| level="error"`, `| status >= 500 and duration > 1s`), `| line_format "..."`,
  `| label_format new=old`, `| drop a, b`, `| keep a`, `| decolorize` and `| unwrap x`;
- metric queries: count_over_time, rate, bytes_over_time, bytes_rate, absent_over_time and the
  unwrapped *_over_time functions over `[range]`, vector aggregations (`sum by (x) (...)`,
  `topk(5, ...)`), `sort`/`sort_desc`, numbers and binary operators.

Well-formed also means what Loki refuses at query time: a selector needs at least one matcher that
does not match the empty string (`{app=~".*"}` alone is refused), regular expressions compile,
`pattern` and `regexp` capture at least one named label, ranges are positive, unwrap-only
functions have an unwrap and the others have none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cfmon.durations import parse_seconds

# ---- the tree ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str  # = != =~ !~
    value: str


@dataclass(frozen=True)
class LineFilter:
    op: str  # |= != |~ !~
    values: tuple[str, ...]  # more than one when chained with `or`


@dataclass(frozen=True)
class Stage:
    """One `| name args` pipeline stage: a parser, a formatter, drop/keep or unwrap."""

    name: str  # one of STAGES
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class LabelFilter:
    """`| level="error" or status >= 500`: the comparisons, in order, with their connectives."""

    comparisons: tuple[tuple[str, str, str], ...]  # (label, op, value)


@dataclass(frozen=True)
class LogQuery:
    matchers: tuple[Matcher, ...]
    pipeline: tuple[LineFilter | Stage | LabelFilter, ...] = ()

    def stage(self, name: str) -> Stage | None:
        return next((s for s in self.pipeline if isinstance(s, Stage) and s.name == name), None)


@dataclass(frozen=True)
class RangeAggregation:
    func: str
    query: LogQuery
    range_seconds: float
    param: float | None = None  # quantile_over_time's quantile
    grouping: tuple[str, tuple[str, ...]] | None = None


@dataclass(frozen=True)
class VectorAggregation:
    op: str
    expr: Expr
    grouping: tuple[str, tuple[str, ...]] | None = None  # ("by"|"without", labels)
    param: float | None = None  # topk/bottomk's k


@dataclass(frozen=True)
class BinaryOp:
    op: str
    lhs: Expr
    rhs: Expr


@dataclass(frozen=True)
class Number:
    value: float


Expr = LogQuery | RangeAggregation | VectorAggregation | BinaryOp | Number


class LogqlError(ValueError):
    """The query is not well-formed; `column` (1-based) says where, when known."""

    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(f"at column {column}: {message}" if column else message)
        self.reason = message
        self.column = column


# ---- tokens -----------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*"|`[^`]*`)
  | (?P<duration>(?:\d+(?:\.\d+)?(?:ms|us|µs|ns|[smhdwy]))+(?![\w.]))
  | (?P<bytes>\d+(?:\.\d+)?(?:[KMGTPE]i?B|B)(?![\w.]))
  | (?P<number>\d+(?:\.\d+)?(?:e[+-]?\d+)?(?![\w.]))
  | (?P<flag>--[a-z][a-z-]*)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<op>\|=|\|~|!=|!~|=~|==|>=|<=|[|{}()\[\],=<>+\-*/%^])
    """,
    re.X,
)

RANGE_FUNCS = {"count_over_time", "rate", "bytes_over_time", "bytes_rate", "absent_over_time"}
UNWRAP_FUNCS = {
    "sum_over_time",
    "avg_over_time",
    "max_over_time",
    "min_over_time",
    "stddev_over_time",
    "stdvar_over_time",
    "quantile_over_time",
    "first_over_time",
    "last_over_time",
    "rate_counter",
}
VECTOR_AGGS = {
    "sum",
    "avg",
    "min",
    "max",
    "count",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "sort",
    "sort_desc",
}
STAGES = {
    "json",
    "logfmt",
    "pattern",
    "regexp",
    "unpack",
    "line_format",
    "label_format",
    "drop",
    "keep",
    "unwrap",
    "decolorize",
}
# Binary operators, loosest first (as in PromQL).
PRECEDENCE = (
    ("or",),
    ("and", "unless"),
    ("==", "!=", ">", "<", ">=", "<="),
    ("+", "-"),
    ("*", "/", "%"),
    ("^",),
)


@dataclass(frozen=True)
class Token:
    kind: str  # string, duration, bytes, number, flag, ident, op, end
    text: str
    column: int


def tokenize(text: str) -> list[Token]:
    tokens, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise LogqlError(f"unexpected character {text[pos]!r}", pos + 1)
        if m.lastgroup != "space":
            tokens.append(Token(str(m.lastgroup), m.group(), pos + 1))
        pos = m.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


def _unquote(token: Token) -> str:
    if token.text.startswith("`"):
        return token.text[1:-1]
    # Loki strings are Go strings: the usual backslash escapes.
    try:
        return token.text[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
    except UnicodeDecodeError:
        raise LogqlError(f"bad escape in string {token.text}", token.column) from None


def _compile(pattern: str, column: int, what: str) -> re.Pattern:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise LogqlError(f"{what} {pattern!r} is not a valid regular expression: {exc}", column) from None


# ---- parser -----------------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.pos = 0

    # token helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.pos + offset, len(self.tokens) - 1)]

    def take(self) -> Token:
        tok = self.tok
        self.pos = min(self.pos + 1, len(self.tokens) - 1)
        return tok

    def at(self, *texts: str, kind: str | None = None) -> bool:
        return (kind is None or self.tok.kind == kind) and (not texts or self.tok.text in texts)

    def expect(self, text: str, what: str | None = None) -> Token:
        if self.tok.text != text or self.tok.kind not in ("op", "ident"):
            raise LogqlError(f"expected {what or repr(text)}, found {self._found()}", self.tok.column)
        return self.take()

    def expect_kind(self, kind: str, what: str) -> Token:
        if self.tok.kind != kind:
            raise LogqlError(f"expected {what}, found {self._found()}", self.tok.column)
        return self.take()

    def _found(self) -> str:
        return "the end of the query" if self.tok.kind == "end" else repr(self.tok.text)

    # grammar
    def query(self) -> Expr:
        expr = self.binary(0)
        if self.tok.kind != "end":
            raise LogqlError(f"unexpected {self._found()} after a complete query", self.tok.column)
        return expr

    def binary(self, level: int) -> Expr:
        if level == len(PRECEDENCE):
            return self.primary()
        lhs = self.binary(level + 1)
        while self.tok.kind in ("op", "ident") and self.tok.text in PRECEDENCE[level]:
            op = self.take()
            if self.at("bool", kind="ident"):
                self.take()
            if self.at("on", "ignoring", kind="ident"):
                self.take()
                self.labels()
            if self.at("group_left", "group_right", kind="ident"):
                self.take()
                if self.at("("):
                    self.labels()
            # `^` is right-associative, the others left.
            rhs = self.binary(level if op.text == "^" else level + 1)
            for side in (lhs, rhs):
                if isinstance(side, LogQuery):
                    raise LogqlError(
                        f"`{op.text}` needs metric queries on both sides, not a log query "
                        "(wrap it in count_over_time(... [range]))",
                        op.column,
                    )
            lhs = BinaryOp(op.text, lhs, rhs)
        return lhs

    def primary(self) -> Expr:
        tok = self.tok
        if tok.kind == "number":
            self.take()
            return Number(float(tok.text))
        if tok.kind == "op" and tok.text == "-" and self.peek().kind == "number":
            self.take()
            return Number(-float(self.take().text))
        if tok.kind == "op" and tok.text == "(":
            self.take()
            inner = self.binary(0)
            self.expect(")", "')' closing the parenthesis")
            return inner
        if tok.kind == "op" and tok.text == "{":
            return self.log_query()
        if tok.kind == "ident" and tok.text in RANGE_FUNCS | UNWRAP_FUNCS:
            return self.range_aggregation()
        if tok.kind == "ident" and tok.text in VECTOR_AGGS:
            return self.vector_aggregation()
        if tok.kind == "end":
            raise LogqlError(
                "the query is empty" if tok.column == 1 else "the query ends too early", tok.column
            )
        raise LogqlError(
            f"unexpected {self._found()}: a query starts with a stream selector {{...}}, a number, "
            "a range function such as count_over_time or an aggregation such as sum",
            tok.column,
        )

    def labels(self) -> tuple[str, ...]:
        self.expect("(", "'(' before the label list")
        names = []
        while not self.at(")"):
            names.append(self.expect_kind("ident", "a label name").text)
            if not self.at(")"):
                self.expect(",", "',' or ')' in the label list")
        self.take()
        return tuple(names)

    def grouping(self) -> tuple[str, tuple[str, ...]] | None:
        if self.at("by", "without", kind="ident"):
            return (self.take().text, self.labels())
        return None

    def vector_aggregation(self) -> VectorAggregation:
        op = self.take()
        grouping = self.grouping()
        self.expect("(", f"'(' after {op.text}")
        param = None
        if op.text in ("topk", "bottomk"):
            k = self.expect_kind("number", f"the number of series {op.text} keeps")
            param = float(k.text)
            if param < 1 or param != int(param):
                raise LogqlError(f"{op.text} needs a whole number of series, not {k.text}", k.column)
            self.expect(",", f"',' after {op.text}'s number")
        expr = self.binary(0)
        if isinstance(expr, LogQuery):
            raise LogqlError(
                f"{op.text} aggregates a metric query, not a log query "
                "(wrap it in count_over_time(... [range]) or rate(... [range]))",
                op.column,
            )
        self.expect(")", f"')' closing {op.text}(")
        if grouping is None:
            grouping = self.grouping()
        if op.text in ("sort", "sort_desc") and grouping:
            raise LogqlError(f"{op.text} takes no by/without", op.column)
        return VectorAggregation(op.text, expr, grouping, param)

    def range_aggregation(self) -> RangeAggregation:
        func = self.take()
        self.expect("(", f"'(' after {func.text}")
        param = None
        if func.text == "quantile_over_time":
            q = self.expect_kind("number", "the quantile (0 to 1)")
            param = float(q.text)
            if not 0 <= param <= 1:
                raise LogqlError(f"the quantile must be between 0 and 1, not {q.text}", q.column)
            self.expect(",", "',' after the quantile")
        parenthesised = self.at("(")
        if parenthesised:
            self.take()
        query, seconds = self.log_range()
        if parenthesised:
            self.expect(")", "')' closing the log query")
        if self.at("offset", kind="ident"):
            self.take()
            self.expect_kind("duration", "an offset duration")
        self.expect(")", f"')' closing {func.text}(")
        unwrap = query.stage("unwrap")
        if func.text in UNWRAP_FUNCS and unwrap is None:
            raise LogqlError(f"{func.text} needs `| unwrap <label>` in its log query", func.column)
        if func.text in RANGE_FUNCS - {"rate"} and unwrap is not None:
            raise LogqlError(
                f"{func.text} counts log lines; drop `| unwrap` or use sum_over_time", func.column
            )
        return RangeAggregation(func.text, query, seconds, param, self.grouping())

    def range(self) -> float:
        self.expect("[", "a range such as [5m] after the log query")
        tok = self.expect_kind("duration", "a duration such as 5m")
        self.expect("]", "']' closing the range")
        seconds = parse_seconds(tok.text, fractional=True)
        if seconds <= 0:
            raise LogqlError(f"the range {tok.text} must be positive", tok.column)
        return seconds

    def log_query(self) -> LogQuery:
        return LogQuery(self.selector(), self.pipeline())

    def log_range(self) -> tuple[LogQuery, float]:
        """A log query with its range; Loki accepts the range after the selector or after the pipeline."""
        matchers = self.selector()
        seconds = self.range() if self.at("[") else None
        pipeline = self.pipeline()
        if seconds is None:
            seconds = self.range()
        return LogQuery(matchers, pipeline), seconds

    def selector(self) -> tuple[Matcher, ...]:
        start = self.expect("{", "'{' opening the stream selector")
        matchers = []
        while not self.at("}"):
            name = self.expect_kind("ident", "a label name in the stream selector")
            if "." in name.text:
                raise LogqlError(f"{name.text!r} is not a valid label name", name.column)
            op = self.tok
            if op.text not in ("=", "!=", "=~", "!~") or op.kind != "op":
                raise LogqlError(
                    f"expected =, !=, =~ or !~ after {name.text}, found {self._found()}", op.column
                )
            self.take()
            value = self.expect_kind("string", f"a quoted value for {name.text}")
            text = _unquote(value)
            if op.text in ("=~", "!~"):
                _compile(text, value.column, f"the regular expression of {name.text}")
            matchers.append(Matcher(name.text, op.text, text))
            if not self.at("}"):
                self.expect(",", "',' or '}' in the stream selector")
        self.take()
        if not matchers:
            raise LogqlError(
                "the stream selector {} is empty: select streams with at least one matcher", start.column
            )
        if not any(_selects(m) for m in matchers):
            raise LogqlError(
                "the stream selector needs at least one = or =~ matcher that does not match the empty "
                'string (e.g. namespace="creativeflow"); Loki refuses a selector that matches every stream',
                start.column,
            )
        return tuple(matchers)

    def pipeline(self) -> tuple[LineFilter | Stage | LabelFilter, ...]:
        stages: list[LineFilter | Stage | LabelFilter] = []
        while True:
            tok = self.tok
            if tok.kind == "op" and tok.text in ("|=", "!=", "|~", "!~"):
                stages.append(self.line_filter())
            elif tok.kind == "op" and tok.text == "|":
                self.take()
                stages.append(self.stage())
            else:
                return tuple(stages)

    def line_filter(self) -> LineFilter:
        op = self.take()
        values = []
        while True:
            value = self.expect_kind("string", f"a quoted string after {op.text}")
            text = _unquote(value)
            if op.text in ("|~", "!~"):
                _compile(text, value.column, "the line filter")
            values.append(text)
            if not self.at("or", kind="ident"):
                return LineFilter(op.text, tuple(values))
            self.take()

    def stage(self) -> Stage | LabelFilter:
        tok = self.tok
        if tok.kind != "ident" or tok.text not in STAGES:
            return self.label_filter()
        name = self.take()
        if name.text in ("json", "logfmt"):
            return Stage(name.text, self.extraction_args(name.text))
        if name.text in ("pattern", "regexp"):
            value = self.expect_kind("string", f"a quoted expression after {name.text}")
            text = _unquote(value)
            if name.text == "pattern":
                captures = [c for c in re.findall(r"<(\w+)>", text) if c != "_"]
                if not captures:
                    raise LogqlError(
                        "the pattern captures nothing: name at least one field, e.g. <status>", value.column
                    )
            else:
                if not _compile(text, value.column, "the regexp stage").groupindex:
                    raise LogqlError(
                        "the regexp captures nothing: use a named group such as (?P<status>\\d+)",
                        value.column,
                    )
            return Stage(name.text, (text,))
        if name.text in ("unpack", "decolorize"):
            return Stage(name.text)
        if name.text == "line_format":
            value = self.expect_kind("string", "a quoted template after line_format")
            return Stage(name.text, (_unquote(value),))
        if name.text == "label_format":
            args = []
            while True:
                target = self.expect_kind("ident", "a label name to set in label_format")
                self.expect("=", f"'=' after {target.text} in label_format")
                if self.tok.kind == "string":
                    args.append(f"{target.text}={_unquote(self.take())}")
                else:
                    args.append(
                        f"{target.text}={self.expect_kind('ident', 'a label or a quoted template').text}"
                    )
                if not self.at(","):
                    return Stage(name.text, tuple(args))
                self.take()
        if name.text in ("drop", "keep"):
            args = []
            while True:
                label = self.expect_kind("ident", f"a label name after {name.text}")
                if self.tok.kind == "op" and self.tok.text in ("=", "!=", "=~", "!~"):
                    op = self.take().text
                    args.append(f"{label.text}{op}{_unquote(self.expect_kind('string', 'a quoted value'))}")
                else:
                    args.append(label.text)
                if not self.at(","):
                    return Stage(name.text, tuple(args))
                self.take()
        if name.text == "unwrap":
            label = self.expect_kind("ident", "the label to unwrap")
            if self.at("("):  # duration(label), bytes(label), duration_seconds(label)
                if label.text not in ("duration", "duration_seconds", "bytes"):
                    raise LogqlError(f"unknown unwrap conversion {label.text}", label.column)
                self.take()
                inner = self.expect_kind("ident", "the label to unwrap")
                self.expect(")", "')' closing the conversion")
                return Stage("unwrap", (inner.text, label.text))
            return Stage("unwrap", (label.text,))
        raise AssertionError(name.text)  # every name in STAGES is handled above

    def extraction_args(self, parser: str) -> tuple[str, ...]:
        args = []
        while parser == "logfmt" and self.tok.kind == "flag":
            flag = self.take()
            if flag.text not in ("--strict", "--keep-empty"):
                raise LogqlError(f"unknown logfmt flag {flag.text}", flag.column)
            args.append(flag.text)
        # Optional extraction list: `| json status, ua="request.headers.ua"`.
        while self.tok.kind == "ident":
            label = self.take()
            if self.at("="):
                self.take()
                args.append(f"{label.text}={_unquote(self.expect_kind('string', 'a quoted path'))}")
            else:
                args.append(label.text)
            if not self.at(","):
                break
            self.take()
        return tuple(args)

    def label_filter(self) -> LabelFilter:
        comparisons: list[tuple[str, str, str]] = []
        self._label_or(comparisons)
        return LabelFilter(tuple(comparisons))

    def _label_or(self, out: list) -> None:
        self._label_and(out)
        while self.at("or", kind="ident"):
            self.take()
            out.append(("", "or", ""))
            self._label_and(out)

    def _label_and(self, out: list) -> None:
        self._label_primary(out)
        while self.at("and", kind="ident") or self.at(","):
            self.take()
            out.append(("", "and", ""))
            self._label_primary(out)

    def _label_primary(self, out: list) -> None:
        if self.at("(", kind="op"):
            self.take()
            self._label_or(out)
            self.expect(")", "')' closing the label filter")
            return
        label = self.expect_kind("ident", "a label name in the label filter")
        op = self.tok
        if op.kind != "op" or op.text not in _COMPARISONS:
            if not out:  # `| jsno`: most likely a misspelt stage
                raise LogqlError(
                    f"unknown stage {label.text!r}: expected {', '.join(sorted(STAGES))} "
                    'or a label filter such as level="error"',
                    label.column,
                )
            raise LogqlError(f"expected a comparison after {label.text}, found {self._found()}", op.column)
        self.take()
        value = self.tok
        if value.kind == "string":
            text = _unquote(self.take())
            if op.text in ("=~", "!~"):
                _compile(text, value.column, f"the label filter on {label.text}")
        elif value.kind in ("number", "duration", "bytes"):
            if op.text in ("=~", "!~"):
                raise LogqlError(f"{op.text} needs a quoted regular expression", value.column)
            text = self.take().text
        else:
            raise LogqlError(
                f"expected a value after {label.text} {op.text}, found {self._found()}", value.column
            )
        out.append((label.text, op.text, text))


_COMPARISONS = {"=", "!=", "=~", "!~", "==", ">", ">=", "<", "<="}


def _selects(m: Matcher) -> bool:
    """Whether the matcher narrows the streams (Loki needs one that does not match "")."""
    if m.op == "=":
        return m.value != ""
    if m.op == "=~":
        return re.fullmatch(m.value, "") is None
    return False


def parse(text: str) -> Expr:
    """The query's tree, or LogqlError saying what is wrong and at which column."""
    if not text.strip():
        raise LogqlError("the query is empty")
    return _Parser(text).query()


def walk(expr: Expr):
    """Every node, parents first."""
    yield expr
    if isinstance(expr, BinaryOp):
        yield from walk(expr.lhs)
        yield from walk(expr.rhs)
    elif isinstance(expr, VectorAggregation):
        yield from walk(expr.expr)
    elif isinstance(expr, RangeAggregation):
        yield from walk(expr.query)


def is_metric_query(expr: Expr) -> bool:
    return not isinstance(expr, LogQuery)

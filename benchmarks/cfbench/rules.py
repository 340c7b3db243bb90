"""Rule groups as rendered for an environment: recording-rule dependency levels (for backfilling
them in order), which recorded series dashboards and alerts read, and how far back a group looks."""

from __future__ import annotations

from dataclasses import dataclass

import promql_parser

from cfmon import promql
from cfmon.durations import parse_seconds


@dataclass(frozen=True)
class Group:
    file: str
    name: str
    interval: str | None  # None: the global evaluation_interval
    rules: tuple[dict, ...]


def records(groups: list[Group]) -> dict[str, dict]:
    """record name -> its rule (the first one, when a name is recorded twice)."""
    out: dict[str, dict] = {}
    for g in groups:
        for r in g.rules:
            if "record" in r:
                out.setdefault(str(r["record"]), r)
    return out


def names_in(expr: str) -> set[str]:
    try:
        return promql.metric_names(expr)
    except promql.PromqlError:
        return set()


def levels(groups: list[Group]) -> dict[str, int]:
    """record -> 1 + the highest level of the recorded series it reads (raw series only: 1).
    A rule at level n can only be backfilled once levels 1..n-1 are in the TSDB."""
    recs = records(groups)
    deps = {name: names_in(str(rule["expr"])) & set(recs) - {name} for name, rule in recs.items()}
    level: dict[str, int] = {}

    def visit(name: str, path: tuple[str, ...]) -> int:
        if name in level:
            return level[name]
        if name in path:  # a cycle: promtool would refuse the rules anyway
            return 1
        level[name] = 1 + max((visit(d, (*path, name)) for d in deps[name]), default=0)
        return level[name]

    for name in sorted(recs):
        visit(name, ())
    return level


def recording_delay(groups: list[Group], default_interval: str, reader: tuple[str, int], expr: str) -> float:
    """Seconds a change in the raw series can take to reach `expr`, the rule at `reader` (its
    group's name, its position in the group), through the records it reads. Each record is
    refreshed on its own group's schedule, so reading one adds that group's interval, except where
    the reader runs later in the same group (the same evaluation has just written it). The longest
    chain counts."""
    recs: dict[str, tuple[str, int, float, str]] = {}  # record -> (group, position, interval, expr)
    for g in groups:
        every = parse_seconds(g.interval or default_interval, fractional=True)
        for i, r in enumerate(g.rules):
            if "record" in r:
                recs.setdefault(str(r["record"]), (g.name, i, every, str(r["expr"])))

    def delay(expr: str, group: str, position: int, path: frozenset[str]) -> float:
        longest = 0.0
        for name in sorted(names_in(expr) & set(recs) - path):
            g, i, every, inner = recs[name]
            fresh = g == group and i < position
            longest = max(longest, (0.0 if fresh else every) + delay(inner, g, i, path | {name}))
        return longest

    return delay(expr, *reader, frozenset())


def groups_at_level(groups: list[Group], level: dict[str, int], n: int) -> list[dict]:
    """The rule file content (groups with their intervals) of the recording rules at level n."""
    out = []
    for g in groups:
        rules = [r for r in g.rules if "record" in r and level.get(str(r["record"])) == n]
        if rules:
            out.append({"name": g.name, **({"interval": g.interval} if g.interval else {}), "rules": rules})
    return out


def used_records(exprs: list[str], groups: list[Group]) -> dict[str, set[str]]:
    """record -> who reads it: 'dashboard' and/or 'alert' (recording rules that read each other
    do not count: a dashboard or an alert is what a recorded series stands in for)."""
    recs = set(records(groups))
    users: dict[str, set[str]] = {}
    for expr in exprs:
        for name in names_in(expr) & recs:
            users.setdefault(name, set()).add("dashboard")
    for g in groups:
        for r in g.rules:
            if "alert" in r:
                for name in names_in(str(r["expr"])) & recs:
                    users.setdefault(name, set()).add("alert")
    return users


def lookback(expr: str) -> float:
    """The furthest back (seconds) an expression reads: range + offset, over every selector."""
    try:
        tree = promql.parse(expr)
    except promql.PromqlError:
        return 0.0
    return _lookback(tree, 0.0)


def _lookback(node, outer: float) -> float:
    if isinstance(node, promql_parser.MatrixSelector):
        off = node.vector_selector.offset
        return outer + node.range.total_seconds() + (off.total_seconds() if off else 0)
    if isinstance(node, promql_parser.VectorSelector):
        off = node.offset
        return outer + (off.total_seconds() if off else 0)
    if isinstance(node, promql_parser.SubqueryExpr):
        off = node.offset
        outer = outer + node.range.total_seconds() + (off.total_seconds() if off else 0)
    return max((_lookback(c, outer) for c in promql._children(node)), default=outer)


# A dashboard query reading more than this many samples on a default load should read a recorded
# series instead (or have a stated reason not to).
HEAVY_SAMPLES = 1_000_000


def heavy_raw(queries: list[dict], recorded: set[str], threshold: int = HEAVY_SAMPLES) -> list[dict]:
    """The queries (dicts with `expr` and `samples`, the samples Prometheus read running the query
    the way Grafana runs it) above `threshold` samples that read at least one raw series: one that
    no recording rule writes. A query reading only recorded series is served by the rules whatever
    it costs; its cost is the recorded series' cardinality, not the raw data's."""
    return sorted(
        (q for q in queries if q["samples"] > threshold and names_in(q["expr"]) - recorded),
        key=lambda q: -q["samples"],
    )

"""The rules one rule-test group depends on, so promtool loads only those.

`promtool test rules` evaluates every rule of the files a test loads at every evaluation step of
every test group, whatever the group asserts. A group that tests one alert over 25 hours of one
minute steps in a file of 150 rules spends nearly all its time on rules nothing looks at. What a
group's assertions can observe is fixed by the rules themselves:

- an `alert_rule_test` looks at the alerts of its `alertname` (every rule of that name);
- a kept rule's expression, or a `promql_expr_test` expression, reads the series of the metric
  names it selects: the recording rules that write those names;
- `ALERTS` / `ALERTS_FOR_STATE` are written by every alerting rule;
- an alert's templates can run queries (`query "..."`), and a selector without a fixed metric name
  (`{__name__=~"..."}`, `{job="x"}`) can read anything: then nothing is left out.

The closure over these is what a group needs; every other rule only costs time. Groups are kept in
place (emptied when none of their rules is needed), rules in their order, so a kept recording rule
is evaluated at the same point of each step as in the full file and `group_eval_order` still names
every group.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import promql_parser

from cfmon import promql

# Every alerting rule writes these (its state per series); reading them depends on all alerts.
ALERT_SERIES = frozenset({"ALERTS", "ALERTS_FOR_STATE"})
# The template function that runs a query (not `urlquery`, which only escapes text).
_TEMPLATE_QUERY = re.compile(r"(?<![\w.])query\s")


def reads(expr: str) -> frozenset[str] | None:
    """The metric names an expression reads, or None when a selector has no fixed name (it may
    read any series) or the expression does not parse (promtool reports it; keep everything)."""
    try:
        tree = promql.parse(expr)
    except promql.PromqlError:
        return None
    for node in promql.walk(tree):
        if isinstance(node, promql_parser.VectorSelector) and not node.name:
            exact = [
                m
                for m in node.matchers.matchers
                if m.name == "__name__" and str(m.op).endswith("Equal") and "Not" not in str(m.op)
            ]
            if not exact:
                return None
    return frozenset(promql.metric_names(tree))


def _queries_in_templates(rule: dict) -> bool:
    texts = [*(rule.get("annotations") or {}).values(), *(rule.get("labels") or {}).values()]
    return any(isinstance(t, str) and _TEMPLATE_QUERY.search(t) for t in texts)


def needed(files: dict[str, dict], alerts: Iterable[str], exprs: Iterable[str]) -> dict[str, dict] | None:
    """The rule files (basename -> parsed `{groups: [...]}`) cut down to what a test group of these
    alert names and expressions can observe; None when that cannot be told (keep them whole).
    Never changes `files` (they may be shared parses)."""
    rules = {
        (name, g, r): rule
        for name, doc in files.items()
        for g, group in enumerate((doc or {}).get("groups") or [])
        for r, rule in enumerate(group.get("rules") or [])
    }
    keep: set[tuple[str, int, int]] = set()
    names: set[str] = set()
    todo = [str(e) for e in exprs]

    def take(where: tuple[str, int, int]) -> bool:
        keep.add(where)
        if "expr" in rules[where]:
            todo.append(str(rules[where]["expr"]))
        return not _queries_in_templates(rules[where])

    wanted = set(alerts)
    for where, rule in rules.items():
        if rule.get("alert") in wanted and not take(where):
            return None
    while todo:
        found = reads(todo.pop())
        if found is None:
            return None
        new = found - names
        names |= new
        for where, rule in rules.items():
            if where in keep:
                continue
            writes = rule.get("record") in new or (bool(new & ALERT_SERIES) and "alert" in rule)
            if writes and not take(where):
                return None
    out: dict[str, dict] = {}
    for name, doc in files.items():
        groups = []
        for g, group in enumerate((doc or {}).get("groups") or []):
            kept = [rule for r, rule in enumerate(group.get("rules") or []) if (name, g, r) in keep]
            groups.append({**group, "rules": kept})
        out[name] = {**(doc or {}), "groups": groups}
    return out

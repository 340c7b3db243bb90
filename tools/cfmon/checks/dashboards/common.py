"""What the dashboards checks share: the rendered dashboards parsed once per environment, their
datasources, every query (PromQL and LogQL) with Grafana's variables substituted, the rendered
recording rules, and the base class whose findings point at a dashboard's Jsonnet source.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cfmon import promql
from cfmon.checks.base import Check, Context, Finding
from cfmon.rendered import grafana
from cfmon.rendered.grafana import Dashboard


def dashboards(ctx: Context) -> list[Dashboard]:
    """The rendered dashboards (parsed once per environment)."""
    return ctx.rendered.model.dashboards


def valid_dashboards(ctx: Context) -> list[Dashboard]:
    """Dashboards that are JSON objects (dashboards/metadata reports the others)."""
    return [d for d in dashboards(ctx) if d.error is None]


def provisioned(ctx: Context) -> dict[str, str]:
    return ctx.rendered.model.datasources


class DashboardCheck(Check):
    """Base of the dashboard checks (not registered): findings name the dashboard's Jsonnet source."""

    def report(
        self, ctx: Context, dashboard: Dashboard, message: str, *, needle: str | None = None, hint: str
    ) -> Finding:
        """A finding about one dashboard, sent to its Jsonnet source (the line naming `needle`)."""
        file, line = grafana.source(ctx.project.root, dashboard, needle)
        return self.finding(
            ctx, f"dashboard {dashboard.uid or dashboard.stem}: {message}", file=file, line=line, hint=hint
        )


@dataclass(frozen=True)
class Query:
    dashboard: Dashboard
    where: str  # `panel "Request rate" (id 3) refId A`, `variable "service"`
    needle: str  # what to look for in the Jsonnet (panel title, variable name)
    language: str | None  # prometheus, loki or None (unknown datasource)
    expr: str  # as written, Grafana variables and all
    text: str  # with Grafana variables substituted


def _label_values_selector(query: str) -> str | None:
    """The selector of `label_values(selector, label)` (None for `label_values(label)`)."""
    inner = query.strip()[len("label_values(") : -1]
    depth, quote, cut = 0, None, None
    for i, ch in enumerate(inner):
        if quote:
            quote = None if ch == quote and inner[i - 1] != "\\" else quote
        elif ch in "\"'`":
            quote = ch
        elif ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
        elif ch == "," and depth == 0:
            cut = i
    if depth or quote:  # unbalanced: hand it all to the parser, which says what is wrong
        return inner
    return inner[:cut].strip() if cut is not None else None


def _variable_expr(var: dict[str, Any]) -> str | None:
    """The PromQL or LogQL inside a query variable's query, if it has any."""
    query = var.get("query")
    if isinstance(query, dict) and query.get("stream"):  # Loki's {type, label, stream}
        return str(query["stream"])
    text = grafana.variable_query(var).strip()
    if not text:
        return None
    m = re.fullmatch(r"(\w+)\((.*)\)", text, re.S)
    if not m:
        return text
    func, arg = m.groups()
    if func == "label_values":
        return _label_values_selector(text)
    if func == "query_result":
        return arg
    if func in ("label_names", "metrics"):
        return None
    return text


def queries(ctx: Context) -> list[Query]:
    """Every PromQL/LogQL query of every dashboard: panel targets, then query variables (found
    once per render: most dashboard checks read them)."""
    if "dashboards:queries" not in ctx.cache:
        ctx.cache["dashboards:queries"] = list(_queries(ctx))
    return ctx.cache["dashboards:queries"]


def _queries(ctx: Context) -> Iterator[Query]:
    for d in valid_dashboards(ctx):
        variables = grafana.variables(d.model)
        for panel in grafana.panels(d.model):
            for target in panel.targets():
                expr = target.get("expr")
                if not isinstance(expr, str) or not expr.strip():
                    continue
                language = grafana.datasource_type(
                    grafana.target_datasource(panel, target), d.model, provisioned(ctx)
                )
                where = f"{panel.label} refId {target.get('refId', '?')}"
                yield Query(d, where, panel.title, language, expr, grafana.substitute(expr, variables))
        for var in variables:
            if var.get("type") != "query":
                continue
            expr = _variable_expr(var)
            if expr:
                language = grafana.datasource_type(var.get("datasource"), d.model, provisioned(ctx))
                name = str(var.get("name"))
                yield Query(
                    d, f'variable "{name}"', name, language, expr, grafana.substitute(expr, variables)
                )


def promql_queries(ctx: Context) -> Iterator[tuple[Query, Any]]:
    """(query, parsed tree) of every PromQL query that parses (dashboards/promql reports the others)."""
    for q in queries(ctx):
        if q.language != "prometheus":
            continue
        try:
            yield q, promql.parse(q.text)
        except promql.PromqlError:
            continue


def recording_rules(ctx: Context) -> dict[str, str]:
    """record name -> expression of every rendered recording rule (the rule files parsed once)."""
    if "dashboards:records" not in ctx.cache:
        ctx.cache["dashboards:records"] = {
            str(r["record"]): str(r.get("expr", "")) for _, _, r in ctx.rendered.model.rules if "record" in r
        }
    return ctx.cache["dashboards:records"]


def _one_line(text: str) -> str:
    return " ".join(text.split())

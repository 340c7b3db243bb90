"""Dashboard conventions read from the rendered dashboard ConfigMaps: queries that parse and read
known metrics, datasources Grafana can resolve, a sound grid, and the house layout and metadata.

No Grafana runs on the build machines: PromQL is parsed with promql-parser (cfmon.promql) after
Grafana's variables are replaced (cfmon.rendered.grafana.substitute), LogQL with cfmon.logql.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import promql_parser

from cfmon import logql, promql
from cfmon.catalog import CONTRACT, COUNTERS, catalog, declared_counters
from cfmon.checks.base import Check, Context, Finding
from cfmon.rendered import grafana
from cfmon.rendered.grafana import Dashboard, Panel
from cfmon.rendered.rules import rendered_rules

FIRST_VARIABLES = ("datasource", "environment", "cluster")
TITLE = re.compile(r"[A-Z0-9][^/]* / [A-Z0-9][^/]*")
COUNTER_SUFFIXES = ("_total", "_count", "_sum", "_bucket")
RATE_FUNCS = {"rate", "irate", "increase"}
# Panels that show text or log lines: no unit (and for rows and text, no description) to give.
NO_UNIT = {"row", "text", "logs", "dashlist", "alertlist", "annolist", "news", "traces", "nodeGraph"}
NO_DESCRIPTION = {"row", "text"}


# ---- what the checks share --------------------------------------------------------------------------


def dashboards(ctx: Context) -> list[Dashboard]:
    """The rendered dashboards (parsed once per environment)."""
    if "dashboards" not in ctx.cache:
        ctx.cache["dashboards"] = grafana.rendered_dashboards(ctx.rendered.resources)
    return ctx.cache["dashboards"]


def valid_dashboards(ctx: Context) -> list[Dashboard]:
    """Dashboards that are JSON objects (dashboards/metadata reports the others)."""
    return [d for d in dashboards(ctx) if d.error is None]


def provisioned(ctx: Context) -> dict[str, str]:
    if "datasources" not in ctx.cache:
        ctx.cache["datasources"] = grafana.provisioned_datasources(ctx.rendered.resources)
    return ctx.cache["datasources"]


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


def queries(ctx: Context) -> Iterator[Query]:
    """Every PromQL/LogQL query of every dashboard: panel targets, then query variables."""
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
            str(r["record"]): str(r.get("expr", ""))
            for _, _, r in rendered_rules(ctx.rendered.resources)
            if "record" in r
        }
    return ctx.cache["dashboards:records"]


def _one_line(text: str) -> str:
    return " ".join(text.split())


# ---- dashboards/metadata ----------------------------------------------------------------------------


class DashboardMetadata(DashboardCheck):
    """A dashboard is a JSON object whose uid is its file name, titled `Area / Topic`, with tags, and
    with the variables `datasource`, `environment`, `cluster` first (in that order).

    Why: links, alerts' dashboard_url and the docs refer to dashboards by uid; people find them by
    folder, title and tag; the same three variables first means every dashboard switches prod/dev and
    cluster the same way. Bad: uid `abc123` in platform-overview.json, title `overview`, no tags,
    `cluster` before `datasource`. Good: uid `platform-overview`, title `Platform / Overview`,
    tags `["creativeflow", "platform"]`, variables datasource, environment, cluster, then the area's.
    """

    id = "dashboards/metadata"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        for d in dashboards(ctx):
            if d.error:
                findings.append(
                    self.finding(
                        ctx,
                        f"dashboard {d.key} (ConfigMap {d.configmap}) is {d.error}",
                        file=d.generated,
                        hint="fix the Jsonnet that generates it and run `cfmon generate` "
                        "(generated dashboards are never edited by hand)",
                    )
                )
                continue
            model = d.model
            if d.uid != d.stem:
                findings.append(
                    self.report(
                        ctx,
                        d,
                        f"uid {d.uid!r} differs from its file name {d.key}",
                        hint=f"set uid: '{d.stem}' (or rename the file to {d.uid}.json)",
                    )
                )
            if not TITLE.fullmatch(d.title):
                findings.append(
                    self.report(
                        ctx,
                        d,
                        f"title {d.title!r} is not `Area / Topic`",
                        hint="title it like 'Platform / Overview' or 'AI Models / Inference'",
                    )
                )
            tags = model.get("tags")
            if not isinstance(tags, list) or not tags or not all(isinstance(t, str) and t for t in tags):
                findings.append(
                    self.report(
                        ctx, d, "has no tags", hint="tag it with its area, e.g. ['creativeflow', 'platform']"
                    )
                )
            names = [str(v.get("name")) for v in grafana.variables(model)]
            if tuple(names[: len(FIRST_VARIABLES)]) != FIRST_VARIABLES:
                findings.append(
                    self.report(
                        ctx,
                        d,
                        f"variables start with {', '.join(names[:3]) or 'nothing'}, not "
                        f"{', '.join(FIRST_VARIABLES)}",
                        hint="put the datasource, environment and cluster variables first, then the area's",
                    )
                )
            ds_var = next((v for v in grafana.variables(model) if v.get("name") == "datasource"), None)
            if ds_var is not None and ds_var.get("type") != "datasource":
                findings.append(
                    self.report(
                        ctx,
                        d,
                        f"variable datasource is of type {ds_var.get('type')!r}, not datasource",
                        needle="datasource",
                        hint="make it {type: 'datasource', query: 'prometheus'}",
                    )
                )
        return findings


# ---- dashboards/panel-docs --------------------------------------------------------------------------


class PanelDocs(DashboardCheck):
    """Every panel has a description, and every panel that shows numbers has a unit.

    Why: the description is the (i) tooltip that tells an on-call engineer what a line means and
    what is normal; without a unit, 0.25 may be seconds, a ratio or requests. Bad: a timeseries
    with no `description` and no `fieldConfig.defaults.unit`. Good: description 'Requests per
    second served, by route; a drop to 0 means no traffic reaches the service.', unit `reqps`.
    Rows and text panels need neither; logs panels need no unit.
    """

    id = "dashboards/panel-docs"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        for d in valid_dashboards(ctx):
            for panel in grafana.panels(d.model):
                missing = []
                if panel.type not in NO_DESCRIPTION and not str(panel.obj.get("description") or "").strip():
                    missing.append("a description")
                unit = ((panel.obj.get("fieldConfig") or {}).get("defaults") or {}).get("unit")
                if panel.type not in NO_UNIT and not str(unit or "").strip():
                    missing.append("a unit (fieldConfig.defaults.unit)")
                if missing:
                    findings.append(
                        self.report(
                            ctx,
                            d,
                            f"{panel.type} {panel.label} has no " + " and no ".join(m[2:] for m in missing),
                            needle=panel.title,
                            hint="give the panel "
                            + " and ".join(missing)
                            + " (units: reqps, s, percentunit, bytes, short, ...)",
                        )
                    )
        return findings


# ---- dashboards/panel-ids ---------------------------------------------------------------------------


class PanelIds(DashboardCheck):
    """Every panel, rows and the panels of collapsed rows included, has its own integer id.

    Why: Grafana keys panel links (`viewPanel=3`), library panels and its own edits by id; two panels
    with one id make links open the wrong panel and edits overwrite each other. Bad: two panels with
    id 2, or none. Good: ids 1, 2, 3, ... (the Jsonnet helper numbers them).
    """

    id = "dashboards/panel-ids"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        for d in valid_dashboards(ctx):
            seen: dict[int, Panel] = {}
            for panel in grafana.panels(d.model):
                pid = panel.id
                if not isinstance(pid, int) or isinstance(pid, bool):
                    findings.append(
                        self.report(
                            ctx,
                            d,
                            f'panel "{panel.title}" has no integer id (id: {pid!r})',
                            needle=panel.title,
                            hint="number panels uniquely (1, 2, 3, ...)",
                        )
                    )
                elif pid in seen:
                    findings.append(
                        self.report(
                            ctx,
                            d,
                            f'panel id {pid} is used by "{seen[pid].title}" and "{panel.title}"',
                            needle=panel.title,
                            hint="give each panel its own id",
                        )
                    )
                else:
                    seen[pid] = panel
        return findings


# ---- dashboards/grid --------------------------------------------------------------------------------


def _grid(panel: Panel) -> tuple[int, int, int, int] | str:
    """(x, y, w, h), or what is wrong with the panel's gridPos."""
    pos = panel.obj.get("gridPos")
    if not isinstance(pos, dict):
        return "has no gridPos"
    values = [pos.get(k) for k in ("x", "y", "w", "h")]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return f"has a gridPos that is not four integers x, y, w, h: {json.dumps(pos, sort_keys=True)}"
    x, y, w, h = values
    if x < 0 or y < 0 or w < 1 or h < 1 or x + w > grafana.GRID_COLUMNS:
        return (
            f"has gridPos x={x} y={y} w={w} h={h}, outside the {grafana.GRID_COLUMNS}-column grid "
            "(x >= 0, w >= 1, x + w <= 24, h >= 1)"
        )
    return x, y, w, h


class PanelGrid(DashboardCheck):
    """Every panel sits on the 24-column grid and no two panels overlap.

    Why: Grafana silently moves overlapping panels, so the layout people see is not the one
    reviewed (and changes as panels are added). The panels of a collapsed row are checked against
    each other (they are laid out when the row opens). Bad: x 12 w 16 (past column 24), two panels
    at x 0 y 0. Good: side by side at x 0 w 12 and x 12 w 12.
    """

    id = "dashboards/grid"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        for d in valid_dashboards(ctx):
            # The top level, and the panels of each collapsed row apart.
            layers: dict[int | None, list[tuple[Panel, tuple[int, int, int, int]]]] = {}
            for panel in grafana.panels(d.model):
                box = _grid(panel)
                if isinstance(box, str):
                    findings.append(
                        self.report(
                            ctx, d, f"{panel.label} {box}", needle=panel.title, hint="fix the panel's gridPos"
                        )
                    )
                    continue
                layer = layers.setdefault(panel.row_index, [])
                for other, obox in layer:
                    if _overlap(box, obox):
                        findings.append(
                            self.report(
                                ctx,
                                d,
                                f"{panel.label} at x={box[0]} y={box[1]} w={box[2]} h={box[3]} overlaps "
                                f"{other.label} at x={obox[0]} y={obox[1]} w={obox[2]} h={obox[3]}",
                                needle=panel.title,
                                hint="move one of them (the Jsonnet grid helper lays panels out in rows)",
                            )
                        )
                layer.append((panel, box))
        return findings


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


# ---- dashboards/datasource --------------------------------------------------------------------------


class DashboardDatasource(DashboardCheck):
    """Panels, queries, query variables and annotations name their datasource by a datasource
    variable (`${datasource}`) or by a uid Grafana provisions in the same render.

    Why: a datasource by name, by an unknown uid or left out (the default) breaks when the datasource
    is renamed, in another environment, or when a second datasource of the type is added; a uid the
    render does not provision shows "datasource not found". Bad: `"datasource": "Prometheus-Main"`,
    `{uid: 'P1809F7CD0C75ACF3'}`, `{type: 'loki', uid: 'prometheus'}`, no datasource. Good:
    `{type: 'prometheus', uid: '${datasource}'}`, `{type: 'loki', uid: 'loki'}`.
    """

    id = "dashboards/datasource"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        known = provisioned(ctx)
        for d in valid_dashboards(ctx):
            for where, needle, ds, required in self._references(d):
                problem = self._problem(ds, d, known, required)
                if problem:
                    findings.append(
                        self.report(
                            ctx,
                            d,
                            f"{where} {problem}",
                            needle=needle,
                            hint="use {type: 'prometheus', uid: '${datasource}'} or a provisioned uid "
                            f"({', '.join(sorted(known)) or 'none provisioned'})",
                        )
                    )
        return findings

    def _references(self, d: Dashboard) -> Iterator[tuple[str, str, Any, bool]]:
        """(where, Jsonnet needle, datasource reference, whether one is required)."""
        for panel in grafana.panels(d.model):
            targets = panel.targets()
            if panel.type != "row" and (targets or "datasource" in panel.obj):
                yield panel.label, panel.title, panel.obj.get("datasource"), bool(targets)
            for target in targets:
                if "datasource" in target:
                    yield (
                        f"{panel.label} refId {target.get('refId', '?')}",
                        panel.title,
                        target["datasource"],
                        False,
                    )
        for var in grafana.variables(d.model):
            if var.get("type") == "query":
                yield f'variable "{var.get("name")}"', str(var.get("name")), var.get("datasource"), True
        for ann in (d.model.get("annotations") or {}).get("list") or []:
            if isinstance(ann, dict):
                yield f'annotation "{ann.get("name")}"', str(ann.get("name")), ann.get("datasource"), True

    @staticmethod
    def _problem(ds: Any, d: Dashboard, known: dict[str, str], required: bool) -> str | None:
        if ds is None:
            return "has no datasource (Grafana would use whichever is the default)" if required else None
        if isinstance(ds, str):
            kind = "a variable" if grafana.variable_ref(ds) else "name"
            return f"refers to its datasource as the string {ds!r} (by {kind}), not {{type, uid}}"
        if not isinstance(ds, dict):
            return f"has a datasource that is neither a {{type, uid}} object nor a string: {ds!r}"
        uid = str(ds.get("uid") or "")
        declared = str(ds.get("type") or "")
        if uid in grafana.BUILTIN_DATASOURCES:
            return None
        name = grafana.variable_ref(uid)
        if name:
            var = next((v for v in grafana.variables(d.model) if v.get("name") == name), None)
            if var is None or var.get("type") != "datasource":
                return f"uses datasource {uid}, but the dashboard has no datasource variable {name!r}"
            plugin = str(var.get("query") or "")
            if declared and plugin and declared != plugin:
                return f"declares type {declared!r} but variable {name!r} selects {plugin} datasources"
            return None
        if not uid:
            return "has a datasource without a uid"
        if uid not in known:
            return f"uses datasource uid {uid!r}, which this render does not provision"
        if declared and declared != known[uid]:
            return f"declares type {declared!r} for uid {uid!r}, which is a {known[uid]} datasource"
        return None


# ---- dashboards/promql ------------------------------------------------------------------------------


class DashboardPromql(DashboardCheck):
    """Every PromQL query of a dashboard (panel targets and query variables) parses, with Grafana's
    variables ($__rate_interval, $service, ${env:regex}, [[x]]) substituted.

    Why: a query that does not parse shows an error box instead of the graph, and nobody notices
    until the incident. Bad: `sum(rate(http_requests_total[$__rate_interval])` (unclosed), `rate(x)`.
    Good: `sum by (service) (rate(http_requests_total{service=~"$service"}[$__rate_interval]))`.
    """

    id = "dashboards/promql"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        for q in queries(ctx):
            if q.language != "prometheus":
                continue
            try:
                promql.parse(q.text)
            except promql.PromqlError as exc:
                findings.append(
                    self.report(
                        ctx,
                        q.dashboard,
                        f"{q.where}: PromQL does not parse: {_one_line(str(exc))} "
                        f"(query: {_one_line(q.expr)})",
                        needle=q.needle,
                        hint="fix the expression (try it in Prometheus' query page)",
                    )
                )
        return findings


# ---- dashboards/metrics-known -----------------------------------------------------------------------


class DashboardMetricsKnown(DashboardCheck):
    """Every metric a dashboard reads is in the metrics contract, an exporter list or a recording rule.

    Why: a misspelt metric draws an empty panel ("No data") that looks like a quiet system. Bad:
    `http_request_total` (missing s). Good: a name from docs/metrics.md or a recording rule such as
    `service:http_requests:rate5m`.
    """

    id = "dashboards/metrics-known"

    def run(self, ctx: Context) -> list[Finding]:
        found = list(promql_queries(ctx))
        if not found:
            return []
        known = catalog(ctx.project.root.resolve()) | set(recording_rules(ctx))
        findings = []
        for q, tree in found:
            names = promql.metric_names(tree)
            for name in sorted(n for n in names - known if grafana.PLACEHOLDER not in n):
                findings.append(
                    self.report(
                        ctx,
                        q.dashboard,
                        f"{q.where} reads {name}, which is not in the metrics contract, "
                        "an exporter list or a recording rule",
                        needle=q.needle,
                        hint=f"fix the name, or add it to {CONTRACT} (application metric) or to the "
                        "mixin's exporterMetrics (exporter metric)",
                    )
                )
        return findings


# ---- dashboards/rate-interval -----------------------------------------------------------------------


def _rate_calls(tree) -> Iterator[tuple[str, str | None, float]]:
    """(function, metric name, range in seconds) of every rate/irate/increase over a selector."""
    for node in promql.walk(tree):
        if isinstance(node, promql_parser.Call) and node.func.name in RATE_FUNCS and node.args:
            arg = node.args[0]
            if isinstance(arg, promql_parser.MatrixSelector):
                yield node.func.name, arg.vector_selector.name, arg.range.total_seconds()


def _range_text(seconds: float) -> str:
    """A range as written: $__rate_interval for Grafana's (see grafana.BUILTINS), else 1h30m."""
    if seconds in grafana.BUILTIN_SECONDS:
        return grafana.BUILTIN_SECONDS[seconds]
    text, rest = "", seconds
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if rest >= size:
            text += f"{int(rest // size)}{unit}"
            rest %= size
    return text + (f"{rest:g}s" if rest or not text else "")


class RateInterval(DashboardCheck):
    """rate(), irate() and increase() read counters only, over `[$__rate_interval]`.

    Why: rate() of a gauge is meaningless (and of a recording rule, a rate of a rate); a fixed
    `[5m]` shows nothing when the scrape interval or the zoom makes the step larger, and a
    `[$__interval]` shorter than two scrapes draws gaps. $__rate_interval is Grafana's range that is
    always at least four scrape intervals. increase() may also use `[$__range]` (a stat's "in the
    selected time range"). Counters: names ending _total, _count, _sum or _bucket, and the exporter
    counters declared in jsonnet/metrics-counters.jsonnet. Bad: `rate(pg_up[5m])`,
    `rate(http_requests_total[1m])`. Good: `rate(http_requests_total[$__rate_interval])`,
    `increase(x_total[$__range])`.
    """

    id = "dashboards/rate-interval"

    def run(self, ctx: Context) -> list[Finding]:
        found = list(promql_queries(ctx))
        if not found:
            return []
        root = ctx.project.root.resolve()
        counters = declared_counters(root)
        findings = [
            self.finding(
                ctx,
                f"{COUNTERS} declares {name}, which is not in the metrics catalog",
                file=str(COUNTERS),
                hint="fix the name, or add the metric to its mixin's exporterMetrics",
            )
            for name in sorted(counters - catalog(root))
        ]
        for q, tree in found:
            for func, name, seconds in _rate_calls(tree):
                if name and not name.endswith(COUNTER_SUFFIXES) and name not in counters:
                    findings.append(
                        self.report(
                            ctx,
                            q.dashboard,
                            f"{q.where}: {func}() over {name}, which is not a counter",
                            needle=q.needle,
                            hint="graph a gauge as is (or with avg_over_time/deriv); rate() only counters",
                        )
                    )
                allowed = {"$__rate_interval"} | ({"$__range"} if func == "increase" else set())
                used = _range_text(seconds)
                if used not in allowed:
                    findings.append(
                        self.report(
                            ctx,
                            q.dashboard,
                            f"{q.where}: {func}({name or '...'}[{used}]) should use "
                            f"[{' or '.join(sorted(allowed))}]",
                            needle=q.needle,
                            hint="use [$__rate_interval]: it grows with the step and the scrape interval",
                        )
                    )
        return findings


# ---- dashboards/quantile ----------------------------------------------------------------------------


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


# ---- dashboards/logql -------------------------------------------------------------------------------


class DashboardLogql(DashboardCheck):
    """Every LogQL query of a dashboard (Loki panel targets and query variables) is well-formed: a
    stream selector with at least one matcher that narrows the streams, then line filters, parsers
    (json, logfmt, pattern, regexp), label filters and formatting stages, or a metric query
    (count_over_time, rate, ... over a positive [range], aggregated by sum/topk/sort_desc).

    Why: Loki only reports a bad query when someone opens the panel; a selector such as
    `{app=~".*"}` is refused outright. Bad: `{app=~".*"}`, `{app="x"} | jsno`,
    `sum(count_over_time({app="x"}))` (no range). Good:
    `sum by (level) (count_over_time({namespace="creativeflow"} | json | level=~"error|fatal" [$__auto]))`.
    """

    id = "dashboards/logql"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        for q in queries(ctx):
            if q.language != "loki":
                continue
            try:
                logql.parse(q.text)
            except logql.LogqlError as exc:
                findings.append(
                    self.report(
                        ctx,
                        q.dashboard,
                        f"{q.where}: LogQL is not well-formed: {exc.reason} (query: {_one_line(q.expr)})",
                        needle=q.needle,
                        hint="fix the query (Grafana's Explore with the Loki datasource shows it too)",
                    )
                )
        return findings

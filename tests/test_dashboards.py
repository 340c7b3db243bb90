"""The Grafana dashboards the mixins generate follow the house conventions, and the dashboards
library (jsonnet/lib/dashboards.libsonnet) lays panels out and refuses incomplete ones.

`problems()` states the conventions once; every generated dashboard must have none, and each
convention is shown to catch a dashboard broken on purpose.
"""

from __future__ import annotations

import copy
import datetime
import json
import re
from dataclasses import dataclass, field

import promql_parser
import pytest
import yaml
from conftest import ROOT, promtool_expr_test

from cfmon import binaries
from cfmon.errors import UserError

DASHBOARDS_DIR = "charts/creativeflow-monitoring/charts/grafana/files/dashboards/"
STANDARD_VARIABLES = ["datasource", "environment", "cluster"]
TITLE = re.compile(r"^[A-Z0-9][^/]* / [A-Z0-9][^/]*$")
GRID_WIDTH = 24
# Panels that show no numbers (no unit) and panels that need no description.
UNITLESS = {"row", "text", "logs"}
UNDESCRIBED = {"row"}
# Grafana's interval variables, replaced by distinct durations so the parsed ranges tell them apart.
RATE_INTERVAL = datetime.timedelta(seconds=299)
GRAFANA_INTERVALS = {"$__rate_interval": "299s", "$__range": "3601s", "$__interval": "61s"}
RATE_FUNCTIONS = {"rate", "increase", "irate"}
VARIABLE = re.compile(r"\$(?:\{(\w+)\}|([A-Za-z_]\w*))")  # not label_replace's $1

# The role dashboards of issue 6 (folder/uid), with the settings the seeds ask for.
ROLE_DASHBOARDS = {
    "Overview/system-health-overview.json": {"refresh": "30s", "variables": []},
    "Applications/application-performance.json": {"refresh": "30s", "variables": ["service"]},
    "AI/ai-generation-pipeline.json": {"refresh": "1m", "variables": ["provider"]},
    "AI/custom-ai-models.json": {"refresh": "1m", "variables": ["model_name", "model_version"]},
    "Business/business-kpis.json": {"refresh": "1h", "variables": []},
    "SLO/slo-overview.json": {"refresh": "1m", "variables": []},
}


def evaluate(tmp_path, source: str):
    src = tmp_path / "t.jsonnet"
    src.write_text(source)
    return json.loads(binaries.jsonnet_evaluate(src))


@dataclass
class Catalog:
    """What the dashboards may refer to: alert parameters, series names, recorded quantiles."""

    alert_params: dict[str, dict[str, float]]
    series: set[str]
    # (quantile, raw histogram metric, labels the recorded buckets keep) of every recorded quantile.
    recorded_quantiles: list[tuple[float, str, frozenset[str]]] = field(default_factory=list)


def _selectors(node) -> list[str]:
    from cfmon import promql

    return [n.name for n in promql.walk(node) if isinstance(n, promql_parser.VectorSelector) and n.name]


def _grouping(node) -> frozenset[str] | None:
    """Labels of the outermost `by` aggregation (None when there is none)."""
    from cfmon import promql

    for n in promql.walk(node):
        if isinstance(n, promql_parser.AggregateExpr) and n.modifier is not None:
            return frozenset(n.modifier.labels)
    return None


def build_catalog(pairs: list[list[str]], params, series) -> Catalog:
    from cfmon import promql

    records: dict[str, str] = {}
    for name, expr in pairs:  # a name recorded several times (per SLO) keeps its first expression
        records.setdefault(name, expr)

    def raw_bucket(name: str, seen=()) -> tuple[str, frozenset[str]] | None:
        """The raw `_bucket` metric a recorded bucket series comes from, and the labels it keeps."""
        if name not in records or name in seen:
            return (name, frozenset()) if name.endswith("_bucket") and ":" not in name else None
        tree = promql.parse(records[name])
        for sel in _selectors(tree):
            found = raw_bucket(sel, (*seen, name))
            if found:
                labels = _grouping(tree)
                return found[0], labels if labels is not None and found[1] == frozenset() else found[1]
        return None

    quantiles = []
    for _, expr in pairs:
        for node in promql.walk(promql.parse(expr)):
            if isinstance(node, promql_parser.Call) and node.func.name == "histogram_quantile":
                for sel in _selectors(node.args[1]):
                    found = raw_bucket(sel)
                    if found:
                        quantiles.append((node.args[0].val, found[0], found[1] - {"le"}))
    return Catalog(params, set(series) | set(records), quantiles)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Dashboards, alert params and recording rules, evaluated once from the Jsonnet."""
    tmp = tmp_path_factory.mktemp("dashboards")
    data = evaluate(
        tmp,
        f"local m = import '{ROOT}/jsonnet/main.libsonnet';\n"
        "{ dashboards: m.dashboards, alertParams: m.alertParams, series: m.metrics.seriesNames,\n"
        "  records: [[r.record, r.expr] for f in std.objectValues(m.ruleFiles) for g in f.groups\n"
        "            for r in g.rules if std.objectHas(r, 'record')] }\n",
    )
    return data["dashboards"], build_catalog(data["records"], data["alertParams"], data["series"])


# ---- the conventions ------------------------------------------------------------------------------


def panels_of(dashboard: dict) -> list[dict]:
    out = []
    for p in dashboard.get("panels", []):
        out.append(p)
        out.extend(p.get("panels", []))  # collapsed rows hold their panels
    return out


def runbook_alerts(panel: dict) -> list[str]:
    return [
        link["title"].removeprefix("Runbook: ")
        for link in panel.get("links", [])
        if link["title"].startswith("Runbook: ")
    ]


def step_values(panel: dict) -> list[float]:
    """The threshold steps, a `${Alert.param}` token (the chart fills it) read as its default."""
    steps = panel.get("fieldConfig", {}).get("defaults", {}).get("thresholds", {}).get("steps", [])
    return [_param_default(s["value"]) for s in steps if s.get("value") is not None]


def _param_default(value):
    m = re.fullmatch(r"\$\{([A-Za-z0-9]+)\.([A-Za-z0-9]+)\}", value) if isinstance(value, str) else None
    if not m:
        return value
    params = yaml.safe_load(
        (ROOT / "charts/creativeflow-monitoring/charts/prometheus/files/alert-params.yaml").read_text()
    )
    return params[m.group(1)][m.group(2)]


def promql_problems(where: str, expr: str, catalog: Catalog) -> list[str]:
    from cfmon import promql

    text = expr
    for var, duration in GRAFANA_INTERVALS.items():
        text = text.replace(var, duration)
    try:
        tree = promql.parse(text)
    except promql.PromqlError as exc:
        return [f"{where}: does not parse as PromQL ({exc}): {expr}"]
    found = []
    for node in promql.walk(tree):
        if isinstance(node, promql_parser.Call) and node.func.name in RATE_FUNCTIONS:
            arg = node.args[0]
            if isinstance(arg, promql_parser.MatrixSelector) and arg.range != RATE_INTERVAL:
                found.append(f"{where}: {node.func.name}() over {arg.range}, not [$__rate_interval]: {expr}")
        if isinstance(node, promql_parser.Call) and node.func.name == "histogram_quantile":
            raw = [n for n in _selectors(node.args[1]) if ":" not in n and n.endswith("_bucket")]
            labels = (_grouping(node.args[1]) or frozenset()) - {"le"}
            for q, metric, kept in catalog.recorded_quantiles:
                if raw and metric in raw and q == node.args[0].val and labels <= kept:
                    found.append(
                        f"{where}: raw histogram_quantile({q}) of {metric}: a recording rule has it: {expr}"
                    )
    for name in sorted(promql.metric_names(text) - catalog.series):
        found.append(
            f"{where}: unknown metric {name} (not in the contract, an exporter list or a recording rule)"
        )
    return found


def overlaps(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["w"]
        and b["x"] < a["x"] + a["w"]
        and a["y"] < b["y"] + b["h"]
        and b["y"] < a["y"] + a["h"]
    )


def problems(path: str, dashboard: dict, catalog: Catalog) -> list[str]:
    """Every convention a generated dashboard breaks, as messages naming the panel."""
    found: list[str] = []
    uid = dashboard.get("uid")
    if path.rsplit("/", 1)[-1] != f"{uid}.json":
        found.append(f"{path}: uid {uid!r} is not the file name stem")
    if not TITLE.match(dashboard.get("title", "")):
        found.append(f"{path}: title {dashboard.get('title')!r} is not 'Area / Topic'")
    if "creativeflow" not in dashboard.get("tags", []):
        found.append(f"{path}: no 'creativeflow' tag")
    if not any(
        lk.get("type") == "dashboards" and "creativeflow" in lk.get("tags", [])
        for lk in dashboard.get("links", [])
    ):
        found.append(f"{path}: no links to the other creativeflow dashboards")
    if dashboard.get("graphTooltip") != 1 or not dashboard.get("refresh") or not dashboard.get("description"):
        found.append(f"{path}: needs a shared crosshair, a refresh interval and a description")

    variables = dashboard.get("templating", {}).get("list", [])
    names = [v["name"] for v in variables]
    if names[:3] != STANDARD_VARIABLES:
        found.append(f"{path}: the first variables are {names[:3]}, not {STANDARD_VARIABLES}")
    else:
        if variables[0]["type"] != "datasource" or variables[0]["query"] not in ("prometheus", "loki"):
            found.append(f"{path}: variable datasource must be a prometheus or loki datasource variable")
        for v in variables[1:]:
            if v.get("type") == "query" and v.get("datasource", {}).get("uid") != "${datasource}":
                found.append(f"{path}: variable {v['name']} does not query the datasource variable")
        if "$environment" not in json.dumps(variables[2].get("query")):
            found.append(f"{path}: variable cluster is not filtered by $environment")

    panels = panels_of(dashboard)
    ids = [p.get("id") for p in panels]
    for i in sorted({i for i in ids if ids.count(i) > 1}, key=str):
        found.append(f"{path}: duplicate panel id {i}")
    for p in panels:
        g, title = p.get("gridPos", {}), p.get("title")
        if (
            not all(isinstance(g.get(k), int) for k in "xywh")
            or g["x"] < 0
            or g["w"] < 1
            or g["x"] + g["w"] > GRID_WIDTH
        ):
            found.append(f"{path}: panel {title!r} gridPos {g} is outside the {GRID_WIDTH}-column grid")
    placed = [p for p in panels if all(isinstance(p.get("gridPos", {}).get(k), int) for k in "xywh")]
    for i, a in enumerate(placed):
        for b in placed[i + 1 :]:
            if overlaps(a["gridPos"], b["gridPos"]):
                found.append(f"{path}: panels {a['title']!r} and {b['title']!r} overlap")

    defined = set(names)
    for p in panels:
        kind, title = p.get("type"), p.get("title")
        where = f"{path}: panel {title!r}"
        if kind not in UNDESCRIBED and not p.get("description"):
            found.append(f"{where}: no description (say what good looks like)")
        if kind not in UNITLESS and not p.get("fieldConfig", {}).get("defaults", {}).get("unit"):
            found.append(f"{where}: no unit")
        targets = p.get("targets", [])
        if targets and p.get("datasource", {}).get("uid") != "${datasource}":
            found.append(f"{where}: its datasource is not the datasource variable")
        refs = [t.get("refId") for t in targets]
        if len(set(refs)) != len(refs):
            found.append(f"{where}: duplicate refIds {refs}")
        for t in targets:
            if t.get("datasource", {}).get("uid") != "${datasource}":
                found.append(f"{where}: target {t.get('refId')} does not use the datasource variable")
            expr = t.get("expr", "")
            for a, b in VARIABLE.findall(expr):
                var = a or b
                if not var.startswith("__") and var not in defined:
                    found.append(f"{where}: target {t.get('refId')} uses undefined variable ${var}")
            if t.get("datasource", {}).get("type") == "prometheus":
                found.extend(promql_problems(f"{where} target {t.get('refId')}", expr, catalog))

        # Thresholds of a panel that mirrors alerts with parameters are those parameters' defaults:
        # every step is one, and some step is (a parameter the panel does not draw, e.g. a prediction
        # horizon, needs no line). Alerts without parameters (`up == 0`, `> 0`) fix no line.
        alerts = runbook_alerts(p)
        values = set(step_values(p))
        for alert in alerts:
            if alert not in catalog.alert_params:
                found.append(f"{where}: links the runbook of {alert}, which is not an alert")
        allowed = {v for a in alerts for v in catalog.alert_params.get(a, {}).values()}
        if allowed and not values & allowed:
            found.append(f"{where}: no threshold step equals a parameter of {alerts}")
        if allowed and values - allowed:
            found.append(f"{where}: threshold steps {sorted(values - allowed)} are no parameter of {alerts}")
    return found


# ---- every generated dashboard --------------------------------------------------------------------


def test_every_dashboard_follows_the_conventions(built):
    dashboards, catalog = built
    found = [msg for path, d in sorted(dashboards.items()) for msg in problems(path, d, catalog)]
    assert found == []


def test_dashboard_uids_are_unique(built):
    dashboards, _ = built
    uids = [d["uid"] for d in dashboards.values()]
    assert len(uids) == len(set(uids))


def test_the_role_dashboards_exist_with_their_refresh_and_variables(built):
    dashboards, _ = built
    for path, want in ROLE_DASHBOARDS.items():
        assert path in dashboards, f"missing {path}"
        d = dashboards[path]
        assert d["refresh"] == want["refresh"], path
        assert [v["name"] for v in d["templating"]["list"]][3:] == want["variables"], path


def test_the_generated_files_are_the_jsonnet_output(built):
    """What ships (the committed files the chart reads) is what the Jsonnet says: no stale file."""
    dashboards, _ = built
    on_disk = {
        p.relative_to(ROOT / DASHBOARDS_DIR).as_posix(): p
        for p in sorted((ROOT / DASHBOARDS_DIR).rglob("*.json"))
    }
    assert set(on_disk) == set(dashboards), "run `cfmon generate`"
    for rel, path in on_disk.items():
        data = json.loads(path.read_text())
        assert data.pop("$comment").startswith("GENERATED by cfmon generate")
        assert data == dashboards[rel], f"{rel} is stale: run `cfmon generate`"


def test_panel_thresholds_follow_the_mixin_config(tmp_path):
    """One source of truth: overriding an alert default in a mixin's _config moves the panel's line."""
    data = evaluate(
        tmp_path,
        f"local m = (import '{ROOT}/jsonnet/mixins/applications/mixin.libsonnet')\n"
        "  + { _config+:: { serviceErrorRatioThreshold: 0.123, odooLatencyP99ThresholdSeconds: 7 } };\n"
        "m.grafanaDashboards['application-performance.json']\n",
    )
    by_title = {p["title"]: p for p in data["panels"]}
    assert step_values(by_title["Errors: 5xx ratio by service"]) == [0.123]
    assert step_values(by_title["Odoo p95 / p99 latency"])[1] == 7


# ---- each convention catches a broken dashboard ----------------------------------------------------


def _first(dashboard: dict, kind: str) -> dict:
    return next(p for p in dashboard["panels"] if p["type"] == kind and p.get("targets"))


def _alerting_panel(dashboard: dict) -> dict:
    return next(p for p in dashboard["panels"] if runbook_alerts(p))


def _break_overlap(d):
    panels = [p for p in d["panels"] if p["type"] == "timeseries"]
    panels[1]["gridPos"] = dict(panels[0]["gridPos"])


def _raw_quantile(d):
    _first(d, "timeseries")["targets"][0]["expr"] = (
        "histogram_quantile(0.99, sum by (cluster, environment, service, le) "
        '(rate(http_request_duration_seconds_bucket{environment="$environment"}[$__rate_interval])))'
    )


BREAKAGES = {
    "uid": (lambda d: d.update(uid="other"), "is not the file name stem"),
    "title": (lambda d: d.update(title="Application performance"), "is not 'Area / Topic'"),
    "tag": (lambda d: d.update(tags=["applications"]), "no 'creativeflow' tag"),
    "links": (lambda d: d.update(links=[]), "no links to the other creativeflow dashboards"),
    "variable order": (
        lambda d: d["templating"]["list"].insert(0, d["templating"]["list"].pop(1)),
        "the first variables are",
    ),
    "cluster not chained": (
        lambda d: d["templating"]["list"][2]["query"].update(query="label_values(up, cluster)"),
        "not filtered by $environment",
    ),
    "description": (lambda d: _first(d, "timeseries").pop("description"), "no description"),
    "unit": (lambda d: _first(d, "stat")["fieldConfig"]["defaults"].pop("unit"), "no unit"),
    "panel datasource": (
        lambda d: _first(d, "timeseries").update(datasource={"type": "prometheus", "uid": "prometheus"}),
        "its datasource is not the datasource variable",
    ),
    "target datasource": (
        lambda d: _first(d, "stat")["targets"][0].update(
            datasource={"type": "prometheus", "uid": "prometheus"}
        ),
        "does not use the datasource variable",
    ),
    "duplicate id": (lambda d: d["panels"][2].update(id=d["panels"][1]["id"]), "duplicate panel id"),
    "overlap": (_break_overlap, "overlap"),
    "off the grid": (lambda d: _first(d, "stat")["gridPos"].update(x=20, w=8), "outside the 24-column grid"),
    "threshold": (
        lambda d: _alerting_panel(d)["fieldConfig"]["defaults"]["thresholds"]["steps"][-1].update(value=0.42),
        "no parameter of",
    ),
    "thresholds dropped": (
        lambda d: _alerting_panel(d)["fieldConfig"]["defaults"].update(
            thresholds={"mode": "absolute", "steps": [{"color": "green", "value": None}]}
        ),
        "no threshold step equals a parameter of",
    ),
    "unknown alert": (
        lambda d: _alerting_panel(d)["links"][0].update(title="Runbook: NoSuchAlert"),
        "which is not an alert",
    ),
    "fixed rate window": (
        lambda d: _first(d, "stat")["targets"][0].update(expr="sum(rate(http_requests_total[5m]))"),
        "not [$__rate_interval]",
    ),
    "unknown metric": (
        lambda d: _first(d, "stat")["targets"][0].update(expr="sum(service:http_requests_typo:rate5m)"),
        "unknown metric service:http_requests_typo:rate5m",
    ),
    "unparsable": (
        lambda d: _first(d, "stat")["targets"][0].update(expr="sum(rate(x[$__rate_interval])"),
        "does not parse",
    ),
    "undefined variable": (
        lambda d: _first(d, "stat")["targets"][0].update(
            expr='sum(service:http_requests:rate5m{team="$team"})'
        ),
        "undefined variable $team",
    ),
    "raw quantile": (_raw_quantile, "a recording rule has it"),
}


@pytest.mark.parametrize("name", sorted(BREAKAGES))
def test_a_broken_dashboard_fails_the_conventions(built, name):
    dashboards, catalog = built
    path = "Applications/application-performance.json"
    assert problems(path, dashboards[path], catalog) == []
    broken = copy.deepcopy(dashboards[path])
    breakage, message = BREAKAGES[name]
    breakage(broken)
    found = problems(path, broken, catalog)
    assert any(message in f for f in found), found


def test_a_raw_quantile_at_a_level_no_rule_records_is_allowed(built):
    """Per model version no recording rule exists: the raw histogram is the only way (INT-007)."""
    _, catalog = built
    expr = (
        "histogram_quantile(0.99, sum by (le, model_name, model_version) "
        "(rate(custom_model_inference_latency_seconds_bucket[$__rate_interval])))"
    )
    assert promql_problems("t", expr, catalog) == []
    per_model = expr.replace(", model_version", "")
    assert "a recording rule has it" in promql_problems("t", per_model, catalog)[0]


# ---- the library ----------------------------------------------------------------------------------

LIB = f"local d = import '{ROOT}/jsonnet/lib/dashboards.libsonnet';\n"
PANEL = "local P(t) = d.stat(t, 'Good: something good.', 'short', [d.target('up')]);\n"


def test_layout_places_rows_and_cells_on_the_grid_and_numbers_them(tmp_path):
    panels = evaluate(
        tmp_path,
        LIB
        + PANEL
        + "d.layout([d.row('R'), [P('a'), P('b'), P('c'), [P('d'), 5]],"
        + " d.height(4, [[P('e'), 6], P('f')]), [P('g')]])",
    )
    got = [(p["title"], p["id"], p["gridPos"]) for p in panels]
    assert got == [
        ("R", 1, {"x": 0, "y": 0, "w": 24, "h": 1}),
        # 19 columns left for three cells: 6, 6 and the remainder 7, so the line fills the grid
        ("a", 2, {"x": 0, "y": 1, "w": 6, "h": 8}),
        ("b", 3, {"x": 6, "y": 1, "w": 6, "h": 8}),
        ("c", 4, {"x": 12, "y": 1, "w": 7, "h": 8}),
        ("d", 5, {"x": 19, "y": 1, "w": 5, "h": 8}),
        ("e", 6, {"x": 0, "y": 9, "w": 6, "h": 4}),
        ("f", 7, {"x": 6, "y": 9, "w": 18, "h": 4}),
        ("g", 8, {"x": 0, "y": 13, "w": 24, "h": 8}),
    ]
    assert panels[1]["targets"][0]["refId"] == "A"
    assert panels[1]["targets"][0]["datasource"] == {"type": "prometheus", "uid": "${datasource}"}


def test_layout_refuses_a_line_wider_than_the_grid(tmp_path):
    with pytest.raises(UserError) as err:
        evaluate(tmp_path, LIB + PANEL + "d.layout([[[P('a'), 16], [P('b'), 12]]])")
    assert "are 28 columns wide, more than 24" in err.value.message


@pytest.mark.parametrize(
    ("panel", "message"),
    [
        (
            "d.stat('x', '', 'short', [d.target('up')])",
            "a description saying what good looks like is required",
        ),
        ("d.timeseries('x', 'Good: low and flat.', '', [d.target('up')])", "a unit is required"),
        (
            "d.timeseries('x', 'Good: low and flat.', 'reqps', [d.target('sum(rate(a_total[5m]))')])",
            "use [$__rate_interval]",
        ),
        ("d.above([0.9, 0.8])", "one or two ascending values"),
    ],
)
def test_the_library_refuses_incomplete_panels(tmp_path, panel, message):
    with pytest.raises(UserError) as err:
        evaluate(tmp_path, LIB + panel)
    assert message in err.value.message


def test_dashboard_gets_the_standard_variables_and_refuses_a_bad_title(tmp_path):
    spec = "{uid: 'x-y', title: '%s', description: 'Why.', panels: d.layout([])}"
    data = evaluate(tmp_path, LIB + "d.dashboard(" + spec % "Area / Topic" + ")")
    assert [v["name"] for v in data["templating"]["list"]] == STANDARD_VARIABLES
    assert (
        data["templating"]["list"][2]["definition"] == 'label_values(up{environment="$environment"}, cluster)'
    )
    with pytest.raises(UserError) as err:
        evaluate(tmp_path, LIB + "d.dashboard(" + spec % "Topic" + ")")
    assert 'title must look like "Area / Topic"' in err.value.message


def test_selector_builds_the_environment_and_cluster_matchers(tmp_path):
    got = evaluate(tmp_path, LIB + "[d.selector(), d.selector(['service=~\"$service\"'])]")
    assert got == [
        '{environment="$environment", cluster="$cluster"}',
        '{environment="$environment", cluster="$cluster", service=~"$service"}',
    ]


# ---- the joins, evaluated by the real Prometheus engine (promtool) ---------------------------------

# What Grafana substitutes before the query reaches Prometheus.
GRAFANA_VALUES = {
    "$__rate_interval": "2m",
    "$environment": "prod",
    "$cluster": "c1",
    "$model_name": ".*",
    "$model_version": ".*",
}
HERE = 'cluster="c1", environment="prod"'


def panel_expr(dashboards: dict, path: str, title: str) -> str:
    panel = next(p for p in dashboards[path]["panels"] if p["title"] == title)
    expr = panel["targets"][0]["expr"]
    for var, value in GRAFANA_VALUES.items():
        expr = expr.replace(var, value)
    return expr


def test_queries_joining_node_roles_and_model_pods_give_the_expected_series(built, tmp_path):
    """The label joins (node -> role, pod -> model) are the queries most likely to be subtly wrong:
    run them through promtool against series shaped like the exporters' (extra scrape labels, a second
    kube-state-metrics replica, a node without a role label, another cluster)."""
    dashboards, _ = built
    overview, models = "Overview/system-health-overview.json", "AI/custom-ai-models.json"
    ksm = 'job="kube-state-metrics", namespace="monitoring"'
    fs = "instance_mountpoint:node_filesystem_avail:ratio"
    series = [
        (f'instance:node_cpu_utilisation:rate5m{{{HERE}, instance="n1"}}', "0.5x10"),
        (f'instance:node_cpu_utilisation:rate5m{{{HERE}, instance="n2"}}', "0.7x10"),
        (f'instance:node_cpu_utilisation:rate5m{{{HERE}, instance="n3"}}', "0.2x10"),
        ('instance:node_cpu_utilisation:rate5m{cluster="c2", environment="prod", instance="n1"}', "0.9x10"),
        (
            f'kube_node_role{{{HERE}, {ksm}, instance="10.0.0.9:8080", node="n1", role="control-plane"}}',
            "1x10",
        ),
        (f'kube_node_role{{{HERE}, {ksm}, instance="10.0.0.9:8080", node="n2", role="worker"}}', "1x10"),
        (f'kube_node_role{{{HERE}, {ksm}, instance="10.0.0.10:8080", node="n2", role="worker"}}', "1x10"),
        (
            f'{fs}{{{HERE}, instance="n1", device="sda1", mountpoint="/"}}',
            "0.3x10",
        ),
        (
            f'{fs}{{{HERE}, instance="n1", device="sdb", mountpoint="/data"}}',
            "0.15x10",
        ),
        (
            f'{fs}{{{HERE}, instance="n3", device="sda1", mountpoint="/"}}',
            "0.5x10",
        ),
        (
            f'namespace_pod:container_cpu_usage_seconds:sum_rate5m{{{HERE}, namespace="models", pod="m1-a"}}',
            "1.5x10",
        ),
        (
            f'namespace_pod:container_cpu_usage_seconds:sum_rate5m{{{HERE}, namespace="web", pod="other"}}',
            "3x10",
        ),
        (
            f'custom_model_inference_requests_total{{{HERE}, namespace="models", pod="m1-a", service="m1",'
            ' model_name="m1", model_version="v2"}',
            "0+10x10",
        ),
    ]
    cases = [
        (
            panel_expr(dashboards, overview, "CPU by server role"),
            [('{role="control-plane"}', 0.5), ('{role="worker"}', 0.7), ('{role="none"}', 0.2)],
        ),
        (
            panel_expr(dashboards, overview, "Free disk space by server role (fullest filesystem)"),
            [('{role="control-plane"}', 0.15), ('{role="none"}', 0.5)],
        ),
        (
            panel_expr(dashboards, models, "CPU of serving pods"),
            [('{model_name="m1", model_version="v2", pod="m1-a"}', 1.5)],
        ),
    ]
    proc = promtool_expr_test(tmp_path, series, cases, eval_time="5m")
    assert proc.returncode == 0, proc.stdout + proc.stderr

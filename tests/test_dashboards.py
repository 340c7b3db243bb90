"""The Grafana dashboards the mixins generate pass the dashboard checks, and the dashboards library
(jsonnet/lib/dashboards.libsonnet) lays panels out and refuses incomplete ones.

The conventions are enforced in one place, the `dashboards/*` checks (cfmon.checks.dashboards and
cfmon.checks.thresholds): here they run on the rendered dashboards, which must have no finding, and
on a rendered dashboard broken on purpose, which exactly one check must catch.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re

import pytest
import yaml
from conftest import ROOT, promtool_expr_test

from cfmon import binaries
from cfmon.checks import REGISTRY
from cfmon.checks.base import Context
from cfmon.errors import UserError
from cfmon.project import Project
from cfmon.render import Rendered, render

DASHBOARDS_DIR = "charts/creativeflow-monitoring/charts/grafana/files/dashboards/"
STANDARD_VARIABLES = ["datasource", "environment", "cluster"]
DASHBOARD_CHECKS = [c for c in REGISTRY if c.id.startswith("dashboards/")]
BROKEN = "Applications/application-performance.json"

# The role dashboards (folder/uid), with the refresh and variables each audience needs.
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


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Dashboards and alert params, evaluated once from the Jsonnet."""
    tmp = tmp_path_factory.mktemp("dashboards")
    data = evaluate(
        tmp,
        f"local m = import '{ROOT}/jsonnet/main.libsonnet';\n"
        "{ dashboards: m.dashboards, alertParams: m.alertParams }\n",
    )
    return data["dashboards"], data["alertParams"]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Rendered:
    """The prod render (dashboards, datasources and rules as they ship), once."""
    return render(Project(ROOT), "prod", out=tmp_path_factory.mktemp("render") / "prod")


def with_dashboard(rendered: Rendered, path: str, model: dict) -> Rendered:
    """The render with the dashboard at `path` (folder/file) replaced by `model`."""
    key = path.rsplit("/", 1)[-1]
    resources = []
    for r in rendered.resources:
        if r.kind == "ConfigMap" and key in (r.obj.get("data") or {}):
            obj = copy.deepcopy(r.obj)
            obj["data"][key] = json.dumps(model, indent=2, sort_keys=True)
            r = dataclasses.replace(r, obj=obj)
        resources.append(r)
    return dataclasses.replace(rendered, resources=resources)


def findings(rendered: Rendered) -> dict[str, list[str]]:
    """check id -> messages of every dashboard check that finds something."""
    out = {}
    for check in DASHBOARD_CHECKS:
        found = check().run(Context(Project(ROOT), rendered.env, rendered))
        if found:
            out[check.id] = [f.message for f in found]
    return out


# ---- reading panels ---------------------------------------------------------------------------------


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


# ---- every generated dashboard --------------------------------------------------------------------


def test_every_rendered_dashboard_passes_the_dashboard_checks(rendered):
    assert findings(rendered) == {}


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


# Each breakage and the check that must catch it (the only check that finds anything).
CHECKED = {
    "uid": (lambda d: d.update(uid="other"), "dashboards/metadata"),
    "title": (lambda d: d.update(title="Application performance"), "dashboards/metadata"),
    "variable order": (
        lambda d: d["templating"]["list"].insert(0, d["templating"]["list"].pop(1)),
        "dashboards/metadata",
    ),
    "description": (lambda d: _first(d, "timeseries").pop("description"), "dashboards/panel-docs"),
    "unit": (lambda d: _first(d, "stat")["fieldConfig"]["defaults"].pop("unit"), "dashboards/panel-docs"),
    "duplicate id": (lambda d: d["panels"][2].update(id=d["panels"][1]["id"]), "dashboards/panel-ids"),
    "overlap": (_break_overlap, "dashboards/grid"),
    "off the grid": (lambda d: _first(d, "stat")["gridPos"].update(x=20, w=8), "dashboards/grid"),
    "threshold": (
        lambda d: _alerting_panel(d)["fieldConfig"]["defaults"]["thresholds"]["steps"][-1].update(value=0.42),
        "dashboards/thresholds",
    ),
    "thresholds dropped": (
        lambda d: _alerting_panel(d)["fieldConfig"]["defaults"].update(
            thresholds={"mode": "absolute", "steps": [{"color": "green", "value": None}]}
        ),
        "dashboards/thresholds",
    ),
    "fixed rate window": (
        lambda d: _first(d, "stat")["targets"][0].update(expr="sum(rate(http_requests_total[5m]))"),
        "dashboards/rate-interval",
    ),
    "unknown metric": (
        lambda d: _first(d, "stat")["targets"][0].update(expr="sum(service:http_requests_typo:rate5m)"),
        "dashboards/metrics-known",
    ),
    "unparsable": (
        lambda d: _first(d, "stat")["targets"][0].update(expr="sum(rate(x[$__rate_interval])"),
        "dashboards/promql",
    ),
    "raw quantile": (_raw_quantile, "dashboards/quantile"),
    "tag": (lambda d: d.update(tags=["applications"]), "dashboards/metadata"),
    "links": (lambda d: d.update(links=[]), "dashboards/metadata"),
    "crosshair": (lambda d: d.update(graphTooltip=0), "dashboards/metadata"),
    "refresh": (lambda d: d.pop("refresh"), "dashboards/metadata"),
    "dashboard description": (lambda d: d.update(description=""), "dashboards/metadata"),
    "cluster not chained": (
        lambda d: d["templating"]["list"][2]["query"].update(query="label_values(up, cluster)"),
        "dashboards/metadata",
    ),
    "panel datasource": (
        lambda d: _first(d, "timeseries").update(datasource={"type": "prometheus", "uid": "prometheus"}),
        "dashboards/datasource",
    ),
    "target datasource": (
        lambda d: _first(d, "stat")["targets"][0].update(
            datasource={"type": "prometheus", "uid": "prometheus"}
        ),
        "dashboards/datasource",
    ),
    "variable datasource": (
        lambda d: d["templating"]["list"][2].update(datasource={"type": "prometheus", "uid": "prometheus"}),
        "dashboards/datasource",
    ),
    "duplicate refId": (
        lambda d: _first(d, "timeseries")["targets"].append(dict(_first(d, "timeseries")["targets"][0])),
        "dashboards/ref-ids",
    ),
    "undefined variable": (
        lambda d: _first(d, "stat")["targets"][0].update(
            expr='sum(service:http_requests:rate5m{team="$team"})'
        ),
        "dashboards/variables",
    ),
    "unknown alert": (
        lambda d: _alerting_panel(d)["links"][0].update(title="Runbook: NoSuchAlert"),
        "dashboards/runbook-links",
    ),
}


def _model(rendered: Rendered, path: str) -> dict:
    key = path.rsplit("/", 1)[-1]
    return next(
        json.loads(r.obj["data"][key])
        for r in rendered.resources
        if r.kind == "ConfigMap" and key in (r.obj.get("data") or {})
    )


@pytest.mark.parametrize("name", sorted(CHECKED))
def test_a_broken_dashboard_fails_its_check(rendered, name):
    broken = _model(rendered, BROKEN)
    breakage, check_id = CHECKED[name]
    breakage(broken)
    assert list(findings(with_dashboard(rendered, BROKEN, broken))) == [check_id]


def test_a_raw_quantile_at_a_level_no_rule_records_is_allowed(rendered):
    """Per model version no recording rule exists: the raw histogram is the only way."""
    expr = (
        "histogram_quantile(0.99, sum by (le, model_name, model_version) "
        "(rate(custom_model_inference_latency_seconds_bucket[$__rate_interval])))"
    )
    for by, expected in ((expr, {}), (expr.replace(", model_version", ""), ["dashboards/quantile"])):
        model = _model(rendered, BROKEN)
        _first(model, "timeseries")["targets"][0]["expr"] = by
        found = findings(with_dashboard(rendered, BROKEN, model))
        assert (list(found) if found else {}) == expected, found


# ---- the library ----------------------------------------------------------------------------------

LIB = (
    f"local d = (import '{ROOT}/jsonnet/lib/dashboards.libsonnet')"
    f"(import '{ROOT}/jsonnet/lib/config.libsonnet');\n"
)
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

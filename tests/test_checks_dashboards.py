"""The dashboard checks (dashboards/*) and the dashboard budget of size/configmap, on a small rendered
fixture: the conforming dashboard tests/fixtures/dashboards/fixture-overview.json passes every check,
and each broken variant fails the check it breaks, with a message naming the panel and refId and a
file pointing at the dashboard's Jsonnet source."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from cfmon import sourcemap_build
from cfmon.catalog import GENERATED_DIR
from cfmon.checks import REGISTRY
from cfmon.checks.base import Context, Finding
from cfmon.checks.dashboards import (
    DashboardDatasource,
    DashboardLogql,
    DashboardMetadata,
    DashboardMetricsKnown,
    DashboardPromql,
    DashboardVariables,
    PanelDocs,
    PanelGrid,
    PanelIds,
    PanelRefIds,
    RateInterval,
    RecordedQuantileUsed,
    RunbookLinks,
)
from cfmon.checks.size import CONFIGMAP_BUDGET, DASHBOARD_BUDGET, ConfigMapSize
from cfmon.checks.thresholds import PanelThresholds
from cfmon.manifests import Resource
from cfmon.project import Project
from cfmon.render import Rendered
from cfmon.rendered import grafana

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests/fixtures/dashboards/fixture-overview.json"
DASHBOARD_TPL = "charts/creativeflow-monitoring/templates/grafana-dashboards.yaml"
GENERATED = "charts/creativeflow-monitoring/charts/grafana/files/dashboards/fixture/fixture-overview.json"
MIXIN = "jsonnet/mixins/fixture/dashboards.libsonnet"
# The Jsonnet a dashboard's findings point at: the uid and each panel title on a line of their own.
MIXIN_TEXT = """\
{
  grafanaDashboards+:: {
    'fixture-overview.json': dashboard.new(
      uid: 'fixture-overview',
      title: 'Fixture / Overview',
    ).addPanels([
      row('Traffic'),
      timeseries('Request rate', 'reqps'),
      timeseries('Latency p99', 's'),
      stat('Server errors in range', 'short'),
      logs('Error logs'),
      row('Details', collapsed=true),
      bargauge('Log lines by level', 'short'),
      timeseries('Commits', 'ops'),
    ]),
  },
}
"""
LINE = {text.split("'")[1]: n for n, text in enumerate(MIXIN_TEXT.splitlines(), 1) if "'" in text}

DASHBOARD_CHECKS = (
    DashboardMetadata,
    PanelDocs,
    PanelIds,
    PanelGrid,
    DashboardDatasource,
    DashboardPromql,
    DashboardMetricsKnown,
    RateInterval,
    RecordedQuantileUsed,
    DashboardLogql,
    PanelThresholds,
    PanelRefIds,
    DashboardVariables,
    RunbookLinks,
)

RULES = {
    "groups": [
        {
            "name": "applications-records",
            "rules": [
                {
                    "record": "service_le:http_request_duration_seconds_bucket:rate5m",
                    "expr": "sum by (cluster, environment, service, le) "
                    "(rate(http_request_duration_seconds_bucket[5m]))",
                },
                {
                    "record": "service:http_request_duration_seconds:p99_rate5m",
                    "expr": "histogram_quantile(0.99, "
                    "service_le:http_request_duration_seconds_bucket:rate5m)",
                },
                {
                    "record": "database:pg_stat_database_xact_commit:rate5m",
                    "expr": "sum by (cluster, environment, datname) (rate(pg_stat_database_xact_commit[5m]))",
                },
            ],
        }
    ]
}
DATASOURCES = {
    "apiVersion": 1,
    "datasources": [
        {"name": "Prometheus-Main", "uid": "prometheus", "type": "prometheus"},
        {"name": "Loki-Main", "uid": "loki", "type": "loki"},
        {"name": "Alertmanager", "uid": "alertmanager", "type": "alertmanager"},
    ],
}


def good() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text())


def _configmap(name: str, labels: dict[str, str], data: dict[str, str], annotations=None) -> Resource:
    meta: dict[str, Any] = {"name": name, "namespace": "monitoring", "labels": labels}
    if annotations:
        meta["annotations"] = annotations
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}
    return Resource("ConfigMap", "monitoring", name, DASHBOARD_TPL, obj)


def dashboard_configmap(dashboard: dict[str, Any] | str, key: str = "fixture-overview.json") -> Resource:
    text = dashboard if isinstance(dashboard, str) else json.dumps(dashboard, indent=2, sort_keys=True)
    return _configmap(
        f"creativeflow-grafana-dashboard-fixture-{key.removesuffix('.json')}",
        {"app.kubernetes.io/name": "grafana", "app.kubernetes.io/component": "dashboard"},
        {key: text},
        {"creativeflow.ai/dashboard-folder": "fixture"},
    )


def rendered_with(*dashboards: dict[str, Any] | str | Resource) -> Rendered:
    resources = [
        _configmap(
            "creativeflow-grafana-datasources",
            {"app.kubernetes.io/name": "grafana"},
            {"datasources.yaml": yaml.safe_dump(DATASOURCES)},
        ),
        _configmap(
            "creativeflow-prometheus-rules-applications",
            {"app.kubernetes.io/name": "prometheus"},
            {"applications.yaml": yaml.safe_dump(RULES)},
        ),
    ]
    for d in dashboards:
        resources.append(d if isinstance(d, Resource) else dashboard_configmap(d))
    return Rendered("prod", Path("/nonexistent"), "", [], resources)


def write_source_map(root: Path) -> None:
    """The source map `cfmon generate` writes for the fixture dashboard, built from root's mixins."""
    source_map = sourcemap_build.build(root, {GENERATED: json.dumps(good())})
    (root / sourcemap_build.MAP_PATH).parent.mkdir(parents=True, exist_ok=True)
    (root / sourcemap_build.MAP_PATH).write_text(json.dumps(source_map))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The repository's Jsonnet (for the metrics catalog) plus the fixture dashboard's mixin file, and
    the source map `cfmon generate` would write for them (findings read lines from it)."""
    root = tmp_path_factory.mktemp("repo")
    shutil.copytree(REPO / "jsonnet", root / "jsonnet")
    (root / MIXIN).parent.mkdir(parents=True, exist_ok=True)
    (root / MIXIN).write_text(MIXIN_TEXT)
    write_source_map(root)
    return Project(root)


@pytest.fixture
def run(project: Project) -> Callable[..., list[Finding]]:
    def _run(check, rendered: Rendered, proj: Project = project) -> list[Finding]:
        return check().run(Context(proj, "prod", rendered))

    return _run


def edited(change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    model = good()
    change(model)
    return model


def panel(model: dict[str, Any], pid: int) -> dict[str, Any]:
    return next(p.obj for p in grafana.panels(model) if p.id == pid)


def set_expr(pid: int, expr: str, ref: int = 0) -> Callable[[dict[str, Any]], None]:
    return lambda m: panel(m, pid)["targets"][ref].__setitem__("expr", expr)


def messages(findings: list[Finding]) -> list[str]:
    return [f.message for f in findings]


# ---- the conforming fixture passes ----------------------------------------------------------------


def test_every_dashboard_check_is_registered():
    assert set(DASHBOARD_CHECKS) <= set(REGISTRY)
    assert {c.id for c in DASHBOARD_CHECKS} == {c.id for c in REGISTRY if c.id.startswith("dashboards/")}


@pytest.mark.parametrize("check", [*DASHBOARD_CHECKS, ConfigMapSize], ids=lambda c: c.id)
def test_conforming_dashboard_passes(run, check):
    assert run(check, rendered_with(good())) == []


@pytest.mark.parametrize("check", DASHBOARD_CHECKS, ids=lambda c: c.id)
def test_no_dashboards_no_findings(run, check):
    assert run(check, rendered_with()) == []


# ---- findings point at the Jsonnet (or the generated file) ---------------------------------------


def test_finding_points_at_the_mixin_line_of_the_panel(run):
    [finding] = run(DashboardPromql, rendered_with(edited(set_expr(2, "sum(rate(x[5m])"))))
    assert finding.check == "dashboards/promql"
    assert finding.file == MIXIN
    assert finding.line == LINE["Request rate"]
    assert finding.env == "prod"


def test_finding_points_at_the_generated_file_without_a_mixin(run, tmp_path):
    shutil.copytree(REPO / "jsonnet", tmp_path / "jsonnet", ignore=shutil.ignore_patterns("fixture"))
    [finding] = run(DashboardPromql, rendered_with(edited(set_expr(2, "sum(rate(x[5m])"))), Project(tmp_path))
    assert finding.file == GENERATED
    assert finding.line is None


# ---- dashboards/metadata ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda m: m.__setitem__("uid", "abc123"),
            "dashboard abc123: uid 'abc123' differs from its file name fixture-overview.json",
        ),
        (
            lambda m: m.__setitem__("title", "overview"),
            "dashboard fixture-overview: title 'overview' is not `Area / Topic`",
        ),
        (
            lambda m: m.__setitem__("title", "Fixture/Overview"),
            "dashboard fixture-overview: title 'Fixture/Overview' is not `Area / Topic`",
        ),
        (lambda m: m.pop("tags"), "dashboard fixture-overview: has no tags"),
        (lambda m: m.__setitem__("tags", []), "dashboard fixture-overview: has no tags"),
        (
            lambda m: m["templating"]["list"].insert(0, m["templating"]["list"].pop(2)),
            "dashboard fixture-overview: variables start with cluster, datasource, environment, "
            "not datasource, environment, cluster",
        ),
        (
            lambda m: m["templating"]["list"][0].update(type="custom"),
            "dashboard fixture-overview: variable datasource is of type 'custom', not datasource",
        ),
        (
            lambda m: m.__setitem__("tags", ["fixture"]),
            "dashboard fixture-overview: tags ['fixture'] lack 'creativeflow'",
        ),
        (
            lambda m: m["links"][0].update(tags=["fixture"]),
            "dashboard fixture-overview: has no link to the other creativeflow dashboards",
        ),
        (
            lambda m: m.pop("graphTooltip"),
            "dashboard fixture-overview: graphTooltip is None, not 1 (a shared crosshair)",
        ),
        (lambda m: m.update(refresh=""), "dashboard fixture-overview: has no refresh interval"),
        (lambda m: m.pop("description"), "dashboard fixture-overview: has no description"),
        (
            lambda m: m["templating"]["list"][0].update(query="elasticsearch"),
            "dashboard fixture-overview: variable datasource selects 'elasticsearch' datasources, not "
            "prometheus or loki",
        ),
        (
            lambda m: m["templating"]["list"][2].update(query="label_values(up, cluster)"),
            "dashboard fixture-overview: variable cluster is not filtered by $environment",
        ),
    ],
    ids=[
        "uid",
        "title",
        "title-slash",
        "no-tags",
        "empty-tags",
        "variable-order",
        "datasource-variable",
        "no-creativeflow-tag",
        "no-links",
        "no-crosshair",
        "no-refresh",
        "no-description",
        "datasource-plugin",
        "cluster-not-chained",
    ],
)
def test_metadata_rejects(run, change, expected):
    # A datasource variable that is not one also breaks dashboards/datasource; only metadata is run.
    assert messages(run(DashboardMetadata, rendered_with(edited(change)))) == [expected]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"uid": "fixture-overview",', "not valid JSON at line 1, column 28: Expecting property name"),
        ("[1, 2]", "a dashboard is a JSON object, not a list"),
    ],
)
def test_metadata_reports_a_broken_dashboard_file(run, text, reason):
    [finding] = run(DashboardMetadata, rendered_with(text))
    assert finding.message.startswith(
        "dashboard fixture-overview.json "
        f"(ConfigMap creativeflow-grafana-dashboard-fixture-fixture-overview) is {reason}"
    )
    assert finding.file == GENERATED
    # The other checks skip what is not a dashboard instead of failing.
    for check in DASHBOARD_CHECKS[1:]:
        assert run(check, rendered_with(text)) == []


# ---- dashboards/panel-docs --------------------------------------------------------------------------


def test_panel_docs_rejects_missing_description_and_unit(run):
    def change(m):
        del panel(m, 2)["description"]
        del panel(m, 8)["fieldConfig"]["defaults"]["unit"]
        del panel(m, 5)["description"]

    findings = run(PanelDocs, rendered_with(edited(change)))
    assert messages(findings) == [
        'dashboard fixture-overview: timeseries panel "Request rate" (id 2) has no description',
        'dashboard fixture-overview: logs panel "Error logs" (id 5) has no description',
        'dashboard fixture-overview: timeseries panel "Commits" (id 8) has no unit '
        "(fieldConfig.defaults.unit)",
    ]
    assert [f.line for f in findings] == [LINE["Request rate"], LINE["Error logs"], LINE["Commits"]]


def test_panel_docs_needs_no_unit_on_logs_rows_and_text(run):
    def change(m):
        m["panels"].append(
            {"id": 9, "type": "text", "title": "About", "gridPos": {"x": 0, "y": 18, "w": 24, "h": 3}}
        )

    assert run(PanelDocs, rendered_with(edited(change))) == []


# ---- dashboards/panel-ids ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda m: panel(m, 3).update(id=2), 'panel id 2 is used by "Request rate" and "Latency p99"'),
        # A panel nested in a collapsed row clashes with a top-level one.
        (lambda m: panel(m, 8).update(id=4), 'panel id 4 is used by "Server errors in range" and "Commits"'),
        (lambda m: panel(m, 4).pop("id"), 'panel "Server errors in range" has no integer id (id: None)'),
        (
            lambda m: panel(m, 4).update(id="4"),
            "panel \"Server errors in range\" has no integer id (id: '4')",
        ),
    ],
    ids=["duplicate", "duplicate-in-row", "missing", "string"],
)
def test_panel_ids_reject(run, change, expected):
    assert messages(run(PanelIds, rendered_with(edited(change)))) == [
        f"dashboard fixture-overview: {expected}"
    ]


# ---- dashboards/grid --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda m: panel(m, 3)["gridPos"].update(x=10),
            'panel "Latency p99" (id 3) at x=10 y=1 w=12 h=8 overlaps panel "Request rate" (id 2) '
            "at x=0 y=1 w=12 h=8",
        ),
        (
            lambda m: panel(m, 3)["gridPos"].update(x=14),
            'panel "Latency p99" (id 3) has gridPos x=14 y=1 w=12 h=8, outside the 24-column grid '
            "(x >= 0, w >= 1, x + w <= 24, h >= 1)",
        ),
        (lambda m: panel(m, 4).pop("gridPos"), 'panel "Server errors in range" (id 4) has no gridPos'),
        (
            lambda m: panel(m, 4)["gridPos"].update(h="8"),
            'panel "Server errors in range" (id 4) has a gridPos that is not four integers x, y, w, h: '
            '{"h": "8", "w": 6, "x": 0, "y": 9}',
        ),
        # Inside a collapsed row, its panels are laid out against each other.
        (
            lambda m: panel(m, 8)["gridPos"].update(x=6),
            'panel "Commits" (id 8) at x=6 y=18 w=12 h=8 overlaps panel "Log lines by level" (id 7) '
            "at x=0 y=18 w=12 h=8",
        ),
    ],
    ids=["overlap", "past-column-24", "no-gridpos", "not-integers", "overlap-in-collapsed-row"],
)
def test_grid_rejects(run, change, expected):
    findings = run(PanelGrid, rendered_with(edited(change)))
    assert messages(findings) == [f"dashboard fixture-overview: {expected}"]


def test_grid_keeps_collapsed_row_panels_apart_from_the_top_level(run):
    # Panel 7 (in the collapsed row, y 18) and a new top-level panel at y 18 do not clash: the
    # row's panels only take space when it opens, and Grafana then moves what is below.
    def change(m):
        m["panels"].append(
            {"id": 9, "type": "text", "title": "About", "gridPos": {"x": 0, "y": 18, "w": 24, "h": 3}}
        )

    assert run(PanelGrid, rendered_with(edited(change))) == []


def test_grid_lays_out_each_collapsed_row_apart(run):
    # A second collapsed row, also called "Details", holding a panel where panel 7 is.
    def change(m):
        row = copy.deepcopy(panel(m, 6))
        row.update(id=9, gridPos={"x": 0, "y": 18, "w": 24, "h": 1})
        row["panels"] = [dict(copy.deepcopy(panel(m, 7)), id=10)]
        m["panels"].append(row)

    assert run(PanelGrid, rendered_with(edited(change))) == []


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("rate(x[$__rate_interval])", "rate(x[4m1s])"),
        ("rate(x[${__rate_interval}]) offset $__interval", "rate(x[4m1s]) offset 1m1s"),
        (
            'x{a="$svc", b=~"${svc:regex}", c="[[svc]]"}',
            'x{a="grafana_var", b=~"grafana_var", c="grafana_var"}',
        ),
        ("sum by ($group) (x[$window])", "sum by (grafana_var) (x[5m])"),
        ("topk($topn, x) * $__range_s", "topk(10, x) * 3601"),
        ('x{a="\\"$svc"}', 'x{a="\\"grafana_var"}'),
    ],
)
def test_grafana_variables_are_substituted_by_kind(expr, expected):
    assert grafana.substitute(expr, good()["templating"]["list"]) == expected


# ---- dashboards/datasource --------------------------------------------------------------------------

HINT_UIDS = "alertmanager, loki, prometheus"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda m: panel(m, 2).update(datasource="Prometheus-Main"),
            "panel \"Request rate\" (id 2) refers to its datasource as the string 'Prometheus-Main' "
            "(by name), not {type, uid}",
        ),
        (
            lambda m: panel(m, 2).update(datasource={"type": "prometheus", "uid": "P1809F7CD0C75ACF3"}),
            "panel \"Request rate\" (id 2) uses datasource uid 'P1809F7CD0C75ACF3', which this render "
            "does not provision",
        ),
        (
            lambda m: panel(m, 5).update(datasource={"type": "loki", "uid": "prometheus"}),
            "panel \"Error logs\" (id 5) declares type 'loki' for uid 'prometheus', which is a prometheus "
            "datasource",
        ),
        (
            lambda m: panel(m, 2).pop("datasource"),
            'panel "Request rate" (id 2) has no datasource (Grafana would use whichever is the default)',
        ),
        (
            lambda m: panel(m, 2).update(datasource={"type": "prometheus", "uid": "${prom}"}),
            'panel "Request rate" (id 2) uses datasource ${prom}, but the dashboard has no datasource '
            "variable 'prom'",
        ),
        (
            lambda m: panel(m, 5).update(datasource={"type": "loki", "uid": "${datasource}"}),
            "panel \"Error logs\" (id 5) declares type 'loki' but variable 'datasource' selects prometheus "
            "datasources",
        ),
        (
            lambda m: panel(m, 2)["targets"][0].update(datasource={"type": "prometheus", "uid": "thanos"}),
            "panel \"Request rate\" (id 2) refId A uses datasource uid 'thanos', which this render does not "
            "provision",
        ),
        (
            lambda m: m["templating"]["list"][3].pop("datasource"),
            'variable "service" has no datasource (Grafana would use whichever is the default)',
        ),
        (
            lambda m: panel(m, 2).update(datasource={"type": "prometheus", "uid": "prometheus"}),
            "panel \"Request rate\" (id 2) uses datasource uid 'prometheus' directly, bypassing the "
            "datasource variable, which selects prometheus datasources",
        ),
        (
            lambda m: panel(m, 3)["targets"][0].update(
                datasource={"type": "prometheus", "uid": "prometheus"}
            ),
            "panel \"Latency p99\" (id 3) refId A uses datasource uid 'prometheus' directly, bypassing the "
            "datasource variable, which selects prometheus datasources",
        ),
        (
            lambda m: m["templating"]["list"][3].update(
                datasource={"type": "prometheus", "uid": "prometheus"}
            ),
            "variable \"service\" uses datasource uid 'prometheus' directly, bypassing the datasource "
            "variable, which selects prometheus datasources",
        ),
    ],
    ids=[
        "by-name",
        "unknown-uid",
        "wrong-type",
        "missing",
        "unknown-variable",
        "variable-type",
        "target",
        "var",
        "bypass-panel",
        "bypass-target",
        "bypass-var",
    ],
)
def test_datasource_rejects(run, change, expected):
    findings = run(DashboardDatasource, rendered_with(edited(change)))
    assert messages(findings) == [f"dashboard fixture-overview: {expected}"]
    assert HINT_UIDS in (findings[0].hint or "")


def test_datasource_reads_the_provisioned_uids_from_the_render(run):
    # Without Loki in the render, the logs panels' uid 'loki' is unknown.
    rendered = rendered_with(good())
    for res in rendered.resources:
        if "datasources.yaml" in res.obj["data"]:
            doc = copy.deepcopy(DATASOURCES)
            doc["datasources"] = [ds for ds in doc["datasources"] if ds["uid"] != "loki"]
            res.obj["data"]["datasources.yaml"] = yaml.safe_dump(doc)
    assert messages(run(DashboardDatasource, rendered)) == [
        f"dashboard fixture-overview: {p} uses datasource uid 'loki', which this render does not provision"
        for p in ('panel "Error logs" (id 5)', 'panel "Log lines by level" (id 7)')
    ]


# ---- dashboards/ref-ids, dashboards/variables, dashboards/runbook-links -----------------------------


def test_ref_ids_reject_two_queries_of_a_panel_with_one_refid(run):
    def change(m):
        panel(m, 2)["targets"].append(dict(panel(m, 2)["targets"][0]))

    assert (
        run(PanelRefIds, rendered_with(edited(lambda m: panel(m, 2)["targets"].append({"refId": "B"})))) == []
    )
    findings = run(PanelRefIds, rendered_with(edited(change)))
    assert messages(findings) == [
        'dashboard fixture-overview: panel "Request rate" (id 2) has more than one query with '
        "refId A (refIds A, A)"
    ]
    assert findings[0].line == LINE["Request rate"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            set_expr(2, 'sum(rate(http_requests_total{team="$team"}[$__rate_interval]))'),
            'panel "Request rate" (id 2) refId A uses $team',
        ),
        (set_expr(5, '{namespace="${ns}"} |= "error"'), 'panel "Error logs" (id 5) refId A uses $ns'),
        (
            lambda m: m["templating"]["list"][3].update(query='label_values(up{job="[[job]]"}, service)'),
            'variable "service" uses $job',
        ),
    ],
    ids=["promql", "logql", "variable-query"],
)
def test_variables_reject_an_undefined_variable(run, change, expected):
    findings = run(DashboardVariables, rendered_with(edited(change)))
    assert [m.split(", which")[0] for m in messages(findings)] == [f"dashboard fixture-overview: {expected}"]
    assert "is not a variable of the dashboard" in findings[0].message


def test_variables_accept_builtins_and_label_replace_groups(run):
    expr = (
        'label_replace(sum(rate(http_requests_total{service=~"$service"}[$__rate_interval])), '
        '"a", "$1", "b", "(.*)")'
    )
    assert run(DashboardVariables, rendered_with(edited(set_expr(2, expr)))) == []


def test_runbook_links_name_an_alert_of_the_render(run):
    def link(alert):
        return lambda m: panel(m, 2).update(
            links=[{"title": f"Runbook: {alert}", "url": f"https://x/{alert}.md"}]
        )

    rendered = rendered_with(edited(link("NoSuchAlert")))
    findings = run(RunbookLinks, rendered)
    assert messages(findings) == [
        'dashboard fixture-overview: panel "Request rate" (id 2) links the runbook of '
        "NoSuchAlert, which is not an alert of the rendered rules"
    ]
    assert findings[0].line == LINE["Request rate"]


# ---- dashboards/promql ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "where", "error"),
    [
        (
            set_expr(2, "sum(rate(http_requests_total[$__rate_interval])"),
            'panel "Request rate" (id 2) refId A',
            "unclosed left parenthesis",
        ),
        (
            set_expr(8, "rate(pg_stat_database_xact_commit)"),
            'panel "Commits" (id 8) refId A',
            "expected type",
        ),
        (
            lambda m: m["templating"]["list"][3].update(query="label_values(http_requests_total{, service)"),
            'variable "service"',
            "",
        ),
    ],
    ids=["unclosed", "no-range", "variable-query"],
)
def test_promql_rejects(run, change, where, error):
    [finding] = run(DashboardPromql, rendered_with(edited(change)))
    assert finding.message.startswith(f"dashboard fixture-overview: {where}: PromQL does not parse: ")
    assert error in finding.message
    assert "(query: " in finding.message


@pytest.mark.parametrize(
    "expr",
    [
        'sum by ($group) (rate(http_requests_total{service=~"${service:regex}"}[$__rate_interval]))',
        'topk($topn, sum by (service) (rate(http_requests_total{service="[[service]]"}[$__rate_interval])))',
        "sum(increase(http_requests_total[$__range])) / $__range_s",
        "sum(rate(http_requests_total[$__rate_interval] offset $__interval))",
    ],
)
def test_promql_substitutes_grafana_variables(run, expr):
    assert run(DashboardPromql, rendered_with(edited(set_expr(2, expr)))) == []


# ---- dashboards/metrics-known -----------------------------------------------------------------------


def test_metrics_known_rejects_a_misspelt_metric(run):
    findings = run(
        DashboardMetricsKnown, rendered_with(edited(set_expr(2, "sum(rate(http_request_total[5m]))")))
    )
    assert messages(findings) == [
        'dashboard fixture-overview: panel "Request rate" (id 2) refId A reads http_request_total, which is '
        "not in the metrics contract, an exporter list or a recording rule"
    ]
    assert findings[0].line == LINE["Request rate"]


def test_metrics_known_reads_variable_queries(run):
    def change(m):
        m["templating"]["list"][1]["query"]["query"] = "label_values(upp, environment)"

    findings = run(DashboardMetricsKnown, rendered_with(edited(change)))
    assert messages(findings) == [
        'dashboard fixture-overview: variable "environment" reads upp, which is not in the metrics contract, '
        "an exporter list or a recording rule"
    ]


def test_metrics_known_accepts_recording_rules_and_variable_metric_names(run):
    def change(m):
        set_expr(2, "database:pg_stat_database_xact_commit:rate5m")(m)
        set_expr(8, "${metric}")(m)

    assert run(DashboardMetricsKnown, rendered_with(edited(change))) == []


# ---- dashboards/rate-interval -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (
            "sum(rate(http_requests_total[5m]))",
            ["rate(http_requests_total[5m]) should use [$__rate_interval]"],
        ),
        (
            "sum(irate(http_requests_total[$__interval]))",
            ["irate(http_requests_total[$__interval]) should use [$__rate_interval]"],
        ),
        (
            "sum(rate(http_requests_total[$__range]))",
            ["rate(http_requests_total[$__range]) should use [$__rate_interval]"],
        ),
        (
            "sum(increase(http_requests_total[1h]))",
            ["increase(http_requests_total[1h]) should use [$__range or $__rate_interval]"],
        ),
        ("rate(pg_up[$__rate_interval])", ["rate() over pg_up, which is not a counter"]),
        ("increase(kube_job_failed[$__range])", ["increase() over kube_job_failed, which is not a counter"]),
        (
            "rate(service:http_request_duration_seconds:p99_rate5m[2m])",
            [
                "rate() over service:http_request_duration_seconds:p99_rate5m, which is not a counter",
                "rate(service:http_request_duration_seconds:p99_rate5m[2m]) should use [$__rate_interval]",
            ],
        ),
    ],
    ids=[
        "fixed-range",
        "interval",
        "rate-over-range",
        "increase-fixed",
        "gauge",
        "gauge-2",
        "recorded-and-fixed",
    ],
)
def test_rate_interval_rejects(run, expr, expected):
    findings = run(RateInterval, rendered_with(edited(set_expr(2, expr))))
    prefix = 'dashboard fixture-overview: panel "Request rate" (id 2) refId A: '
    assert messages(findings) == [prefix + e for e in expected]


@pytest.mark.parametrize(
    "expr",
    [
        "sum(rate(http_request_duration_seconds_count[$__rate_interval]))",
        "sum(increase(http_requests_total[$__range]))",
        # An exporter counter without a suffix, declared in jsonnet/metrics-counters.jsonnet.
        "sum(rate(pg_stat_database_xact_commit[$__rate_interval]))",
        "max_over_time(sum(rate(http_requests_total[$__rate_interval]))[1h:])",
    ],
)
def test_rate_interval_accepts(run, expr):
    assert run(RateInterval, rendered_with(edited(set_expr(2, expr)))) == []


# ---- dashboards/quantile ----------------------------------------------------------------------------

RAW_P99 = (
    "histogram_quantile(0.99, sum by (le, service) "
    '(rate(http_request_duration_seconds_bucket{service=~"$service"}[$__rate_interval])))'
)


def test_quantile_rejects_a_raw_quantile_that_is_recorded(run):
    findings = run(RecordedQuantileUsed, rendered_with(edited(set_expr(3, RAW_P99))))
    assert messages(findings) == [
        'dashboard fixture-overview: panel "Latency p99" (id 3) refId A computes '
        "histogram_quantile(0.99, ...) of raw http_request_duration_seconds_bucket; the recording rule "
        "service:http_request_duration_seconds:p99_rate5m already records it"
    ]
    assert (
        findings[0].hint
        == "query service:http_request_duration_seconds:p99_rate5m (with the same label filters) instead"
    )
    assert findings[0].line == LINE["Latency p99"]


@pytest.mark.parametrize(
    "expr",
    [
        # No recording rule for p95.
        RAW_P99.replace("0.99", "0.95"),
        # Grouped by a label the recorded series does not keep.
        RAW_P99.replace("by (le, service)", "by (le, route)"),
        # Filtered by a label the recorded series does not keep.
        RAW_P99.replace('service=~"$service"', 'route="/v1/projects"'),
        # Already reading the recorded bucket rates.
        "histogram_quantile(0.99, sum by (le) (service_le:http_request_duration_seconds_bucket:rate5m))",
    ],
    ids=["other-quantile", "finer-grouping", "finer-filter", "recorded-buckets"],
)
def test_quantile_accepts(run, expr):
    assert run(RecordedQuantileUsed, rendered_with(edited(set_expr(3, expr)))) == []


# ---- dashboards/logql -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pid", "expr", "reason"),
    [
        (5, '{app=~".*"} |= "error"', "the stream selector needs at least one = or =~ matcher"),
        (5, '{namespace="creativeflow"} | jsno', "unknown stage 'jsno'"),
        (7, 'sum by (level) (count_over_time({namespace="creativeflow"} | logfmt))', "expected a range"),
        (7, 'sum(count_over_time({namespace="creativeflow"}[0s]))', "the range 0s must be positive"),
        (5, '{namespace="creativeflow"} |~ "(unclosed"', "is not a valid regular expression"),
    ],
    ids=["empty-matching-selector", "unknown-stage", "no-range", "zero-range", "bad-regex"],
)
def test_logql_rejects(run, pid, expr, reason):
    [finding] = run(DashboardLogql, rendered_with(edited(set_expr(pid, expr))))
    title = {5: "Error logs", 7: "Log lines by level"}[pid]
    assert finding.message.startswith(
        f'dashboard fixture-overview: panel "{title}" (id {pid}) refId A: LogQL is not well-formed: '
    )
    assert reason in finding.message
    assert finding.line == LINE[title]


def test_logql_is_not_applied_to_prometheus_panels(run):
    # The Loki check reads Loki queries only (and dashboards/promql reads Prometheus ones).
    change = set_expr(5, "sum(rate(http_requests_total[$__rate_interval]))")
    assert messages(run(DashboardLogql, rendered_with(edited(change))))[0].endswith(
        "(query: sum(rate(http_requests_total[$__rate_interval])))"
    )
    assert run(DashboardPromql, rendered_with(edited(change))) == []


# ---- size/configmap: one dashboard per ConfigMap, under its budget ---------------------------------


def _padded(size: int) -> str:
    """The fixture dashboard grown to `size` bytes with a long description."""
    model = good()
    model.pop("description")
    text = json.dumps(model, indent=2, sort_keys=True)
    model["description"] = "x" * (size - len(text) - len(',\n  "description": ""'))
    padded = json.dumps(model, indent=2, sort_keys=True)
    assert len(padded.encode()) == size
    return padded


def test_dashboard_configmap_over_its_budget(run):
    findings = run(ConfigMapSize, rendered_with(_padded(DASHBOARD_BUDGET + 1024)))
    assert messages(findings) == [
        "ConfigMap/monitoring/creativeflow-grafana-dashboard-fixture-fixture-overview holds 201 KiB "
        "(budget 200 KiB)"
    ]
    assert findings[0].file == MIXIN
    assert findings[0].hint == "split the dashboard by topic"


def test_dashboard_configmap_at_its_budget_is_fine(run):
    assert run(ConfigMapSize, rendered_with(_padded(DASHBOARD_BUDGET))) == []


def test_dashboard_budget_is_below_the_configmap_budget():
    # 200 KiB: with JSON escaping, kubectl's client-side last-applied annotation stays under 256 KiB.
    assert DASHBOARD_BUDGET < 256 * 1024 < CONFIGMAP_BUDGET


def test_declared_counters_must_be_in_the_catalog(run, tmp_path):
    # The check reads what `cfmon generate` wrote from jsonnet/metrics-counters.jsonnet.
    shutil.copytree(REPO / "jsonnet", tmp_path / "jsonnet")
    path = tmp_path / GENERATED_DIR / "metrics-counters.json"
    path.write_text(path.read_text().replace('"node_vmstat_oom_kill"', '"node_vmstat_oom_kills"'))
    [finding] = run(RateInterval, rendered_with(good()), Project(tmp_path))
    assert finding.message == (
        "jsonnet/metrics-counters.jsonnet declares node_vmstat_oom_kills, which is not in the metrics catalog"
    )
    assert finding.file == "jsonnet/metrics-counters.jsonnet"

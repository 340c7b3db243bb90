"""Every alert links the dashboard that shows it (`dashboard_url`): computed in Jsonnet from the
panels' `alerts=[...]` (jsonnet/lib/alert-links.libsonnet), the Grafana base URL filled per
environment from global.grafanaUrl by the prometheus subchart, the expected URLs asserted by promtool
through prometheus/rule-tests (`${grafanaUrl}` in tests/rules stands for the URL the rendered
Grafana serves at, its grafana.ini root_url), and every shipped link checked by alerts/dashboard-url
against that URL and the shipped dashboards (failing fixtures here)."""

from __future__ import annotations

import copy
import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from conftest import ROOT, render

from cfmon import binaries, docs
from cfmon.checks.alerts import AlertDashboardUrl
from cfmon.checks.base import Context, Finding
from cfmon.checks.prometheus import PrometheusRuleTests
from cfmon.errors import UserError
from cfmon.manifests import Resource
from cfmon.project import Project
from cfmon.render import Rendered
from cfmon.render import render as render_env
from cfmon.rendered.grafana import ini_value, rendered_grafana_root_url

ENVS = ("dev", "staging", "prod")
GENERATED_RULES = ROOT / "charts/creativeflow-monitoring/charts/prometheus/files/rules"
GENERATED_DASHBOARDS = ROOT / "charts/creativeflow-monitoring/charts/grafana/files/dashboards"
RUNBOOKS = "https://github.com/creativeflow-ai/creativeflow-monitoring/blob/main/docs/runbooks"
TOKEN = "${grafanaUrl}"


def grafana_url(env: str) -> str:
    return yaml.safe_load((ROOT / f"values/{env}.yaml").read_text())["global"]["grafanaUrl"]


def generated_alerts() -> dict[str, dict]:
    return {
        rule["alert"]: rule
        for path in sorted(GENERATED_RULES.glob("*.yaml"))
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }


def rules_configmaps(objs: dict[str, dict]) -> dict[str, dict]:
    return {k: o for k, o in objs.items() if k.startswith("ConfigMap/creativeflow-prometheus-rules-")}


def rendered_alert_rules(objs: dict[str, dict]) -> dict[str, dict]:
    return {
        rule["alert"]: rule
        for cm in rules_configmaps(objs).values()
        for payload in cm["data"].values()
        for group in yaml.safe_load(payload)["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }


# ---- Jsonnet: which dashboard and panel, which variables ------------------------------------------


def _panel(pid: int, kind: str, alerts: list[str]) -> dict:
    return {
        "id": pid,
        "type": kind,
        "links": [{"title": f"Runbook: {a}", "url": f"{RUNBOOKS}/{a}.md"} for a in alerts],
    }


def _dashboard(uid: str, panels: list[dict], variables: list[dict] | None = None) -> dict:
    return {"uid": uid, "panels": panels, "templating": {"list": variables or []}}


def _query_var(name: str, label: str) -> dict:
    q = f'label_values(up{{environment="$environment"}}, {label})'
    return {"type": "query", "name": name, "query": {"query": q}, "definition": q}


def _rule(name: str, labels: dict | None = None) -> dict:
    return {"alert": name, "labels": labels or {"component": "x"}}


def links(tmp_path: Path, alerts: list[dict], dashboards: list[dict], defaults: dict) -> dict:
    """lib/alert-links.libsonnet's links() on synthetic alerts ({area, rule}) and dashboards."""
    src = tmp_path / "links.jsonnet"
    src.write_text(
        f"local l = import '{ROOT}/jsonnet/lib/alert-links.libsonnet';\n"
        f"l.links({json.dumps(alerts)}, {json.dumps(dashboards)}, {json.dumps(defaults)})\n"
    )
    return json.loads(binaries.jsonnet_evaluate(src))


def test_the_panel_naming_the_alert_wins_own_area_first_then_graphs(tmp_path):
    dashboards = [
        # Another area's overview names every alert on its first panel.
        {
            "area": "overview",
            "dashboard": _dashboard("aaa-overview", [_panel(1, "timeseries", ["A", "B", "C"])]),
        },
        {
            "area": "db",
            "dashboard": _dashboard(
                "db",
                [_panel(2, "stat", ["A", "B"]), _panel(7, "timeseries", ["A"]), _panel(9, "gauge", ["B"])],
            ),
        },
    ]
    alerts = [{"area": "db", "rule": _rule(n)} for n in ("A", "B", "C")]
    got = links(tmp_path, alerts, dashboards, {})
    assert (got["A"]["uid"], got["A"]["panel"]) == ("db", 7)  # own area, a graph before a stat
    assert (got["B"]["uid"], got["B"]["panel"]) == ("db", 2)  # own area, only single values: lowest id
    assert (got["C"]["uid"], got["C"]["panel"]) == ("aaa-overview", 1)  # no own panel: another area's
    assert got["A"]["url"].startswith(f"{TOKEN}/d/db?") and got["A"]["url"].endswith("&viewPanel=7")


def test_an_alert_on_no_panel_opens_its_area_default_dashboard(tmp_path):
    one = [{"area": "db", "dashboard": _dashboard("db", [_panel(1, "stat", [])])}]
    got = links(tmp_path, [{"area": "db", "rule": _rule("A")}], one, {})
    assert (got["A"]["uid"], got["A"]["panel"]) == ("db", None)  # the area's only dashboard
    assert "viewPanel" not in got["A"]["url"]
    two = [*one, {"area": "db", "dashboard": _dashboard("db-more", [])}]
    got = links(tmp_path, [{"area": "db", "rule": _rule("A")}], two, {"db": "db-more"})
    assert got["A"]["uid"] == "db-more"  # the mixin's defaultDashboard


def test_an_alert_without_any_dashboard_fails_generate_naming_it(tmp_path):
    two = [
        {"area": "db", "dashboard": _dashboard("db-a", [])},
        {"area": "db", "dashboard": _dashboard("db-b", [])},
    ]
    with pytest.raises(UserError) as err:
        links(tmp_path, [{"area": "db", "rule": _rule("DbBroken")}], two, {})
    msg = err.value.message
    assert "alert DbBroken has no dashboard" in msg
    assert (
        "alerts=['DbBroken']" in msg
        and "defaultDashboard" in msg
        and "jsonnet/mixins/db/mixin.libsonnet" in msg
    )


def test_a_default_dashboard_that_does_not_ship_fails_generate(tmp_path):
    one = [{"area": "db", "dashboard": _dashboard("db", [])}]
    with pytest.raises(UserError, match="defaultDashboard names a dashboard uid that no mixin ships"):
        links(tmp_path, [{"area": "db", "rule": _rule("A")}], one, {"db": "dbx"})


def test_variables_take_the_alert_labels_they_list(tmp_path):
    variables = [
        {"type": "datasource", "name": "datasource", "query": "prometheus"},
        _query_var("environment", "environment"),
        _query_var("cluster", "cluster"),
        _query_var("service", "service"),  # a static label of the rule: written as is, encoded
        _query_var("node", "Hostname"),  # lists another label than its name
        {"type": "textbox", "name": "search", "query": ""},  # not a label: never set
    ]
    dashboards = [{"area": "a", "dashboard": _dashboard("d", [_panel(3, "timeseries", ["A"])], variables)}]
    rule = _rule("A", {"service": "api gateway/v2", "component": "x"})
    url = links(tmp_path, [{"area": "a", "rule": rule}], dashboards, {})["A"]["url"]
    assert url == (
        "${grafanaUrl}/d/d?"
        "var-environment={{ or $labels.environment $externalLabels.environment | urlquery }}"
        "&var-cluster={{ or $labels.cluster $externalLabels.cluster | urlquery }}"
        "&var-service=api%20gateway%2Fv2"
        "{{ with $labels.Hostname }}&var-node={{ . | urlquery }}{{ end }}"
        "&viewPanel=3"
    )


def test_grafana_url_is_a_reserved_parameter_name(tmp_path):
    spec = {
        "name": "ExampleThingBroken",
        "expr": "up == ${grafanaUrl}",
        "for": "5m",
        "severity": "warning",
        "priority": "P3",
        "labels": {"service": "example"},
        "summary": "Example thing is broken.",
        "description": "{{ $labels.instance }} is broken.",
        "params": {"grafanaUrl": 0},
    }
    src = tmp_path / "t.jsonnet"
    src.write_text(
        f"local r = (import '{ROOT}/jsonnet/lib/rules.libsonnet')({{ runbookBaseUrl: 'https://x' }});\n"
        f"r.alert({json.dumps(spec)})\n"
    )
    with pytest.raises(UserError, match="grafanaUrl is reserved"):
        binaries.jsonnet_evaluate(src)


# ---- the generated rules: every alert links the panel that names it -------------------------------


def _generated_dashboards() -> dict[str, dict]:
    return {
        d["uid"]: d
        for d in (json.loads(p.read_text()) for p in sorted(GENERATED_DASHBOARDS.glob("*/*.json")))
    }


def _all_panels(dashboard: dict) -> list[dict]:
    return [q for p in dashboard["panels"] for q in [p, *p.get("panels", [])]]


def test_every_generated_alert_links_a_panel_that_names_it():
    dashboards = _generated_dashboards()
    alerts = generated_alerts()
    assert len(alerts) > 100
    named_somewhere = {
        link["url"].removeprefix(RUNBOOKS + "/").removesuffix(".md")
        for d in dashboards.values()
        for p in _all_panels(d)
        for link in p.get("links", [])
    }
    for name, rule in alerts.items():
        url = rule["annotations"]["dashboard_url"]
        assert url.startswith(f"{TOKEN}/d/"), (name, url)
        parts = urlsplit(url.removeprefix(TOKEN))
        uid = parts.path.removeprefix("/d/")
        assert uid in dashboards, (name, uid)
        view = parse_qs(parts.query).get("viewPanel")
        if view is None:
            assert name not in named_somewhere, f"{name} is on a panel but links none"
            continue
        panel = next(p for p in _all_panels(dashboards[uid]) if str(p["id"]) == view[0])
        assert f"{RUNBOOKS}/{name}.md" in [link["url"] for link in panel.get("links", [])], (name, uid, view)


def test_the_alert_catalog_names_each_alert_dashboard_and_panel():
    url = generated_alerts()["ApiGatewayErrorRatioHigh"]["annotations"]["dashboard_url"]
    cell = "[application-performance](dashboards/application-performance.svg) panel 11"
    assert docs.dashboard_cell(url) == cell
    assert docs.dashboard_cell(f"{TOKEN}/d/application-performance?var-service=x") == (
        "[application-performance](dashboards/application-performance.svg)"
    )
    row = next(
        line
        for line in (ROOT / "docs/alerts.md").read_text().splitlines()
        if line.startswith("| [ApiGatewayErrorRatioHigh]")
    )
    assert f"| {cell} |" in row


# ---- the chart: global.grafanaUrl fills the token, the one place for the Grafana URL ---------------


@pytest.mark.parametrize("env", ENVS)
def test_each_environment_links_its_own_grafana(env):
    objs = render(env)
    url = grafana_url(env)
    assert rules_configmaps(objs)
    rules = rendered_alert_rules(objs)
    assert len(rules) > 100 and rules.keys() <= generated_alerts().keys()
    for name, rule in rules.items():
        assert rule["annotations"]["dashboard_url"].startswith(f"{url}/d/"), name
        assert "${" not in json.dumps(rule), name
    # Grafana's root_url defaults to the same value: the URL the checks compare the links with.
    ini = objs["ConfigMap/creativeflow-grafana-config"]["data"]["grafana.ini"]
    assert f"root_url = {url}\n" in ini
    assert rendered_grafana_root_url(resources(objs)) == url


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("", "set the URL users reach Grafana at"),  # the chart's fail: no link to an empty host
        ("https://grafana.example/", "without spaces or a trailing slash"),  # the chart's values check
        ("grafana.example", "an http(s) URL"),  # the chart's values check: a URL
    ],
)
def test_a_missing_or_malformed_grafana_url_fails_the_render(tmp_path, value, says):
    with pytest.raises(UserError) as err:
        render("prod", {"global": {"grafanaUrl": value}}, tmp_path)
    assert err.value.key == "global.grafanaUrl", str(err.value)
    assert says.lower() in err.value.message.lower()


def test_grafana_root_url_overrides_grafana_alone(tmp_path):
    objs = render("prod", {"grafana": {"rootUrl": "https://grafana-internal.example"}}, tmp_path)
    ini = objs["ConfigMap/creativeflow-grafana-config"]["data"]["grafana.ini"]
    assert "root_url = https://grafana-internal.example\n" in ini
    rule = rendered_alert_rules(objs)["ApiGatewayErrorRatioHigh"]
    assert rule["annotations"]["dashboard_url"].startswith("https://grafana.creativeflow.ai/d/")


def test_a_values_annotation_may_use_the_token_too(tmp_path):
    overlay = {
        "prometheus": {
            "alerts": {
                "ApiGatewayErrorRatioHigh": {"annotations": {"dashboard_url": "${grafanaUrl}/d/team-gateway"}}
            }
        }
    }
    rule = rendered_alert_rules(render("staging", overlay, tmp_path))["ApiGatewayErrorRatioHigh"]
    assert rule["annotations"]["dashboard_url"] == "https://grafana.staging.creativeflow.ai/d/team-gateway"


# ---- alerts/dashboard-url on small rendered fixtures ---------------------------------------------

GRAFANA = "https://grafana.creativeflow.ai"
GOOD_URL = f"{GRAFANA}/d/nodes?var-environment={{{{ $labels.environment }}}}&var-instance=n1&viewPanel=8"


def _resource(obj: dict, source: str = "charts/x/templates/x.yaml") -> Resource:
    return Resource(obj["kind"], "monitoring", obj["metadata"]["name"], source, obj)


def resources(objs: dict[str, dict]) -> list[Resource]:
    """The objects of a conftest render() as a Rendered holds them."""
    return [_resource(obj) for obj in objs.values()]


def fixture_render(url: str | None = GOOD_URL, *, grafana: bool = True, root_url: str = GRAFANA) -> Rendered:
    alert: dict[str, Any] = {
        "alert": "NodeCpuUsageHigh",
        "expr": "x > 1",
        "labels": {"severity": "warning", "priority": "P3", "component": "node"},
        "annotations": {"summary": "s.", "description": "{{ $value }}"},
    }
    if url is not None:
        alert["annotations"]["dashboard_url"] = url
    rules = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "creativeflow-prometheus-rules-platform",
            "labels": {"app.kubernetes.io/name": "prometheus"},
        },
        "data": {
            "platform.yaml": yaml.safe_dump({"groups": [{"name": "platform-alerts", "rules": [alert]}]})
        },
    }
    resources = [_resource(rules)]
    if grafana:
        dashboard = {
            "uid": "nodes",
            "title": "Infrastructure / Nodes",
            "panels": [{"id": 1, "type": "row", "panels": []}, {"id": 8, "type": "timeseries"}],
            "templating": {"list": [{"name": "environment"}, {"name": "cluster"}, {"name": "instance"}]},
        }
        dashboards = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "creativeflow-grafana-dashboards-infrastructure-nodes",
                "labels": {"app.kubernetes.io/name": "grafana", "app.kubernetes.io/component": "dashboard"},
                "annotations": {"creativeflow.ai/dashboard-folder": "Infrastructure"},
            },
            "data": {"nodes.json": json.dumps(dashboard)},
        }
        config = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "creativeflow-grafana-config",
                "labels": {"app.kubernetes.io/name": "grafana"},
            },
            "data": {
                "grafana.ini": f"[paths]\ndata = /var/lib/grafana\n\n[server]\nprotocol = http\n"
                f"root_url = {root_url}\n"
            },
        }
        resources += [_resource(dashboards), _resource(config)]
    return Rendered("prod", Path("/nonexistent"), "", [], resources)


def run_check(rendered: Rendered) -> list[Finding]:
    return AlertDashboardUrl().run(Context(Project(ROOT), "prod", rendered))


def test_grafana_ini_values_are_read_from_their_section():
    text = "[paths]\nroot_url = https://a\n\n[server]\n; root_url = https://b\nroot_url = https://c/\n"
    assert ini_value(text, "server", "root_url") == "https://c/"
    assert ini_value(text, "server", "domain") is None


def test_a_link_to_a_shipped_dashboard_and_panel_passes():
    assert run_check(fixture_render()) == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (None, "no dashboard_url"),
        (f"{GRAFANA}/dashboards", f"dashboard_url {GRAFANA}/dashboards is not <Grafana URL>/d/<uid>?..."),
        (
            f"{GRAFANA}/d/nodez?viewPanel=8",
            "dashboard_url names dashboard 'nodez', which this release does not ship",
        ),
        (
            f"{GRAFANA}/d/nodes?viewPanel=99",
            "dashboard_url opens panel '99', which dashboard nodes does not have",
        ),
        (
            GOOD_URL.replace(GRAFANA, "https://grafana.staging.creativeflow.ai"),
            "dashboard_url points at https://grafana.staging.creativeflow.ai, "
            f"not this environment's Grafana {GRAFANA}",
        ),
        (
            f"{GRAFANA}/d/nodes?{{{{ with $labels.node }}}}&var-node={{{{ . }}}}{{{{ end }}}}&viewPanel=8",
            "dashboard_url sets var-node, not variables of dashboard nodes (Grafana ignores them)",
        ),
    ],
    ids=[
        "missing",
        "not-a-dashboard-url",
        "unknown-uid",
        "unknown-panel",
        "other-environment",
        "unknown-variable",
    ],
)
def test_a_broken_link_is_a_finding(url, message):
    findings = run_check(fixture_render(url))
    assert len(findings) == 1, [f.message for f in findings]
    finding = findings[0]
    assert finding.check == "alerts/dashboard-url"
    assert finding.message == f"alert NodeCpuUsageHigh: {message}"
    assert finding.file == "jsonnet/mixins/platform/mixin.libsonnet"
    assert finding.hint


def test_a_link_to_another_url_than_grafana_serves_at_is_a_finding():
    # grafana.rootUrl set apart from global.grafanaUrl: the links (global.grafanaUrl) lead to a
    # host Grafana does not answer at as itself.
    findings = run_check(fixture_render(root_url="https://grafana-internal.example/"))
    assert [f.message for f in findings] == [
        f"alert NodeCpuUsageHigh: dashboard_url points at {GRAFANA}, not this environment's Grafana "
        "https://grafana-internal.example"
    ]
    assert "grafana.rootUrl" in findings[0].hint and "global.grafanaUrl" in findings[0].hint


def test_a_grafana_root_url_apart_from_global_grafana_url_is_reported_on_every_link(tmp_path):
    objs = render("prod", {"grafana": {"rootUrl": "https://grafana-internal.example"}}, tmp_path)
    rendered = Rendered("prod", Path("/nonexistent"), "", [], resources(objs))
    findings = run_check(rendered)
    alerts = rendered_alert_rules(objs)
    assert len(findings) == len(alerts) > 100
    assert {f.message.split(": ", 1)[1] for f in findings} == {
        f"dashboard_url points at {GRAFANA}, not this environment's Grafana https://grafana-internal.example"
    }


def test_without_grafana_only_the_form_of_a_link_is_checked():
    # No Grafana in the release (grafana.enabled: false): nothing ships to compare a host, uid or
    # panel with, so any host and dashboard pass; a link that is missing or no dashboard URL does not.
    assert run_check(fixture_render("https://grafana.dev.creativeflow.ai/d/anything", grafana=False)) == []
    assert [f.message for f in run_check(fixture_render(None, grafana=False))] == [
        "alert NodeCpuUsageHigh: no dashboard_url"
    ]
    assert [f.message for f in run_check(fixture_render(f"{GRAFANA}/dashboards", grafana=False))] == [
        f"alert NodeCpuUsageHigh: dashboard_url {GRAFANA}/dashboards is not <Grafana URL>/d/<uid>?..."
    ]


# ---- prometheus/rule-tests fills ${grafanaUrl} from the render -------------------------------------


@pytest.fixture(scope="module")
def repo_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of what a render reads (the real build/ stays untouched)."""
    root = tmp_path_factory.mktemp("repo")
    for rel in ("charts", "values", "jsonnet", "pyproject.toml"):
        src = ROOT / rel
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, root / rel)
    return root


@pytest.fixture(scope="module")
def staging(repo_copy: Path) -> Rendered:
    """A staging render in a copy of the repository."""
    return render_env(Project(repo_copy), "staging")


def one_firing_test(change=None) -> str:
    """The first firing case of tests/rules/applications.yaml alone (ApiGatewayErrorRatioHigh)."""
    doc = yaml.safe_load((ROOT / "tests/rules/applications.yaml").read_text())
    doc["tests"] = doc["tests"][:1]
    expected = doc["tests"][0]["alert_rule_test"][0]["exp_alerts"][0]["exp_annotations"]
    assert expected["dashboard_url"].startswith(f"{TOKEN}/d/application-performance?")
    if change:
        expected["dashboard_url"] = change(expected["dashboard_url"])
    return yaml.safe_dump(doc, sort_keys=False)


def run_rule_tests(
    tmp_path: Path, staging: Rendered, text: str, rendered: Rendered | None = None
) -> list[Finding]:
    tests = tmp_path / "tests/rules"
    tests.mkdir(parents=True)
    (tests / "gateway.yaml").write_text(text)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    ctx = Context(Project(tmp_path), "staging", rendered or staging, scratch=scratch)
    return PrometheusRuleTests().run(ctx)


def test_the_token_stands_for_the_environment_grafana(tmp_path, staging):
    assert run_rule_tests(tmp_path, staging, one_firing_test()) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda u: u.replace("viewPanel=11", "viewPanel=12"), "viewPanel=12"),
        # Another environment's host written out: the test must say ${grafanaUrl}.
        (
            lambda u: u.replace(TOKEN, "https://grafana.creativeflow.ai"),
            'dashboard_url="https://grafana.creativeflow.ai/d/',
        ),
    ],
    ids=["wrong-panel", "other-environment-host"],
)
def test_a_wrong_expected_url_fails(tmp_path, staging, change, expected):
    findings = run_rule_tests(tmp_path, staging, one_firing_test(change))
    assert len(findings) == 1, [f.message for f in findings]
    assert findings[0].file == "tests/rules/gateway.yaml"
    assert findings[0].message.startswith("rule unit tests fail: ")
    assert expected in findings[0].message  # what the test expected
    # What the rules gave: staging's Grafana written back as the token (so staging and prod share
    # one promtool run; alerts/dashboard-url checks the host), the panel that names the alert.
    assert 'dashboard_url="${grafanaUrl}/d/application-performance?' in findings[0].message


def with_root_url(rendered: Rendered, url: str) -> Rendered:
    """The render with Grafana saying it serves at another URL (as grafana.rootUrl would)."""
    resources = copy.deepcopy(rendered.resources)
    for res in resources:
        ini = (res.obj.get("data") or {}).get("grafana.ini")
        if ini:
            res.obj["data"]["grafana.ini"] = ini.replace(rendered_grafana_root_url(rendered.resources), url)
    return dataclasses.replace(rendered, resources=resources)


def test_the_token_stands_for_the_url_grafana_serves_at(tmp_path, staging):
    # Grafana serves at another URL than the rules link: the links are not `${grafanaUrl}/...`.
    findings = run_rule_tests(
        tmp_path,
        staging,
        one_firing_test(),
        rendered=with_root_url(staging, "https://grafana-internal.example"),
    )
    assert len(findings) == 1, [f.message for f in findings]
    assert findings[0].message.startswith("rule unit tests fail: ")
    assert 'dashboard_url="https://grafana.staging.creativeflow.ai/d/application-performance?' in (
        findings[0].message
    )


@pytest.fixture(scope="module")
def staging_without_grafana(repo_copy: Path, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    overlay = tmp_path_factory.mktemp("overlay") / "no-grafana.yaml"
    overlay.write_text("grafana:\n  enabled: false\n")
    out = tmp_path_factory.mktemp("rendered") / "staging"
    return render_env(Project(repo_copy), "staging", [overlay], out=out)


def test_without_grafana_the_token_stands_for_the_url_the_alerts_link(tmp_path, staging_without_grafana):
    assert rendered_grafana_root_url(staging_without_grafana.resources) is None
    assert run_rule_tests(tmp_path, staging_without_grafana, one_firing_test()) == []


def test_without_grafana_and_links_to_two_grafanas_the_tests_are_not_run(tmp_path, staging_without_grafana):
    resources = copy.deepcopy(staging_without_grafana.resources)
    cm = next(r for r in resources if r.name == "creativeflow-prometheus-rules-applications")
    cm.obj["data"]["applications.yaml"] = cm.obj["data"]["applications.yaml"].replace(
        "https://grafana.staging.creativeflow.ai/d/application-performance",
        "https://grafana.creativeflow.ai/d/application-performance",
        1,
    )
    two = dataclasses.replace(staging_without_grafana, resources=resources)
    findings = run_rule_tests(tmp_path, staging_without_grafana, one_firing_test(), rendered=two)
    assert [f.message for f in findings] == [
        "not run: the test expects ${grafanaUrl} links, but this release ships no Grafana (whose root_url "
        "the token stands for) and its alerts link 2 Grafana URLs (https://grafana.creativeflow.ai, "
        "https://grafana.staging.creativeflow.ai), not one"
    ]

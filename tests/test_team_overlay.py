"""Team overlays (values/teams/<team>/): the shipped teams pass with their own routing cases and
rule tests in every environment; what an overlay overrides replaces the repository's tests of it;
a wrong overlay is refused at the line it was written; dashboards draw the thresholds the rules
fire at; a render made from other values is never what gets checked."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from cfmon import render as rendering
from cfmon import teams
from cfmon.checks.alertmanager import AlertmanagerConfig, AlertmanagerRouting
from cfmon.checks.base import Context
from cfmon.checks.prometheus import PrometheusConfig, PrometheusRuleTests
from cfmon.checks.thresholds import PanelThresholds
from cfmon.errors import UserError
from cfmon.project import Project, find_root
from cfmon.render import load_rendered, render

ENVS = ("dev", "staging", "prod")
# The repository rule tests of the alerts the shipped teams override (the others are the
# repository's business and slow to run three times per team).
RULE_TESTS = ("applications.yaml",)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    # Render into a scratch copy's build/ so the overlays never land in the real build/rendered.
    root = tmp_path_factory.mktemp("repo")
    for rel in ("charts", "values", "jsonnet", "docs/runbooks", "tests/routing", "pyproject.toml"):
        src, dst = ROOT / rel, root / rel
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            dst.write_bytes(src.read_bytes())
    (root / "tests/rules").mkdir()
    for name in RULE_TESTS:
        shutil.copy(ROOT / "tests/rules" / name, root / "tests/rules" / name)
    return find_root(root)


def team(project: Project, name: str) -> teams.Team:
    return next(t for t in teams.discover(project) if t.name == name)


def test_the_shipped_teams_are_discovered(project):
    assert [t.name for t in teams.discover(project)] == ["ai-models", "gateway"]
    assert all(t.rule_tests and t.values.is_file() for t in teams.discover(project))


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("name", ["ai-models", "gateway"])
def test_a_team_overlay_passes_with_its_own_tests(project, name, env, tmp_path):
    t = team(project, name)
    rendered = render(project, env, [t.values], out=tmp_path / "render")
    ctx = Context(project, env, rendered, scratch=tmp_path / "s", teams=(t,))
    findings = [
        f
        for check in (
            AlertmanagerConfig,
            PrometheusConfig,
            AlertmanagerRouting,
            PrometheusRuleTests,
            PanelThresholds,
        )
        for f in check().run(ctx)
    ]
    errors = [f"{f.file}: {f.message}" for f in findings if f.severity == "error"]
    assert errors == []
    replaced = [f for f in findings if f.severity == "info"]
    if name == "gateway" and env != "dev":  # the override replaces the tests of the default
        # (tests/rules/applications.yaml runs where the default applies: staging and prod)
        assert [f.file for f in replaced] == ["tests/rules/applications.yaml"]
        assert "ApiGatewayLatencyP99High" in replaced[0].message
    else:  # its route `continue`s: every repository routing case still holds
        assert replaced == []


def test_an_override_without_team_tests_is_refused_at_the_overlay(project, tmp_path):
    overlay = tmp_path / "tune.yaml"
    overlay.write_text(
        "prometheus:\n  alerts:\n    ApiGatewayLatencyP99High:\n      params: {thresholdSeconds: 1.0}\n"
    )
    rendered = render(project, "prod", [overlay], out=tmp_path / "render")
    findings = PrometheusRuleTests().run(Context(project, "prod", rendered, scratch=tmp_path / "s"))
    errors = [f for f in findings if f.severity == "error"]
    assert [(f.file.endswith("tune.yaml"), f.line) for f in errors] == [(True, 3)]
    assert "no team test" in errors[0].message


def test_a_changed_destination_needs_a_replacing_case(project, tmp_path):
    overlay = tmp_path / "route.yaml"
    overlay.write_text(
        "alertmanager:\n  routes:\n    swallow:\n      order: 1\n      receiver: info-email\n"
        "      matchers: ['service=\"api-gateway\"']\n"
    )
    rendered = render(project, "prod", [overlay], out=tmp_path / "render")
    ctx = Context(project, "prod", rendered, scratch=tmp_path / "s")
    errors = [f for f in AlertmanagerRouting().run(ctx) if f.severity == "error"]
    assert errors and all("replaces:" in f.hint for f in errors)
    # The team says so explicitly: the repository case is reported as replaced, not failed.
    tdir = tmp_path / "teams/swallow"
    (tdir / "rules").mkdir(parents=True)
    shutil.copy(overlay, tdir / "values.yaml")
    (tdir / "routing.yaml").write_text(
        yaml.safe_dump(
            {
                "cases": [
                    {
                        "name": f"{f.message.split(':')[0]} (the team's e-mail now)",
                        "replaces": f.message.split(":")[0],
                        "labels": {"service": "api-gateway", "severity": "warning"},
                        "receivers": ["info-email"],
                    }
                    for f in errors
                ]
            }
        )
    )
    ctx = Context(project, "prod", rendered, scratch=tmp_path / "s2", teams=(teams.Team("swallow", tdir),))
    findings = AlertmanagerRouting().run(ctx)
    assert [f.message for f in findings if f.severity == "error"] == []
    assert len([f for f in findings if f.severity == "info"]) == len(errors)


def _panel_line(rendered, uid: str, alert: str) -> list:
    for res in rendered.resources:
        for text in (res.obj.get("data") or {}).values() if res.kind == "ConfigMap" else []:
            if f'"uid": "{uid}"' not in text:
                continue
            for panel in json.loads(text)["panels"]:
                if any(link["title"] == f"Runbook: {alert}" for link in panel.get("links", [])):
                    return [s["value"] for s in panel["fieldConfig"]["defaults"]["thresholds"]["steps"]]
    raise AssertionError(f"no panel of {alert} in {uid}")


def test_dashboards_draw_the_threshold_the_alert_fires_at(project, tmp_path):
    alert = "ApiGatewayLatencyP99High"
    prod = render(project, "prod", out=tmp_path / "prod")
    dev = render(project, "dev", out=tmp_path / "dev")  # values/dev.yaml sets 1.0
    tuned = render(project, "prod", [team(project, "gateway").values], out=tmp_path / "tuned")
    assert _panel_line(prod, "application-performance", alert)[1:] == [0.5]
    assert _panel_line(dev, "application-performance", alert)[1:] == [1]
    assert _panel_line(tuned, "application-performance", alert)[1:] == [1]
    for r in (prod, dev, tuned):
        assert PanelThresholds().run(Context(project, r.env, r, scratch=tmp_path / "s")) == []
    # A panel left at the default while the rule moved is caught.
    path = next(tuned.directory.rglob("grafana-dashboards.yaml"))
    path.write_text(path.read_text().replace('"value": 1\n', '"value": 0.5\n'))
    stale = rendering.Rendered(
        tuned.env, tuned.directory, "", tuned.values_files, rendering.load_dir(tuned.directory), tuned.loaded
    )
    findings = PanelThresholds().run(Context(project, "prod", stale, scratch=tmp_path / "s2"))
    assert any(f"but {alert} fires at thresholdSeconds = 1" in f.message for f in findings), findings


def test_check_renders_what_it_checks(project, tmp_path):
    overlay = team(project, "ai-models").values
    render(project, "prod")
    plain = load_rendered(project, "prod")
    assert "ai-models-team-slack" not in plain.text
    # The same directory, checked with an overlay: rendered again first, never read stale.
    logs: list[str] = []
    with_team = load_rendered(project, "prod", [overlay], log=logs.append)
    assert "ai-models-team-slack" in with_team.text and "rendering" in logs[0]
    stamp = json.loads((project.render_dir("prod") / rendering.STAMP).read_text())
    assert stamp["values"][-1] == "values/teams/ai-models/values.yaml"
    # A values file edited after the render is stale too.
    logs.clear()
    assert load_rendered(project, "prod", [overlay], log=logs.append).text == with_team.text
    assert logs == []


BAD = {
    "duplicate key": (
        "prometheus:\n  retention:\n    time: 30d\n    time: 7d\n",
        4,
        "prometheus.retention.time",
        "duplicate key",
    ),
    "quantity": (
        "prometheus:\n  resources:\n    limits:\n      memory: 2 GB\n",
        4,
        "prometheus.resources.limits.memory",
        "not a Kubernetes quantity",
    ),
    "job_name": (
        "prometheus:\n  scrapeConfigs:\n    extraJobs:\n      team-x:\n        job_name: x\n"
        "        static_configs: [{targets: ['a:1']}]\n",
        5,
        "prometheus.scrapeConfigs.extraJobs.team-x.job_name",
        "the key of the job",
    ),
    "regex": (
        "prometheus:\n  scrapeConfigs:\n    extraJobs:\n      team-x:\n"
        "        static_configs: [{targets: ['a:1']}]\n"
        "        relabel_configs:\n          - {source_labels: [a], regex: 'foo([', action: keep}\n",
        7,
        "prometheus.scrapeConfigs.extraJobs.team-x.relabel_configs.0.regex",
        "not a valid regex",
    ),
    "duration": (
        "prometheus:\n  scrapeConfigs:\n    extraJobs:\n      team-x:\n        scrape_interval: 30 s\n"
        "        static_configs: [{targets: ['a:1']}]\n",
        5,
        "prometheus.scrapeConfigs.extraJobs.team-x.scrape_interval",
        "not a Prometheus duration",
    ),
    "no targets": (
        "prometheus:\n  scrapeConfigs:\n    extraJobs:\n      team-x:\n        scrape_interval: 30s\n",
        4,
        "prometheus.scrapeConfigs.extraJobs.team-x",
        "has no targets",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_wrong_overlay_is_refused_at_its_line(project, tmp_path, case):
    text, line, key, message = BAD[case]
    overlay = tmp_path / "bad.yaml"
    overlay.write_text(text)
    with pytest.raises(UserError) as err:
        rendering.values_files(project, "prod", [overlay])
    assert (err.value.file, err.value.line, err.value.key) == (str(overlay), line, key)
    assert message in err.value.message and err.value.hint


def test_a_duplicate_key_in_the_charts_own_values_is_refused(project):
    path = project.chart / "charts/prometheus/values.yaml"
    original = path.read_text()
    try:
        path.write_text(original + "replicas: 3\n")
        with pytest.raises(UserError) as err:
            rendering.values_files(project, "prod", [])
        assert err.value.file == "charts/creativeflow-monitoring/charts/prometheus/values.yaml"
        assert "duplicate key 'replicas'" in err.value.message
    finally:
        path.write_text(original)


@pytest.mark.parametrize("envs", [["production"], []])
def test_a_rule_test_file_that_runs_nowhere_is_an_error(project, tmp_path, envs):
    path = project.root / "tests/rules/nowhere.yaml"
    path.write_text(
        yaml.safe_dump({"cfmon": {"environments": envs}, "rule_files": ["applications.yaml"], "tests": [{}]})
    )
    try:
        rendered = render(project, "dev", out=tmp_path / "render")
        findings = PrometheusRuleTests().run(Context(project, "dev", rendered, scratch=tmp_path / "s"))
        mine = [f for f in findings if f.file == "tests/rules/nowhere.yaml"]
        assert len(mine) == 1 and mine[0].severity == "error" and "nowhere" in mine[0].message
        assert mine[0].line == 2
    finally:
        path.unlink()


def test_the_team_overlay_renders_the_same_through_helm_directly(project, tmp_path):
    """`helm upgrade -f values/<env>.yaml -f values/teams/<team>/values.yaml` (and an Argo CD
    Application with both value files) renders what cfmon checked: the same helm template call."""
    from cfmon import binaries
    from cfmon.project import NAMESPACE, RELEASE, kube_versions

    overlay = team(project, "gateway").values
    proc = binaries.helm_template(
        project.chart,
        release=RELEASE,
        namespace=NAMESPACE,
        kube_version=kube_versions(project)[0],
        values=[project.env_values("prod"), overlay],
    )
    assert proc.returncode == 0, proc.stderr
    assert rendering.canonical(rendering.split_by_source(proc.stdout)) == rendering.render_text(
        project, "prod", [overlay]
    )
    assert "for: 15m" in proc.stdout and Path(overlay).is_file()

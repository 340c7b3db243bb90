"""Every check in cfmon.checks.REGISTRY, passing and failing, with the real helm, promtool and amtool.

The chart is rendered once per session (prod) into a temporary copy of the repository, so the real
build/ directory is never touched. A failing case mutates a deep copy of the rendered resources, or
points the check at a temporary project holding a broken file; it asserts the check id, a telling
part of the message and the file the finding sends the user to.

Tests marked xfail(strict=True) pin known bugs of a check: when the check is fixed they XPASS and
fail, so the marker must go.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from cfmon import cache, report
from cfmon.checks import REGISTRY, Check, Context, Finding
from cfmon.checks.alertmanager import AlertmanagerConfig, AlertmanagerRouting
from cfmon.checks.alerts import AlertRunbook
from cfmon.checks.determinism import ForbiddenFunctions, RenderTwice
from cfmon.checks.kubernetes import KubernetesSchema
from cfmon.checks.prometheus import PrometheusConfig, PrometheusRules, PrometheusRuleTests
from cfmon.checks.secrets import SecretLiterals
from cfmon.checks.size import ANNOTATIONS_BUDGET, CONFIGMAP_BUDGET, AnnotationSize, ConfigMapSize
from cfmon.manifests import Resource
from cfmon.project import Project
from cfmon.render import Rendered, render, render_text

REPO = Path(__file__).resolve().parents[1]
ENV = "prod"
# Only what a render and the checks read; build/ is not copied.
COPIED = (
    "charts",
    "values",
    "jsonnet/generated",  # what checks read of the Jsonnet: never its sources
    "docs/runbooks",
    "tests/rules",
    "tests/routing",
    "tests/conformance",
    "pyproject.toml",
)

CHART = "charts/creativeflow-monitoring"
PROM_CONFIGMAP_TPL = f"{CHART}/charts/prometheus/templates/configmap.yaml"
PROM_RULES_TPL = f"{CHART}/charts/prometheus/templates/rules-configmap.yaml"
PROM_STATEFULSET_TPL = f"{CHART}/charts/prometheus/templates/statefulset.yaml"
PROM_SERVICE_TPL = f"{CHART}/charts/prometheus/templates/service.yaml"
AM_CONFIGMAP_TPL = f"{CHART}/charts/alertmanager/templates/configmap.yaml"
APPLICATIONS_MIXIN = "jsonnet/mixins/applications/mixin.libsonnet"

# Rendered object names (release "creativeflow", pinned in cfmon.project).
PROM_STATEFULSET = "creativeflow-prometheus"
PROM_CONFIG_CM = "creativeflow-prometheus-config"
PROM_SCRAPE_CM = "creativeflow-prometheus-scrape-configs"
PROM_RULES_CM = "creativeflow-prometheus-rules-applications"
AM_CONFIG_CM = "creativeflow-alertmanager-config"
AM_TEMPLATES_CM = "creativeflow-alertmanager-templates"


# ---- session render and helpers -------------------------------------------------------------------


@pytest.fixture(scope="session")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("repo")
    for rel in COPIED:
        src, dst = REPO / rel, root / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copy2(src, dst)
    return Project(root)


@pytest.fixture(scope="session")
def rendered(project: Project) -> Rendered:
    return render(project, ENV)


@pytest.fixture
def run(tmp_path: Path, project: Project, rendered: Rendered) -> Callable[..., list[Finding]]:
    """run(CheckClass, rendered=..., project=..., rerender=...) -> findings, each call in a fresh scratch."""
    calls = iter(range(1_000))

    def _run(
        check: type[Check],
        rendered: Rendered = rendered,
        project: Project = project,
        rerender: Callable[[], str] | None = None,
    ) -> list[Finding]:
        scratch = tmp_path / f"scratch-{next(calls)}"
        scratch.mkdir()
        ctx = Context(project, ENV, rendered, rerender=rerender, scratch=scratch)
        return check().run(ctx)

    return _run


def mutate(rendered: Rendered, kind: str, name: str, change: Callable[[dict[str, Any]], None]) -> Rendered:
    """A copy of the render where `change` edited the one object kind/name (the session render stays)."""
    resources = copy.deepcopy(rendered.resources)
    hits = [r for r in resources if r.kind == kind and r.name == name]
    assert len(hits) == 1, f"expected one {kind} {name} in the render, found {len(hits)}"
    change(hits[0].obj)
    return dataclasses.replace(rendered, resources=resources)


def with_objects(rendered: Rendered, *objs: dict[str, Any], source: str = f"{CHART}/templates/extra.yaml"):
    extra = [
        Resource(o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"], source, o)
        for o in objs
    ]
    return dataclasses.replace(rendered, resources=copy.deepcopy(rendered.resources) + extra)


def edit_payload(key: str, change: Callable[[Any], None]) -> Callable[[dict[str, Any]], None]:
    """An object change that parses ConfigMap data[key] as YAML, lets `change` edit it, and dumps it back."""

    def _change(obj: dict[str, Any]) -> None:
        doc = yaml.safe_load(obj["data"][key])
        change(doc)
        obj["data"][key] = yaml.safe_dump(doc, sort_keys=False)

    return _change


def temp_project(root: Path, files: dict[str, str]) -> Project:
    """A project root holding only `files` (enough for checks that read tests/ or the chart sources)."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return Project(root)


def ids(findings: list[Finding]) -> set[str]:
    return {f.check for f in findings}


def one(findings: list[Finding], check_id: str) -> Finding:
    assert len(findings) == 1, "\n".join(f"{f.file}: {f.message}" for f in findings) or "no findings"
    assert findings[0].check == check_id
    assert findings[0].env == ENV
    return findings[0]


# ---- the registry ---------------------------------------------------------------------------------

# Checks with at least one failing case below; a new check in the registry must be added here.
COVERED = {
    "kubernetes/schema",
    "prometheus/config",
    "prometheus/rules",
    "prometheus/rule-tests",
    "alerts/runbook-url",
    "alertmanager/config",
    "alertmanager/routing",
    "render/deterministic",
    "chart/forbidden-functions",
    "security/secret-literal",
    "size/configmap",
    "size/annotations",
    # Failing cases in test_checks_rules.py.
    "alerts/labels",
    "alerts/annotations",
    "rules/naming",
    "rules/group-size",
    "rules/aggregation-labels",
    "rules/join-labels",
    "rules/record-windows",
    "rules/metrics-known",
    # Failing cases in test_checks_dashboards.py.
    "dashboards/metadata",
    "dashboards/panel-docs",
    "dashboards/panel-ids",
    "dashboards/grid",
    "dashboards/datasource",
    "dashboards/promql",
    "dashboards/metrics-known",
    "dashboards/rate-interval",
    "dashboards/quantile",
    "dashboards/logql",
    "dashboards/ref-ids",
    "dashboards/variables",
    "dashboards/runbook-links",
    # Failing cases in test_checks_loki.py.
    "loki/config-schema",
    "loki/retention",
    "loki/object-storage",
    "loki/schema-period",
    "loki/retention-selectors",
    "loki/audit-retention",
    # Failing cases in test_dashboard_links.py.
    "alerts/dashboard-url",
    # Failing cases in test_checks_logagent.py.
    "logs/agent-schema",
    "logs/agent-labels",
    "logs/agent-push-url",
    # Failing cases in test_checks_conformance.py.
    "conformance/selectors",
    # Failing cases in test_checks_longterm.py.
    "longterm/store",
    # Failing case in test_team_overlay.py.
    "dashboards/thresholds",
}


def test_registry_ids_are_unique_and_well_formed():
    check_ids = [c.id for c in REGISTRY]
    assert len(check_ids) == len(set(check_ids)), check_ids
    for check_id in check_ids:
        assert re.fullmatch(r"[a-z]+/[a-z0-9-]+", check_id), check_id


@pytest.mark.parametrize("check", REGISTRY, ids=lambda c: c.id)
def test_registry_entry_has_docstring_severity_and_run(check: type[Check]):
    assert issubclass(check, Check)
    # Its own docstring, not the one inherited from Check.
    assert (vars(check).get("__doc__") or "").strip(), f"{check.__name__} has no docstring"
    assert check.severity in {"error", "warning"}
    assert check.run is not Check.run, f"{check.__name__} does not implement run()"


def test_every_registered_check_has_a_failing_case_here():
    assert {c.id for c in REGISTRY} == COVERED


# ---- the clean prod render passes every check -----------------------------------------------------


def test_render_stays_in_the_temporary_copy(project: Project, rendered: Rendered):
    assert project.root.resolve() != REPO
    assert rendered.directory.resolve().is_relative_to(project.root.resolve())
    assert {r.kind for r in rendered.resources} >= {"StatefulSet", "ConfigMap", "Service"}


@pytest.mark.parametrize("check", REGISTRY, ids=lambda c: c.id)
def test_clean_prod_render_has_no_findings(check: type[Check], run, project: Project, shared_cache: Path):
    # The real re-render (helm again) for render/deterministic; the real tests/rules and tests/routing.
    # Tool results go through the session's shared cache (its keys cover every input byte, see
    # test_cache.py), so prod's rule tests run once in the session: here or in test_cli.py's verify.
    cache.configure(shared_cache)
    try:
        findings = run(check, rerender=lambda: render_text(project, ENV))
    finally:
        cache.configure(None)
    assert findings == []


# ---- kubernetes/schema ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            lambda o: o["spec"].__setitem__("replica", 2),
            "spec: Additional properties are not allowed ('replica' was unexpected)",
            id="unknown-field",
        ),
        pytest.param(
            lambda o: o["spec"].__setitem__("replicas", "two"),
            "spec.replicas: 'two' is not of type 'integer'",
            id="wrong-type",
        ),
        pytest.param(
            lambda o: o["spec"]["template"]["spec"]["containers"][0].__setitem__("imagePullPolicy", 7),
            "spec.template.spec.containers.0.imagePullPolicy: 7 is not of type 'string'",
            id="wrong-type-nested",
        ),
    ],
)
def test_kubernetes_schema_rejects_bad_statefulset(run, rendered, change, expected):
    broken = mutate(rendered, "StatefulSet", PROM_STATEFULSET, change)
    finding = one(run(KubernetesSchema, rendered=broken), "kubernetes/schema")
    assert finding.message.startswith(f"StatefulSet/monitoring/{PROM_STATEFULSET}: ")
    assert expected in finding.message
    assert finding.file == PROM_STATEFULSET_TPL


def test_kubernetes_schema_rejects_kind_without_schema(run, rendered):
    widget = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": "monitoring"},
    }
    broken = with_objects(rendered, widget, source=f"{CHART}/templates/widget.yaml")
    finding = one(run(KubernetesSchema, rendered=broken), "kubernetes/schema")
    assert "Widget/monitoring/w: no Kubernetes 1.30.0 schema for example.com/v1 Widget" in finding.message
    assert finding.file == f"{CHART}/templates/widget.yaml"


def test_kubernetes_schema_checks_the_newest_version_too(run, rendered):
    # flowcontrol v1beta3 exists in 1.30 and is gone by 1.37: only the newest version can catch it.
    flow = {
        "apiVersion": "flowcontrol.apiserver.k8s.io/v1beta3",
        "kind": "FlowSchema",
        "metadata": {"name": "f"},
        "spec": {"priorityLevelConfiguration": {"name": "global-default"}, "matchingPrecedence": 1000},
    }
    finding = one(run(KubernetesSchema, rendered=with_objects(rendered, flow)), "kubernetes/schema")
    assert (
        "no Kubernetes 1.37.0 schema for flowcontrol.apiserver.k8s.io/v1beta3 FlowSchema" in finding.message
    )


# ---- prometheus/config ----------------------------------------------------------------------------


def _set_first_scrape_job(field: str, value: str):
    return edit_payload("stack_targets.yml", lambda doc: doc["scrape_configs"][0].__setitem__(field, value))


@pytest.mark.parametrize(
    ("name", "change", "expected"),
    [
        pytest.param(
            PROM_SCRAPE_CM,
            _set_first_scrape_job("scrape_intervall", "15s"),
            "field scrape_intervall not found in type config.ScrapeConfig",
            id="scrape-job-unknown-field",
        ),
        pytest.param(
            PROM_SCRAPE_CM,
            _set_first_scrape_job("scrape_interval", "15x"),
            'unknown unit "x" in duration "15x"',
            id="scrape-job-bad-interval",
        ),
        pytest.param(
            PROM_CONFIG_CM,
            edit_payload("prometheus.yml", lambda doc: doc["global"].__setitem__("scrape_interval", "often")),
            'not a valid duration string: "often"',
            id="global-bad-interval",
        ),
    ],
)
def test_prometheus_config_rejects_bad_config(run, rendered, name, change, expected):
    broken = mutate(rendered, "ConfigMap", name, change)
    finding = one(run(PrometheusConfig, rendered=broken), "prometheus/config")
    assert finding.message.startswith("promtool rejects prometheus.yml: ")
    assert expected in finding.message
    assert "/tmp/" not in finding.message  # paths are shown as mounted in the pod
    assert finding.file == PROM_CONFIGMAP_TPL


def test_prometheus_config_names_the_scrape_file_as_mounted(run, rendered):
    broken = mutate(rendered, "ConfigMap", PROM_SCRAPE_CM, _set_first_scrape_job("scrape_intervall", "1m"))
    finding = one(run(PrometheusConfig, rendered=broken), "prometheus/config")
    assert '"/etc/prometheus/scrape_configs/stack_targets.yml"' in finding.message


# ---- prometheus/rules -----------------------------------------------------------------------------


def _break_first_alert(doc: dict[str, Any]) -> None:
    group = next(g for g in doc["groups"] if g["name"] == "applications-alerts-gateway")
    group["rules"][0]["expr"] = "rate(http_requests_total[5m]"


@pytest.fixture
def broken_rules(rendered: Rendered) -> Rendered:
    return mutate(rendered, "ConfigMap", PROM_RULES_CM, edit_payload("applications.yaml", _break_first_alert))


def test_prometheus_rules_rejects_invalid_promql(run, broken_rules):
    finding = one(run(PrometheusRules, rendered=broken_rules), "prometheus/rules")
    assert finding.message.startswith("promtool rejects rule file applications.yaml: ")
    assert '"ApiGatewayErrorRatioHigh": could not parse expression' in finding.message
    assert "unclosed left parenthesis" in finding.message
    assert "/etc/prometheus/rules/applications.yaml" in finding.message
    assert finding.file == APPLICATIONS_MIXIN


def test_invalid_rule_file_is_reported_by_prometheus_rules_only(run, broken_rules):
    # prometheus/config drops rule_files so one broken rule is not reported twice.
    assert run(PrometheusConfig, rendered=broken_rules) == []


def test_prometheus_rules_rejects_a_duplicate_group(run, rendered):
    def duplicate(doc: dict[str, Any]) -> None:
        doc["groups"].append(copy.deepcopy(doc["groups"][0]))

    broken = mutate(rendered, "ConfigMap", PROM_RULES_CM, edit_payload("applications.yaml", duplicate))
    finding = one(run(PrometheusRules, rendered=broken), "prometheus/rules")
    assert 'groupname: "applications-recording" is repeated in the same file' in finding.message
    assert finding.file == APPLICATIONS_MIXIN


# ---- prometheus/rule-tests ------------------------------------------------------------------------


def _rule_tests(project: Project) -> dict[str, str]:
    return {
        f"tests/rules/{p.name}": p.read_text() for p in sorted(project.path("tests/rules").glob("*.yaml"))
    }


def _wrong_priority(text: str) -> str:
    assert "priority: P1" in text
    return text.replace("priority: P1", "priority: P4", 1)


def test_rule_tests_report_the_failing_test_file(run, project, tmp_path):
    files = _rule_tests(project)
    files["tests/rules/applications.yaml"] = _wrong_priority(files["tests/rules/applications.yaml"])
    broken = temp_project(tmp_path / "repo", files)
    finding = one(run(PrometheusRuleTests, project=broken), "prometheus/rule-tests")
    assert finding.file == "tests/rules/applications.yaml"
    assert finding.message.startswith("rule unit tests fail: ")
    assert "alertname: ApiGatewayErrorRatioHigh" in finding.message
    assert 'priority="P4"' in finding.message  # expected
    assert 'priority="P1"' in finding.message  # got


@pytest.mark.parametrize(("environments", "reported"), [("[dev]", False), ("[dev, prod]", True)])
def test_rule_tests_skip_files_whose_environments_exclude_the_env(
    run, project, tmp_path, environments, reported
):
    text = _wrong_priority((project.path("tests/rules/applications.yaml")).read_text())
    text = text.replace("environments: [staging, prod]", f"environments: {environments}", 1)
    assert f"environments: {environments}" in text
    broken = temp_project(tmp_path / "repo", {"tests/rules/only-some-envs.yaml": text})
    findings = run(PrometheusRuleTests, project=broken)
    if reported:
        assert one(findings, "prometheus/rule-tests").file == "tests/rules/only-some-envs.yaml"
    else:
        assert findings == []


def test_rule_tests_name_rule_files_that_are_not_rendered(run, tmp_path):
    broken = temp_project(tmp_path / "repo", {"tests/rules/x.yaml": "rule_files: [nope.yaml]\ntests: []\n"})
    finding = one(run(PrometheusRuleTests, project=broken), "prometheus/rule-tests")
    assert "rule_files ['nope.yaml'] are not rendered in prod" in finding.message
    assert "applications.yaml" in finding.message  # what is rendered
    assert finding.file == "tests/rules/x.yaml"


def test_rule_tests_of_a_switched_rule_file_run_only_where_it_is_rendered(run, tmp_path):
    """`cfmon: {whenRendered: true}`: a file the chart ships behind a values switch is tested where
    it is rendered and skipped elsewhere; without the key its absence is a finding."""
    test = "cfmon:\n  whenRendered: true\nrule_files: [kubernetes-control-plane.yaml]\ntests: []\n"
    skipped = temp_project(tmp_path / "a", {"tests/rules/x.yaml": test})
    assert [f for f in run(PrometheusRuleTests, project=skipped) if f.file == "tests/rules/x.yaml"] == []
    strict = temp_project(tmp_path / "b", {"tests/rules/x.yaml": test.split("\n", 2)[2]})
    assert one(run(PrometheusRuleTests, project=strict), "prometheus/rule-tests").file == "tests/rules/x.yaml"


def test_rule_tests_report_invalid_yaml(run, tmp_path):
    broken = temp_project(tmp_path / "repo", {"tests/rules/x.yaml": "rule_files: [applications.yaml\n"})
    finding = one(run(PrometheusRuleTests, project=broken), "prometheus/rule-tests")
    assert finding.message.startswith("not valid YAML")
    assert finding.file == "tests/rules/x.yaml"


@pytest.mark.parametrize(
    ("check", "rel"),
    [(PrometheusRuleTests, "tests/rules/x.yaml"), (AlertmanagerRouting, "tests/routing/x.yaml")],
    ids=["rule-tests", "routing"],
)
def test_test_file_that_is_a_list_is_a_finding(run, tmp_path, check, rel):
    broken = temp_project(tmp_path / "repo", {rel: "- rule_files: [applications.yaml]\n"})
    assert one(run(check, project=broken), check.id).file == rel


# ---- alerts/runbook-url ---------------------------------------------------------------------------


def _annotate_alert(alert: str, **annotations: str | None):
    def change(doc: dict[str, Any]) -> None:
        rule = next(r for g in doc["groups"] for r in g["rules"] if r.get("alert") == alert)
        for key, value in annotations.items():
            if value is None:
                rule["annotations"].pop(key, None)
            else:
                rule["annotations"][key] = value

    return edit_payload("applications.yaml", change)


RUNBOOKS = "https://github.com/creativeflow-ai/creativeflow-monitoring/blob/main/docs/runbooks"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (None, "(none)"),
        (f"{RUNBOOKS}/ApiGatewayLatencyP99High.md", f"{RUNBOOKS}/ApiGatewayLatencyP99High.md"),
        (
            "https://wiki.example.com/ApiGatewayErrorRatioHigh",
            "https://wiki.example.com/ApiGatewayErrorRatioHigh",
        ),
    ],
    ids=["missing", "other-alert", "not-in-repo"],
)
def test_runbook_url_must_name_the_alert_runbook(run, rendered, url, shown):
    change = _annotate_alert("ApiGatewayErrorRatioHigh", runbook_url=url)
    broken = mutate(rendered, "ConfigMap", PROM_RULES_CM, change)
    finding = one(run(AlertRunbook, rendered=broken), "alerts/runbook-url")
    assert finding.message == (
        f"alert ApiGatewayErrorRatioHigh: runbook_url {shown} "
        "is not https://github.com/creativeflow-ai/creativeflow-monitoring/blob/main/docs/runbooks/ApiGatewayErrorRatioHigh.md"
    )
    # At the line of the mixin that defines the alert (from the generated source map).
    assert finding.file == APPLICATIONS_MIXIN and finding.line
    source = Path(__file__).resolve().parents[1] / finding.file  # the copy holds no Jsonnet
    assert "'ApiGatewayErrorRatioHigh'" in source.read_text().splitlines()[finding.line - 1]


def test_runbook_must_exist_in_the_repository(run, project, tmp_path):
    # Every runbook but the error-ratio alert's: its link is the one dangling.
    name = "docs/runbooks/ApiGatewayErrorRatioHigh.md"
    files = {
        project.rel(p): p.read_text()
        for p in project.path("docs/runbooks").glob("*.md")
        if project.rel(p) != name
    }
    docs = temp_project(tmp_path / "repo", files)
    finding = one(run(AlertRunbook, project=docs), "alerts/runbook-url")
    assert finding.message == (
        "alert ApiGatewayErrorRatioHigh: docs/runbooks/ApiGatewayErrorRatioHigh.md does not exist"
    )
    assert finding.file == "docs/runbooks/ApiGatewayErrorRatioHigh.md"


# ---- alertmanager/config --------------------------------------------------------------------------


def test_alertmanager_config_rejects_route_to_unknown_receiver(run, rendered):
    def reroute(doc: dict[str, Any]) -> None:
        doc["route"]["routes"][0]["receiver"] = "nobody"

    broken = mutate(rendered, "ConfigMap", AM_CONFIG_CM, edit_payload("alertmanager.yml", reroute))
    finding = one(run(AlertmanagerConfig, rendered=broken), "alertmanager/config")
    assert finding.message.startswith("amtool rejects alertmanager.yml: ")
    assert 'undefined receiver "nobody" used in route' in finding.message
    assert finding.file == AM_CONFIGMAP_TPL


def test_alertmanager_config_checks_the_mounted_templates(run, rendered):
    def unclosed(obj: dict[str, Any]) -> None:
        obj["data"]["default_notification.tmpl"] += '{{ define "broken" }}{{ .Foo\n'

    broken = mutate(rendered, "ConfigMap", AM_TEMPLATES_CM, unclosed)
    finding = one(run(AlertmanagerConfig, rendered=broken), "alertmanager/config")
    assert "template: default_notification.tmpl" in finding.message
    assert "unclosed action" in finding.message


# ---- alertmanager/routing -------------------------------------------------------------------------

WARNING_CASE = """\
cases:
  - name: warning goes to Slack
    labels: {alertname: DiskAlmostFull, severity: warning, service: billing}
    receivers: [%s]
"""


def test_routing_reports_wrong_receiver(run, tmp_path):
    table = temp_project(tmp_path / "repo", {"tests/routing/x.yaml": WARNING_CASE % "info-email"})
    finding = one(run(AlertmanagerRouting, project=table), "alertmanager/routing")
    assert finding.message == (
        "warning goes to Slack: {alertname=DiskAlmostFull, service=billing, severity=warning} "
        "routes to warning-slack, expected info-email"
    )
    assert finding.file == "tests/routing/x.yaml"


def test_routing_passes_when_receivers_match(run, tmp_path):
    table = temp_project(tmp_path / "repo", {"tests/routing/x.yaml": WARNING_CASE % "warning-slack"})
    assert run(AlertmanagerRouting, project=table) == []


def test_routing_reports_missing_receiver_of_a_continue_route(run, tmp_path):
    case = """\
cases:
  - name: AI warning
    labels: {alertname: ModelSlow, severity: warning, service: custom-ai-models, team: ai-infrastructure}
    receivers: [warning-slack]
"""
    table = temp_project(tmp_path / "repo", {"tests/routing/ai.yaml": case})
    finding = one(run(AlertmanagerRouting, project=table), "alertmanager/routing")
    assert "AI warning: " in finding.message
    assert "routes to ai-infra-slack,warning-slack, expected warning-slack" in finding.message
    assert finding.file == "tests/routing/ai.yaml"


@pytest.mark.parametrize(("environments", "reported"), [("[dev]", False), ("[dev, prod]", True)])
def test_routing_skips_cases_for_other_environments(run, tmp_path, environments, reported):
    text = WARNING_CASE % "info-email" + f"    environments: {environments}\n"
    table = temp_project(tmp_path / "repo", {"tests/routing/x.yaml": text})
    findings = run(AlertmanagerRouting, project=table)
    if reported:
        assert "expected info-email" in one(findings, "alertmanager/routing").message
    else:
        assert findings == []


def test_routing_names_unnamed_cases_by_position(run, tmp_path):
    text = (WARNING_CASE % "warning-slack") + (
        "  - labels: {alertname: X, severity: info}\n    receivers: [warning-slack]\n"
    )
    table = temp_project(tmp_path / "repo", {"tests/routing/x.yaml": text})
    finding = one(run(AlertmanagerRouting, project=table), "alertmanager/routing")
    assert finding.message.startswith("case 2: {alertname=X, severity=info} routes to info-email")


def test_routing_case_without_receivers_is_a_finding(run, tmp_path):
    text = "cases:\n  - name: typo\n    labels: {severity: warning}\n    receiver: [info-email]\n"
    table = temp_project(tmp_path / "repo", {"tests/routing/x.yaml": text})
    assert one(run(AlertmanagerRouting, project=table), "alertmanager/routing").file == "tests/routing/x.yaml"


# ---- render/deterministic -------------------------------------------------------------------------


def test_deterministic_reports_a_differing_rerender(run, rendered):
    assert "  replicas: 2\n" in rendered.text
    again = rendered.text.replace("  replicas: 2\n", "  replicas: 3\n", 1)
    finding = one(run(RenderTwice, rerender=lambda: again), "render/deterministic")
    assert finding.message == "two renders differ: -  replicas: 2; +  replicas: 3"


def test_deterministic_passes_on_identical_text(run, rendered):
    calls = []
    assert run(RenderTwice, rerender=lambda: calls.append(1) or rendered.text) == []
    assert calls == [1]


# ---- chart/forbidden-functions --------------------------------------------------------------------


@pytest.fixture
def chart_copy(project: Project, tmp_path: Path) -> Project:
    root = tmp_path / "repo"
    shutil.copytree(project.path("charts"), root / "charts")
    return Project(root)


@pytest.mark.parametrize(
    ("call", "function"),
    [
        ("password: {{ randAlphaNum 16 | b64enc | quote }}", "randAlphaNum"),
        ('{{- $existing := lookup "v1" "Secret" .Release.Namespace "grafana" }}', "lookup"),
        ("generated-at: {{ now | quote }}", "now"),
        ('{{- $ca := genCA "creativeflow" 365 }}', "genCA"),
    ],
)
def test_forbidden_function_in_a_template(run, chart_copy, call, function):
    rel = f"{CHART}/charts/prometheus/templates/secret.yaml"
    (chart_copy.root / rel).write_text(f"apiVersion: v1\nkind: Secret\n{call}\n")
    finding = one(run(ForbiddenFunctions, project=chart_copy), "chart/forbidden-functions")
    assert finding.message == f"template calls {function}, which is not deterministic"
    assert (finding.file, finding.line) == (rel, 3)


def test_forbidden_functions_in_helpers(run, chart_copy):
    helpers = chart_copy.root / CHART / "charts/alertmanager/templates/_helpers.tpl"
    lines = helpers.read_text().splitlines()
    helpers.write_text("\n".join([*lines, '{{- define "x.token" -}}{{ uuidv4 }}{{- end }}']) + "\n")
    finding = one(run(ForbiddenFunctions, project=chart_copy), "chart/forbidden-functions")
    assert "uuidv4" in finding.message
    assert finding.file == f"{CHART}/charts/alertmanager/templates/_helpers.tpl"
    assert finding.line == len(lines) + 1


def test_forbidden_function_in_a_template_subdirectory(run, chart_copy):
    rel = f"{CHART}/charts/prometheus/templates/extra/secret.yaml"
    (chart_copy.root / rel).parent.mkdir()
    (chart_copy.root / rel).write_text("password: {{ randAlphaNum 16 }}\n")
    assert one(run(ForbiddenFunctions, project=chart_copy), "chart/forbidden-functions").file == rel


@pytest.mark.parametrize("annotation", ["helm.sh/hook", "helm.sh/hook-weight"])
def test_forbidden_functions_reports_helm_hooks(run, rendered, annotation):
    def hook(obj: dict[str, Any]) -> None:
        obj["metadata"].setdefault("annotations", {})[annotation] = "pre-install"

    broken = mutate(rendered, "ConfigMap", PROM_CONFIG_CM, hook)
    finding = one(run(ForbiddenFunctions, rendered=broken), "chart/forbidden-functions")
    assert finding.message == f"ConfigMap/monitoring/{PROM_CONFIG_CM} is a Helm hook ({annotation})"
    assert finding.file == PROM_CONFIGMAP_TPL


# ---- security/secret-literal ----------------------------------------------------------------------


def _alertmanager_global(**changes: object):
    def change(doc: dict[str, Any]) -> None:
        for key, value in changes.items():
            if value is None:
                doc["global"].pop(key, None)
            else:
                doc["global"][key] = value

    return mutate_am(change)


def mutate_am(change: Callable[[dict[str, Any]], None]) -> Callable[[Rendered], Rendered]:
    return lambda rendered: mutate(
        rendered, "ConfigMap", AM_CONFIG_CM, edit_payload("alertmanager.yml", change)
    )


def _literal_routing_key(doc: dict[str, Any]) -> None:
    receiver = doc["receivers"][1]
    assert receiver["name"] == "critical-pagerduty"
    receiver["pagerduty_configs"][0]["routing_key"] = "R0UT1NGK3Y"
    del receiver["pagerduty_configs"][0]["routing_key_file"]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        pytest.param(
            _alertmanager_global(
                slack_api_url="https://hooks.slack.com/services/T000/B000/XXXX", slack_api_url_file=None
            ),
            "data.alertmanager.yml.global.slack_api_url",
            id="slack-webhook",
        ),
        pytest.param(
            _alertmanager_global(smtp_auth_password="hunter2", smtp_auth_password_file=None),
            "data.alertmanager.yml.global.smtp_auth_password",
            id="smtp-password",
        ),
        pytest.param(
            mutate_am(_literal_routing_key),
            "data.alertmanager.yml.receivers[1].pagerduty_configs[0].routing_key",
            id="pagerduty-routing-key",
        ),
    ],
)
def test_secret_literal_in_alertmanager_config(run, rendered, change, path):
    findings = run(SecretLiterals, rendered=change(rendered))
    assert ids(findings) == {"security/secret-literal"}
    hits = [
        f
        for f in findings
        if f.message == f"ConfigMap/monitoring/{AM_CONFIG_CM}: {path} holds a literal credential"
    ]
    assert len(hits) == 1, [f.message for f in findings]
    assert hits[0].file == AM_CONFIGMAP_TPL
    assert hits[0].hint is not None and f"`{path.rsplit('.', 1)[1]}_file`" in hits[0].hint


def test_secret_file_fields_are_safe(run, rendered):
    change = _alertmanager_global(
        slack_api_url_file="/etc/alertmanager/secrets/other-webhook",
        smtp_auth_password_file="/etc/alertmanager/secrets/other-password",
    )
    assert run(SecretLiterals, rendered=change(rendered)) == []


def test_secret_literal_is_reported_once(run, rendered):
    change = _alertmanager_global(slack_api_url="https://hooks.slack.com/services/T000/B000/XXXX")
    assert len(run(SecretLiterals, rendered=change(rendered))) == 1


def test_numeric_password_is_a_secret_literal(run, rendered):
    change = _alertmanager_global(smtp_auth_password=123456, smtp_auth_password_file=None)
    broken = change(rendered)
    config = next(r for r in broken.resources if r.name == AM_CONFIG_CM).obj["data"]["alertmanager.yml"]
    assert "smtp_auth_password: 123456\n" in config  # what a values override `smtpPassword: 123456` gives
    assert len(run(SecretLiterals, rendered=broken)) == 1


def test_secret_literal_points_at_the_values_file_that_holds_it(run, rendered, tmp_path):
    overlay = tmp_path / "repo" / "values" / "team.yaml"
    overlay.parent.mkdir(parents=True)
    overlay.write_text("alertmanager:\n  global:\n    smtpAuthPassword: hunter2-from-team\n")
    change = _alertmanager_global(smtp_auth_password="hunter2-from-team", smtp_auth_password_file=None)
    broken = dataclasses.replace(change(rendered), values_files=[*rendered.values_files, overlay])
    finding = one(
        run(SecretLiterals, rendered=broken, project=Project(tmp_path / "repo")), "security/secret-literal"
    )
    assert (finding.file, finding.line) == ("values/team.yaml", 3)


@pytest.mark.parametrize(
    ("values", "key", "line"),
    [
        # A key the chart copies nowhere still leaks from git: refused where it is written.
        ("grafana:\n  smtp:\n    password: hunter2\n", "grafana.smtp.password", 3),
        (
            "prometheus:\n  externalLabels:\n    hook: https://hooks.slack.com/services/T0/B0/abc\n",
            "prometheus.externalLabels.hook",
            3,
        ),
        (
            "alertmanager:\n  receivers:\n    x:\n      slack_configs:\n        - api_url: https://example.com/x\n",
            "alertmanager.receivers.x.slack_configs[0].api_url",
            5,
        ),
    ],
)
def test_secret_in_any_values_file_is_refused_with_file_and_key(run, rendered, tmp_path, values, key, line):
    overlay = tmp_path / "repo" / "values" / "teams" / "leaky.yaml"
    overlay.parent.mkdir(parents=True)
    overlay.write_text(values)
    broken = dataclasses.replace(rendered, values_files=[*rendered.values_files, overlay])
    findings = run(SecretLiterals, rendered=broken, project=Project(tmp_path / "repo"))
    finding = one(findings, "security/secret-literal")
    assert (finding.file, finding.line) == ("values/teams/leaky.yaml", line)
    assert f"{key} holds a literal credential" in finding.message


def test_secret_references_in_values_are_fine(run, rendered, tmp_path):
    overlay = tmp_path / "repo" / "values" / "ok.yaml"
    overlay.parent.mkdir(parents=True)
    overlay.write_text(
        "grafana:\n  admin:\n    existingSecret: x\n    passwordKey: admin-password\n"
        "alertmanager:\n  globalConfig:\n    smtp_auth_password_file: /etc/alertmanager/secrets/p\n"
    )
    broken = dataclasses.replace(rendered, values_files=[*rendered.values_files, overlay])
    assert run(SecretLiterals, rendered=broken, project=Project(tmp_path / "repo")) == []


@pytest.mark.parametrize(
    ("rel", "text", "line"),
    [
        (f"tests/golden/{ENV}/charts/x/templates/cm.yaml", "data:\n  password: hunter2\n", 2),
        ("docs/runbooks/Leak.md", "# Leak\n\nPost to https://hooks.slack.com/services/T0/B0/abc\n", 3),
        (f"{CHART}/charts/grafana/files/dashboards/x.json", '{"token": "xoxb-1234567890-abcdef"}\n', 1),
    ],
    ids=["golden", "doc", "generated"],
)
def test_secret_in_a_committed_file_is_found(run, rendered, tmp_path, rel, text, line):
    path = tmp_path / "repo" / rel
    path.parent.mkdir(parents=True)
    path.write_text(text)
    finding = one(
        run(SecretLiterals, rendered=rendered, project=Project(tmp_path / "repo")), "security/secret-literal"
    )
    assert (finding.file, finding.line) == (rel, line)


@pytest.mark.parametrize("field", ["data", "stringData"])
def test_rendered_secret_with_data(run, rendered, field):
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "creativeflow-smtp", "namespace": "monitoring"},
        field: {"password": "aHVudGVyMg==" if field == "data" else "hunter2"},
    }
    broken = with_objects(rendered, secret, source=f"{CHART}/charts/alertmanager/templates/secret.yaml")
    finding = one(run(SecretLiterals, rendered=broken), "security/secret-literal")
    assert finding.message == "Secret/monitoring/creativeflow-smtp: the chart renders a Secret with data"
    assert finding.file == f"{CHART}/charts/alertmanager/templates/secret.yaml"


def test_secret_without_data_is_fine(run, rendered):
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "empty", "namespace": "monitoring"}}
    assert run(SecretLiterals, rendered=with_objects(rendered, secret)) == []


# ---- size/configmap and size/annotations ----------------------------------------------------------


def _configmap(name: str, size: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "monitoring"},
        "data": {"dashboards.json": "x" * (size - 10), "small.txt": "y" * 10},
    }


def test_configmap_over_budget(run, rendered):
    big = with_objects(rendered, _configmap("dashboards", 901 * 1024), source=PROM_RULES_TPL)
    finding = one(run(ConfigMapSize, rendered=big), "size/configmap")
    assert finding.message == "ConfigMap/monitoring/dashboards holds 901 KiB (budget 900 KiB)"
    assert finding.file == PROM_RULES_TPL


def test_configmap_at_budget_is_fine(run, rendered):
    assert (
        run(ConfigMapSize, rendered=with_objects(rendered, _configmap("dashboards", CONFIGMAP_BUDGET))) == []
    )


def test_rendered_configmap_grown_over_budget(run, rendered):
    def grow(obj: dict[str, Any]) -> None:
        obj["data"]["padding.yaml"] = "#" * CONFIGMAP_BUDGET

    finding = one(
        run(ConfigMapSize, rendered=mutate(rendered, "ConfigMap", PROM_RULES_CM, grow)), "size/configmap"
    )
    expected = rf"ConfigMap/monitoring/{PROM_RULES_CM} holds 9\d\d KiB \(budget 900 KiB\)"
    assert re.match(expected, finding.message)
    assert finding.file == PROM_RULES_TPL


@pytest.mark.parametrize(("size", "reported"), [(257 * 1024, True), (ANNOTATIONS_BUDGET - 64, False)])
def test_annotations_budget(run, rendered, size, reported):
    def annotate(obj: dict[str, Any]) -> None:
        obj["metadata"].setdefault("annotations", {})["example.com/payload"] = "z" * size

    findings = run(AnnotationSize, rendered=mutate(rendered, "Service", "creativeflow-prometheus", annotate))
    if reported:
        finding = one(findings, "size/annotations")
        assert finding.message == "Service/monitoring/creativeflow-prometheus has 257 KiB of annotations"
        assert finding.file == PROM_SERVICE_TPL
    else:
        assert findings == []


# ---- cfmon.report ---------------------------------------------------------------------------------

FINDINGS = [
    Finding(
        "prometheus/rules",
        "error",
        "promtool rejects rule file applications.yaml: FAILED:\n    1:29: parse error",
        file=APPLICATIONS_MIXIN,
        line=12,
        hint="fix the Jsonnet expression",
        env="prod",
    ),
    Finding("prometheus/rules", "error", "second finding, same case", file=APPLICATIONS_MIXIN, env="prod"),
    Finding(
        "size/configmap",
        "warning",
        "ConfigMap/monitoring/x holds 901 KiB",
        file="charts/a,b:c.yaml",
        env="dev",
    ),
    Finding("render/deterministic", "error", "two renders differ: -a; +b", env="staging"),
]
CHECK_IDS = [c.id for c in REGISTRY]
ENVS = ["dev", "staging", "prod"]


def test_report_text():
    out = report.render(FINDINGS, "text", checks=CHECK_IDS, envs=ENVS)
    lines = out.splitlines()
    assert lines[0] == (
        f"error prometheus/rules [prod] {APPLICATIONS_MIXIN}:12: "
        "promtool rejects rule file applications.yaml: FAILED:"
    )
    assert "  fix: fix the Jsonnet expression" in lines
    assert "error render/deterministic [staging] -: two renders differ: -a; +b" in lines
    assert report.render([], "text", checks=CHECK_IDS, envs=ENVS) == ""


def test_report_json_keeps_fields():
    data = json.loads(report.render(FINDINGS, "json", checks=CHECK_IDS, envs=ENVS))
    assert len(data) == len(FINDINGS)
    assert data[0] == {
        "check": "prometheus/rules",
        "severity": "error",
        "message": FINDINGS[0].message,
        "file": APPLICATIONS_MIXIN,
        "line": 12,
        "hint": "fix the Jsonnet expression",
        "env": "prod",
    }
    assert "line" not in data[2] and "hint" not in data[2]  # None fields are left out
    assert "file" not in data[3]
    assert json.loads(report.render([], "json", checks=CHECK_IDS, envs=ENVS)) == []


def test_report_github_annotations():
    lines = report.render(FINDINGS, "github", checks=CHECK_IDS, envs=ENVS).splitlines()
    assert len(lines) == len(FINDINGS)  # a multi-line message stays on one line
    assert lines[0].startswith(f"::error file={APPLICATIONS_MIXIN},line=12,title=prometheus/rules [prod]::")
    assert lines[0].endswith("FAILED:%0A    1:29: parse error (fix: fix the Jsonnet expression)")
    assert lines[1].startswith(f"::error file={APPLICATIONS_MIXIN},title=")
    # commas and colons in a property are escaped; a warning stays a warning
    assert lines[2].startswith("::warning file=charts/a%2Cb%3Ac.yaml,title=size/configmap [dev]::")
    assert lines[3] == "::error title=render/deterministic [staging]::two renders differ: -a; +b"
    for line in lines:
        assert re.match(r"^::(error|warning) (file=[^,:]+,(line=\d+,)?)?title=[^:]+::", line), line


def test_report_junit_counts_failures():
    out = report.render(FINDINGS, "junit", checks=CHECK_IDS, envs=ENVS)
    suite = ET.fromstring(out.encode())
    cases = suite.findall("testcase")
    assert int(suite.get("tests")) == len(cases) == len(CHECK_IDS) * len(ENVS)
    failed = {
        (c.get("name"), c.get("classname")): c.find("failure") for c in cases if c.find("failure") is not None
    }
    assert int(suite.get("failures")) == len(failed) == 3
    assert set(failed) == {
        ("prometheus/rules", "prod"),
        ("size/configmap", "dev"),
        ("render/deterministic", "staging"),
    }
    rules = failed[("prometheus/rules", "prod")]
    assert rules.get("message") == FINDINGS[0].message
    assert "second finding, same case" in rules.text  # both findings of the case are listed


def test_report_junit_adds_cases_for_unknown_checks_and_is_clean_without_findings():
    extra = Finding("custom/check", "error", "from elsewhere", env="prod")
    suite = ET.fromstring(report.render([extra], "junit", checks=CHECK_IDS, envs=["prod"]).encode())
    assert (suite.get("tests"), suite.get("failures")) == (str(len(CHECK_IDS) + 1), "1")
    clean = ET.fromstring(report.render([], "junit", checks=CHECK_IDS, envs=ENVS).encode())
    assert (clean.get("tests"), clean.get("failures")) == (str(len(CHECK_IDS) * len(ENVS)), "0")


# ---- edges found while reviewing the checks ------------------------------------------------------


def test_runbook_on_another_host_is_a_finding(run, rendered):
    url = "https://evil.example.com/docs/runbooks/ApiGatewayErrorRatioHigh.md"
    broken = mutate(
        rendered, "ConfigMap", PROM_RULES_CM, _annotate_alert("ApiGatewayErrorRatioHigh", runbook_url=url)
    )
    assert url in one(run(AlertRunbook, rendered=broken), "alerts/runbook-url").message


@pytest.mark.parametrize(
    "text",
    [
        "{{/* never call lookup or now here */}}",
        "{{ .Values.now }}",
        '{{ include "x.date" . }}',
        "{{ $now := 1 }}",
    ],
    ids=["comment", "value-named-now", "include-string", "variable"],
)
def test_forbidden_functions_ignores_names_that_are_not_calls(run, chart_copy, text):
    rel = f"{CHART}/charts/prometheus/templates/extra.yaml"
    (chart_copy.root / rel).write_text(f"apiVersion: v1\nkind: ConfigMap\n{text}\n")
    assert run(ForbiddenFunctions, project=chart_copy) == []


def test_forbidden_function_call_split_over_lines(run, chart_copy):
    rel = f"{CHART}/charts/prometheus/templates/extra.yaml"
    (chart_copy.root / rel).write_text("apiVersion: v1\nkind: Secret\ndata: {{\n  randAlphaNum 3 }}\n")
    finding = one(run(ForbiddenFunctions, project=chart_copy), "chart/forbidden-functions")
    assert (finding.file, finding.line, "randAlphaNum" in finding.message) == (rel, 3, True)


def test_routing_ignores_receiver_order(run, tmp_path):
    case = """\
cases:
  - name: AI warning
    labels: {alertname: ModelSlow, severity: warning, service: custom-ai-models, team: ai-infrastructure}
    receivers: [warning-slack, ai-infra-slack]
"""
    table = temp_project(tmp_path / "repo", {"tests/routing/ai.yaml": case})
    assert run(AlertmanagerRouting, project=table) == []


def test_routing_label_values_with_quotes_and_commas(run, tmp_path):
    case = """\
cases:
  - name: odd values
    labels: {alertname: 'Odd "quoted", value', severity: warning, service: billing}
    receivers: [info-email]
"""
    table = temp_project(tmp_path / "repo", {"tests/routing/odd.yaml": case})
    finding = one(run(AlertmanagerRouting, project=table), "alertmanager/routing")
    assert "routes to warning-slack, expected info-email" in finding.message


def test_object_without_kind_is_a_finding_not_a_crash(run, rendered):
    obj = {"apiVersion": "v1", "metadata": {"name": "kindless"}}
    extra = Resource("", "", "kindless", f"{CHART}/templates/extra.yaml", obj)
    broken = dataclasses.replace(rendered, resources=[*rendered.resources, extra])
    finding = one(run(KubernetesSchema, rendered=broken), "kubernetes/schema")
    assert "without apiVersion or kind" in finding.message


def test_pod_template_annotations_count(run, rendered):
    def fat(obj: dict[str, Any]) -> None:
        obj["spec"]["template"]["metadata"]["annotations"]["x"] = "a" * (ANNOTATIONS_BUDGET + 1)

    broken = mutate(rendered, "StatefulSet", PROM_STATEFULSET, fat)
    assert "(pod template)" in one(run(AnnotationSize, rendered=broken), "size/annotations").message


def test_secret_literal_points_at_the_line_that_sets_it(run, rendered, tmp_path):
    overlay = tmp_path / "values.yaml"
    overlay.write_text("# prod overrides\nalertmanager:\n  globalConfig:\n    smtp_auth_password: prod\n")
    change = _alertmanager_global(smtp_auth_password="prod", smtp_auth_password_file=None)
    broken = dataclasses.replace(change(rendered), values_files=[*rendered.values_files, overlay])
    finding = one(run(SecretLiterals, rendered=broken), "security/secret-literal")
    assert (finding.file, finding.line) == (str(overlay), 4)

"""The logs/* checks on the real renders of both agents (they pass) and on broken copies of them
(each fails, saying where and why)."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from cfmon.checks.base import Context, Finding
from cfmon.checks.logagent import AgentLabels, AgentPushUrl, AgentSchema
from cfmon.manifests import Resource, parse_documents, split_by_source
from cfmon.project import CHART, find_root
from cfmon.render import Rendered, helm_output

PROJECT = find_root(ROOT)
ENV = "prod"
CONFIGMAP_TPL = "charts/creativeflow-monitoring/charts/{agent}/templates/configmap.yaml"
CHECKS = (AgentSchema, AgentLabels, AgentPushUrl)


def _rendered(agent: str, tmp: Path) -> Rendered:
    overlay = tmp / f"{agent}.yaml"  # every agent selected explicitly, the chart default included
    overlay.write_text(yaml.safe_dump({"global": {"logs": {"agent": agent}}}))
    text, files = helm_output(PROJECT, ENV, [overlay])
    resources = []
    for rel, body in split_by_source(text).items():
        resources += parse_documents(body, source=str(CHART / rel), origin=rel)
    return Rendered(ENV, tmp, text, files, resources)


@pytest.fixture(scope="module")
def renders(tmp_path_factory) -> dict[str, Rendered]:
    tmp = tmp_path_factory.mktemp("logagents")
    return {agent: _rendered(agent, tmp) for agent in ("promtail", "alloy", "none")}


def run(check, rendered: Rendered) -> list[Finding]:
    return check().run(Context(PROJECT, ENV, rendered))


def edit_config(rendered: Rendered, agent: str, change: Callable[[str], str]) -> Rendered:
    """A copy of the render whose agent config text went through `change`."""
    resources = copy.deepcopy(rendered.resources)
    (cm,) = [r for r in resources if r.kind == "ConfigMap" and r.name == f"creativeflow-{agent}"]
    key = "promtail.yaml" if agent == "promtail" else "config.alloy"
    before = cm.obj["data"][key]
    cm.obj["data"][key] = change(before)
    assert cm.obj["data"][key] != before, "the change changed nothing"
    return dataclasses.replace(rendered, resources=resources)


def edit_promtail(rendered: Rendered, change: Callable[[dict], None]) -> Rendered:
    def _change(text: str) -> str:
        doc = yaml.safe_load(text)
        change(doc)
        return yaml.safe_dump(doc, sort_keys=False)

    return edit_config(rendered, "promtail", _change)


def replace_once(old: str, new: str) -> Callable[[str], str]:
    def _change(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)

    return _change


def without(rendered: Rendered, keep: Callable[[Resource], bool]) -> Rendered:
    return dataclasses.replace(rendered, resources=[r for r in rendered.resources if keep(r)])


def one(findings: list[Finding], check_id: str, agent: str) -> Finding:
    assert len(findings) == 1, "\n".join(f.message for f in findings) or "no findings"
    finding = findings[0]
    assert finding.check == check_id and finding.env == ENV
    assert finding.file == CONFIGMAP_TPL.format(agent=agent)
    return finding


def pods_job(doc: dict) -> dict:
    return doc["scrape_configs"][0]


# ---- the real renders pass ------------------------------------------------------------------------


@pytest.mark.parametrize("agent", ["promtail", "alloy", "none"])
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_real_render_passes(check, agent, renders):
    assert run(check, renders[agent]) == []


def test_the_real_render_has_the_loki_service_the_agents_push_to(renders):
    # Guards the passing push-url case above: Loki is rendered and the URL is checked against it.
    names = {r.name for r in renders["promtail"].resources if r.kind == "Service"}
    assert "creativeflow-loki" in names


# ---- logs/agent-schema: Promtail ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            lambda d: d["clients"][0].__setitem__("batch_wait", "1s"),
            "clients[0].batch_wait (line ",
            id="unknown-client-key",
        ),
        pytest.param(
            lambda d: d["clients"][0].__setitem__("batchwait", 5),
            "clients[0].batchwait (line ",
            id="wrong-type",
        ),
        pytest.param(
            lambda d: d["server"].__setitem__("log_level", "verbose"),
            "server.log_level (line ",
            id="bad-enum",
        ),
        pytest.param(
            lambda d: pods_job(d)["pipeline_stages"].append({"jsn": {"expressions": {}}}),
            "unknown pipeline stage jsn",
            id="unknown-stage",
        ),
        pytest.param(
            lambda d: pods_job(d)["pipeline_stages"][4]["timestamp"].__setitem__(
                "action_on_failure", "ignore"
            ),
            "timestamp.action_on_failure: 'ignore' is not one of ['fudge', 'skip']",
            id="bad-stage-value",
        ),
        pytest.param(
            lambda d: pods_job(d)["relabel_configs"][1].__setitem__("action", "rename"),
            "scrape_configs[0].relabel_configs[1].action",
            id="bad-relabel-action",
        ),
        pytest.param(
            lambda d: d.pop("positions"), "'positions' is a required property", id="missing-section"
        ),
    ],
)
def test_promtail_schema_rejects(renders, change, expected):
    finding = one(
        run(AgentSchema, edit_promtail(renders["promtail"], change)), "logs/agent-schema", "promtail"
    )
    assert finding.message.startswith("ConfigMap/creativeflow-promtail promtail.yaml: ")
    assert expected in finding.message


def test_promtail_schema_names_the_unknown_key(renders):
    broken = edit_promtail(renders["promtail"], lambda d: d["clients"][0].__setitem__("batch_wait", "1s"))
    message = one(run(AgentSchema, broken), "logs/agent-schema", "promtail").message
    assert "unknown key batch_wait (allowed: backoff_config, batchsize, batchwait," in message


def test_promtail_schema_reports_invalid_yaml(renders):
    broken = edit_config(renders["promtail"], "promtail", lambda t: t + "  bad: [\n")
    assert "not valid YAML" in one(run(AgentSchema, broken), "logs/agent-schema", "promtail").message


# ---- logs/agent-schema: Alloy ---------------------------------------------------------------------


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_alloy_syntax_error_names_the_line(renders):
    broken = edit_config(renders["alloy"], "alloy", replace_once('  role = "pod"\n', '  role = "pod\n'))
    finding = one(run(AgentSchema, broken), "logs/agent-schema", "alloy")
    text = next(r for r in broken.resources if r.name == "creativeflow-alloy" and r.kind == "ConfigMap").obj[
        "data"
    ]["config.alloy"]
    line = _line_of(text, 'role = "pod')
    assert f"config.alloy: line {line}: syntax error: unterminated string" in finding.message


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            "    batch_wait          = ",
            "    batchwait           = ",
            'loki.write "loki" > endpoint: unknown attribute batchwait',
            id="unknown-attribute",
        ),
        pytest.param(
            "  stage.cri {}",
            "  stage.crii {}",
            'loki.process "pods": unknown block stage.crii',
            id="unknown-stage",
        ),
        pytest.param(
            "logging {",
            "loging {",
            "unknown component loging (known here: discovery.kubernetes,",
            id="unknown-component",
        ),
        pytest.param(
            "    max_backoff_retries = 10",
            '    max_backoff_retries = "ten"',
            'max_backoff_retries must be a number, not "ten"',
            id="wrong-type",
        ),
        pytest.param(
            '    remote_timeout      = "10s"',
            '    remote_timeout      = "10 seconds"',
            "remote_timeout must be a duration string",
            id="bad-duration",
        ),
        pytest.param(
            "  path_targets = discovery.relabel.pods.output",
            "  path_targets = discovery.relabel.pod.output",
            'refers to discovery.relabel "pod", which is not defined',
            id="dangling-reference",
        ),
        pytest.param(
            '      action = "inc"\n',
            "",
            "metric.counter: missing required attribute action",
            id="missing-required",
        ),
    ],
)
def test_alloy_schema_rejects(renders, old, new, expected):
    broken = edit_config(renders["alloy"], "alloy", replace_once(old, new))
    finding = one(run(AgentSchema, broken), "logs/agent-schema", "alloy")
    assert finding.message.startswith("ConfigMap/creativeflow-alloy config.alloy: line ")
    assert expected in finding.message


# ---- logs/agent-labels --------------------------------------------------------------------------------


def _labels_stage(doc: dict, stage: dict) -> None:
    pods_job(doc)["pipeline_stages"].insert(3, stage)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            lambda d: _labels_stage(d, {"labels": {"traceID": None}}),
            "pipeline_stages[3].labels: label traceID is unbounded",
            id="traceID-label",
        ),
        pytest.param(
            lambda d: _labels_stage(d, {"labels": {"trace": "traceID"}}),
            "label trace comes from the log line's field traceID, which is not allow-listed (level)",
            id="json-field-label",
        ),
        pytest.param(
            lambda d: pods_job(d)["relabel_configs"].append(
                {"source_labels": ["__meta_kubernetes_pod_uid"], "target_label": "pod_uid"}
            ),
            "(kubernetes-pods).relabel_configs[13]: label pod_uid is unbounded",
            id="pod-uid-relabel",
        ),
        pytest.param(
            lambda d: pods_job(d)["relabel_configs"].append(
                {"source_labels": ["__meta_kubernetes_pod_ip"], "target_label": "address"}
            ),
            "label address takes its value from __meta_kubernetes_pod_ip (one per pod)",
            id="pod-ip-relabel",
        ),
        pytest.param(
            lambda d: pods_job(d)["relabel_configs"].append(
                {"action": "labelmap", "regex": "__meta_kubernetes_pod_label_(.+)"}
            ),
            "labelmap copies every label matching '__meta_kubernetes_pod_label_(.+)'",
            id="labelmap",
        ),
        pytest.param(
            lambda d: d["clients"][0]["external_labels"].__setitem__("request_id", "x"),
            "clients[0].external_labels: label request_id is unbounded",
            id="external-label",
        ),
        pytest.param(
            lambda d: pods_job(d)["pipeline_stages"].remove({"labeldrop": ["filename"]}),
            "scrape_configs[0] (kubernetes-pods): tailed files get a `filename` label",
            id="filename-kept",
        ),
    ],
)
def test_promtail_unbounded_labels(renders, change, expected):
    finding = one(
        run(AgentLabels, edit_promtail(renders["promtail"], change)), "logs/agent-labels", "promtail"
    )
    assert expected in finding.message


def test_ai_model_event_and_inference_id_labels_are_refused(renders):
    # Unbounded (inference_id) or model-defined (model_event) values must not become labels.
    def as_labels(doc: dict) -> None:
        doc["scrape_configs"][1]["pipeline_stages"].append(
            {"labels": {"model_event": None, "inference_id": None}}
        )

    findings = run(AgentLabels, edit_promtail(renders["promtail"], as_labels))
    messages = sorted(f.message for f in findings)
    assert len(messages) == 2
    assert "label inference_id is unbounded" in messages[0]
    assert "label model_event comes from the log line's field model_event" in messages[1]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            '    values = { level = "" }',
            '    values = { level = "", traceID = "" }',
            "> stage.labels: label traceID is unbounded",
            id="traceID-label",
        ),
        pytest.param(
            '    values = { level = "" }',
            '    values = { level = "", msg = "message" }',
            "label msg comes from the log line's field message",
            id="json-field-label",
        ),
        pytest.param(
            '    target_label = "pod"\n',
            '    target_label = "pod_uid"\n',
            'discovery.relabel "pods" > rule: label pod_uid is unbounded',
            id="pod-uid-relabel",
        ),
        pytest.param(
            '    values = ["filename"]\n',
            '    values = ["stream"]\n',
            'loki.source.file "pods" -> loki.process.pods: tailed files get a `filename` label',
            id="filename-kept",
        ),
    ],
)
def test_alloy_unbounded_labels(renders, old, new, expected):
    broken = edit_config(renders["alloy"], "alloy", replace_once(old, new))
    finding = one(run(AgentLabels, broken), "logs/agent-labels", "alloy")
    assert expected in finding.message


def test_labels_of_a_config_that_does_not_parse_are_not_guessed(renders):
    broken = edit_config(renders["alloy"], "alloy", replace_once("logging {", "logging {{"))
    message = one(run(AgentLabels, broken), "logs/agent-labels", "alloy").message
    assert "not checked, the config does not parse (see logs/agent-schema)" in message


# ---- logs/agent-push-url ------------------------------------------------------------------------------

URL = "http://creativeflow-loki.monitoring.svc:3100/loki/api/v1/push"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(
            URL.replace(":3100", ":3101"),
            "does not reach the Loki Service of this release (http://creativeflow-loki.monitoring.svc:3100",
            id="wrong-port",
        ),
        pytest.param(
            URL.replace("creativeflow-loki", "loki"),
            "does not reach the Loki Service of this release",
            id="wrong-service",
        ),
        pytest.param(
            URL.replace("/loki/api/v1/push", "/api/prom/push"),
            "the path must be /loki/api/v1/push",
            id="wrong-path",
        ),
        pytest.param("creativeflow-loki:3100/loki/api/v1/push", "is not a valid http(s) URL", id="no-scheme"),
    ],
)
@pytest.mark.parametrize("agent", ["promtail", "alloy"])
def test_push_url_must_reach_the_loki_service(renders, agent, url, expected):
    broken = edit_config(renders[agent], agent, replace_once(URL, url))
    finding = one(run(AgentPushUrl, broken), "logs/agent-push-url", agent)
    assert expected in finding.message
    assert f"set {agent}.loki.url" in finding.hint


def _no_loki(rendered: Rendered) -> Rendered:
    return without(rendered, lambda r: not (r.kind == "Service" and r.name.startswith("creativeflow-loki")))


@pytest.mark.parametrize("agent", ["promtail", "alloy"])
def test_push_url_to_a_loki_the_release_does_not_render(renders, agent):
    finding = one(run(AgentPushUrl, _no_loki(renders[agent])), "logs/agent-push-url", agent)
    assert "names Service creativeflow-loki in namespace monitoring, which this release does not render" in (
        finding.message
    )


@pytest.mark.parametrize("agent", ["promtail", "alloy"])
def test_external_loki_without_a_loki_in_the_release(renders, agent):
    external = "https://logs.example.com/loki/api/v1/push"
    ok = edit_config(_no_loki(renders[agent]), agent, replace_once(URL, external))
    assert run(AgentPushUrl, ok) == []
    bad = edit_config(
        _no_loki(renders[agent]), agent, replace_once(URL, "ftp://logs.example.com/loki/api/v1/push")
    )
    assert "is not a valid http(s) URL" in one(run(AgentPushUrl, bad), "logs/agent-push-url", agent).message


def test_pushes_go_to_the_write_path_when_loki_has_one(renders):
    # Simple-scalable Loki: <release>-loki serves queries, <release>-loki-write takes pushes.
    write = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "creativeflow-loki-write",
            "namespace": "monitoring",
            "labels": {"app.kubernetes.io/name": "loki", "app.kubernetes.io/component": "write"},
        },
        "spec": {"ports": [{"name": "http-metrics", "port": 3100}]},
    }
    resource = Resource("Service", "monitoring", "creativeflow-loki-write", "x.yaml", write)
    scalable = dataclasses.replace(renders["promtail"], resources=[*renders["promtail"].resources, resource])
    finding = one(run(AgentPushUrl, scalable), "logs/agent-push-url", "promtail")
    assert "(http://creativeflow-loki-write.monitoring.svc:3100/loki/api/v1/push)" in finding.message
    fixed = edit_config(scalable, "promtail", replace_once(URL, URL.replace("loki.", "loki-write.")))
    assert run(AgentPushUrl, fixed) == []

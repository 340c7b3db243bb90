"""The log agents (promtail and alloy subcharts): which one renders, the pipeline they ship (the same
in both), RBAC, NetworkPolicy and host paths, and what each values switch does."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import pytest
import yaml
from conftest import render

from cfmon import alloy, binaries
from cfmon.errors import UserError
from cfmon.logagents import alloy_labels, promtail_labels

PROMTAIL = "creativeflow-promtail"
ALLOY = "creativeflow-alloy"
AGENTS = {"promtail": (PROMTAIL, 3101), "alloy": (ALLOY, 12345)}
ALLOY_OVERLAY = {"global": {"logs": {"agent": "alloy"}}}
# Promtail is deprecated but still selectable: every promtail test selects it explicitly.
PROMTAIL_OVERLAY = {"global": {"logs": {"agent": "promtail"}}}
PROMETHEUS_PODS = {"app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": "creativeflow"}
LOKI_PODS = {"app.kubernetes.io/name": "loki", "app.kubernetes.io/instance": "creativeflow"}
PUSH_URL = "http://creativeflow-loki.monitoring.svc:3100/loki/api/v1/push"
KINDS = (
    "DaemonSet",
    "ConfigMap",
    "Service",
    "ServiceAccount",
    "ClusterRole",
    "ClusterRoleBinding",
    "NetworkPolicy",
)


@functools.cache
def _render(env: str, agent: str | None) -> dict:
    """The render with `agent` selected explicitly, or with the chart's default (None)."""
    if agent is None:
        return render(env)
    with tempfile.TemporaryDirectory() as tmp:
        return render(env, {"global": {"logs": {"agent": agent}}}, Path(tmp))


def objs_of(agent: str, env: str = "prod") -> dict:
    """The render of an environment with this agent selected (cached: tests only read it)."""
    return _render(env, agent)


def pod(objs: dict, name: str) -> dict:
    return objs[f"DaemonSet/{name}"]["spec"]["template"]["spec"]


def config_text(objs: dict, agent: str) -> str:
    name, _ = AGENTS[agent]
    return objs[f"ConfigMap/{name}"]["data"]["promtail.yaml" if agent == "promtail" else "config.alloy"]


def promtail_config(objs: dict) -> dict:
    return yaml.safe_load(config_text(objs, "promtail"))


def alloy_blocks(objs: dict) -> list[alloy.Block]:
    return [s for s in alloy.parse(config_text(objs, "alloy")) if isinstance(s, alloy.Block)]


def alloy_component(objs: dict, name: str, label: str) -> alloy.Block:
    return next(b for b in alloy_blocks(objs) if b.name == name and b.label == label)


def attrs(block: alloy.Block) -> dict:
    return {name: a.value for name, a in block.attributes.items()}


# ---- which agent renders -------------------------------------------------------------------------


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_alloy_renders_by_default_and_promtail_does_not(env):
    objs = _render(env, None)
    for kind in KINDS:
        assert f"{kind}/{ALLOY}" in objs, kind
    assert not [k for k in objs if "promtail" in k]


def test_alloy_renders_when_selected_and_promtail_does_not():
    objs = objs_of("alloy")
    for kind in KINDS:
        assert f"{kind}/{ALLOY}" in objs, kind
    assert not [k for k in objs if "promtail" in k]


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_promtail_still_renders_when_selected_and_alloy_does_not(env):
    objs = objs_of("promtail", env)
    for kind in KINDS:
        assert f"{kind}/{PROMTAIL}" in objs, kind
    assert not [k for k in objs if "alloy" in k]


def test_no_agent_renders_with_none(tmp_path):
    objs = render("prod", {"global": {"logs": {"agent": "none"}}}, tmp_path)
    assert not [k for k in objs if "promtail" in k or "alloy" in k]
    assert "StatefulSet/creativeflow-prometheus" in objs


def test_unknown_agent_is_refused(tmp_path):
    with pytest.raises(UserError) as err:
        render("prod", {"global": {"logs": {"agent": "fluentbit"}}}, tmp_path)
    assert err.value.key == "global.logs.agent"


# ---- the pipeline --------------------------------------------------------------------------------

STREAM_LABELS = {
    "namespace",
    "pod",
    "container",
    "node",
    "app",
    "job",
    "level",
    "retention",
    "model_name",
    "model_version",
    "unit",
    "cluster",
    "environment",
}


@pytest.mark.parametrize("agent", AGENTS)
def test_stream_labels_are_the_bounded_set(agent):
    text = config_text(objs_of(agent), agent)
    labels = promtail_labels(text) if agent == "promtail" else alloy_labels(text)
    assert {u.label for u in labels.uses} == STREAM_LABELS
    assert "filename" in labels.dropped
    # Only `level` comes from the log line, and it is normalised first.
    assert {u.label for u in labels.uses if u.parsed_from} == {"level"}


def test_promtail_jobs_and_their_pipeline():
    cfg = promtail_config(objs_of("promtail"))
    jobs = {j["job_name"]: j for j in cfg["scrape_configs"]}
    assert list(jobs) == ["kubernetes-pods", "ai-models", "node-journal"]
    pods = jobs["kubernetes-pods"]
    # This node's pods only: Promtail compares __host__ with HOSTNAME (spec.nodeName, see the env test).
    assert pods["relabel_configs"][0] == {
        "source_labels": ["__meta_kubernetes_pod_node_name"],
        "target_label": "__host__",
    }
    kinds = [next(iter(s)) for s in pods["pipeline_stages"]]
    assert kinds == [
        "cri",
        "json",
        "template",
        "labels",
        "timestamp",
        "structured_metadata",
        "template",
        "labels",
        "labeldrop",
        "metrics",
    ]
    stages = pods["pipeline_stages"]
    assert stages[5] == {"structured_metadata": {"traceID": None, "spanID": None}}
    assert stages[1]["json"]["expressions"]["traceID"] == "traceID || trace_id || traceId"
    assert stages[4]["timestamp"]["action_on_failure"] == "skip"  # keep the CRI time when absent
    ai = jobs["ai-models"]
    assert ai["kubernetes_sd_configs"] == [
        {"role": "pod", "selectors": [{"role": "pod", "label": "app.kubernetes.io/component=ai-model"}]}
    ]
    ai_stages = ai["pipeline_stages"]
    assert {
        "json": {"expressions": {"model_event": "event_type", "inference_id": "inference_id || id"}}
    } in ai_stages
    assert {"structured_metadata": {"inference_id": None, "model_event": None}} in ai_stages
    rules = {r.get("target_label"): r for r in ai["relabel_configs"]}
    assert rules["model_name"]["source_labels"] == ["__meta_kubernetes_pod_label_ai_model_name"]
    assert rules["model_version"]["source_labels"] == ["__meta_kubernetes_pod_label_ai_model_version"]
    # AI model pods are shipped by their own job only: never twice.
    component = ["__meta_kubernetes_pod_label_app_kubernetes_io_component"]
    assert {"source_labels": component, "regex": "ai-model", "action": "drop"} in pods["relabel_configs"]
    assert {"source_labels": component, "regex": "ai-model", "action": "keep"} in ai["relabel_configs"]
    journal = jobs["node-journal"]
    assert journal["journal"] == {
        "path": "/var/log/journal",
        "max_age": "12h",
        "json": False,
        "labels": {"job": "node-journal"},
    }
    assert {"source_labels": ["__journal__systemd_unit"], "target_label": "unit"} in journal[
        "relabel_configs"
    ]


def test_app_label_falls_back_from_the_recommended_label_to_app():
    rules = promtail_config(objs_of("promtail"))["scrape_configs"][0]["relabel_configs"]
    app = [r for r in rules if r.get("target_label") == "app"]
    # `app` first, then app.kubernetes.io/name over it when set (regex (.+) skips an empty value).
    assert app == [
        {"source_labels": ["__meta_kubernetes_pod_label_app"], "target_label": "app"},
        {
            "source_labels": ["__meta_kubernetes_pod_label_app_kubernetes_io_name"],
            "regex": "(.+)",
            "target_label": "app",
        },
    ]


def test_pod_log_path_is_built_from_uid_and_container():
    rules = promtail_config(objs_of("promtail"))["scrape_configs"][0]["relabel_configs"]
    assert rules[-1] == {
        "source_labels": ["__meta_kubernetes_pod_uid", "__meta_kubernetes_pod_container_name"],
        "separator": "/",
        "target_label": "__path__",
        "replacement": "/var/log/pods/*$1/*.log",
    }


def _alloy_rules(block: alloy.Block) -> list[dict]:
    return [attrs(r) for r in block.blocks if r.name == "rule"]


def _promtail_stage_kinds(stages: list[dict]) -> list[str]:
    names = {"labeldrop": "label_drop"}
    return [names.get(k, k) for s in stages for k in s]


@pytest.mark.parametrize(("job", "alloy_label"), [("kubernetes-pods", "pods"), ("ai-models", "ai_models")])
def test_both_agents_ship_the_same_pipeline(job, alloy_label):
    promtail_job = next(
        j for j in promtail_config(objs_of("promtail"))["scrape_configs"] if j["job_name"] == job
    )
    objs = objs_of("alloy")
    # Relabelling: the same rules in the same order (Promtail's __host__ rule aside: Alloy asks the
    # API server for this node's pods with a field selector instead).
    promtail_rules = [r for r in promtail_job["relabel_configs"] if r.get("target_label") != "__host__"]
    assert _alloy_rules(alloy_component(objs, "discovery.relabel", alloy_label)) == promtail_rules
    # Processing: the same stages in the same order, with the same arguments.
    process = alloy_component(objs, "loki.process", alloy_label)
    alloy_kinds = [b.name.removeprefix("stage.") for b in process.blocks]
    assert alloy_kinds == _promtail_stage_kinds(promtail_job["pipeline_stages"])
    for stage, block in zip(promtail_job["pipeline_stages"], process.blocks, strict=True):
        ((kind, cfg),) = stage.items()
        if kind in ("json", "template", "timestamp"):
            assert attrs(block) == cfg, kind
        elif kind in ("labels", "structured_metadata"):
            assert attrs(block)["values"] == dict.fromkeys(cfg, ""), kind
        elif kind == "labeldrop":
            assert attrs(block)["values"] == cfg
    assert attrs(alloy_component(objs, "loki.source.file", alloy_label))["forward_to"] == [
        alloy.Ref(f"loki.process.{alloy_label}.receiver")
    ]


def test_alloy_discovers_this_nodes_pods_only():
    kube = alloy_component(objs_of("alloy"), "discovery.kubernetes", "pods")
    assert attrs(kube)["role"] == "pod"
    (selectors,) = [b for b in kube.blocks if b.name == "selectors"]
    field = attrs(selectors)["field"]
    assert field == alloy.Op("+", ("spec.nodeName=", alloy.Call("sys.env", ("HOSTNAME",))))


def test_alloy_journal_matches_promtails():
    objs = objs_of("alloy")
    journal = attrs(alloy_component(objs, "loki.source.journal", "node"))
    assert journal["path"] == "/var/log/journal" and journal["max_age"] == "12h"
    assert journal["relabel_rules"] == alloy.Ref("loki.relabel.journal.rules")
    promtail_journal = promtail_config(objs_of("promtail"))["scrape_configs"][2]
    assert (
        _alloy_rules(alloy_component(objs, "loki.relabel", "journal")) == promtail_journal["relabel_configs"]
    )


@pytest.mark.parametrize("agent", AGENTS)
def test_line_counter_is_creativeflow_log_lines_total(agent):
    objs = objs_of(agent)
    if agent == "promtail":
        counters = [
            (name, spec)
            for job in promtail_config(objs)["scrape_configs"]
            for stage in job["pipeline_stages"]
            for name, spec in stage.get("metrics", {}).items()
        ]
        assert len(counters) == 3  # one per job
        names = {spec["prefix"] + name for name, spec in counters}
        assert all(spec["config"] == {"match_all": True, "action": "inc"} for _, spec in counters)
    else:
        counters = [
            attrs(b)
            for b, _ in alloy.walk(alloy.parse(config_text(objs, "alloy")))
            if b.name == "metric.counter"
        ]
        assert len(counters) == 3
        names = {c["prefix"] + c["name"] for c in counters}
        assert all(c["match_all"] is True and c["action"] == "inc" for c in counters)
    assert names == {"creativeflow_log_lines_total"}


@pytest.mark.parametrize("agent", AGENTS)
def test_push_url_defaults_to_the_release_loki_and_is_overridable(agent, tmp_path):
    objs = objs_of(agent)
    external = "https://logs.example.com/loki/api/v1/push"
    egress = [{"to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}], "ports": [{"port": 443, "protocol": "TCP"}]}]
    other = render(
        "prod",
        {
            **_select(agent),
            agent: {
                "loki": {"url": external, "tenantId": "creativeflow"},
                "networkPolicy": {"lokiEgress": egress},
            },
        },
        tmp_path,
    )
    if agent == "promtail":
        assert promtail_config(objs)["clients"][0]["url"] == PUSH_URL
        client = promtail_config(other)["clients"][0]
        assert (client["url"], client["tenant_id"]) == (external, "creativeflow")
        assert client["external_labels"] == {"cluster": "creativeflow-prod", "environment": "prod"}
    else:
        endpoint = lambda o: attrs(next(b for b in alloy_component(o, "loki.write", "loki").blocks))  # noqa: E731
        assert endpoint(objs)["url"] == PUSH_URL
        assert (endpoint(other)["url"], endpoint(other)["tenant_id"]) == (external, "creativeflow")
    name, _ = AGENTS[agent]
    assert other[f"NetworkPolicy/{name}"]["spec"]["egress"][0] == egress[0]


def _select(agent: str) -> dict:
    return ALLOY_OVERLAY if agent == "alloy" else PROMTAIL_OVERLAY


@pytest.mark.parametrize("agent", AGENTS)
def test_external_loki_needs_its_network_policy_egress(agent, tmp_path):
    with pytest.raises(UserError) as err:
        render(
            "prod",
            {**_select(agent), agent: {"loki": {"url": "https://logs.example.com/loki/api/v1/push"}}},
            tmp_path,
        )
    assert err.value.key == f"{agent}.networkPolicy.lokiEgress"


@pytest.mark.parametrize("agent", AGENTS)
def test_output_message_switch(agent, tmp_path):
    on = render("prod", {**_select(agent), agent: {"pipeline": {"outputMessage": True}}}, tmp_path)
    text = config_text(on, agent)
    if agent == "promtail":
        assert yaml.safe_load(text)["scrape_configs"][0]["pipeline_stages"][-1] == {
            "output": {"source": "message"}
        }
    else:
        assert alloy_component(on, "loki.process", "pods").blocks[-1].name == "stage.output"
    assert "stage.output" not in config_text(objs_of(agent), agent)
    assert "- output:" not in config_text(objs_of(agent), agent)


# ---- level and retention: the template stages, evaluated ---------------------------------------------


def _template(objs: dict, source: str) -> str:
    stages = promtail_config(objs)["scrape_configs"][0]["pipeline_stages"]
    return next(
        s["template"]["template"] for s in stages if "template" in s and s["template"]["source"] == source
    )


def evaluate(template: str, cases: list[dict], tmp_path) -> list[str]:
    """Each case's result of a template stage's Go template, run by Helm's engine (Go text/template
    with sprig: the libraries of Promtail's and Alloy's template stages). A case is the extracted map."""
    chart = tmp_path / "eval"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: eval\nversion: 0.1.0\n")
    (chart / "templates" / "out.yaml").write_text(
        "{{- range $i, $case := .Values.cases }}\n"
        'r{{ $i }}: {{ tpl $.Values.template (merge (dict "Template" $.Template) $case) | quote }}\n'
        "{{- end }}\n"
    )
    values = tmp_path / "cases.yaml"
    values.write_text(yaml.safe_dump({"template": template, "cases": cases}))
    proc = binaries.run("helm", ["template", "x", str(chart), "-f", str(values)])
    assert proc.returncode == 0, proc.stderr
    out = yaml.safe_load(proc.stdout.split("\n", 2)[2])
    return [out[f"r{i}"] for i in range(len(cases))]


def test_level_is_normalised_to_five_values(tmp_path):
    raw = [
        "DEBUG",
        "trace",
        "Info",
        "notice",
        "WARNING",
        "warn",
        "ERROR",
        "err",
        "CRITICAL",
        "panic",
        "verbose",
        "",
    ]
    cases = [{"Value": v, "level": v} for v in raw] + [{}]  # the last: no level field at all
    got = evaluate(_template(objs_of("promtail"), "level"), cases, tmp_path)
    # "" means the key is removed: no level label on that line.
    assert got == [
        "debug",
        "debug",
        "info",
        "info",
        "warn",
        "warn",
        "error",
        "error",
        "fatal",
        "fatal",
        "",
        "",
        "",
    ]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ({"Value": "standard", "level": "info"}, "standard"),
        ({"Value": "standard", "level": "debug"}, "debug"),
        (
            {"Value": "standard", "level": "error", "log_type": "audit"},
            "audit",
        ),  # the auth service's audit logger
        ({"Value": "audit", "level": "debug"}, "audit"),  # pod annotated creativeflow.ai/log-retention: audit
        ({"Value": "debug", "level": "info"}, "debug"),  # pod annotated debug
        ({"level": "info"}, "standard"),
    ],
)
def test_retention_class_of_a_line(case, expected, tmp_path):
    assert evaluate(_template(objs_of("promtail"), "retention"), [case], tmp_path) == [expected]


def test_both_agents_run_the_same_templates():
    promtail = {s: _template(objs_of("promtail"), s) for s in ("level", "retention")}
    process = alloy_component(objs_of("alloy"), "loki.process", "pods")
    alloy_templates = {
        attrs(b)["source"]: attrs(b)["template"] for b in process.blocks if b.name == "stage.template"
    }
    assert alloy_templates == promtail


# ---- the workload ----------------------------------------------------------------------------------


@pytest.mark.parametrize("agent", AGENTS)
def test_host_paths_are_read_only_except_positions(agent):
    name, _ = AGENTS[agent]
    spec = pod(objs_of(agent), name)
    host = {v["name"]: v["hostPath"] for v in spec["volumes"] if "hostPath" in v}
    writable = "positions" if agent == "promtail" else "storage"
    assert host == {
        "pod-logs": {"path": "/var/log/pods", "type": "Directory"},
        "journal": {"path": "/var/log/journal", "type": "DirectoryOrCreate"},
        writable: {"path": f"/var/lib/{agent}", "type": "DirectoryOrCreate"},
    }
    mounts = {m["name"]: m for m in spec["containers"][0]["volumeMounts"]}
    for volume in host:
        assert mounts[volume].get("readOnly", False) is (volume != writable), volume
    assert mounts["pod-logs"]["mountPath"] == "/var/log/pods"
    assert mounts["config"]["readOnly"] is True


def test_positions_file_lives_on_the_writable_host_path():
    cfg = promtail_config(objs_of("promtail"))
    assert cfg["positions"] == {"filename": "/var/lib/promtail/positions.yaml"}
    args = pod(objs_of("alloy"), ALLOY)["containers"][0]["args"]
    assert "--storage.path=/var/lib/alloy/data" in args
    mounts = {
        m["name"]: m["mountPath"] for m in pod(objs_of("alloy"), ALLOY)["containers"][0]["volumeMounts"]
    }
    assert mounts["storage"] == "/var/lib/alloy/data"


@pytest.mark.parametrize("agent", AGENTS)
def test_journal_switch_removes_its_job_and_mount(agent, tmp_path):
    objs = render("prod", {**_select(agent), agent: {"journal": {"enabled": False}}}, tmp_path)
    name, _ = AGENTS[agent]
    assert "journal" not in {v["name"] for v in pod(objs, name)["volumes"]}
    assert "journal" not in config_text(objs, agent)


@pytest.mark.parametrize("agent", AGENTS)
def test_runs_on_every_node_with_the_node_name(agent):
    name, port = AGENTS[agent]
    spec = pod(objs_of(agent), name)
    assert spec["tolerations"] == [{"operator": "Exists"}]
    container = spec["containers"][0]
    assert container["env"] == [
        {"name": "HOSTNAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}
    ]
    assert container["ports"] == [{"name": "http-metrics", "containerPort": port, "protocol": "TCP"}]
    assert spec["automountServiceAccountToken"] is True
    assert objs_of(agent)[f"ServiceAccount/{name}"]["automountServiceAccountToken"] is False


@pytest.mark.parametrize("agent", AGENTS)
def test_not_root_reads_logs_through_groups(agent):
    name, _ = AGENTS[agent]
    spec = pod(objs_of(agent), name)
    assert spec["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "supplementalGroups": [0, 4],
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert spec["containers"][0]["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert "livenessProbe" in spec["containers"][0]
    # Only the init container is root, with CAP_CHOWN alone, to hand the state directory over.
    (init,) = spec["initContainers"]
    assert init["command"][:3] == ["chown", "-R", "10001:10001"]
    assert init["securityContext"]["capabilities"] == {"drop": ["ALL"], "add": ["CHOWN"]}
    assert init["securityContext"]["allowPrivilegeEscalation"] is False


def test_log_agent_uid_zero_is_refused(tmp_path):
    with pytest.raises(UserError) as err:
        render("prod", {"global": {"logs": {"runAsUser": 0}}}, tmp_path)
    assert "global.logs.runAsUser" in str(err.value), str(err.value)


@pytest.mark.parametrize("agent", AGENTS)
def test_config_change_rolls_the_pods(agent, tmp_path):
    name, _ = AGENTS[agent]
    before = objs_of(agent)[f"DaemonSet/{name}"]["spec"]["template"]["metadata"]["annotations"][
        "checksum/config"
    ]
    changed = render("prod", {**_select(agent), agent: {"logLevel": "debug"}}, tmp_path)
    after = changed[f"DaemonSet/{name}"]["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
    assert before != after


@pytest.mark.parametrize("agent", AGENTS)
def test_service_is_headless_on_http_metrics(agent):
    name, port = AGENTS[agent]
    objs = objs_of(agent)
    svc = objs[f"Service/{name}"]["spec"]
    assert svc["clusterIP"] == "None"
    assert svc["ports"] == [
        {"name": "http-metrics", "port": port, "targetPort": "http-metrics", "protocol": "TCP"}
    ]
    assert (
        svc["selector"].items() <= objs[f"DaemonSet/{name}"]["spec"]["template"]["metadata"]["labels"].items()
    )


@pytest.mark.parametrize("agent", AGENTS)
def test_rbac_is_list_and_watch_on_pods_only(agent):
    name, _ = AGENTS[agent]
    objs = objs_of(agent)
    assert objs[f"ClusterRole/{name}"]["rules"] == [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "watch"]}
    ]
    binding = objs[f"ClusterRoleBinding/{name}"]
    assert binding["roleRef"]["name"] == name
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": name, "namespace": "monitoring"}]


@pytest.mark.parametrize("agent", AGENTS)
def test_network_policy_prometheus_in_loki_and_api_server_out(agent):
    name, port = AGENTS[agent]
    objs = objs_of(agent)
    spec = objs[f"NetworkPolicy/{name}"]["spec"]
    assert spec["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": agent,
        "app.kubernetes.io/instance": "creativeflow",
    }
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["ingress"] == [
        {
            "from": [{"podSelector": {"matchLabels": PROMETHEUS_PODS}}],
            "ports": [{"port": port, "protocol": "TCP"}],
        }
    ]
    assert spec["egress"] == [
        {"to": [{"podSelector": {"matchLabels": LOKI_PODS}}], "ports": [{"port": 3100, "protocol": "TCP"}]},
        {"ports": [{"port": 443, "protocol": "TCP"}, {"port": 6443, "protocol": "TCP"}]},
    ]
    # The stack's default deny selects the agent's pods (part-of label): this policy is all they may do.
    assert objs[f"DaemonSet/{name}"]["spec"]["template"]["metadata"]["labels"][
        "app.kubernetes.io/part-of"
    ] == ("creativeflow-monitoring")


def test_api_server_cidrs_narrow_the_egress(tmp_path):
    narrowed = {"promtail": {"networkPolicy": {"apiServerCIDRs": ["10.0.0.1/32"]}}}
    objs = render("prod", {**PROMTAIL_OVERLAY, **narrowed}, tmp_path)
    egress = objs[f"NetworkPolicy/{PROMTAIL}"]["spec"]["egress"][1]
    assert egress["to"] == [{"ipBlock": {"cidr": "10.0.0.1/32"}}]


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"promtail": {"logLevel": "verbose"}}, "promtail.logLevel"),
        ({"promtail": {"journal": {"maxAge": "12 hours"}}}, "promtail.journal.maxAge"),
        ({"promtail": {"loki": {"urll": "x"}}}, "promtail.loki.urll"),
        ({"alloy": {"image": {"tag": "latest"}}}, "alloy.image.tag"),
        ({"alloy": {"positionsHostPath": "/var/lib/x"}}, "alloy.positionsHostPath"),
    ],
)
def test_schema_refuses_bad_values(values, key, tmp_path):
    with pytest.raises(UserError) as err:
        render("prod", values, tmp_path)
    assert err.value.key == key

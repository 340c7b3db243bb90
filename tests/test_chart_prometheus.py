"""The prometheus subchart: scrape files per category, the labels every job adds, cardinality drops,
remote write and web config wiring, HA objects, NetworkPolicy and one rules ConfigMap per rule file.

Relabelling is checked by behaviour, not by text: `relabel()` below applies a rendered
relabel_configs list to a label set the way Prometheus does (anchored regexes, $n expansion).
"""

from __future__ import annotations

import json
import re
import shutil
from functools import cache
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, copy_repo, render

from cfmon.durations import parse_ms
from cfmon.errors import UserError
from cfmon.manifests import parse_documents, split_by_source
from cfmon.mounts import materialize
from cfmon.project import CHART, find_root
from cfmon.render import helm_output

ENVS = ("dev", "staging", "prod")
STS = "StatefulSet/creativeflow-prometheus"
RULES_DIR = ROOT / "charts/creativeflow-monitoring/charts/prometheus/files/rules"
FILLED_DIR = "charts/creativeflow-monitoring/charts/prometheus/files/rules-filled"
COMMON = {"dev": "creativeflow-dev", "staging": "creativeflow-staging", "prod": "creativeflow-prod"}

KUBERNETES = [
    "apiserver",
    "kubelet",
    "cadvisor",
    "kube-state-metrics",
    "kube-state-metrics-telemetry",
    "coredns",
]
STACK = ["prometheus", "alertmanager", "grafana", "loki", "log-agent"]
BASE = {
    "application_service_targets.yml": ["application-services"],
    "custom_ai_model_targets.yml": ["custom-ai-models"],
    "database_targets.yml": ["postgres-exporter", "redis-exporter"],
    "edge_targets.yml": ["envoy-gateway", "ingress-nginx"],
    "kubernetes_targets.yml": KUBERNETES,
    "message_queue_targets.yml": ["rabbitmq", "rabbitmq-queues"],
    "node_exporter_targets.yml": ["node-exporter"],
    "stack_targets.yml": STACK,
}
# dev has no GPU nodes and no MinIO credentials; staging and prod scrape everything else.
EXPECTED_JOBS = {
    "dev": BASE,
    "staging": {**BASE, "gpu_targets.yml": ["dcgm-exporter"], "minio_targets.yml": ["minio", "minio-api"]},
    "prod": {
        **BASE,
        "gpu_targets.yml": ["dcgm-exporter"],
        "minio_targets.yml": ["minio", "minio-api"],
        # prod also runs plain NGINX servers for the web app (the edge's nginx adapter).
        "edge_targets.yml": ["envoy-gateway", "nginx-exporter", "ingress-nginx"],
    },
}


@cache
def rendered(env: str) -> dict:
    return render(env)


def pod(objs) -> dict:
    return objs[STS]["spec"]["template"]["spec"]


def container(objs) -> dict:
    return pod(objs)["containers"][0]


def prom_config(objs) -> dict:
    return yaml.safe_load(objs["ConfigMap/creativeflow-prometheus-config"]["data"]["prometheus.yml"])


def scrape_files(objs) -> dict[str, list[dict]]:
    data = objs["ConfigMap/creativeflow-prometheus-scrape-configs"]["data"]
    return {name: yaml.safe_load(text)["scrape_configs"] for name, text in data.items()}


def jobs(objs) -> dict[str, dict]:
    return {job["job_name"]: job for file in scrape_files(objs).values() for job in file}


def schema_error(overlay: dict, tmp_path: Path) -> UserError:
    with pytest.raises(UserError) as err:
        render("prod", {"prometheus": overlay}, tmp_path)
    return err.value


# ---- a small Prometheus relabelling engine (enough for the actions the chart uses) ---------------

_GROUP = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


def _expand(match: re.Match, template: str) -> str:
    def group(m: re.Match) -> str:
        name = m.group(1) or m.group(2)
        try:
            value = match.group(int(name)) if name.isdigit() else match.group(name)
        except (IndexError, re.error):
            value = None
        return value or ""

    return _GROUP.sub(group, template)


def relabel(labels: dict[str, str], configs: list[dict]) -> dict[str, str] | None:
    """Apply relabel_configs (or metric_relabel_configs) like Prometheus; None when dropped."""
    labels = dict(labels)
    for cfg in configs or []:
        action = cfg.get("action", "replace")
        regex = re.compile(f"^(?:{cfg.get('regex', '(.*)')})$")
        if action in ("labeldrop", "labelkeep"):
            keep = action == "labelkeep"
            labels = {k: v for k, v in labels.items() if bool(regex.match(k)) == keep}
            continue
        value = cfg.get("separator", ";").join(labels.get(s, "") for s in cfg.get("source_labels", []))
        m = regex.match(value)
        if action == "keep" and not m:
            return None
        if action == "drop" and m:
            return None
        if action == "replace" and m:
            target = cfg["target_label"]
            new = _expand(m, cfg.get("replacement", "$1"))
            if new:
                labels[target] = new
            else:
                labels.pop(target, None)
    return labels


def target(job: dict, meta: dict[str, str]) -> dict[str, str] | None:
    """The visible labels of a discovered target after the job's relabelling."""
    out = relabel({"job": job["job_name"], **meta}, job.get("relabel_configs"))
    return None if out is None else {k: v for k, v in out.items() if not k.startswith("__meta_")}


def keeps(job: dict, name: str, **labels: str) -> bool:
    return relabel({"__name__": name, **labels}, job.get("metric_relabel_configs")) is not None


def test_the_relabel_engine_itself():
    cfg = [{"source_labels": ["a"], "regex": "x(.*)", "target_label": "b", "replacement": "${1}y"}]
    assert relabel({"a": "x1"}, cfg) == {"a": "x1", "b": "1y"}
    assert relabel({"a": "zx1"}, cfg) == {"a": "zx1"}  # anchored
    assert relabel({"a": "1"}, [{"source_labels": ["a"], "action": "keep", "regex": "2"}]) is None


# ---- scrape files --------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_one_scrape_file_per_category_with_the_jobs_the_env_enables(env):
    objs = rendered(env)
    files = scrape_files(objs)
    assert {name: [j["job_name"] for j in jobs] for name, jobs in files.items()} == EXPECTED_JOBS[env]
    assert prom_config(objs)["scrape_config_files"] == [
        f"/etc/prometheus/scrape_configs/{name}" for name in sorted(EXPECTED_JOBS[env])
    ]


def test_global_settings_per_seed():
    cfg = prom_config(rendered("prod"))
    assert cfg["global"]["scrape_interval"] == "15s" and cfg["global"]["evaluation_interval"] == "15s"
    assert cfg["global"]["external_labels"]["monitor"] == "creativeflow-main"
    assert cfg["rule_files"] == ["/etc/prometheus/rules/*.yaml"]
    assert cfg["alerting"]["alertmanagers"][0]["dns_sd_configs"][0]["names"] == [
        "creativeflow-alertmanager-headless.monitoring.svc"
    ]


def test_a_disabled_category_has_no_file_and_is_not_listed(tmp_path):
    objs = render("prod", {"prometheus": {"scrapeConfigs": {"kubernetes": {"enabled": False}}}}, tmp_path)
    assert "kubernetes_targets.yml" not in scrape_files(objs)
    assert not any("kubernetes" in f for f in prom_config(objs)["scrape_config_files"])
    sub = render(
        "prod", {"prometheus": {"scrapeConfigs": {"kubernetes": {"cadvisor": {"enabled": False}}}}}, tmp_path
    )
    assert [j["job_name"] for j in scrape_files(sub)["kubernetes_targets.yml"]] == [
        k for k in KUBERNETES if k != "cadvisor"
    ]


@pytest.mark.parametrize("env", ENVS)
def test_every_job_adds_cluster_and_environment_last(env):
    for name, job in jobs(rendered(env)).items():
        out = relabel({"cluster": "spoofed"}, job["relabel_configs"][-2:])
        assert out == {"cluster": COMMON[env], "environment": env}, name
        # Nothing after them can override: they are the last two rules of every job.
        assert [r.get("target_label") for r in job["relabel_configs"][-2:]] == ["cluster", "environment"], (
            name
        )


def test_team_job_from_values_gets_the_common_labels_too(tmp_path):
    team = {"billing-exporter": {"static_configs": [{"targets": ["billing:9100"]}], "scrape_interval": "30s"}}
    objs = render("dev", {"prometheus": {"scrapeConfigs": {"extraJobs": team}}}, tmp_path)
    job = scrape_files(objs)["extra_targets.yml"][0]
    assert job["job_name"] == "billing-exporter" and job["scrape_interval"] == "30s"
    assert target(job, {}) == {"job": "billing-exporter", "cluster": "creativeflow-dev", "environment": "dev"}
    assert "/etc/prometheus/scrape_configs/extra_targets.yml" in prom_config(objs)["scrape_config_files"]


def test_every_job_has_sample_and_label_limits():
    for name, job in jobs(rendered("prod")).items():
        assert job["sample_limit"] > 0 and job["label_limit"] > 0, name


def test_limits_and_interval_come_from_values(tmp_path):
    overlay = {
        "scrapeConfigs": {"applicationServices": {"sampleLimit": 123, "labelLimit": 7, "interval": "1m"}}
    }
    job = jobs(render("dev", {"prometheus": overlay}, tmp_path))["application-services"]
    assert (job["sample_limit"], job["label_limit"], job["scrape_interval"]) == (123, 7, "1m")


def test_dcgm_exporter_is_scraped_every_10s_on_its_port():
    job = jobs(rendered("prod"))["dcgm-exporter"]
    assert job["scrape_interval"] == "10s"
    assert "scrape_interval" not in jobs(rendered("prod"))["node-exporter"]  # the 15s global
    meta = {
        "__address__": "10.0.0.5",
        "__meta_kubernetes_pod_label_app": "nvidia-dcgm-exporter",
        "__meta_kubernetes_pod_node_name": "gpu-node-1",
        "__meta_kubernetes_pod_phase": "Running",
    }
    out = target(job, meta)
    assert out["__address__"] == "10.0.0.5:9400" and out["instance"] == "gpu-node-1"
    # dcgm-exporter's own namespace/pod labels (the GPU's user) must survive: no such target labels.
    assert "namespace" not in out and "pod" not in out
    assert target(job, {**meta, "__meta_kubernetes_pod_label_app": "other"}) is None


# ---- Kubernetes SD jobs --------------------------------------------------------------------------

POD_META = {
    "__address__": "10.1.2.3:8080",
    "__meta_kubernetes_namespace": "creativeflow",
    "__meta_kubernetes_pod_name": "api-gateway-7d9f",
    "__meta_kubernetes_pod_phase": "Running",
    "__meta_kubernetes_pod_label_app_kubernetes_io_name": "api-gateway",
    "__meta_kubernetes_pod_annotation_prometheus_io_scrape": "true",
    "__meta_kubernetes_pod_annotation_prometheus_io_port": "9102",
    "__meta_kubernetes_pod_annotation_prometheus_io_path": "/internal/metrics",
    "__meta_kubernetes_pod_annotation_prometheus_io_scheme": "https",
}


def test_application_pods_follow_the_prometheus_io_annotations():
    job = jobs(rendered("prod"))["application-services"]
    out = target(job, POD_META)
    assert out["__address__"] == "10.1.2.3:9102"
    assert out["__metrics_path__"] == "/internal/metrics" and out["__scheme__"] == "https"
    assert {k: out[k] for k in ("service", "namespace", "pod", "cluster", "environment")} == {
        "service": "api-gateway",
        "namespace": "creativeflow",
        "pod": "api-gateway-7d9f",
        "cluster": "creativeflow-prod",
        "environment": "prod",
    }
    assert target(job, {**POD_META, "__meta_kubernetes_pod_annotation_prometheus_io_scrape": "false"}) is None
    assert target(job, {**POD_META, "__meta_kubernetes_pod_phase": "Succeeded"}) is None
    # Model-serving pods belong to the custom-ai-models job (no double scrape).
    assert target(job, {**POD_META, "__meta_kubernetes_pod_labelpresent_model_name": "true"}) is None
    assert job["kubernetes_sd_configs"] == [{"role": "pod", "namespaces": {"names": ["creativeflow"]}}]


MODEL_META = {
    **POD_META,
    "__meta_kubernetes_pod_labelpresent_model_name": "true",
    "__meta_kubernetes_pod_label_model_name": "style-transfer",
    "__meta_kubernetes_pod_label_model_version": "v3",
}


def test_model_pods_get_model_name_and_version_labels():
    job = jobs(rendered("prod"))["custom-ai-models"]
    out = target(job, MODEL_META)
    assert out["model_name"] == "style-transfer" and out["model_version"] == "v3"
    assert out["service"] == "api-gateway" and out["pod"] == "api-gateway-7d9f"
    # A pod without the model label is not a model.
    no_model = {k: v for k, v in MODEL_META.items() if "model_name" not in k}
    assert target(job, no_model) is None
    # A metric's own model_name (a pod serving several models) wins over the pod label.
    metric = {"__name__": "custom_model_inference_requests_total", "model_name": "style-transfer"}
    metric["exported_model_name"] = "upscaler"
    assert relabel(metric, job["metric_relabel_configs"])["model_name"] == "upscaler"
    assert "exported_model_name" not in relabel(metric, job["metric_relabel_configs"])


def test_model_label_names_come_from_values(tmp_path):
    overlay = {"scrapeConfigs": {"customAiModels": {"modelNameLabel": "ai_model_name"}}}
    job = jobs(render("prod", {"prometheus": overlay}, tmp_path))["custom-ai-models"]
    meta = {**POD_META, "__meta_kubernetes_pod_labelpresent_ai_model_name": "true"}
    meta["__meta_kubernetes_pod_label_ai_model_name"] = "upscaler"
    assert target(job, meta)["model_name"] == "upscaler"


def test_stack_and_exporter_services_are_found_by_service_and_port():
    j = jobs(rendered("prod"))
    base = {"__address__": "10.0.0.9:9100", "__meta_kubernetes_endpointslice_endpoint_node_name": "node-a"}
    ne = {**base, "__meta_kubernetes_service_name": "creativeflow-node-exporter"}
    assert (
        target(j["node-exporter"], {**ne, "__meta_kubernetes_endpointslice_port_name": "http-metrics"})[
            "instance"
        ]
        == "node-a"
    )
    assert target(j["node-exporter"], {**ne, "__meta_kubernetes_endpointslice_port_name": "other"}) is None
    ksm = {"__meta_kubernetes_service_name": "creativeflow-kube-state-metrics"}
    assert target(
        j["kube-state-metrics"], {**ksm, "__meta_kubernetes_endpointslice_port_name": "http-metrics"}
    )
    assert (
        target(j["kube-state-metrics"], {**ksm, "__meta_kubernetes_endpointslice_port_name": "telemetry"})
        is None
    )
    assert target(
        j["kube-state-metrics-telemetry"], {**ksm, "__meta_kubernetes_endpointslice_port_name": "telemetry"}
    )
    assert j["kube-state-metrics"]["honor_labels"] is True
    grafana = {
        "__meta_kubernetes_service_name": "creativeflow-grafana",
        "__meta_kubernetes_endpointslice_port": "3000",
    }
    assert target(j["grafana"], grafana)
    assert target(j["grafana"], {**grafana, "__meta_kubernetes_service_name": "creativeflow-loki"}) is None
    loki = {
        "__meta_kubernetes_service_name": "creativeflow-loki",
        "__meta_kubernetes_endpointslice_port": "3100",
    }
    assert target(j["loki"], loki)


AGENT_META = {
    "__address__": "10.0.7.3:3101",
    "__meta_kubernetes_namespace": "monitoring",
    "__meta_kubernetes_service_name": "creativeflow-promtail",
    "__meta_kubernetes_endpointslice_port_name": "http-metrics",
    "__meta_kubernetes_endpointslice_endpoint_node_name": "node-a",
    "__meta_kubernetes_pod_name": "creativeflow-promtail-7xk2p",
}


def agent_egress(objs) -> list[dict]:
    """The NetworkPolicy egress rules of Prometheus that select the log agent pods."""
    return [
        rule
        for rule in objs["NetworkPolicy/creativeflow-prometheus"]["spec"]["egress"]
        for peer in rule.get("to", [])
        if peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name")
        in ("promtail", "alloy")
    ]


def test_log_agent_is_one_job_per_node_for_the_agent_global_logs_selects(tmp_path):
    job = jobs(render("prod", {"global": {"logs": {"agent": "promtail"}}}, tmp_path))["log-agent"]
    assert target(job, AGENT_META) == {
        "job": "log-agent",
        "__address__": "10.0.7.3:3101",
        "instance": "node-a",
        "node": "node-a",
        "namespace": "monitoring",
        "pod": "creativeflow-promtail-7xk2p",
        "cluster": "creativeflow-prod",
        "environment": "prod",
    }
    assert target(job, {**AGENT_META, "__meta_kubernetes_endpointslice_port_name": "http"}) is None
    alloy = {**AGENT_META, "__meta_kubernetes_service_name": "creativeflow-alloy"}
    assert target(job, alloy) is None  # only the selected agent is scraped
    default = jobs(rendered("prod"))["log-agent"]  # alloy is the default agent
    assert target(default, alloy)["instance"] == "node-a"
    assert target(default, AGENT_META) is None
    assert "log-agent" not in jobs(render("prod", {"global": {"logs": {"agent": "none"}}}, tmp_path))
    off = {"prometheus": {"scrapeConfigs": {"stack": {"logAgent": {"enabled": False}}}}}
    assert "log-agent" not in jobs(render("prod", off, tmp_path))


def test_log_line_counter_keeps_the_logging_pod_not_the_agent():
    job = jobs(rendered("prod"))["log-agent"]
    scraped = {
        "__name__": "creativeflow_log_lines_total",
        "job": "log-agent",
        "instance": "node-a",
        "node": "node-a",
        "namespace": "monitoring",
        "pod": "creativeflow-promtail-7xk2p",
        # the stream's labels, renamed by Prometheus because the target has them too
        "exported_namespace": "creativeflow",
        "exported_pod": "api-gateway-7d9f8-x2x4z",
        "exported_node": "node-a",
        "exported_job": "creativeflow/api-gateway",
        "app": "api-gateway",
        "level": "error",
    }
    assert relabel(scraped, job["metric_relabel_configs"]) == {
        "__name__": "creativeflow_log_lines_total",
        "job": "log-agent",
        "instance": "node-a",
        "node": "node-a",
        "namespace": "creativeflow",
        "pod": "api-gateway-7d9f8-x2x4z",
        "exported_job": "creativeflow/api-gateway",
        "app": "api-gateway",
        "level": "error",
    }
    # The agent's own series keep the agent pod; its Go runtime series are dropped.
    own = {
        "__name__": "promtail_sent_entries_total",
        "namespace": "monitoring",
        "pod": "creativeflow-promtail-7xk2p",
    }
    assert relabel(own, job["metric_relabel_configs"]) == own
    assert not keeps(job, "go_goroutines")


def test_network_policy_lets_prometheus_reach_the_agent_metrics_port_only(tmp_path):
    def rule(name, port):
        selector = {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": "creativeflow"}
        return {
            "to": [{"podSelector": {"matchLabels": selector}}],
            "ports": [{"port": port, "protocol": "TCP"}],
        }

    assert agent_egress(rendered("prod")) == [rule("alloy", 12345)]  # the default agent
    promtail = render("prod", {"global": {"logs": {"agent": "promtail"}}}, tmp_path)
    assert agent_egress(promtail) == [rule("promtail", 3101)]
    assert agent_egress(render("prod", {"global": {"logs": {"agent": "none"}}}, tmp_path)) == []


def test_kubernetes_jobs_use_the_service_account_over_tls():
    j = jobs(rendered("prod"))
    for name in ("apiserver", "kubelet", "cadvisor"):
        assert j[name]["scheme"] == "https", name
        assert j[name]["tls_config"]["ca_file"] == "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
        assert j[name]["authorization"] == {
            "credentials_file": "/var/run/secrets/kubernetes.io/serviceaccount/token"
        }
    assert "insecure_skip_verify" not in j["apiserver"]["tls_config"]
    assert j["cadvisor"]["metrics_path"] == "/metrics/cadvisor"
    api = {
        "__meta_kubernetes_service_name": "kubernetes",
        "__meta_kubernetes_endpointslice_port_name": "https",
    }
    assert target(j["apiserver"], api)
    assert target(j["apiserver"], {**api, "__meta_kubernetes_service_name": "other"}) is None
    assert pod(rendered("prod"))["automountServiceAccountToken"] is True


# ---- cardinality ---------------------------------------------------------------------------------


def test_metric_relabel_drops_bound_cardinality():
    j = jobs(rendered("prod"))
    cad = j["cadvisor"]
    assert keeps(cad, "container_cpu_usage_seconds_total", container="app")
    assert not keeps(cad, "container_cpu_usage_seconds_total", container="")
    assert not keeps(cad, "container_memory_working_set_bytes", container="POD")
    assert keeps(cad, "container_network_receive_bytes_total", container="")  # pod-level only
    assert not keeps(cad, "container_tasks_state", container="app")
    api = j["apiserver"]
    assert keeps(api, "apiserver_request_duration_seconds_bucket", le="1")
    assert keeps(api, "apiserver_request_duration_seconds_bucket", le="+Inf")
    assert not keeps(api, "apiserver_request_duration_seconds_bucket", le="0.6")
    assert not keeps(api, "etcd_request_duration_seconds_bucket", le="1")
    assert keeps(api, "apiserver_request_total")
    assert not keeps(api, "go_gc_duration_seconds")
    ne = j["node-exporter"]
    assert keeps(ne, "node_network_receive_bytes_total", device="eth0")
    assert not keeps(ne, "node_network_receive_bytes_total", device="veth1a2b3c")
    assert not keeps(ne, "node_filesystem_avail_bytes", fstype="overlay")
    assert keeps(ne, "node_filesystem_avail_bytes", fstype="ext4")
    envoy = j["envoy-gateway"]
    assert keeps(envoy, "envoy_http_downstream_rq_time_bucket", le="1000")
    assert not keeps(envoy, "envoy_cluster_upstream_rq_time_bucket", le="1000")
    nginx = j["ingress-nginx"]
    assert keeps(nginx, "nginx_ingress_controller_request_duration_seconds_bucket", le="1")
    assert not keeps(nginx, "nginx_ingress_controller_response_size_bucket", le="1")
    assert not keeps(j["kube-state-metrics"], "kube_pod_tolerations")
    assert keeps(j["kube-state-metrics"], "kube_pod_status_phase")


def test_paths_are_normalised():
    job = jobs(rendered("prod"))["application-services"]
    uuid = "550e8400-e29b-41d4-a716-446655440000"
    out = relabel(
        {"__name__": "http_requests_total", "path": f"/v1/projects/42/assets/{uuid}/v2?x=1"},
        job["metric_relabel_configs"],
    )
    assert out["path"] == "/v1/projects/:id/assets/:id/v2"
    out = relabel(
        {"__name__": "http_requests_total", "route": "/users/7/orders/8/items/9"},
        job["metric_relabel_configs"],
    )
    assert out["route"] == "/users/:id/orders/:id/items/:id"
    assert (
        relabel({"__name__": "x", "route": "/v1/health"}, job["metric_relabel_configs"])["route"]
        == "/v1/health"
    )


def _rule_metric_names() -> set[str]:
    names = set()
    for path in RULES_DIR.glob("*.yaml"):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                names |= set(re.findall(r"\b[a-zA-Z_][a-zA-Z0-9_]*\b", rule["expr"]))
    return names


def test_no_drop_removes_a_metric_the_rules_read():
    names = _rule_metric_names()
    assert "http_requests_total" in names  # the scan sees the rules
    for job_name, job in jobs(rendered("prod")).items():
        for cfg in job.get("metric_relabel_configs") or []:
            if cfg.get("action") == "drop" and cfg.get("source_labels") == ["__name__"]:
                regex = re.compile(f"^(?:{cfg['regex']})$")
                assert not [n for n in names if regex.match(n)], (job_name, cfg["regex"])


def test_extra_metric_relabel_configs_are_appended(tmp_path):
    extra = [{"source_labels": ["__name__"], "action": "drop", "regex": "noisy_.*"}]
    overlay = {"scrapeConfigs": {"databases": {"postgres": {"extraMetricRelabelConfigs": extra}}}}
    job = jobs(render("dev", {"prometheus": overlay}, tmp_path))["postgres-exporter"]
    assert not keeps(job, "noisy_metric") and keeps(job, "pg_up")
    assert "metric_relabel_configs" not in jobs(rendered("dev"))["postgres-exporter"]


# ---- exporters listed in values ------------------------------------------------------------------


def test_dev_lists_one_exporter_each_statically():
    j = jobs(rendered("dev"))
    for name in ("postgres-exporter", "redis-exporter", "rabbitmq", "rabbitmq-queues"):
        assert len(j[name]["static_configs"]) == 1 and len(j[name]["static_configs"][0]["targets"]) == 1
        assert "file_sd_configs" not in j[name]
    assert "ConfigMap/creativeflow-prometheus-file-sd" not in rendered("dev")


def test_rabbitmq_plugin_is_scraped_twice_per_node_node_level_and_per_queue(tmp_path):
    j = jobs(rendered("prod"))
    assert j["rabbitmq"]["metrics_path"] == "/metrics"
    assert "params" not in j["rabbitmq"]
    # Only the per-queue families, not /metrics/per-object (every family per object).
    assert j["rabbitmq-queues"]["metrics_path"] == "/metrics/detailed"
    assert j["rabbitmq-queues"]["params"] == {"family": ["queue_coarse_metrics", "queue_consumer_count"]}
    assert j["rabbitmq-queues"]["sample_limit"] == 60000
    off = {"prometheus": {"scrapeConfigs": {"messageQueue": {"rabbitmq": {"queues": {"enabled": False}}}}}}
    assert "rabbitmq-queues" not in jobs(render("dev", off, tmp_path))


def test_prod_discovers_several_exporters_from_file_sd():
    objs = rendered("prod")
    j = jobs(objs)
    data = objs["ConfigMap/creativeflow-prometheus-file-sd"]["data"]
    for name, count in (
        ("postgres-exporter", 3),
        ("redis-exporter", 3),
        ("rabbitmq", 3),
        ("rabbitmq-queues", 3),
        ("minio", 1),
    ):
        assert j[name]["file_sd_configs"] == [
            {"files": [f"/etc/prometheus/file_sd/{name}.yml"], "refresh_interval": "5m"}
        ]
        groups = yaml.safe_load(data[f"{name}.yml"])
        assert sum(len(g["targets"]) for g in groups) == count
    mounts = {m["name"]: m for m in container(objs)["volumeMounts"]}
    assert mounts["file-sd"]["mountPath"] == "/etc/prometheus/file_sd" and mounts["file-sd"]["readOnly"]


def test_file_sd_target_change_does_not_restart_but_a_scrape_change_does(tmp_path):
    base = rendered("prod")
    groups = [{"targets": ["postgres-exporter-new.creativeflow-data.svc:9187"]}]
    moved = render(
        "prod",
        {"prometheus": {"scrapeConfigs": {"databases": {"postgres": {"targetGroups": groups}}}}},
        tmp_path,
    )
    ann = lambda objs: objs[STS]["spec"]["template"]["metadata"]["annotations"]  # noqa: E731
    assert ann(moved) == ann(base)
    assert (
        moved["ConfigMap/creativeflow-prometheus-file-sd"]
        != base["ConfigMap/creativeflow-prometheus-file-sd"]
    )
    slower = render("prod", {"prometheus": {"scrapeConfigs": {"gpu": {"interval": "30s"}}}}, tmp_path)
    assert ann(slower)["checksum/config"] != ann(base)["checksum/config"]
    assert ann(slower)["checksum/rules"] == ann(base)["checksum/rules"]


def test_a_rule_override_rolls_the_pods_and_changes_only_its_file(tmp_path):
    """The rules are built once per render and the StatefulSet's checksum reuses that text: an
    override still reaches the rule ConfigMap, the checksum and the dashboards drawing the
    threshold, and nothing else."""
    base = rendered("prod")
    threshold = {"ApiGatewayErrorRatioHigh": {"params": {"threshold": 0.07}, "for": "17m"}}
    changed = render("prod", {"prometheus": {"alerts": threshold}}, tmp_path)
    ann = lambda objs: objs[STS]["spec"]["template"]["metadata"]["annotations"]  # noqa: E731
    assert ann(changed)["checksum/rules"] != ann(base)["checksum/rules"]
    assert ann(changed)["checksum/config"] == ann(base)["checksum/config"]
    differ = sorted(key for key in base if changed.get(key) != base[key])
    dashboards = [key for key in differ if key.startswith("ConfigMap/creativeflow-grafana-dashboard-")]
    assert dashboards and all("0.07" in json.dumps(changed[key]["data"]) for key in dashboards)
    assert sorted(set(differ) - set(dashboards)) == [
        "ConfigMap/creativeflow-prometheus-rules-applications",
        STS,
    ]
    rules = changed["ConfigMap/creativeflow-prometheus-rules-applications"]["data"]["applications.yaml"]
    alert = next(
        r
        for g in yaml.safe_load(rules)["groups"]
        for r in g["rules"]
        if r.get("alert") == "ApiGatewayErrorRatioHigh"
    )
    assert alert["for"] == "17m" and "0.07" in alert["expr"]


def test_minio_reads_its_bearer_token_from_a_secret_file():
    objs = rendered("prod")
    job = jobs(objs)["minio"]
    assert job["metrics_path"] == "/minio/metrics/v3/cluster/health"
    assert job["authorization"] == {"credentials_file": "/etc/prometheus/secrets/minio/token"}
    # The S3 API metrics are per server: every pod is a target, with the same token.
    api = jobs(objs)["minio-api"]
    assert api["metrics_path"] == "/minio/metrics/v3/api/requests"
    assert api["authorization"] == {"credentials_file": "/etc/prometheus/secrets/minio/token"}
    assert api["kubernetes_sd_configs"] == [
        {"role": "pod", "namespaces": {"names": ["creativeflow-storage"]}}
    ]
    vols = {v["name"]: v for v in pod(objs)["volumes"]}
    assert vols["secret-minio"]["secret"]["secretName"] == "creativeflow-minio-prometheus"
    assert vols["secret-minio"]["secret"]["optional"] is True  # a missing Secret fails one job only
    mounts = {m["name"]: m for m in container(objs)["volumeMounts"]}
    assert mounts["secret-minio"] == {
        "name": "secret-minio",
        "mountPath": "/etc/prometheus/secrets/minio",
        "readOnly": True,
    }


# ---- remote write and web config -----------------------------------------------------------------

REMOTE = {
    "mimir": {
        "url": "https://mimir.example.com/api/v1/push",
        "headers": {"X-Scope-OrgID": "creativeflow"},
        "basicAuth": {"username": "cf", "existingSecret": "mimir-rw", "passwordKey": "pw"},
        "queueConfig": {"maxSamplesPerSend": 5000, "batchSendDeadline": "10s", "retryOnHttp429": True},
        "writeRelabelConfigs": [{"source_labels": ["__name__"], "regex": "go_.*", "action": "drop"}],
    },
    "thanos": {
        "url": "https://thanos.example.com/api/v1/receive",
        "bearerToken": {"existingSecret": "thanos-rw"},
    },
}


def test_remote_write_reads_credentials_from_mounted_secrets(tmp_path):
    objs = render("prod", {"prometheus": {"remoteWrite": REMOTE}}, tmp_path)
    rw = {r["name"]: r for r in prom_config(objs)["remote_write"]}
    assert rw["mimir"]["basic_auth"] == {
        "username": "cf",
        "password_file": "/etc/prometheus/secrets/remote-write-mimir/pw",
    }
    assert rw["mimir"]["queue_config"] == {
        "max_samples_per_send": 5000,
        "batch_send_deadline": "10s",
        "retry_on_http_429": True,
    }
    assert rw["mimir"]["write_relabel_configs"] == REMOTE["mimir"]["writeRelabelConfigs"]
    assert rw["mimir"]["headers"] == {"X-Scope-OrgID": "creativeflow"}
    assert rw["thanos"]["authorization"] == {
        "credentials_file": "/etc/prometheus/secrets/remote-write-thanos/token"
    }
    vols = {v["name"]: v["secret"] for v in pod(objs)["volumes"] if "secret" in v}
    assert vols["remote-write-mimir"]["secretName"] == "mimir-rw"
    assert vols["remote-write-thanos"]["secretName"] == "thanos-rw"
    mounts = {m["mountPath"]: m for m in container(objs)["volumeMounts"]}
    assert mounts["/etc/prometheus/secrets/remote-write-mimir"]["readOnly"] is True
    text = json.dumps(prom_config(objs))
    assert '"password"' not in text and '"credentials"' not in text
    # Without remoteWrite entries only the long-term store's write remains (global.longTerm).
    assert [r["name"] for r in prom_config(rendered("prod"))["remote_write"]] == ["longterm"]
    assert [r["name"] for r in prom_config(objs)["remote_write"]] == ["longterm", "mimir", "thanos"]


@pytest.mark.parametrize(
    ("overlay", "key", "says"),
    [
        pytest.param(
            {"remoteWrite": {"x": {"url": "https://a", "headers": {"Authorization": "Bearer abc"}}}},
            "prometheus.remoteWrite.x.headers",
            '"Authorization" does not match',
            id="literal-authorization-header",
        ),
        pytest.param(
            {"remoteWrite": {"x": {"url": "https://a", "basicAuth": {"username": "u", "password": "p"}}}},
            "prometheus.remoteWrite.x.basicAuth",
            "password is not allowed",
            id="literal-password",
        ),
        pytest.param(
            {"remoteWrite": {"x": {"url": "https://a", "queueConfig": {"maxShards": "many"}}}},
            "prometheus.remoteWrite.x.queueConfig.maxShards",
            "Invalid type",
            id="queue-config-wrong-type",
        ),
    ],
)
def test_remote_write_schema_refuses_literal_credentials_and_bad_types(tmp_path, overlay, key, says):
    err = schema_error(overlay, tmp_path)
    assert err.key == key and says in str(err), (err.key, str(err))


WEB = {
    "enabled": True,
    "existingSecret": "prometheus-web",
    "tls": {"enabled": True, "existingSecret": "prometheus-tls"},
}


def test_web_config_on_in_prod_off_in_dev(tmp_path):
    off = rendered("dev")
    assert not any(a.startswith("--web.config.file") for a in container(off)["args"])
    assert container(off)["readinessProbe"]["httpGet"]["path"] == "/-/ready"
    assert "initContainers" not in pod(off)
    on = render("prod", {"prometheus": {"webConfig": WEB}}, tmp_path)
    c = container(on)
    assert "--web.config.file=/etc/prometheus/web-config/web-config.yml" in c["args"]
    # The kubelet cannot authenticate: the probes check the port.
    assert c["readinessProbe"]["tcpSocket"] == {"port": "http"} and "httpGet" not in c["readinessProbe"]
    assert c["livenessProbe"]["tcpSocket"] == {"port": "http"}
    vols = {v["name"]: v for v in pod(on)["volumes"]}
    assert vols["web-auth"]["secret"]["secretName"] == "prometheus-web"
    assert vols["web-tls"]["secret"]["secretName"] == "prometheus-tls"
    assert vols["web-template"]["configMap"]["name"] == "creativeflow-prometheus-web-config"
    assert "optional" not in vols["web-auth"]["secret"]  # no users file: no start, never unauthenticated
    # The init container joins the rendered TLS part and the Secret's bcrypt hashes.
    (init,) = pod(on)["initContainers"]
    assert "/etc/prometheus/web-config/web-config.yml" in init["args"][0]
    web = yaml.safe_load(on["ConfigMap/creativeflow-prometheus-web-config"]["data"]["web-config.yml"])
    assert web["tls_server_config"]["cert_file"] == "/etc/prometheus/web-tls/tls.crt"
    assert "basic_auth_users" not in web  # hashes never in the render
    # Prometheus scrapes itself and its peer with the credentials, over TLS.
    job = jobs(on)["prometheus"]
    assert job["basic_auth"] == {
        "username": "prometheus",
        "password_file": "/etc/prometheus/web-auth/scrape-password",
    }
    assert job["scheme"] == "https"
    assert job["tls_config"] == {
        "ca_file": "/etc/prometheus/web-tls/ca.crt",
        "server_name": "creativeflow-prometheus.monitoring.svc",
    }
    assert "basic_auth" not in jobs(off)["prometheus"]


def test_web_config_needs_its_secret(tmp_path):
    err = schema_error({"webConfig": {"enabled": True, "existingSecret": ""}}, tmp_path)
    assert err.key == "prometheus.webConfig" and "webConfig.existingSecret" in str(err), str(err)
    err = schema_error({"webConfig": {**WEB, "tls": {"enabled": True, "existingSecret": ""}}}, tmp_path)
    assert err.key == "prometheus.webConfig.tls" and "tls.existingSecret" in str(err), str(err)


def test_no_values_field_takes_a_password_hash(tmp_path):
    """Hashes live in the Secret only: a users map in values is refused by the schema, with its path."""
    err = schema_error({"webConfig": {"basicAuthUsers": {"admin": "hunter2"}}}, tmp_path)
    assert err.key == "prometheus.webConfig.basicAuthUsers" and "not allowed" in str(err), (err.key, str(err))


# ---- restarts ----------------------------------------------------------------------------------------

GRACE = "--rules.alert.for-grace-period="


def grace_period(objs) -> str:
    [flag] = [a for a in container(objs)["args"] if a.startswith(GRACE)]
    return flag.removeprefix(GRACE)


@pytest.mark.parametrize("env", ENVS)
def test_every_alert_keeps_its_state_across_a_restart(env):
    """Prometheus restores the `for` state only of alerts whose `for` is at least the grace period
    (default 10m: none of the 5m alerts); ours is at most the shortest `for`, so none pends again
    (and is resolved and re-paged) after a pod restart."""
    objs = rendered(env)
    grace = parse_ms(grace_period(objs))
    assert grace == 60_000
    holds = [
        parse_ms(str(rule["for"]))
        for key, obj in objs.items()
        if key.startswith("ConfigMap/creativeflow-prometheus-rules-")
        for text in obj["data"].values()
        for group in yaml.safe_load(text)["groups"]
        for rule in group["rules"]
        if "alert" in rule and parse_ms(str(rule.get("for", "0s"))) > 0  # Watchdog: nothing to restore
    ]
    assert len(holds) > 100 and min(holds) >= grace, sorted(holds)[:5]


def test_the_grace_period_comes_from_values_and_is_checked(tmp_path):
    objs = render("prod", {"prometheus": {"rules": {"alertForGracePeriod": "2m"}}}, tmp_path)
    assert grace_period(objs) == "2m"
    err = schema_error({"rules": {"alertForGracePeriod": "soon"}}, tmp_path)
    assert err.key == "prometheus.rules.alertForGracePeriod", (err.key, str(err))
    err = schema_error({"rules": {"forGracePeriod": "1m"}}, tmp_path)
    assert err.key.startswith("prometheus.rules"), (err.key, str(err))


# ---- HA, RBAC, NetworkPolicy ---------------------------------------------------------------------


def test_pdb_and_anti_affinity_per_env():
    dev, staging, prod = (rendered(e) for e in ENVS)
    assert "PodDisruptionBudget/creativeflow-prometheus" not in dev
    assert "affinity" not in pod(dev)
    assert staging[STS]["spec"]["replicas"] == 2
    assert staging["PodDisruptionBudget/creativeflow-prometheus"]["spec"]["minAvailable"] == 1
    assert "preferredDuringSchedulingIgnoredDuringExecution" in pod(staging)["affinity"]["podAntiAffinity"]
    assert prod[STS]["spec"]["replicas"] == 2
    pdb = prod["PodDisruptionBudget/creativeflow-prometheus"]["spec"]
    assert pdb == {
        "minAvailable": 1,
        "selector": {
            "matchLabels": {
                "app.kubernetes.io/name": "prometheus",
                "app.kubernetes.io/instance": "creativeflow",
            }
        },
    }
    required = pod(prod)["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert required[0]["topologyKey"] == "kubernetes.io/hostname"
    assert required[0]["labelSelector"]["matchLabels"] == pdb["selector"]["matchLabels"]


def test_a_pdb_that_would_block_every_drain_is_refused(tmp_path):
    with pytest.raises(UserError) as err:
        render("dev", {"prometheus": {"podDisruptionBudget": {"enabled": True, "minAvailable": 1}}}, tmp_path)
    assert err.value.key == "prometheus.podDisruptionBudget.minAvailable"
    assert "below prometheus.replicas (1)" in str(err.value)


def test_cluster_role_is_read_only_discovery():
    rules = rendered("prod")["ClusterRole/creativeflow-prometheus"]["rules"]
    assert rules == [
        {
            "apiGroups": [""],
            "resources": ["nodes", "nodes/metrics", "services", "endpoints", "pods"],
            "verbs": ["get", "list", "watch"],
        },
        {
            "apiGroups": ["discovery.k8s.io"],
            "resources": ["endpointslices"],
            "verbs": ["get", "list", "watch"],
        },
        {"nonResourceURLs": ["/metrics"], "verbs": ["get"]},
    ]
    binding = rendered("prod")["ClusterRoleBinding/creativeflow-prometheus"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "creativeflow-prometheus", "namespace": "monitoring"}
    ]


def test_network_policy_allows_grafana_in_and_alertmanager_out(tmp_path):
    np = rendered("prod")["NetworkPolicy/creativeflow-prometheus"]["spec"]
    assert np["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "prometheus",
        "app.kubernetes.io/instance": "creativeflow",
    }
    assert np["policyTypes"] == ["Ingress", "Egress"]
    [ingress] = np["ingress"]
    assert ingress["ports"] == [{"port": 9090, "protocol": "TCP"}]
    assert {
        "podSelector": {
            "matchLabels": {"app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "creativeflow"}
        }
    } in ingress["from"]
    am = {
        "to": [
            {
                "podSelector": {
                    "matchLabels": {
                        "app.kubernetes.io/name": "alertmanager",
                        "app.kubernetes.io/instance": "creativeflow",
                    }
                }
            }
        ],
        "ports": [{"port": 9093, "protocol": "TCP"}],
    }
    assert am in np["egress"]
    assert np["egress"][-1] == {}  # scraping: every destination by default
    peer = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
    restricted = render(
        "prod",
        {
            "prometheus": {
                "networkPolicy": {"ingressFrom": [peer], "egressTo": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}
            }
        },
        tmp_path,
    )
    rnp = restricted["NetworkPolicy/creativeflow-prometheus"]["spec"]
    assert peer in rnp["ingress"][0]["from"]
    assert rnp["egress"][-1] == {"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]} and {} not in rnp["egress"]
    assert am in rnp["egress"]
    off = render("prod", {"global": {"networkPolicy": {"enabled": False}}}, tmp_path)
    assert "NetworkPolicy/creativeflow-prometheus" not in off


# ---- rules: one ConfigMap per rule file ----------------------------------------------------------


# Rule files that ship only behind a values switch (off by default; tests/test_control_plane.py).
GATED_RULE_FILES = {"kubernetes-control-plane.yaml"}


def test_one_rules_configmap_per_rule_file_projected_together():
    objs = rendered("prod")
    files = sorted(p.name for p in RULES_DIR.glob("*.yaml") if p.name not in GATED_RULE_FILES)
    assert len(files) > 1
    names = [f"creativeflow-prometheus-rules-{Path(f).stem}" for f in files]
    for name, file in zip(names, files, strict=True):
        cm = objs[f"ConfigMap/{name}"]
        assert list(cm["data"]) == [file]
        # kubectl apply keeps the whole object in an annotation capped at 256 KiB.
        assert len(json.dumps(cm).encode()) < 256 * 1024
    assert not [
        k for k in objs if k.startswith("ConfigMap/creativeflow-prometheus-rules") and k[10:] not in names
    ]
    rules = next(v for v in pod(objs)["volumes"] if v["name"] == "rules")
    assert [s["configMap"]["name"] for s in rules["projected"]["sources"]] == names
    mount = next(m for m in container(objs)["volumeMounts"] if m["name"] == "rules")
    assert mount["mountPath"] == "/etc/prometheus/rules"


def test_the_checked_layout_has_every_rule_file_and_scrape_file(tmp_path):
    text, _ = helm_output(find_root(ROOT), "prod")
    resources = [
        res
        for rel, body in split_by_source(text).items()
        for res in parse_documents(body, source=str(CHART / rel), origin=rel)
    ]
    layout = materialize(resources, "prometheus", tmp_path)
    rules = sorted(p.name for p in (tmp_path / "etc/prometheus/rules").iterdir())
    assert rules == sorted(p.name for p in RULES_DIR.glob("*.yaml") if p.name not in GATED_RULE_FILES)
    assert layout.mounts["/etc/prometheus/rules"].startswith("configMap/creativeflow-prometheus-rules-")
    assert (tmp_path / "etc/prometheus/scrape_configs/gpu_targets.yml").is_file()
    # The MinIO token (a Secret) is an empty placeholder, referenced by its re-rooted path.
    assert (tmp_path / "etc/prometheus/secrets/minio/token").is_file()


# ---- schema --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overlay", "key"),
    [
        ({"scrapeConfigs": {"gpu": {"interval": 10}}}, "prometheus.scrapeConfigs.gpu.interval"),
        ({"scrapeConfigs": {"gpu": {"intervall": "10s"}}}, "prometheus.scrapeConfigs.gpu.intervall"),
        ({"scrapeConfigs": {"gpus": {"enabled": True}}}, "prometheus.scrapeConfigs.gpus"),
        (
            {"scrapeConfigs": {"databases": {"postgres": {"discovery": "dns"}}}},
            "prometheus.scrapeConfigs.databases.postgres.discovery",
        ),
        (
            {"scrapeConfigs": {"databases": {"redis": {"targetGroups": [{"targets": ["redis"]}]}}}},
            "prometheus.scrapeConfigs.databases.redis.targetGroups.0.targets.0",
        ),
        (
            {"scrapeConfigs": {"kubernetes": {"kubelet": {"sampleLimit": -1}}}},
            "prometheus.scrapeConfigs.kubernetes.kubelet.sampleLimit",
        ),
        (
            {"scrapeConfigs": {"stack": {"components": {"tempo": {"enabled": True, "port": 3200}}}}},
            "prometheus.scrapeConfigs.stack.components.tempo",
        ),
        (
            {"scrapeConfigs": {"stack": {"logAgent": {"ports": {"fluentbit": 2020}}}}},
            "prometheus.scrapeConfigs.stack.logAgent.ports.fluentbit",
        ),
        (
            {"scrapeConfigs": {"stack": {"logAgent": {"ports": {"promtail": 0}}}}},
            "prometheus.scrapeConfigs.stack.logAgent.ports.promtail",
        ),
        ({"podAntiAffinity": "always"}, "prometheus.podAntiAffinity"),
        ({"networkPolicy": {"egressTo": [{}]}}, "prometheus.networkPolicy.egressTo.0"),
        (
            {"scrapeConfigs": {"minio": {"enabled": True, "bearerToken": {"existingSecret": ""}}}},
            "prometheus.scrapeConfigs.minio",
        ),
        (
            {"scrapeConfigs": {"extraJobs": {"team": {"job_name": "x"}}}},
            "prometheus.scrapeConfigs.extraJobs.team",
        ),
    ],
    ids=[
        "interval-wrong-type",
        "unknown-key",
        "unknown-category",
        "discovery-enum",
        "target-without-port",
        "negative-limit",
        "unknown-stack-component",
        "log-agent-unknown-agent",
        "log-agent-port-range",
        "anti-affinity-enum",
        "empty-peer",
        "minio-without-secret",
        "extra-job-with-job-name",
    ],
)
def test_schema_rejects_with_the_key_path(tmp_path, overlay, key):
    err = schema_error(overlay, tmp_path)
    assert err.key.startswith(key), (err.key, str(err))


def _alert(objs: dict, name: str) -> dict:
    data = objs["ConfigMap/creativeflow-prometheus-rules-redis"]["data"]["redis.yaml"]
    return next(r for g in yaml.safe_load(data)["groups"] for r in g["rules"] if r.get("alert") == name)


def test_alert_params_fill_the_expression_and_the_texts_that_name_them(tmp_path):
    default = _alert(rendered("prod"), "RedisMemoryHigh")
    assert (
        default["expr"].endswith("> 0.8")
        and "{{ 0.8 | humanizePercentage }}" in default["annotations"]["description"]
    )
    objs = render(
        "prod", {"prometheus": {"alerts": {"RedisMemoryHigh": {"params": {"threshold": 0.75}}}}}, tmp_path
    )
    alert = _alert(objs, "RedisMemoryHigh")
    assert (
        alert["expr"].endswith("> 0.75")
        and "{{ 0.75 | humanizePercentage }}" in alert["annotations"]["description"]
    )
    # A text without a parameter is copied as it is.
    assert (
        alert["annotations"]["summary"]
        == default["annotations"]["summary"]
        == "Redis is close to its maxmemory limit."
    )


def test_a_parameter_without_a_value_is_refused(tmp_path):
    overlay = {"alerts": {"RedisDown": {"annotations": {"description": "down ${nope}"}}}}
    err = schema_error(overlay, tmp_path)
    assert "prometheus.alerts.RedisDown.params: a parameter has no value in: down ${nope}" in str(err)


def _rule_texts(objs) -> dict[str, str]:
    prefix = "ConfigMap/creativeflow-prometheus-rules-"
    return {key: obj["data"] for key, obj in objs.items() if key.startswith(prefix)}


@pytest.fixture(scope="module")
def unfilled(tmp_path_factory) -> Path:
    """A copy of the repository without files/rules-filled/: its chart builds every rule file
    (prometheus.ruleFile), the reference the copied and spliced texts must print the same as."""
    root = copy_repo(tmp_path_factory.mktemp("unfilled") / "repo")
    shutil.rmtree(root / FILLED_DIR)
    return root


URLS = [
    "https://grafana.monitoring.eu-west-1.internal.example.com:8443/a/longer/path/prefix",
    "https://grafana.creativeflow.ai",  # prod's: some links fold ahead, some by toYaml
    "https://grafana.example.com:3000/x",  # 33 bytes, the most any link needs folded ahead
    "https://grafana.example.com:300/x",  # one short of it
    "http://g",  # every link by toYaml
    "https://grafana.exämple.com/monitoring/europe",  # not ASCII: columns are not bytes
]


def _with_url(url: str, alerts: dict | None = None) -> dict:
    prometheus = {"scrapeConfigs": {"kubernetes": {"controlPlane": {"enabled": True}}}}
    return {"global": {"grafanaUrl": url}, "prometheus": {**prometheus, "alerts": alerts or {}}}


@pytest.mark.parametrize("url", URLS)
def test_a_rule_file_prints_the_same_copied_as_built(tmp_path, unfilled, url):
    """A rule file no override touches is copied from files/rules-filled/ (written by `cfmon
    generate`), where the chart without them parses, fills and serialises it: both print the same
    bytes, at URL lengths that move where toYaml folds the dashboard links (the copy holds each
    link folded for URLs from some length on and leaves shorter ones to toYaml)."""
    copied = _rule_texts(render("prod", _with_url(url), tmp_path))
    assert len(copied) == len(list(RULES_DIR.glob("*.yaml")))
    assert _rule_texts(render("prod", _with_url(url), tmp_path, root=unfilled)) == copied
    assert url + "/d/" in "".join(text for data in copied.values() for text in data.values())


# Every kind of override, on the first, a middle and the last alert of a file, alerts with and
# without parameters, and one alert in each of three files.
OVERRIDES = {
    "RedisDown": {"for": "3m", "severity": "warning", "labels": {"team": "data"}},
    "RedisMemoryHigh": {"params": {"threshold": 0.75}, "priority": "P1"},
    "RedisRejectedConnections": {"annotations": {"summary": "Redis turns clients away (${threshold})."}},
    "AlertmanagerClusterMembersMissing": {"params": {"expectedMembers": 5}},
    "ApiGatewayLatencyP99High": {"params": {"thresholdSeconds": 2.5}, "for": "1h"},
}


@pytest.mark.parametrize("url", [URLS[1], URLS[4]])
def test_an_overridden_alert_is_built_into_the_copy(tmp_path, unfilled, url):
    """An override rebuilds only its alert (parsed, filled, serialised at the place it stands in
    the file) and copies the rest: the same bytes as building the whole file."""
    assert {_file_of(name) for name in OVERRIDES} >= {"redis.yaml", "stack.yaml", "applications.yaml"}
    spliced = _rule_texts(render("prod", _with_url(url, OVERRIDES), tmp_path))
    assert _rule_texts(render("prod", _with_url(url, OVERRIDES), tmp_path, root=unfilled)) == spliced
    alert = _alert(render("prod", _with_url(url, OVERRIDES), tmp_path), "RedisMemoryHigh")
    assert alert["expr"].endswith("> 0.75") and alert["labels"]["priority"] == "P1"


def _file_of(alert: str) -> str:
    return next(p.name for p in RULES_DIR.glob("*.yaml") if f"\n  - alert: {alert}\n" in p.read_text())


def test_the_copy_is_taken_where_no_override_disables_an_alert(repo, tmp_path):
    """Proof that the copy is what prints: a comment put into one filled file shows in its
    ConfigMap, still with an override of one of its alerts (only that alert is rebuilt), and is
    gone once an override drops one of them (the whole file is built)."""
    filled = repo / FILLED_DIR / "redis.yaml"
    filled.write_text(filled.read_text().replace("\n- name: ", "\n# copied\n- name: ", 1))

    def redis_rules(overlay=None):
        objs = render("prod", overlay, tmp_path, root=repo)
        return "".join(objs["ConfigMap/creativeflow-prometheus-rules-redis"]["data"].values())

    assert "# copied\n" in redis_rules()
    assert "# copied\n" in redis_rules({"prometheus": {"alerts": {"RedisDown": {"for": "3m"}}}})
    dropped = redis_rules({"prometheus": {"alerts": {"RedisDown": {"enabled": False}}}})
    assert "# copied" not in dropped and "alert: RedisDown\n" not in dropped

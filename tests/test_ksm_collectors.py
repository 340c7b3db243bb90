"""kube-state-metrics exports, and its ClusterRole may list and watch, exactly the kinds in the
subchart's `collectors` (tests/test_chart_exporters.py). Here the other direction: every kube_*
series a rule or a dashboard reads comes from a kind in `collectors`, so a new alert on a kind
the exporter does not watch (poddisruptionbudgets, say) fails here instead of staying silent."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "charts/creativeflow-monitoring/charts"
GENERATED = [CHART / "prometheus/files/rules", CHART / "grafana/files/dashboards"]

# Metric-name prefix -> the collector (resource) that exports it. Longer prefixes first where one
# is the start of another (persistentvolumeclaim / persistentvolume, poddisruptionbudget / pod).
KINDS = {
    "kube_poddisruptionbudget_": "poddisruptionbudgets",
    "kube_pod_": "pods",
    "kube_node_": "nodes",
    "kube_namespace_": "namespaces",
    "kube_deployment_": "deployments",
    "kube_statefulset_": "statefulsets",
    "kube_daemonset_": "daemonsets",
    "kube_replicaset_": "replicasets",
    "kube_job_": "jobs",
    "kube_cronjob_": "cronjobs",
    "kube_horizontalpodautoscaler_": "horizontalpodautoscalers",
    "kube_persistentvolumeclaim_": "persistentvolumeclaims",
    "kube_persistentvolume_": "persistentvolumes",
    "kube_resourcequota_": "resourcequotas",
    "kube_limitrange_": "limitranges",
    "kube_service_": "services",
    "kube_ingress_": "ingresses",
    "kube_storageclass_": "storageclasses",
}
# kube-state-metrics' own telemetry, not an object kind.
TELEMETRY = "kube_state_metrics_"
# A metric name, not the middle of a recorded series' name (level:metric:operations).
NAME = re.compile(r"(?<![\w:])kube_[a-z_]+")


def read_metrics() -> set[str]:
    return {m for d in GENERATED for f in d.rglob("*") if f.is_file() for m in NAME.findall(f.read_text())}


def collector_of(metric: str) -> str | None:
    for prefix in sorted(KINDS, key=len, reverse=True):
        if metric.startswith(prefix) or metric == prefix[:-1]:
            return KINDS[prefix]
    return None


def test_every_kube_series_read_has_its_collector():
    collectors = set(yaml.safe_load((CHART / "kube-state-metrics/values.yaml").read_text())["collectors"])
    metrics = {m for m in read_metrics() if not m.startswith(TELEMETRY)}
    assert metrics, "no kube_* series found in the generated rules and dashboards"
    unknown = sorted(m for m in metrics if collector_of(m) is None)
    assert not unknown, f"kube_* series of no known kind (add the prefix to KINDS): {unknown}"
    missing = sorted({f"{collector_of(m)} (for {m})" for m in metrics if collector_of(m) not in collectors})
    assert not missing, (
        "kube-state-metrics does not export what the rules or dashboards read; add to "
        f"charts/creativeflow-monitoring/charts/kube-state-metrics/values.yaml `collectors`: {missing}"
    )


def test_a_kind_missing_from_the_collectors_is_named():
    assert collector_of("kube_poddisruptionbudget_status_current_healthy") == "poddisruptionbudgets"
    assert collector_of("kube_pod_status_phase") == "pods"
    assert collector_of("kube_resourcequota") == "resourcequotas"
    assert collector_of("kube_persistentvolumeclaim_status_phase") == "persistentvolumeclaims"
    assert collector_of("kube_persistentvolume_status_phase") == "persistentvolumes"
    assert NAME.findall("namespace_resourcequota:kube_resourcequota_used:ratio > 1") == []

"""docs/coverage.md keeps true counts: the alerts, recording rules, dashboards and panels of each
Kubernetes, node and monitoring-stack area, computed here from the generated rule files and
dashboards. A new rule group or dashboard of those areas must be given an area here, and the
table in the doc updated (`python tests/test_coverage_doc.py` prints it)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "charts/creativeflow-monitoring/charts/prometheus/files/rules"
DASHBOARDS = ROOT / "charts/creativeflow-monitoring/charts/grafana/files/dashboards"
DOC = ROOT / "docs/coverage.md"
# Rule files of the areas the doc compares; the platform's own services are not compared.
FILES = ["kubernetes.yaml", "kubernetes-control-plane.yaml", "platform.yaml", "stack.yaml", "logs.yaml"]

# Areas in the doc's order: (name, rule groups, dashboard uids).
AREAS = [
    (
        "Workloads (kubernetes-apps)",
        [
            "kubernetes-alerts",
            "kubernetes-alerts-rollouts",
            "kubernetes-alerts-disruptions",
            "kubernetes-recording-workloads",
            "kubernetes-recording-workloads-dashboard",
            "kubernetes-recording-workloads-dashboard-containers",
            "kubernetes-recording-workloads-dashboard-usage",
            "kubernetes-recording-workloads-dashboard-resources",
        ],
        ["kubernetes-workloads"],
    ),
    (
        "Resources (kubernetes-resources)",
        [
            "kubernetes-alerts-resources",
            "kubernetes-alerts-capacity",
            "kubernetes-recording",
            "kubernetes-recording-requests",
            "kubernetes-recording-quotas",
            "kubernetes-recording-1h",
            "kubernetes-recording-namespace-dashboard",
            "kubernetes-recording-namespace-dashboard-resources",
            "kubernetes-recording-pod-dashboard",
        ],
        ["kubernetes-cluster", "kubernetes-namespace", "kubernetes-pod", "kubernetes-networking"],
    ),
    (
        "Storage (kubernetes-storage)",
        ["kubernetes-alerts-storage", "kubernetes-recording-storage"],
        ["kubernetes-persistent-volumes"],
    ),
    (
        "Kubelet and nodes (kubernetes-system-kubelet)",
        [
            "kubernetes-alerts-kubelet",
            "kubernetes-alerts-kubelet-certificates",
            "kubernetes-recording-kubelet",
            "kubernetes-recording-kubelet-dashboard",
        ],
        ["kubernetes-kubelet"],
    ),
    (
        "API server (kube-apiserver-slos, kubernetes-system-apiserver, kubernetes-system)",
        [
            "kubernetes-alerts-apiserver",
            "kubernetes-alerts-apiserver-slo",
            "kubernetes-alerts-apiserver-health",
            "kubernetes-recording-apiserver",
            "kubernetes-recording-apiserver-dashboard",
            "slo-kube-apiserver-availability-recording",
            "slo-kube-apiserver-latency-recording",
        ],
        ["kubernetes-apiserver"],
    ),
    (
        "Control plane: scheduler, controller manager, etcd (off by default)",
        [
            "kubernetes-control-plane-alerts",
            "kubernetes-control-plane-alerts-etcd",
            "kubernetes-control-plane-recording",
            "kubernetes-control-plane-recording-etcd",
        ],
        [],
    ),
    ("kube-state-metrics", [], []),
    ("CoreDNS", ["kubernetes-alerts-coredns", "kubernetes-recording-coredns"], ["kubernetes-coredns"]),
    (
        "Nodes (node-exporter, node-network)",
        [
            "platform-alerts",
            "platform-alerts-kernel",
            "platform-alerts-devices",
            "platform-alerts-saturation",
            "platform-alerts-systemd",
            "platform-recording-cpu",
            "platform-recording",
            "platform-recording-memory",
            "platform-recording-1h",
            "platform-recording-health",
        ],
        ["nodes", "node-health"],
    ),
    (
        "Prometheus (prometheus, general.rules)",
        [
            "stack-prometheus",
            "stack-watchdog",
            "stack-prometheus-ingestion",
            "stack-prometheus-limits",
            "stack-prometheus-delivery",
            "stack-prometheus-target-sync",
            "stack-recording-prometheus-dashboard",
        ],
        ["prometheus-alertmanager", "stack-health"],
    ),
    ("Alertmanager", ["stack-alertmanager", "stack-alertmanager-cluster"], ["alertmanager-cluster"]),
    (
        "Grafana, Loki and log agents (not in kube-prometheus-stack)",
        [
            "stack-components",
            "logs-agent-alerts",
            "logs-loki-alerts",
            "logs-agent-recording",
            "logs-loki-recording",
        ],
        ["loki-log-agents"],
    ),
]
# Alerts whose group mixes areas: the area they belong to.
MOVED = {
    "KubeNodeNotReady": "Kubelet and nodes (kubernetes-system-kubelet)",
    "KubeNodeEviction": "Kubelet and nodes (kubernetes-system-kubelet)",
    "KubeHpaReplicasMismatch": "Workloads (kubernetes-apps)",
    "KubeStateMetricsDown": "kube-state-metrics",
    "KubeStateMetricsListErrors": "kube-state-metrics",
    "KubeStateMetricsWatchErrors": "kube-state-metrics",
    "KubePersistentVolumeSpaceLow": "Storage (kubernetes-storage)",
    "KubePersistentVolumeFillingUp": "Storage (kubernetes-storage)",
}
# Groups of the compared files that belong to no compared area (the platform's own log alerts).
OTHER = {"logs-alerts", "logs-recording"}


def counts() -> dict[str, dict[str, int]]:
    groups: dict[str, list[dict]] = {}
    for name in FILES:
        for g in yaml.safe_load((RULES / name).read_text())["groups"]:
            groups[g["name"]] = g["rules"]
    area_of = {g: area for area, gs, _ in AREAS for g in gs}
    unassigned = set(groups) - set(area_of) - OTHER
    assert not unassigned, f"rule groups without an area in tests/test_coverage_doc.py: {sorted(unassigned)}"
    result = {area: {"alerts": 0, "records": 0, "dashboards": 0, "panels": 0} for area, _, _ in AREAS}
    for group, rules in groups.items():
        if group in OTHER:
            continue
        for rule in rules:
            if "alert" in rule:
                result[MOVED.get(rule["alert"], area_of[group])]["alerts"] += 1
            else:
                result[area_of[group]]["records"] += 1
    files = {p.stem: p for p in DASHBOARDS.glob("*/*.json")}
    for area, _, uids in AREAS:
        for uid in uids:
            panels = json.loads(files[uid].read_text())["panels"]
            result[area]["dashboards"] += 1
            result[area]["panels"] += sum(1 for p in panels if p["type"] != "row")
    return result


def table() -> str:
    c = counts()
    rows = ["| area | alerts | recording rules | dashboards | panels |", "|---|---:|---:|---:|---:|"]
    for area, _, _ in AREAS:
        n = c[area]
        rows.append(f"| {area} | {n['alerts']} | {n['records']} | {n['dashboards']} | {n['panels']} |")
    total = {k: sum(n[k] for n in c.values()) for k in ("alerts", "records", "dashboards", "panels")}
    cells = " | ".join(f"**{total[k]}**" for k in ("alerts", "records", "dashboards", "panels"))
    rows.append(f"| **total** | {cells} |")
    return "\n".join(rows)


def test_the_doc_counts_are_those_of_the_generated_files():
    doc = DOC.read_text()
    found = re.search(r"<!-- counts:begin -->\n(.*?)\n<!-- counts:end -->", doc, re.S)
    assert found, (
        "docs/coverage.md: the counts table between <!-- counts:begin --> and <!-- counts:end --> is missing"
    )
    assert found.group(1).strip() == table(), (
        "docs/coverage.md: the counts changed; replace the table with:\n" + table()
    )


def test_every_alert_the_doc_says_we_have_exists():
    names = {
        r["alert"]
        for f in RULES.glob("*.yaml")
        for g in yaml.safe_load(f.read_text())["groups"]
        for r in g["rules"]
        if "alert" in r
    }
    said = set(re.findall(r"\| `[A-Za-z]+` \| `([A-Z][A-Za-z]+)`", DOC.read_text()))
    assert said, "docs/coverage.md: no mapping rows found"
    assert said <= names, f"docs/coverage.md names alerts that do not exist: {sorted(said - names)}"


if __name__ == "__main__":
    print(table())

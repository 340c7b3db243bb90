"""The node-exporter and kube-state-metrics subcharts: what ships, and what each values switch does."""

from __future__ import annotations

import functools
import json
import re

import pytest
import yaml
from conftest import ROOT, render

from cfmon.errors import UserError

ENVS = ("dev", "staging", "prod")
CHARTS = ROOT / "charts/creativeflow-monitoring/charts"
NE = "creativeflow-node-exporter"
KSM = "creativeflow-kube-state-metrics"
PROMETHEUS_PODS = {"app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": "creativeflow"}


@functools.cache
def _render(env: str) -> dict:
    return render(env)


def default(env: str = "prod") -> dict:
    """The render of an environment without overlay (cached: tests only read it)."""
    return _render(env)


def chart_values(chart: str) -> dict:
    return yaml.safe_load((CHARTS / chart / "values.yaml").read_text())


def ds_pod(objs) -> dict:
    return objs[f"DaemonSet/{NE}"]["spec"]["template"]["spec"]


def ksm_pod(objs) -> dict:
    return objs[f"Deployment/{KSM}"]["spec"]["template"]["spec"]


def args_of(pod) -> list[str]:
    return pod["containers"][0]["args"]


def flag(args: list[str], name: str) -> str | None:
    values = [a.split("=", 1)[1] for a in args if a.startswith(f"--{name}=")]
    assert len(values) <= 1, f"--{name} given twice"
    return values[0] if values else None


def policy_labels(objs, name) -> dict:
    return objs[f"NetworkPolicy/{name}"]["spec"]


# ---- node-exporter -------------------------------------------------------------------------------


def test_daemonset_reads_the_host_through_read_only_mounts():
    pod = ds_pod(default())
    assert pod["hostNetwork"] is True and pod["hostPID"] is True
    volumes = {v["name"]: v["hostPath"]["path"] for v in pod["volumes"]}
    # The text-file collector's directory: where node-local jobs drop their .prom files.
    assert volumes == {
        "proc": "/proc",
        "sys": "/sys",
        "root": "/",
        "textfile": "/var/lib/node-exporter/textfile",
    }
    mounts = {m["name"]: m for m in pod["containers"][0]["volumeMounts"]}
    assert {n: m["mountPath"] for n, m in mounts.items()} == {
        "proc": "/host/proc",
        "sys": "/host/sys",
        "root": "/host/root",
        "textfile": "/host/textfile",
    }
    assert all(m.get("readOnly") is True for m in mounts.values())
    assert mounts["root"]["mountPropagation"] == "HostToContainer"
    args = args_of(pod)
    assert flag(args, "path.procfs") == "/host/proc"
    assert flag(args, "path.sysfs") == "/host/sys"
    assert flag(args, "path.rootfs") == "/host/root"
    # Bound to the node's own address (hostNetwork), on the port the scrape job expects.
    assert flag(args, "web.listen-address") == "[$(HOST_IP)]:9100"
    env = {
        e["name"]: e.get("value") or e["valueFrom"]["fieldRef"]["fieldPath"]
        for e in pod["containers"][0]["env"]
    }
    # The systemd collector talks to the host's D-Bus through the read-only root mount.
    assert env == {
        "HOST_IP": "status.hostIP",
        "DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/host/root/run/dbus/system_bus_socket",
    }
    assert pod["containers"][0]["ports"] == [
        {"name": "http-metrics", "containerPort": 9100, "protocol": "TCP"}
    ]


@pytest.mark.parametrize(
    ("path", "excluded"),
    [
        ("/var/lib/kubelet/pods/0b6f/volumes/kubernetes.io~projected/kube-api-access", True),
        ("/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc/rootfs", True),
        ("/var/lib/docker/overlay2/abc/merged", True),
        ("/proc", True),
        ("/", False),
        ("/var/lib/kubelet", False),
        ("/data", False),
    ],
)
def test_filesystem_collector_skips_container_and_kubelet_mounts(path, excluded):
    regex = flag(args_of(ds_pod(default())), "collector.filesystem.mount-points-exclude")
    assert bool(re.search(regex, path)) is excluded


@pytest.mark.parametrize(
    ("device", "excluded"),
    [
        ("veth3a1b2c4", True),
        ("cali1234567890a", True),
        ("lxc8f2e1d", True),
        ("eth0", False),
        ("ens5", False),
        ("bond0", False),
    ],
)
def test_network_collectors_skip_per_pod_interfaces(device, excluded):
    args = args_of(ds_pod(default()))
    for name in ("collector.netclass.ignored-devices", "collector.netdev.device-exclude"):
        assert bool(re.search(flag(args, name), device)) is excluded, name


def test_collectors_are_switched_by_values(tmp_path):
    assert "--no-collector.wifi" in args_of(ds_pod(default()))
    overlay = {"node-exporter": {"collectors": {"disabled": ["hwmon"], "enabled": ["systemd", "processes"]}}}
    args = args_of(ds_pod(render("prod", overlay, tmp_path)))
    assert [a for a in args if a.startswith(("--no-collector.", "--collector.")) and "=" not in a] == [
        "--no-collector.hwmon",
        "--collector.systemd",
        "--collector.processes",
        # With the systemd collector, its per-service restart counters (NodeSystemdServiceCrashlooping).
        "--collector.systemd.enable-restarts-metrics",
    ]
    overlay = {"node-exporter": {"collectors": {"enabled": ["processes"]}}}
    args = args_of(ds_pod(render("prod", overlay, tmp_path)))
    assert "--collector.systemd.enable-restarts-metrics" not in args


def test_tolerations_switch(tmp_path):
    assert ds_pod(default())["tolerations"] == [{"operator": "Exists"}]
    off = ds_pod(render("prod", {"node-exporter": {"tolerateAllTaints": False}}, tmp_path))
    assert "tolerations" not in off
    control_plane = [
        {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}
    ]
    some = ds_pod(
        render(
            "prod", {"node-exporter": {"tolerateAllTaints": False, "tolerations": control_plane}}, tmp_path
        )
    )
    assert some["tolerations"] == control_plane


def test_rollout_and_priority_are_values(tmp_path):
    ds = default()[f"DaemonSet/{NE}"]
    assert ds["spec"]["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}}
    assert "priorityClassName" not in ds["spec"]["template"]["spec"]
    overlay = {
        "node-exporter": {
            "updateStrategy": {"maxUnavailable": "10%"},
            "priorityClassName": "system-node-critical",
        }
    }
    ds = render("prod", overlay, tmp_path)[f"DaemonSet/{NE}"]
    assert ds["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] == "10%"
    assert ds["spec"]["template"]["spec"]["priorityClassName"] == "system-node-critical"


def test_node_exporter_service_is_headless_on_http_metrics():
    objs = default()
    svc = objs[f"Service/{NE}"]["spec"]
    assert svc["clusterIP"] == "None"
    assert svc["ports"] == [
        {"name": "http-metrics", "port": 9100, "targetPort": "http-metrics", "protocol": "TCP"}
    ]
    pod_labels = objs[f"DaemonSet/{NE}"]["spec"]["template"]["metadata"]["labels"]
    assert svc["selector"].items() <= pod_labels.items()
    assert objs[f"ServiceAccount/{NE}"]["automountServiceAccountToken"] is False
    assert ds_pod(objs)["automountServiceAccountToken"] is False


def test_node_exporter_network_policy_admits_only_prometheus_on_9100():
    objs = default()
    spec = policy_labels(objs, NE)
    assert spec["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "node-exporter",
        "app.kubernetes.io/instance": "creativeflow",
    }
    assert spec["policyTypes"] == ["Ingress"]
    assert spec["ingress"] == [
        {
            "from": [{"podSelector": {"matchLabels": PROMETHEUS_PODS}}],
            "ports": [{"port": 9100, "protocol": "TCP"}],
        }
    ]
    assert "egress" not in spec


# ---- kube-state-metrics --------------------------------------------------------------------------


def test_ksm_rbac_is_read_only_on_exactly_the_collectors():
    objs = default()
    collectors = chart_values("kube-state-metrics")["collectors"]
    rules = objs[f"ClusterRole/{KSM}"]["rules"]
    granted = []
    for rule in rules:
        assert set(rule["verbs"]) <= {"get", "list", "watch"}, rule
        assert "*" not in rule["resources"] and "*" not in rule["apiGroups"], rule
        assert "nonResourceURLs" not in rule and "resourceNames" not in rule
        granted += rule["resources"]
    assert sorted(granted) == sorted(collectors) and len(granted) == len(set(granted))
    assert "secrets" not in granted and "configmaps" not in granted
    assert flag(args_of(ksm_pod(objs)), "resources").split(",") == sorted(collectors)
    binding = objs[f"ClusterRoleBinding/{KSM}"]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": KSM}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": KSM, "namespace": "monitoring"}]


def test_ksm_collectors_drive_the_flag_and_the_rules(tmp_path):
    overlay = {"kube-state-metrics": {"collectors": ["pods", "leases", "secrets"]}}
    objs = render("prod", overlay, tmp_path)
    assert objs[f"ClusterRole/{KSM}"]["rules"] == [
        {"apiGroups": [""], "resources": ["pods", "secrets"], "verbs": ["list", "watch"]},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["list", "watch"]},
    ]
    assert flag(args_of(ksm_pod(objs)), "resources") == "leases,pods,secrets"


def test_every_collector_the_schema_allows_has_an_api_group(tmp_path):
    schema = json.loads((CHARTS / "kube-state-metrics/values.schema.json").read_text())
    every = schema["definitions"]["collector"]["enum"]
    objs = render("prod", {"kube-state-metrics": {"collectors": every}}, tmp_path)
    granted = [r for rule in objs[f"ClusterRole/{KSM}"]["rules"] for r in rule["resources"]]
    assert sorted(granted) == sorted(every)


def test_ksm_allowlists(tmp_path):
    args = args_of(ksm_pod(default()))
    assert flag(args, "metric-labels-allowlist") == "pods=[app.kubernetes.io/name,model_name,model_version]"
    assert flag(args, "metric-annotations-allowlist") is None
    overlay = {
        "kube-state-metrics": {
            "metricLabelsAllowlist": {"namespaces": ["team"]},
            "metricAnnotationsAllowlist": {"pods": ["creativeflow.ai/owner"]},
        }
    }
    args = args_of(ksm_pod(render("prod", overlay, tmp_path)))
    # Maps merge with the defaults: pods stays, namespaces joins; kinds in sorted order.
    assert flag(args, "metric-labels-allowlist") == (
        "namespaces=[team],pods=[app.kubernetes.io/name,model_name,model_version]"
    )
    assert flag(args, "metric-annotations-allowlist") == "pods=[creativeflow.ai/owner]"


def test_allowlist_for_a_kind_not_exported_is_an_error(tmp_path):
    with pytest.raises(UserError) as err:
        render("prod", {"kube-state-metrics": {"metricAnnotationsAllowlist": {"secrets": ["x"]}}}, tmp_path)
    assert err.value.key == "kube-state-metrics.metricAnnotationsAllowlist.secrets"


def test_ksm_service_ports_and_probes():
    objs = default()
    assert objs[f"Service/{KSM}"]["spec"]["ports"] == [
        {"name": "http-metrics", "port": 8080, "targetPort": "http-metrics", "protocol": "TCP"},
        {"name": "telemetry", "port": 8081, "targetPort": "telemetry", "protocol": "TCP"},
    ]
    pod = ksm_pod(objs)
    c = pod["containers"][0]
    assert {p["name"]: p["containerPort"] for p in c["ports"]} == {"http-metrics": 8080, "telemetry": 8081}
    assert flag(c["args"], "port") == "8080" and flag(c["args"], "telemetry-port") == "8081"
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http-metrics"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/", "port": "telemetry"}
    # The token is mounted (it lists the API), through the pod spec only.
    assert pod["serviceAccountName"] == KSM and pod["automountServiceAccountToken"] is True
    assert objs[f"ServiceAccount/{KSM}"]["automountServiceAccountToken"] is False


def test_ksm_network_policy(tmp_path):
    spec = policy_labels(default(), KSM)
    assert spec["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "kube-state-metrics",
        "app.kubernetes.io/instance": "creativeflow",
    }
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["ingress"] == [
        {
            "from": [{"podSelector": {"matchLabels": PROMETHEUS_PODS}}],
            "ports": [{"port": 8080, "protocol": "TCP"}, {"port": 8081, "protocol": "TCP"}],
        }
    ]
    # Only the API server ports; no destination list until the cluster's CIDRs are set.
    assert spec["egress"] == [
        {"ports": [{"port": 443, "protocol": "TCP"}, {"port": 6443, "protocol": "TCP"}]}
    ]
    overlay = {
        "kube-state-metrics": {"networkPolicy": {"apiServerCIDRs": ["10.0.0.0/28"], "apiServerPorts": [6443]}}
    }
    spec = policy_labels(render("prod", overlay, tmp_path), KSM)
    assert spec["egress"] == [
        {"ports": [{"port": 6443, "protocol": "TCP"}], "to": [{"ipBlock": {"cidr": "10.0.0.0/28"}}]}
    ]


def test_network_policies_follow_the_global_switch(tmp_path):
    objs = render("prod", {"global": {"networkPolicy": {"enabled": False}}}, tmp_path)
    assert f"NetworkPolicy/{NE}" not in objs and f"NetworkPolicy/{KSM}" not in objs
    assert f"DaemonSet/{NE}" in objs and f"Deployment/{KSM}" in objs


def test_ksm_replicas_pdb_and_spread(tmp_path):
    objs = default()
    assert objs[f"Deployment/{KSM}"]["spec"]["replicas"] == 1
    assert "affinity" not in ksm_pod(objs)
    assert not any(k.startswith("PodDisruptionBudget/") and "kube-state-metrics" in k for k in objs)
    overlay = {"kube-state-metrics": {"replicas": 2, "podDisruptionBudget": {"enabled": True}}}
    objs = render("prod", overlay, tmp_path)
    assert objs[f"Deployment/{KSM}"]["spec"]["replicas"] == 2
    pdb = objs[f"PodDisruptionBudget/{KSM}"]["spec"]
    assert pdb == {
        "minAvailable": 1,
        "selector": {
            "matchLabels": {
                "app.kubernetes.io/name": "kube-state-metrics",
                "app.kubernetes.io/instance": "creativeflow",
            }
        },
    }
    anti = ksm_pod(objs)["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert anti[0]["podAffinityTerm"]["labelSelector"]["matchLabels"] == pdb["selector"]["matchLabels"]


def test_pdb_over_one_replica_is_refused(tmp_path):
    with pytest.raises(UserError) as err:
        render("prod", {"kube-state-metrics": {"podDisruptionBudget": {"enabled": True}}}, tmp_path)
    assert err.value.key == "kube-state-metrics.podDisruptionBudget.enabled"


# ---- both ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_exporters_are_hardened_pinned_and_sized(env):
    objs = default(env)
    for key, pod in ((f"DaemonSet/{NE}", ds_pod(objs)), (f"Deployment/{KSM}", ksm_pod(objs))):
        labels = objs[key]["spec"]["template"]["metadata"]["labels"]
        # The stack's default-deny NetworkPolicy selects the pods by these two labels.
        assert labels["app.kubernetes.io/part-of"] == "creativeflow-monitoring", key
        assert labels["app.kubernetes.io/instance"] == "creativeflow", key
        assert pod["securityContext"] == {
            "runAsNonRoot": True,
            "runAsUser": 65534,
            "runAsGroup": 65534,
            "fsGroup": 65534,
            "seccompProfile": {"type": "RuntimeDefault"},
        }, key
        for c in pod["containers"]:
            assert c["securityContext"] == {
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "capabilities": {"drop": ["ALL"]},
            }, key
            assert c["resources"]["requests"]["cpu"] and c["resources"]["limits"]["memory"], key
            tag = c["image"].rsplit(":", 1)[1]
            assert re.fullmatch(r"v\d+\.\d+\.\d+", tag), c["image"]
        assert "privileged" not in json.dumps(pod)


def test_environment_sizes():
    ne = {env: ds_pod(default(env))["containers"][0]["resources"] for env in ENVS}
    ksm = {env: ksm_pod(default(env))["containers"][0]["resources"] for env in ENVS}
    assert ne["dev"]["limits"]["memory"] == "64Mi" and ne["prod"]["limits"]["memory"] == "192Mi"
    assert ksm["dev"]["limits"]["memory"] == "128Mi" and ksm["prod"]["limits"]["memory"] == "512Mi"
    assert ne["staging"] == chart_values("node-exporter")["resources"]
    assert ksm["staging"] == chart_values("kube-state-metrics")["resources"]


OBJECTS = {
    "node-exporter": ["DaemonSet", "NetworkPolicy", "Service", "ServiceAccount"],
    "kube-state-metrics": [
        "ClusterRole",
        "ClusterRoleBinding",
        "Deployment",
        "NetworkPolicy",
        "Service",
        "ServiceAccount",
    ],
}


@pytest.mark.parametrize("component", sorted(OBJECTS))
def test_disabling_a_component_removes_every_object_of_it(component, tmp_path):
    def owned(objs):
        return sorted(
            k
            for k, o in objs.items()
            if (o.get("metadata", {}).get("labels") or {}).get("app.kubernetes.io/name") == component
            or component in k
        )

    assert owned(default()) == [f"{kind}/creativeflow-{component}" for kind in OBJECTS[component]]
    objs = render("prod", {component: {"enabled": False}}, tmp_path)
    assert owned(objs) == []
    other = "kube-state-metrics" if component == "node-exporter" else "node-exporter"
    assert any(other in k for k in objs)


@pytest.mark.parametrize(
    ("overlay", "key"),
    [
        ({"kube-state-metrics": {"replicas": "two"}}, "kube-state-metrics.replicas"),
        ({"kube-state-metrics": {"replica": 2}}, "kube-state-metrics.replica"),
        ({"kube-state-metrics": {"collectors": ["podz"]}}, "kube-state-metrics.collectors.0"),
        (
            {"kube-state-metrics": {"metricLabelsAllowlist": {"pods": ["*"]}}},
            "kube-state-metrics.metricLabelsAllowlist.pods.0",
        ),
        (
            {"kube-state-metrics": {"networkPolicy": {"apiServerCIDRs": ["10.0.0.1"]}}},
            "kube-state-metrics.networkPolicy.apiServerCIDRs.0",
        ),
        ({"kube-state-metrics": {"image": {"tag": "latest"}}}, "kube-state-metrics.image.tag"),
        ({"node-exporter": {"tolerateAllTaints": "yes"}}, "node-exporter.tolerateAllTaints"),
        ({"node-exporter": {"tolerateAll": True}}, "node-exporter.tolerateAll"),
        (
            {"node-exporter": {"collectors": {"netdevExclude": "^x$"}}},
            "node-exporter.collectors.netdevExclude",
        ),
        (
            {"node-exporter": {"updateStrategy": {"maxUnavailable": 0}}},
            "node-exporter.updateStrategy.maxUnavailable",
        ),
        ({"node-exporter": {"image": {"tag": "latest"}}}, "node-exporter.image.tag"),
        ({"node-exporter": {"enabled": "no"}}, "node-exporter.enabled"),
    ],
)
def test_schema_rejects_wrong_types_and_unknown_keys_with_the_path(overlay, key, tmp_path):
    with pytest.raises(UserError) as err:
        render("prod", overlay, tmp_path)
    assert err.value.key == key, str(err.value)

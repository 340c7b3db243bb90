"""What each values switch does to the rendered chart, and that helm 4 renders what helm 3.18 does."""

from __future__ import annotations

import pytest
import yaml
from conftest import ROOT, render

from cfmon import binaries
from cfmon.errors import UserError
from cfmon.manifests import split_by_source
from cfmon.project import find_root
from cfmon.render import canonical, helm_output

PROJECT = find_root(ROOT)
ENVS = ("dev", "staging", "prod")


def prom_config(objs) -> dict:
    return yaml.safe_load(objs["ConfigMap/creativeflow-prometheus-config"]["data"]["prometheus.yml"])


@pytest.mark.parametrize("env", ENVS)
def test_helm4_renders_the_same_as_helm3(env):
    if not binaries.probe("helm4").ok:
        pytest.fail("helm4 is missing: run tools/install-deps")
    a = canonical(split_by_source(helm_output(PROJECT, env)[0]))
    b = canonical(split_by_source(helm_output(PROJECT, env, helm="helm4")[0]))
    assert a == b


@pytest.mark.parametrize("env", ENVS)
def test_helm_lint_strict(env):
    proc = binaries.run("helm", ["lint", "--strict", str(PROJECT.chart), "-f", str(PROJECT.env_values(env))])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 chart(s) failed" in proc.stdout


def test_environment_labels_and_replica_label():
    cfg = prom_config(render("staging"))
    assert cfg["global"]["external_labels"] == {
        "cluster": "creativeflow-staging",
        "environment": "staging",
        "monitor": "creativeflow-main",
        "replica": "${POD_NAME}",
    }
    assert cfg["alerting"]["alert_relabel_configs"] == [{"action": "labeldrop", "regex": "replica"}]


def test_prod_is_highly_available_and_dev_is_small():
    prod, dev = render("prod"), render("dev")
    assert prod["StatefulSet/creativeflow-prometheus"]["spec"]["replicas"] == 2
    am = prod["StatefulSet/creativeflow-alertmanager"]["spec"]
    assert am["replicas"] == 3
    args = am["template"]["spec"]["containers"][0]["args"]
    peers = [a for a in args if a.startswith("--cluster.peer=")]
    assert len(peers) == 3 and "--cluster.listen-address=0.0.0.0:9094" in args
    dev_args = dev["StatefulSet/creativeflow-alertmanager"]["spec"]["template"]["spec"]["containers"][0][
        "args"
    ]
    assert "--cluster.listen-address=" in dev_args and not any(
        a.startswith("--cluster.peer") for a in dev_args
    )
    retention = [
        a
        for a in prod["StatefulSet/creativeflow-prometheus"]["spec"]["template"]["spec"]["containers"][0][
            "args"
        ]
        if a.startswith("--storage.tsdb.retention")
    ]
    assert retention == ["--storage.tsdb.retention.time=30d", "--storage.tsdb.retention.size=180GB"]


def test_config_change_rolls_the_pods(tmp_path):
    a = render("prod")["StatefulSet/creativeflow-prometheus"]["spec"]["template"]["metadata"]["annotations"]
    b = render("prod", {"prometheus": {"scrapeInterval": "30s"}}, tmp_path)[
        "StatefulSet/creativeflow-prometheus"
    ]["spec"]["template"]["metadata"]["annotations"]
    assert a["checksum/config"] != b["checksum/config"] and a["checksum/rules"] == b["checksum/rules"]


def test_components_are_toggled(tmp_path):
    objs = render("dev", {"alertmanager": {"enabled": False}}, tmp_path)
    assert not any(
        k.startswith(("StatefulSet/creativeflow-alertmanager", "ConfigMap/creativeflow-alertmanager"))
        for k in objs
    )
    assert "StatefulSet/creativeflow-prometheus" in objs
    # Loki off: no Loki workload, and the agents still render (they may ship to an external Loki).
    objs = render(
        "dev",
        {
            "loki": {"enabled": False},
            "alloy": {
                "loki": {"url": "http://loki.example:3100/loki/api/v1/push"},
                "networkPolicy": {
                    "lokiEgress": [{"to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}], "ports": [{"port": 3100}]}]
                },
            },
        },
        tmp_path,
    )
    assert not any(
        k.startswith(("StatefulSet/creativeflow-loki", "ConfigMap/creativeflow-loki")) for k in objs
    )
    assert "DaemonSet/creativeflow-alloy" in objs


def test_persistence_switch(tmp_path):
    on = render("dev")["StatefulSet/creativeflow-prometheus"]["spec"]
    assert on["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "10Gi"
    off = render("dev", {"prometheus": {"persistence": {"enabled": False}}}, tmp_path)[
        "StatefulSet/creativeflow-prometheus"
    ]["spec"]
    assert "volumeClaimTemplates" not in off
    assert {"name": "data", "emptyDir": {}} in off["template"]["spec"]["volumes"]


# Alertmanager routes, receivers, secrets and schema: tests/test_chart_alertmanager.py.


@pytest.mark.parametrize(
    ("overlay", "key", "says"),
    [
        ({"promethues": {"replicas": 2}}, "promethues", "no such key (the chart takes global, prometheus,"),
        ({"global": {"clustr": "x"}}, "global.clustr", "no such key (global takes environment, cluster,"),
        ({"global": {"environment": "qa"}}, "global.environment", 'one of dev, staging, prod (holds "qa")'),
        ({"global": {"cluster": ""}}, "global.cluster", "a non-empty string"),
        ({"global": {"cluster": 5}}, "global.cluster", "a non-empty string (holds 5)"),
        ({"global": {"grafanaUrl": "https://grafana.example.com/"}}, "global.grafanaUrl", "trailing slash"),
        ({"global": {"networkPolicy": {"enabled": "yes"}}}, "global.networkPolicy.enabled", "true or false"),
        (
            {"global": {"networkPolicy": {"dnsPodLabels": {"k8s-app": 1}}}},
            "global.networkPolicy.dnsPodLabels",
            "a map",
        ),
        ({"global": {"logs": {"runAsUser": 0}}}, "global.logs.runAsUser", "at least 1 (holds 0)"),
        ({"global": {"logs": {"runAsUser": 1.5}}}, "global.logs.runAsUser", "a whole number"),
        (
            {"global": {"logs": {"supplementalGroups": [4, -1]}}},
            "global.logs.supplementalGroups",
            "at least 0",
        ),
        ({"global": {"logs": {"level": "debug"}}}, "global.logs.level", "no such key"),
        ({"global": {"longTerm": {"enabled": 1}}}, "global.longTerm.enabled", "true or false (holds 1)"),
    ],
)
def test_the_umbrellas_own_values_are_checked(overlay, key, says, tmp_path):
    """The top-level keys and global, which no subchart schema owns, are refused with the key."""
    with pytest.raises(UserError) as err:
        render("prod", overlay, tmp_path)
    assert err.value.key == key and says in str(err.value), str(err.value)


def test_valid_umbrella_values_pass(tmp_path):
    overlay = {"global": {"logs": {"runAsUser": 2000, "supplementalGroups": [0, 4, 1000]}, "grafanaUrl": ""}}
    with pytest.raises(UserError, match=r"global\.grafanaUrl: set the URL"):
        render("prod", overlay, tmp_path)  # allowed by the check, required by the rules' links
    overlay["global"]["grafanaUrl"] = "http://grafana.monitoring.svc:3000/sub/path"
    assert "StatefulSet/creativeflow-prometheus" in render("prod", overlay, tmp_path)


def test_latest_image_tag_is_refused(tmp_path):
    with pytest.raises(UserError) as err:
        render("prod", {"prometheus": {"image": {"tag": "latest"}}}, tmp_path)
    assert err.value.key == "prometheus.image.tag"


@pytest.mark.parametrize("env", ENVS)
def test_every_container_is_hardened_and_has_resources(env, tmp_path):
    workloads = {k: o for k, o in render(env).items() if k.split("/")[0] in WORKLOADS}
    # Prometheus, Alertmanager, Grafana, node-exporter, kube-state-metrics, Loki, Alloy (the default
    # agent) and the long-term store: one victoria-metrics, or vmstorage, vminsert and vmselect in prod.
    assert len(workloads) == (10 if env == "prod" else 8), sorted(workloads)
    # The deprecated agent, still selectable by global.logs.agent, is held to the same rules.
    promtail = render(env, {"global": {"logs": {"agent": "promtail"}}}, tmp_path)
    assert "DaemonSet/creativeflow-alloy" not in promtail
    workloads["DaemonSet/creativeflow-promtail"] = promtail["DaemonSet/creativeflow-promtail"]
    for key, obj in workloads.items():
        pod = obj["spec"]["template"]["spec"]
        # Every pod runs as a non-root uid above 10000, the log agents included (they read the
        # node's logs through group ownership).
        assert pod["securityContext"]["runAsNonRoot"] is True, key
        assert pod["securityContext"]["runAsUser"] >= 10000, key
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, key
        for c in pod["containers"] + pod.get("initContainers", []):
            where = f"{key} container {c['name']}"
            assert c["securityContext"]["allowPrivilegeEscalation"] is False, where
            assert c["securityContext"]["readOnlyRootFilesystem"] is True, where
            assert c["securityContext"]["capabilities"]["drop"] == ["ALL"], where
            # The one exception: the log agents' init container, root with CAP_CHOWN alone, hands
            # the node's state directory to the agent's uid.
            if c["securityContext"].get("runAsUser") == 0:
                assert key in LOG_AGENTS and c["name"] == "state-owner", where
                assert c["securityContext"]["capabilities"]["add"] == ["CHOWN"], where
            else:
                assert "add" not in c["securityContext"]["capabilities"], where
            assert c["resources"]["requests"] and c["resources"]["limits"]["memory"], where
            tag = c["image"].rsplit(":", 1)[-1]
            assert "/" not in tag and tag != "latest", where


WORKLOADS = {"StatefulSet", "Deployment", "DaemonSet"}
LOG_AGENTS = {"DaemonSet/creativeflow-promtail", "DaemonSet/creativeflow-alloy"}

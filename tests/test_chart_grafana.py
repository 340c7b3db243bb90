"""The grafana subchart: what each value does to the rendered objects, per environment."""

from __future__ import annotations

import configparser
import json
import re
import shutil
from functools import cache
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, render

from cfmon.errors import UserError
from cfmon.manifests import parse_documents, split_by_source
from cfmon.project import CHART, find_root
from cfmon.render import helm_output

ENVS = ("dev", "staging", "prod")
NAME = "creativeflow-grafana"
SECRETS = "/etc/grafana/secrets"


@cache
def base(env: str) -> dict:
    """The render of an environment without overlay (shared by the tests; never mutate it)."""
    return render(env)


def grafana_objects(objs: dict) -> dict:
    return {k: v for k, v in objs.items() if "grafana" in k.split("/", 1)[1]}


def ini(objs: dict) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(objs[f"ConfigMap/{NAME}-config"]["data"]["grafana.ini"])
    return parser


def datasources(objs: dict) -> dict[str, dict]:
    doc = yaml.safe_load(objs[f"ConfigMap/{NAME}-datasources"]["data"]["datasources.yaml"])
    assert doc["apiVersion"] == 1 and doc["prune"] is True
    return {d["uid"]: d for d in doc["datasources"]}


def provider(objs: dict) -> dict:
    doc = yaml.safe_load(objs[f"ConfigMap/{NAME}-dashboard-provider"]["data"]["dashboards.yaml"])
    (only,) = doc["providers"]
    return only


def pod(objs: dict) -> dict:
    return objs[f"Deployment/{NAME}"]["spec"]["template"]["spec"]


def volume(objs: dict, name: str) -> dict:
    return next(v for v in pod(objs)["volumes"] if v["name"] == name)


def secret_files(objs: dict) -> dict[str, tuple[str, str]]:
    """File name under /etc/grafana/secrets -> (Secret, key)."""
    out = {}
    for src in volume(objs, "secrets")["projected"]["sources"]:
        for item in src["secret"]["items"]:
            out[item["path"]] = (src["secret"]["name"], item["key"])
    return out


def netpol(objs: dict) -> dict:
    return objs[f"NetworkPolicy/{NAME}"]["spec"]


def egress_ports(objs: dict) -> dict[int, list]:
    return {rule["ports"][0]["port"]: rule.get("to") for rule in netpol(objs)["egress"]}


# --- datasources and dashboards provider ---------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_datasources_point_at_this_release(env):
    ds = datasources(base(env))
    # dev is open (plain HTTP); staging and prod reach Prometheus and Alertmanager over HTTPS.
    scheme = "http" if env == "dev" else "https"
    assert list(ds) == ["prometheus", "loki", "longterm", "alertmanager"]
    # The long-term store (global.longTerm): the single server, or vmselect in prod's cluster.
    assert ds["longterm"]["name"] == "VictoriaMetrics-LongTerm" and ds["longterm"]["type"] == "prometheus"
    assert ds["longterm"]["url"] == {
        "prod": "http://creativeflow-victoria-metrics-vmselect.monitoring.svc:8481/select/0/prometheus"
    }.get(env, "http://creativeflow-victoria-metrics.monitoring.svc:8428")
    assert ds["prometheus"]["name"] == "Prometheus-Main"
    assert ds["prometheus"]["url"] == f"{scheme}://creativeflow-prometheus.monitoring.svc:9090"
    assert ds["loki"]["name"] == "Loki-Main"
    assert ds["loki"]["url"] == "http://creativeflow-loki.monitoring.svc:3100"
    assert ds["loki"]["jsonData"] == {"maxLines": 1000}
    am = ds["alertmanager"]
    assert (
        am["type"] == "alertmanager"
        and am["url"] == f"{scheme}://creativeflow-alertmanager.monitoring.svc:9093"
    )
    tls = (
        {}
        if env == "dev"
        else {"tlsAuthWithCACert": True, "serverName": "creativeflow-alertmanager.monitoring.svc"}
    )
    assert am["jsonData"] == {"implementation": "prometheus", "handleGrafanaManagedAlerts": False, **tls}
    assert ("basicAuth" in am) is (env != "dev")
    assert all(d["editable"] is False and d["access"] == "proxy" for d in ds.values())


def test_prometheus_is_the_only_default_datasource():
    ds = datasources(base("prod"))
    assert [uid for uid, d in ds.items() if d["isDefault"]] == ["prometheus"]
    assert ds["prometheus"]["jsonData"]["timeInterval"] == "15s"


@pytest.mark.parametrize(("env", "ui_updates"), [("dev", True), ("staging", False), ("prod", False)])
def test_dashboard_provider_per_environment(env, ui_updates):
    p = provider(base(env))
    assert p["allowUiUpdates"] is ui_updates
    assert p["disableDeletion"] is True and p["type"] == "file"
    assert p["options"] == {"path": "/var/lib/grafana/dashboards", "foldersFromFilesStructure": True}
    assert "folder" not in p  # folders come from the directories


def test_loki_datasource_toggle(tmp_path):
    objs = render("prod", {"grafana": {"datasources": {"loki": {"enabled": False}}}}, tmp_path)
    assert list(datasources(objs)) == ["prometheus", "longterm", "alertmanager"]
    assert 3100 not in egress_ports(objs)
    assert 3100 in egress_ports(base("prod"))


def test_tracing_links_logs_and_exemplars_to_traces(tmp_path):
    assert "tempo" not in datasources(base("prod"))
    peers = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "tracing"}}}]
    overlay = {
        "grafana": {
            "datasources": {
                "tracing": {
                    "enabled": True,
                    "url": "http://tempo.tracing.svc:3200",
                    "networkPolicyPeers": peers,
                }
            }
        }
    }
    objs = render("prod", overlay, tmp_path)
    ds = datasources(objs)
    assert ds["tempo"]["type"] == "tempo" and ds["tempo"]["url"] == "http://tempo.tracing.svc:3200"
    assert ds["tempo"]["jsonData"]["tracesToLogsV2"]["datasourceUid"] == "loki"
    by_field, in_line = ds["loki"]["jsonData"]["derivedFields"]
    # `$$` keeps Grafana's provisioning from expanding ${__value.raw} as an environment variable.
    for field in (by_field, in_line):
        assert field["datasourceUid"] == "tempo" and field["url"] == "$${__value.raw}"
    # The agents' structured metadata first, then the id in the line text.
    assert by_field["matcherType"] == "label" and by_field["matcherRegex"] == "traceID"
    assert in_line["matcherType"] == "regex"
    for line in ('{"traceID":"abc123"}', "level=info trace_id=abc123", '{"traceId": "abc123"}'):
        assert re.search(in_line["matcherRegex"], line).group(1) == "abc123", line
    assert ds["prometheus"]["jsonData"]["exemplarTraceIdDestinations"] == [
        {"name": "trace_id", "datasourceUid": "tempo"}
    ]
    assert egress_ports(objs)[3200] == peers


# --- grafana.ini ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "url"),
    [
        ("dev", "https://grafana.dev.creativeflow.ai"),
        ("staging", "https://grafana.staging.creativeflow.ai"),
        ("prod", "https://grafana.creativeflow.ai"),
    ],
)
def test_hardened_settings_and_root_url(env, url):
    cfg = ini(base(env))
    assert cfg["server"]["root_url"] == url
    assert cfg["users"]["allow_sign_up"] == "false"
    assert cfg["auth.anonymous"]["enabled"] == "false"
    assert cfg["security"]["cookie_secure"] == "true" and cfg["security"]["disable_gravatar"] == "true"
    assert (
        cfg["analytics"]["reporting_enabled"] == "false" and cfg["analytics"]["check_for_updates"] == "false"
    )
    assert cfg["snapshots"]["external_enabled"] == "false"
    # Alertmanager is the notifier: Grafana shows alerts but never evaluates its own rules.
    assert (
        cfg["unified_alerting"]["enabled"] == "true" and cfg["unified_alerting"]["execute_alerts"] == "false"
    )


@pytest.mark.parametrize(("env", "db"), [("dev", "sqlite3"), ("staging", "postgres"), ("prod", "postgres")])
def test_database_per_environment(env, db):
    objs = base(env)
    database = ini(objs)["database"]
    assert database["type"] == db
    files = secret_files(objs)
    if db == "sqlite3":
        assert "host" not in database and "password" not in database
        assert "database-password" not in files
    else:
        assert database["host"] == "postgres.creativeflow-data.svc:5432"
        assert database["name"] == "grafana" and database["user"] == "grafana"
        assert database["password"] == f"$__file{{{SECRETS}/database-password}}"
        assert files["database-password"] == ("creativeflow-grafana-database", "password")


@pytest.mark.parametrize("env", ENVS)
def test_no_credential_is_a_literal(env):
    objs = base(env)
    assert not [k for k in grafana_objects(objs) if k.startswith("Secret/")]
    cfg = ini(objs)
    assert cfg["security"]["admin_user"] == f"$__file{{{SECRETS}/admin-user}}"
    assert cfg["security"]["admin_password"] == f"$__file{{{SECRETS}/admin-password}}"
    assert cfg["security"]["secret_key"] == f"$__file{{{SECRETS}/secret-key}}"
    for section in cfg.sections():
        for key, value in cfg[section].items():
            if any(word in key for word in ("password", "secret", "token")):
                assert value.startswith("$__file{" + SECRETS + "/"), f"[{section}] {key} = {value}"
    files = secret_files(objs)
    assert files["admin-password"] == ("creativeflow-grafana-admin", "admin-password")
    # Every $__file{} grafana.ini reads is a file the pod actually mounts.
    text = objs[f"ConfigMap/{NAME}-config"]["data"]["grafana.ini"]
    for ref in text.split("$__file{")[1:]:
        assert ref.split("}")[0].removeprefix(SECRETS + "/") in files


def test_oauth_switch(tmp_path):
    off = base("prod")
    assert not ini(off).has_section("auth.generic_oauth")
    assert 443 not in egress_ports(off) and "oauth-client-secret" not in secret_files(off)
    oauth = {
        "enabled": True,
        "clientId": "grafana-prod",
        "authUrl": "https://sso.creativeflow.ai/oauth2/authorize",
        "tokenUrl": "https://sso.creativeflow.ai/oauth2/token",
        "apiUrl": "https://sso.creativeflow.ai/oauth2/userinfo",
    }
    on = render("prod", {"grafana": {"oauth": oauth}}, tmp_path)
    section = ini(on)["auth.generic_oauth"]
    assert section["enabled"] == "true" and section["client_id"] == "grafana-prod"
    assert section["client_secret"] == f"$__file{{{SECRETS}/oauth-client-secret}}"
    assert secret_files(on)["oauth-client-secret"] == ("creativeflow-grafana-oauth", "client-secret")
    assert egress_ports(on)[443] is None  # any address, HTTPS only
    with pytest.raises(UserError) as err:
        render("prod", {"grafana": {"oauth": {**oauth, "tokenUrl": ""}}}, tmp_path)
    assert err.value.key == "grafana.oauth.tokenUrl"


def test_extra_ini_overrides_and_config_change_rolls_the_pods(tmp_path):
    objs = render(
        "prod", {"grafana": {"extraIni": {"log": {"level": "debug"}, "dataproxy": {"timeout": 60}}}}, tmp_path
    )
    cfg = ini(objs)
    assert (
        cfg["log"]["level"] == "debug"
        and cfg["log"]["mode"] == "console"
        and cfg["dataproxy"]["timeout"] == "60"
    )
    before = base("prod")[f"Deployment/{NAME}"]["spec"]["template"]["metadata"]["annotations"][
        "checksum/config"
    ]
    after = objs[f"Deployment/{NAME}"]["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
    assert before != after


# --- workload, HA, network ----------------------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_pod_is_hardened(env):
    objs = base(env)
    spec = pod(objs)
    assert spec["securityContext"]["runAsUser"] == 10472 and spec["securityContext"]["runAsNonRoot"] is True
    assert spec["automountServiceAccountToken"] is False
    assert objs[f"ServiceAccount/{NAME}"]["automountServiceAccountToken"] is False
    (c,) = spec["containers"]
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["image"].startswith("docker.io/grafana/grafana:") and not c["image"].endswith(":latest")
    assert c["resources"]["requests"] and c["resources"]["limits"]["memory"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert c[probe]["httpGet"] == {"path": "/api/health", "port": "http"}
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    assert volume(objs, mounts["/tmp"]) == {"name": "tmp", "emptyDir": {}}
    assert volume(objs, mounts["/var/lib/grafana"]) == {"name": "storage", "emptyDir": {}}
    assert {"name": "GF_PATHS_CONFIG", "value": "/etc/grafana/config/grafana.ini"} in c["env"]
    service = objs[f"Service/{NAME}"]["spec"]["ports"]
    assert service == [{"name": "http", "port": 3000, "targetPort": "http"}]


def test_prod_is_highly_available_and_dev_is_single():
    prod, dev = base("prod"), base("dev")
    assert prod[f"Deployment/{NAME}"]["spec"]["replicas"] == 2
    assert prod[f"PodDisruptionBudget/{NAME}"]["spec"]["minAvailable"] == 1
    term = pod(prod)["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
    assert term["podAffinityTerm"]["labelSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "grafana",
        "app.kubernetes.io/instance": "creativeflow",
    }
    assert prod[f"Deployment/{NAME}"]["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert dev[f"Deployment/{NAME}"]["spec"]["replicas"] == 1
    assert f"PodDisruptionBudget/{NAME}" not in dev and "affinity" not in pod(dev)


def test_persistence_switch(tmp_path):
    objs = render("dev", {"grafana": {"persistence": {"enabled": True, "size": "2Gi"}}}, tmp_path)
    assert objs[f"PersistentVolumeClaim/{NAME}"]["spec"]["resources"]["requests"]["storage"] == "2Gi"
    assert volume(objs, "storage") == {"name": "storage", "persistentVolumeClaim": {"claimName": NAME}}
    assert objs[f"Deployment/{NAME}"]["spec"]["strategy"] == {"type": "Recreate"}
    assert f"PersistentVolumeClaim/{NAME}" not in base("dev")


@pytest.mark.parametrize("env", ENVS)
def test_network_policy(env):
    objs = base(env)
    spec = netpol(objs)
    assert spec["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "grafana",
        "app.kubernetes.io/instance": "creativeflow",
    }
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    users, scrape = spec["ingress"]
    assert users["ports"] == scrape["ports"] == [{"port": 3000, "protocol": "TCP"}]
    assert users["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
    ]
    # Prometheus scrapes /metrics (its `grafana` stack job).
    assert scrape["from"] == [
        {
            "podSelector": {
                "matchLabels": {
                    "app.kubernetes.io/name": "prometheus",
                    "app.kubernetes.io/instance": "creativeflow",
                }
            }
        }
    ]
    assert ini(objs)["metrics"]["enabled"] == "true"
    ports = egress_ports(objs)
    for port, component in ((9090, "prometheus"), (3100, "loki"), (9093, "alertmanager")):
        assert ports[port] == [
            {
                "podSelector": {
                    "matchLabels": {
                        "app.kubernetes.io/name": component,
                        "app.kubernetes.io/instance": "creativeflow",
                    }
                }
            }
        ]
    # The long-term datasource: the single server (8428), vmselect (8481) in prod.
    store = 8481 if env == "prod" else 8428
    assert ports[store][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "victoria-metrics"
    if env == "dev":
        assert set(ports) == {9090, 3100, 9093, store}
    else:
        assert set(ports) == {9090, 3100, 9093, store, 5432}
        assert ports[5432][0]["namespaceSelector"]["matchLabels"] == {
            "kubernetes.io/metadata.name": "creativeflow-data"
        }


def test_network_policy_follows_the_global_switch(tmp_path):
    objs = render("prod", {"global": {"networkPolicy": {"enabled": False}}}, tmp_path)
    assert f"NetworkPolicy/{NAME}" not in objs and f"Deployment/{NAME}" in objs


def test_ingress_is_off_by_default_and_takes_the_root_url_host(tmp_path):
    assert f"Ingress/{NAME}" not in base("prod")
    objs = render(
        "prod", {"grafana": {"ingress": {"enabled": True, "tlsSecretName": "grafana-tls"}}}, tmp_path
    )
    spec = objs[f"Ingress/{NAME}"]["spec"]
    assert spec["rules"][0]["host"] == "grafana.creativeflow.ai"
    assert spec["tls"] == [{"hosts": ["grafana.creativeflow.ai"], "secretName": "grafana-tls"}]
    assert spec["rules"][0]["http"]["paths"][0]["backend"]["service"] == {
        "name": NAME,
        "port": {"name": "http"},
    }


def test_grafana_disabled_renders_no_grafana_object(tmp_path):
    assert grafana_objects(base("prod"))
    objs = render("prod", {"grafana": {"enabled": False}}, tmp_path)
    assert grafana_objects(objs) == {}
    assert "StatefulSet/creativeflow-prometheus" in objs


# --- dashboards ----------------------------------------------------------------------------


def render_project(root: Path, env: str) -> dict:
    text, _ = helm_output(find_root(root), env)
    objs = {}
    for rel, body in split_by_source(text).items():
        for res in parse_documents(body, source=str(CHART / rel), origin=rel):
            objs[f"{res.kind}/{res.name}"] = res.obj
    return objs


def chart_copy(tmp_path: Path, *, dashboards: bool = True) -> Path:
    """The chart, values and pyproject.toml (what rendering needs) in a throwaway project;
    without the generated dashboards when `dashboards` is false."""
    root = tmp_path / "project"
    shutil.copytree(ROOT / "charts", root / "charts")
    shutil.copytree(ROOT / "values", root / "values")
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    if not dashboards:
        shutil.rmtree(root / CHART / "charts/grafana/files/dashboards")
    return root


def test_the_chart_renders_with_zero_dashboards(tmp_path):
    objs = render_project(chart_copy(tmp_path, dashboards=False), "prod")
    assert not [
        k for k in objs if k.startswith(f"ConfigMap/{NAME}-dashboard-") and not k.endswith("-provider")
    ]
    assert volume(objs, "dashboards") == {"name": "dashboards", "emptyDir": {}}


def test_one_configmap_per_dashboard_mounted_in_its_folder(tmp_path):
    root = chart_copy(tmp_path, dashboards=False)
    dashboards = root / CHART / "charts/grafana/files/dashboards"
    fixtures = {
        "platform/system-overview.json": {"uid": "system-overview", "title": "Platform / System Overview"},
        "ai-models/model_latency.json": {"uid": "model_latency", "title": "AI Models / Latency"},
        "home.json": {"uid": "home", "title": "Home"},
    }
    for rel, body in fixtures.items():
        (dashboards / rel).parent.mkdir(parents=True, exist_ok=True)
        (dashboards / rel).write_text(
            json.dumps({**body, "panels": [], "schemaVersion": 39}, indent=2) + "\n"
        )
    objs = render_project(root, "prod")
    names = {
        "platform/system-overview.json": f"{NAME}-dashboard-platform-system-overview",
        "ai-models/model_latency.json": f"{NAME}-dashboard-ai-models-model-latency",
        "home.json": f"{NAME}-dashboard-home",
    }
    items = {}
    for src in volume(objs, "dashboards")["projected"]["sources"]:
        (item,) = src["configMap"]["items"]
        items[src["configMap"]["name"]] = item
    assert set(items) == set(names.values())
    for rel, name in names.items():
        file = rel.rsplit("/", 1)[-1]
        cm = objs[f"ConfigMap/{name}"]
        assert list(cm["data"]) == [file]
        assert json.loads(cm["data"][file])["uid"] == fixtures[rel]["uid"]
        assert cm["metadata"]["labels"]["app.kubernetes.io/component"] == "dashboard"
        assert items[name] == {"key": file, "path": rel}
    mounts = {m["name"]: m["mountPath"] for m in pod(objs)["containers"][0]["volumeMounts"]}
    assert mounts["dashboards"] == provider(objs)["options"]["path"]
    # A dashboard change does not restart Grafana (the provider re-reads the files).
    assert (
        objs[f"Deployment/{NAME}"]["spec"]["template"]["metadata"]["annotations"]
        == base("prod")[f"Deployment/{NAME}"]["spec"]["template"]["metadata"]["annotations"]
    )


def test_dashboards_nested_too_deep_are_refused(tmp_path):
    root = chart_copy(tmp_path)
    deep = root / CHART / "charts/grafana/files/dashboards/platform/extra/x.json"
    deep.parent.mkdir(parents=True)
    deep.write_text("{}\n")
    with pytest.raises(UserError, match="one folder deep"):
        render_project(root, "dev")


# --- values validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overlay", "key"),
    [
        ({"datasources": {"loki": {"enable": False}}}, "grafana.datasources.loki.enable"),
        ({"replicas": "two"}, "grafana.replicas"),
        ({"image": {"tag": "latest"}}, "grafana.image.tag"),
        ({"database": {"type": "mysql"}}, "grafana.database.type"),
        ({"podAntiAffinity": "always"}, "grafana.podAntiAffinity"),
        ({"extraIni": {"database": {"password": "hunter2"}}}, "grafana.extraIni.database.password"),
        ({"networkPolicy": {"ingressFrom": []}}, "grafana.networkPolicy.ingressFrom"),
    ],
)
def test_schema_rejects_bad_values(tmp_path, overlay, key):
    with pytest.raises(UserError) as err:
        render("dev", {"grafana": overlay}, tmp_path)
    assert err.value.key == key, str(err.value)


@pytest.mark.parametrize(
    ("overlay", "key"),
    [
        ({"replicas": 2}, "grafana.replicas"),  # two replicas on sqlite
        ({"database": {"type": "postgres"}}, "grafana.database.host"),
        (
            {"persistence": {"enabled": True}, "replicas": 2, "database": {"type": "postgres", "host": "db"}},
            "grafana.persistence.enabled",
        ),
    ],
)
def test_values_that_cannot_work_together_are_refused(tmp_path, overlay, key):
    with pytest.raises(UserError) as err:
        render("dev", {"grafana": overlay}, tmp_path)
    assert err.value.key == key, str(err.value)


def test_root_url_defaults_to_global_grafana_url_and_is_required(tmp_path):
    # grafana.rootUrl empty (the default): Grafana answers at global.grafanaUrl, where alerts link.
    cfg = ini(render("dev", {"global": {"grafanaUrl": "https://grafana.example"}}, tmp_path))
    assert cfg["server"]["root_url"] == "https://grafana.example"
    with pytest.raises(UserError) as err:
        render("dev", {"global": {"grafanaUrl": ""}}, tmp_path)
    assert err.value.key == "global.grafanaUrl", str(err.value)

"""The loki subchart: what each value does to the rendered objects, per environment."""

from __future__ import annotations

import shutil
from functools import cache

import pytest
import yaml
from conftest import ROOT, render

from cfmon.checks import Context
from cfmon.checks.kubernetes import KubernetesSchema
from cfmon.errors import UserError
from cfmon.project import find_root
from cfmon.render import render as cfmon_render

ENVS = ("dev", "staging", "prod")
NAME = "creativeflow-loki"
RELEASE = "creativeflow"
SCALABLE = {"loki": {"deploymentMode": "simple-scalable"}}


@cache
def base(env: str) -> dict:
    """The render of an environment without overlay (shared by the tests; never mutate it)."""
    return render(env)


def config(objs: dict) -> dict:
    return yaml.safe_load(objs[f"ConfigMap/{NAME}-config"]["data"]["loki.yaml"])


def pod(objs: dict, kind: str = "StatefulSet", name: str = NAME) -> dict:
    return objs[f"{kind}/{name}"]["spec"]["template"]["spec"]


def container(objs: dict, kind: str = "StatefulSet", name: str = NAME) -> dict:
    (c,) = pod(objs, kind, name)["containers"]
    return c


def loki_objects(objs: dict) -> dict:
    return {k: v for k, v in objs.items() if k.split("/", 1)[1].startswith(NAME)}


def pod_labels(objs: dict, kind: str = "StatefulSet", name: str = NAME) -> dict:
    return objs[f"{kind}/{name}"]["spec"]["template"]["metadata"]["labels"]


def selects(selector: dict, labels: dict) -> bool:
    """Whether a LabelSelector (matchLabels, matchExpressions with In) selects these labels."""
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        assert expr["operator"] == "In", expr
        if labels.get(expr["key"]) not in expr["values"]:
            return False
    return True


# ---- monolithic on the filesystem (dev) ------------------------------------------------------------


def test_dev_is_one_single_binary_on_its_own_volume():
    objs = base("dev")
    sts = objs[f"StatefulSet/{NAME}"]["spec"]
    assert sts["replicas"] == 1 and sts["serviceName"] == f"{NAME}-headless"
    c = container(objs)
    assert c["args"] == [
        "-config.file=/etc/loki/config/loki.yaml",
        "-config.expand-env=true",
        "-target=all",
    ]
    assert c["image"] == "docker.io/grafana/loki:3.5.7"
    assert "env" not in c  # no object store, no credentials
    (claim,) = sts["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "data" and claim["spec"]["resources"]["requests"]["storage"] == "5Gi"
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    assert mounts == {"config": "/etc/loki/config", "data": "/var/loki", "tmp": "/tmp"}
    cfg = config(objs)
    assert cfg["common"]["storage"] == {
        "filesystem": {"chunks_directory": "/var/loki/chunks", "rules_directory": "/var/loki/rules"}
    }
    assert cfg["common"]["ring"] == {"instance_addr": "127.0.0.1", "kvstore": {"store": "inmemory"}}
    assert cfg["common"]["replication_factor"] == 1
    assert cfg["compactor"]["delete_request_store"] == "filesystem"
    assert "memberlist" not in cfg and f"Service/{NAME}-memberlist" not in objs
    assert f"PodDisruptionBudget/{NAME}" not in objs and "affinity" not in pod(objs)


@pytest.mark.parametrize("env", ENVS)
def test_config_is_single_tenant_tsdb_v13_with_the_wal_on_the_volume(env):
    cfg = config(base(env))
    assert cfg["auth_enabled"] is False
    assert cfg["analytics"] == {"reporting_enabled": False}
    assert cfg["server"] == {"http_listen_port": 3100, "grpc_listen_port": 9095, "log_level": "info"}
    (period,) = cfg["schema_config"]["configs"]
    assert period == {
        "from": "2025-01-01",
        "store": "tsdb",
        "object_store": "filesystem" if env == "dev" else "s3",
        "schema": "v13",
        "index": {"prefix": "index_", "period": "24h"},
    }
    assert cfg["storage_config"]["tsdb_shipper"] == {
        "active_index_directory": "/var/loki/tsdb-index",
        "cache_location": "/var/loki/tsdb-cache",
    }
    assert cfg["ingester"]["wal"] == {"enabled": True, "dir": "/var/loki/wal", "flush_on_shutdown": True}
    assert cfg["compactor"]["retention_enabled"] is True
    assert cfg["compactor"]["working_directory"] == "/var/loki/compactor"
    limits = cfg["limits_config"]
    # The agents send traceID, spanID and inference_id as structured metadata.
    assert limits["allow_structured_metadata"] is True and limits["reject_old_samples"] is True
    assert "table_manager" not in cfg  # legacy index stores only; the compactor applies retention on TSDB


# ---- object storage (staging, prod) ----------------------------------------------------------------


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_s3_on_minio_with_credentials_from_the_existing_secret(env):
    objs = base(env)
    s3 = config(objs)["common"]["storage"]["s3"]
    assert s3 == {
        "endpoint": "minio.creativeflow-storage.svc:9000",
        "bucketnames": f"creativeflow-loki-{env}",
        "region": "us-east-1",
        "s3forcepathstyle": True,
        "insecure": True,
        "access_key_id": "${LOKI_S3_ACCESS_KEY_ID}",
        "secret_access_key": "${LOKI_S3_SECRET_ACCESS_KEY}",
    }
    assert config(objs)["compactor"]["delete_request_store"] == "s3"
    env_vars = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container(objs)["env"]}
    assert env_vars == {
        "LOKI_S3_ACCESS_KEY_ID": {"name": "loki-s3-credentials", "key": "access-key-id"},
        "LOKI_S3_SECRET_ACCESS_KEY": {"name": "loki-s3-credentials", "key": "secret-access-key"},
    }
    assert "-config.expand-env=true" in container(objs)["args"]
    # Nothing of the Secret is rendered: no Secret object, no literal value in the pod's environment.
    assert not [k for k in objs if k.startswith("Secret/")]
    assert all("value" not in e for e in container(objs)["env"])


def test_no_credential_can_come_from_values(tmp_path):
    with pytest.raises(UserError) as err:
        render("prod", {"loki": {"storage": {"s3": {"secretAccessKey": "hunter2"}}}}, tmp_path)
    assert err.value.key == "loki.storage.s3.secretAccessKey"


# ---- retention -------------------------------------------------------------------------------------


def classes(objs: dict) -> dict[str, tuple[str, int]]:
    return {
        s["selector"]: (s["period"], s["priority"]) for s in config(objs)["limits_config"]["retention_stream"]
    }


@pytest.mark.parametrize(
    ("env", "default", "debug", "standard", "audit"),
    [
        ("dev", "7d", "3d", "7d", "365d"),
        ("staging", "90d", "14d", "90d", "365d"),
        ("prod", "90d", "14d", "90d", "400d"),
    ],
)
def test_retention_tiers_by_the_agents_retention_label(env, default, debug, standard, audit):
    objs = base(env)
    assert config(objs)["limits_config"]["retention_period"] == default
    assert classes(objs) == {
        '{retention="debug"}': (debug, 10),
        '{retention="standard"}': (standard, 10),
        '{retention="audit"}': (audit, 100),
    }


def test_a_team_overlay_adds_a_class_and_drops_one_without_restating_the_rest(tmp_path):
    overlay = {
        "loki": {
            "retention": {
                "streams": {
                    "payments-audit": {
                        "selector": '{namespace="payments"}',
                        "period": "730d",
                        "priority": 200,
                    },
                    "debug": {"enabled": False},
                }
            }
        }
    }
    got = classes(render("prod", overlay, tmp_path))
    assert got == {
        '{namespace="payments"}': ("730d", 200),
        '{retention="standard"}': ("90d", 10),
        '{retention="audit"}': ("400d", 100),
    }


def test_a_retention_change_rolls_the_pods(tmp_path):
    before = base("prod")[f"StatefulSet/{NAME}"]["spec"]["template"]["metadata"]["annotations"]
    after = render("prod", {"loki": {"retention": {"defaultPeriod": "60d"}}}, tmp_path)
    assert after[f"StatefulSet/{NAME}"]["spec"]["template"]["metadata"]["annotations"] != before


def test_limits_come_from_values():
    limits = config(base("prod"))["limits_config"]
    assert {k: limits[k] for k in limits if k.startswith(("ingestion", "max_"))} == {
        "ingestion_rate_mb": 16,
        "ingestion_burst_size_mb": 32,
        "max_global_streams_per_user": 50000,
        "max_query_length": "721h",
        "max_query_parallelism": 32,
    }


# ---- high availability (prod) ----------------------------------------------------------------------


def test_prod_is_a_three_replica_ring_spread_over_nodes():
    objs = base("prod")
    assert objs[f"StatefulSet/{NAME}"]["spec"]["replicas"] == 3
    cfg = config(objs)
    assert cfg["common"]["ring"] == {"kvstore": {"store": "memberlist"}}
    assert cfg["common"]["replication_factor"] == 3
    assert cfg["memberlist"] == {
        "join_members": [f"{NAME}-memberlist.monitoring.svc:7946"],
        "cluster_label": f"{NAME}.monitoring",
    }
    memberlist = objs[f"Service/{NAME}-memberlist"]["spec"]
    assert memberlist["clusterIP"] == "None" and memberlist["publishNotReadyAddresses"] is True
    assert memberlist["selector"] == {"app.kubernetes.io/name": "loki", "app.kubernetes.io/instance": RELEASE}
    pdb = objs[f"PodDisruptionBudget/{NAME}"]["spec"]
    assert pdb["maxUnavailable"] == 1
    assert selects(pdb["selector"], pod_labels(objs))
    (term,) = pod(objs)["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["topologyKey"] == "kubernetes.io/hostname" and selects(
        term["labelSelector"], pod_labels(objs)
    )


def test_staging_is_one_replica_without_a_ring():
    objs = base("staging")
    assert objs[f"StatefulSet/{NAME}"]["spec"]["replicas"] == 1
    assert config(objs)["common"]["ring"]["kvstore"] == {"store": "inmemory"}
    assert f"PodDisruptionBudget/{NAME}" not in objs


# ---- services and who reaches Loki ------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_the_service_grafana_and_prometheus_use_selects_the_pods(env):
    objs = base(env)
    svc = objs[f"Service/{NAME}"]["spec"]
    assert svc["ports"] == [
        {"name": "http-metrics", "port": 3100, "targetPort": "http-metrics"},
        {"name": "grpc", "port": 9095, "targetPort": "grpc"},
    ]
    assert selects({"matchLabels": svc["selector"]}, pod_labels(objs))
    # Grafana's datasource and Prometheus's `loki` job name this Service.
    datasources = yaml.safe_load(
        objs["ConfigMap/creativeflow-grafana-datasources"]["data"]["datasources.yaml"]
    )
    (ds,) = [d for d in datasources["datasources"] if d["uid"] == "loki"]
    assert ds["url"] == f"http://{NAME}.monitoring.svc:3100"
    scrape = objs["ConfigMap/creativeflow-prometheus-scrape-configs"]["data"]["stack_targets.yml"]
    (job,) = [j for j in yaml.safe_load(scrape)["scrape_configs"] if j["job_name"] == "loki"]
    assert job["relabel_configs"][0]["regex"] == f"{NAME};3100"


def netpol(objs: dict, name: str) -> dict:
    return objs[f"NetworkPolicy/{name}"]["spec"]


@pytest.mark.parametrize("env", ENVS)
def test_network_policy_admits_grafana_prometheus_and_the_agents(env):
    objs = base(env)
    spec = netpol(objs, NAME)
    labels = pod_labels(objs)
    assert selects(spec["podSelector"], labels) and spec["policyTypes"] == ["Ingress", "Egress"]
    clients = spec["ingress"][0]
    assert clients["ports"] == [{"port": 3100, "protocol": "TCP"}]
    for name in ("grafana", "prometheus", "promtail", "alloy"):
        peer = {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": RELEASE}
        assert any(selects(p["podSelector"], peer) for p in clients["from"]), name
    for stranger in (
        {"app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "other"},
        {"app.kubernetes.io/name": "node-exporter", "app.kubernetes.io/instance": RELEASE},
    ):
        assert not any(selects(p["podSelector"], stranger) for p in clients["from"]), stranger
    # And their own policies let them out towards these pods on 3100.
    grafana_out = [
        r
        for r in netpol(objs, "creativeflow-grafana")["egress"]
        if {"port": 3100, "protocol": "TCP"} in r.get("ports", [])
    ]
    assert any(selects(p["podSelector"], labels) for r in grafana_out for p in r["to"])
    prom_out = [
        r
        for r in netpol(objs, "creativeflow-prometheus")["egress"]
        if any(p.get("port") == 3100 for p in r.get("ports", []))
    ]
    assert any(selects(p["podSelector"], labels) for r in prom_out for p in r.get("to", []))


def test_network_policy_egress_per_environment():
    dev = netpol(base("dev"), NAME)
    assert dev["egress"] == [] and len(dev["ingress"]) == 1  # one process: no peers, no object store
    prod = netpol(base("prod"), NAME)
    peers, minio = prod["egress"]
    assert selects(peers["to"][0]["podSelector"], pod_labels(base("prod")))
    assert {p["port"] for p in peers["ports"]} == {3100, 9095, 7946}
    assert minio["ports"] == [{"port": 9000, "protocol": "TCP"}]
    assert minio["to"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "creativeflow-storage"
    }
    staging = netpol(base("staging"), NAME)
    assert [r["ports"] for r in staging["egress"]] == [[{"port": 9000, "protocol": "TCP"}]]


def test_the_object_store_port_follows_the_endpoint(tmp_path):
    s3 = {"endpoint": "s3.example.com", "insecure": False}
    egress = netpol(render("staging", {"loki": {"storage": {"s3": s3}}}, tmp_path), NAME)["egress"]
    assert egress[-1]["ports"] == [{"port": 443, "protocol": "TCP"}]


def test_network_policy_follows_the_global_switch(tmp_path):
    objs = render("prod", {"global": {"networkPolicy": {"enabled": False}}}, tmp_path)
    assert f"NetworkPolicy/{NAME}" not in objs and f"StatefulSet/{NAME}" in objs


# ---- simple-scalable -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scalable(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return render("prod", SCALABLE, tmp_path_factory.mktemp("scalable"))


def test_simple_scalable_renders_read_write_and_backend(scalable):
    objs = scalable
    targets = {
        "Deployment/creativeflow-loki-read": "-target=read",
        "StatefulSet/creativeflow-loki-write": "-target=write",
        "StatefulSet/creativeflow-loki-backend": "-target=backend",
    }
    for key, target in targets.items():
        kind, name = key.split("/")
        assert target in container(objs, kind, name)["args"], key
        assert objs[key]["spec"]["replicas"] == {"read": 2, "write": 3, "backend": 2}[name.rsplit("-", 1)[1]]
    assert f"StatefulSet/{NAME}" not in objs
    assert "volumeClaimTemplates" in objs["StatefulSet/creativeflow-loki-write"]["spec"]
    assert "volumeClaimTemplates" not in objs["Deployment/creativeflow-loki-read"]["spec"]
    # Queries (Grafana, Prometheus's job) keep <release>-loki, now the read path; pushes go to -write.
    svc = objs[f"Service/{NAME}"]["spec"]["selector"]
    assert selects({"matchLabels": svc}, pod_labels(objs, "Deployment", "creativeflow-loki-read"))
    assert not selects({"matchLabels": svc}, pod_labels(objs, "StatefulSet", "creativeflow-loki-write"))
    write = objs["Service/creativeflow-loki-write"]["spec"]["selector"]
    assert selects({"matchLabels": write}, pod_labels(objs, "StatefulSet", "creativeflow-loki-write"))
    cfg = config(objs)
    backend = "creativeflow-loki-backend-headless.monitoring.svc:9095"
    assert cfg["frontend"] == {"scheduler_address": backend} == cfg["frontend_worker"]
    assert cfg["storage_config"]["tsdb_shipper"]["index_gateway_client"] == {
        "server_address": f"dns+{backend}"
    }
    assert cfg["common"]["compactor_address"] == "http://creativeflow-loki-backend.monitoring.svc:3100"
    assert cfg["common"]["ring"]["kvstore"]["store"] == "memberlist"
    # Every target is in the ring and may talk to the others.
    memberlist = objs[f"Service/{NAME}-memberlist"]["spec"]["selector"]
    for key in targets:
        kind, name = key.split("/")
        assert selects({"matchLabels": memberlist}, pod_labels(objs, kind, name))
        assert {"name": "memberlist", "containerPort": 7946} in container(objs, kind, name)["ports"]
    assert {f"PodDisruptionBudget/{NAME}-{t}" for t in ("read", "write", "backend")} <= set(objs)


def test_simple_scalable_objects_are_valid_kubernetes(tmp_path):
    project = find_root(ROOT)
    overlay = tmp_path / "scalable.yaml"
    overlay.write_text(yaml.safe_dump(SCALABLE))
    # Rendered into a scratch copy of build/: the real build/rendered/prod stays as it was.
    scratch = tmp_path / "repo"
    for rel in ("charts", "values"):
        shutil.copytree(project.root / rel, scratch / rel)
    shutil.copy2(project.root / "pyproject.toml", scratch / "pyproject.toml")
    local = find_root(scratch)
    rendered = cfmon_render(local, "prod", [overlay])
    assert KubernetesSchema().run(Context(local, "prod", rendered)) == []


# ---- values that cannot work ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overlay", "key", "says"),
    [
        ({"deploymentMode": "simple-scalable"}, "loki.deploymentMode", "needs object storage"),
        ({"replicas": 2}, "loki.replicas", "needs object storage"),
        ({"storage": {"type": "s3"}}, "loki.storage.s3.endpoint", "required"),
        (
            {"storage": {"type": "s3", "s3": {"endpoint": "minio:9000", "bucket": "logs"}}},
            "loki.storage.s3.existingSecret",
            "required",
        ),
        (
            {
                "storage": {
                    "type": "s3",
                    "s3": {"endpoint": "minio:9000", "bucket": "logs", "existingSecret": "s"},
                }
            },
            "loki.storage.s3.networkPolicyPeers",
            "NetworkPolicy",
        ),
        ({"schemaConfig": {"from": ""}}, "loki.schemaConfig.from", ""),
    ],
)
def test_values_that_cannot_work_together_are_refused(tmp_path, overlay, key, says):
    with pytest.raises(UserError) as err:
        render("dev", {"loki": overlay}, tmp_path)
    assert err.value.key == key, str(err.value)
    assert says in str(err.value)


def test_replication_factor_above_the_ingesters_is_refused(tmp_path):
    with pytest.raises(UserError) as err:
        render("prod", {"loki": {"replicas": 2}}, tmp_path)
    assert err.value.key == "loki.replicationFactor" and "quorum" in str(err.value)


@pytest.mark.parametrize(
    ("overlay", "key"),
    [
        (
            {"retention": {"streams": {"debug": {"period": "two weeks"}}}},
            "loki.retention.streams.debug.period",
        ),
        ({"retention": {"streams": {"team": {"period": "30d"}}}}, "loki.retention.streams.team"),
        ({"retention": {"deleteDelay": "1d"}}, "loki.retention.deleteDelay"),
        ({"retention": {"keep": "30d"}}, "loki.retention.keep"),
        ({"storage": {"type": "gcs"}}, "loki.storage.type"),
        ({"storage": {"s3": {"endpoint": "http://minio:9000"}}}, "loki.storage.s3.endpoint"),
        ({"deploymentMode": "microservices"}, "loki.deploymentMode"),
        ({"image": {"tag": "latest"}}, "loki.image.tag"),
        ({"schemaConfig": {"from": "2025/01/01"}}, "loki.schemaConfig.from"),
        ({"limits": {"maxQueryParallelism": "32"}}, "loki.limits.maxQueryParallelism"),
    ],
)
def test_schema_rejects_bad_values(tmp_path, overlay, key):
    with pytest.raises(UserError) as err:
        render("dev", {"loki": overlay}, tmp_path)
    assert err.value.key == key, str(err.value)


def test_loki_disabled_renders_no_loki_object(tmp_path):
    assert loki_objects(base("prod"))
    objs = render("prod", {"loki": {"enabled": False}}, tmp_path)
    assert loki_objects(objs) == {} and "StatefulSet/creativeflow-prometheus" in objs


@pytest.mark.parametrize("env", ENVS)
def test_pod_is_hardened_without_a_service_account_token(env):
    objs = base(env)
    spec = pod(objs)
    assert spec["securityContext"]["runAsUser"] == 10001 and spec["securityContext"]["fsGroup"] == 10001
    assert spec["automountServiceAccountToken"] is False and spec["enableServiceLinks"] is False
    assert objs[f"ServiceAccount/{NAME}"]["automountServiceAccountToken"] is False
    c = container(objs)
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http-metrics"}
    assert (
        pod_labels(objs)["app.kubernetes.io/part-of"] == "creativeflow-monitoring"
    )  # under the default deny

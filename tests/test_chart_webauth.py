"""Authentication wiring across components: a client of this release's Prometheus or Alertmanager
must send exactly what the server asks for, or the render fails naming both values keys."""

from __future__ import annotations

import pytest
from conftest import ROOT, render

from cfmon.errors import UserError


def _error(overlay: dict, tmp_path) -> str:
    with pytest.raises(UserError) as err:
        render("prod", overlay, tmp_path)
    return str(err.value)


@pytest.mark.parametrize(
    ("overlay", "says"),
    [
        pytest.param(
            {"grafana": {"datasources": {"prometheus": {"basicAuth": {"enabled": False}}}}},
            "grafana.datasources.prometheus.basicAuth.enabled is false "
            "but prometheus.webConfig.enabled is true",
            id="grafana-prometheus-auth-off",
        ),
        pytest.param(
            {"grafana": {"datasources": {"alertmanager": {"tls": {"enabled": False}}}}},
            "grafana.datasources.alertmanager.tls.enabled is false "
            "but alertmanager.webConfig.tls.enabled is true",
            id="grafana-alertmanager-tls-off",
        ),
        pytest.param(
            {"prometheus": {"alerting": {"basicAuth": {"enabled": False}}}},
            "prometheus.alerting.basicAuth.enabled is false but alertmanager.webConfig.enabled is true",
            id="prometheus-to-alertmanager-auth-off",
        ),
        pytest.param(
            {"alertmanager": {"webConfig": {"enabled": False}}},
            "but alertmanager.webConfig.enabled is false",
            id="alertmanager-open-clients-authenticating",
        ),
        pytest.param(
            {"grafana": {"datasources": {"prometheus": {"tls": {"caKey": "ca.pem"}}}}},
            'grafana.datasources.prometheus.tls.caKey: "ca.pem" is not a key of the certificate Secret '
            "creativeflow-prometheus-tls",
            id="ca-key-not-in-certificate-secret",
        ),
    ],
)
def test_client_and_server_must_agree(tmp_path, overlay, says):
    assert says in _error(overlay, tmp_path)


def test_dev_is_open_and_says_so():
    objs = render("dev")
    sts = objs["StatefulSet/creativeflow-prometheus"]["spec"]["template"]["spec"]["containers"][0]
    assert not any(a.startswith("--web.config.file") for a in sts["args"])
    assert "open" in (ROOT / "values/dev.yaml").read_text().split("\n\n")[0].lower()


def test_prod_clients_are_all_authenticated():
    import yaml

    objs = render("prod")
    ds = yaml.safe_load(objs["ConfigMap/creativeflow-grafana-datasources"]["data"]["datasources.yaml"])
    by_uid = {d["uid"]: d for d in ds["datasources"]}
    for uid, port in (("prometheus", 9090), ("alertmanager", 9093)):
        d = by_uid[uid]
        assert d["url"] == f"https://creativeflow-{uid}.monitoring.svc:{port}"
        assert d["basicAuth"] is True and d["basicAuthUser"] == "grafana"
        assert d["secureJsonData"] == {
            "basicAuthPassword": f"$__file{{/etc/grafana/secrets/datasource-{uid}-password}}",
            "tlsCACert": f"$__file{{/etc/grafana/secrets/datasource-{uid}-ca.crt}}",
        }
        assert d["jsonData"]["tlsAuthWithCACert"] is True
    grafana = objs["Deployment/creativeflow-grafana"]["spec"]["template"]["spec"]
    (secrets,) = [v for v in grafana["volumes"] if v["name"] == "secrets"]
    paths = {i["path"] for s in secrets["projected"]["sources"] for i in s["secret"].get("items", [])}
    assert {"datasource-prometheus-password", "datasource-prometheus-ca.crt"} <= paths
    am = objs["StatefulSet/creativeflow-alertmanager"]["spec"]["template"]["spec"]
    assert (
        "--cluster.tls-config=/etc/alertmanager/web-template/cluster-tls-config.yml"
        in am["containers"][0]["args"]
    )
    assert am["containers"][0]["readinessProbe"] == {"tcpSocket": {"port": "http"}, "periodSeconds": 10}


MTLS = {
    "prometheus": {
        "scrapeConfigs": {
            "databases": {
                "postgres": {
                    "tls": {
                        "existingSecret": "pg-scrape-tls",
                        "caKey": "ca.crt",
                        "certKey": "tls.crt",
                        "keyKey": "tls.key",
                        "serverName": "postgres-exporter.creativeflow-data.svc",
                    }
                }
            }
        },
        "remoteWrite": {
            "vm": {
                "url": "https://vm.example.com/api/v1/write",
                "tls": {"existingSecret": "vm-ca", "caKey": "ca.crt"},
            }
        },
    }
}


def test_exporter_mtls_and_remote_write_tls_per_job(tmp_path):
    import yaml

    objs = render("prod", MTLS, tmp_path)
    files = objs["ConfigMap/creativeflow-prometheus-scrape-configs"]["data"]
    jobs = {j["job_name"]: j for j in yaml.safe_load(files["database_targets.yml"])["scrape_configs"]}
    pg = jobs["postgres-exporter"]
    d = "/etc/prometheus/secrets/scrape-postgres-exporter-tls"
    assert pg["scheme"] == "https"
    assert pg["tls_config"] == {
        "ca_file": f"{d}/ca.crt",
        "cert_file": f"{d}/tls.crt",
        "key_file": f"{d}/tls.key",
        "server_name": "postgres-exporter.creativeflow-data.svc",
        "insecure_skip_verify": False,
    }
    assert "tls_config" not in jobs["redis-exporter"]  # per job: only where asked
    prom = yaml.safe_load(objs["ConfigMap/creativeflow-prometheus-config"]["data"]["prometheus.yml"])
    # The long-term store's write comes first (global.longTerm); the team's own follows with its TLS.
    rw = next(w for w in prom["remote_write"] if w.get("name") != "longterm")
    assert rw["tls_config"]["ca_file"] == "/etc/prometheus/secrets/remote-write-vm-tls/ca.crt"
    spec = objs["StatefulSet/creativeflow-prometheus"]["spec"]["template"]["spec"]
    vols = {v["name"]: v for v in spec["volumes"]}
    assert vols["scrape-postgres-exporter-tls"]["secret"]["secretName"] == "pg-scrape-tls"
    assert vols["remote-write-vm-tls"]["secret"]["secretName"] == "vm-ca"
    mounts = {m["name"]: m["mountPath"] for m in spec["containers"][0]["volumeMounts"]}
    assert mounts["scrape-postgres-exporter-tls"] == d


def test_exporter_tls_needs_its_secret(tmp_path):
    with pytest.raises(UserError) as err:
        render(
            "prod",
            {"prometheus": {"scrapeConfigs": {"databases": {"postgres": {"tls": {"caKey": "ca.crt"}}}}}},
            tmp_path,
        )
    assert "prometheus.scrapeConfigs.databases.postgres.tls" in str(err.value) and "existingSecret" in str(
        err.value
    )

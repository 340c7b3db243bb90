"""Authentication and TLS of the prod render, proved on the real Prometheus and Alertmanager
(marked e2e: both run on 127.0.0.1 for about half a minute).

What runs as rendered: the web config ConfigMaps, the init container script that checks the bcrypt
hashes and joins them to the rendered part, Alertmanager's --cluster.tls-config, Prometheus'
`alerting.alertmanagers` client block and its `prometheus`/`alertmanager` scrape jobs (basic auth
and TLS). What the test supplies: a throwaway CA and certificate (openssl) naming the Services the
render verifies plus 127.0.0.1, throwaway users hashed with bcrypt, and loopback addresses in place
of service discovery. Paths under /etc/<component>/ are moved into a temporary directory.

The alert path reuses cfmon.sandbox: receivers rewritten to the capture webhook.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import bcrypt
import pytest
import yaml
from conftest import render

from cfmon import binaries, sandbox

pytestmark = pytest.mark.e2e

RELEASE, NAMESPACE = "creativeflow", "monitoring"
USER, PASSWORD = "prometheus", "throwaway-prometheus-password"
GRAFANA_USER, GRAFANA_PASSWORD = "grafana", "throwaway-grafana-password"
WAIT_S = 60.0


@pytest.fixture(scope="module")
def prod() -> dict:
    return render("prod")


def _cm(objs: dict, name: str) -> dict:
    return objs[f"ConfigMap/{name}"]["data"]


def _init_script(objs: dict, component: str) -> str:
    pod = objs[f"StatefulSet/{RELEASE}-{component}"]["spec"]["template"]["spec"]
    (init,) = [c for c in pod["initContainers"] if c["name"] == "web-config"]
    assert init["command"] == ["/bin/sh", "-c"]
    return init["args"][0]


def _pki(tmp: Path) -> Path:
    """A CA and one certificate for both Services (and 127.0.0.1), as a kubernetes.io/tls Secret."""
    d = tmp / "pki"
    d.mkdir()
    sans = ",".join(
        [f"DNS:{RELEASE}-{c}.{NAMESPACE}.svc" for c in ("prometheus", "alertmanager")] + ["IP:127.0.0.1"]
    )

    def ossl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True, timeout=60)

    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=throwaway-ca",
         "-keyout", "ca.key", "-out", "ca.crt")  # fmt: skip
    ossl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=creativeflow-monitoring",
         "-keyout", "tls.key", "-out", "tls.csr")  # fmt: skip
    (d / "ext.cnf").write_text(f"subjectAltName={sans}\nextendedKeyUsage=serverAuth,clientAuth\n")
    ossl("x509", "-req", "-in", "tls.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
         "-days", "1", "-extfile", "ext.cnf", "-out", "tls.crt")  # fmt: skip
    return d


def _users(**passwords: str) -> str:
    lines = ["basic_auth_users:"]
    for user, password in passwords.items():
        lines.append(f"  {user}: {bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()}")
    return "\n".join(lines) + "\n"


def _materialise(
    objs: dict, component: str, base: Path, pki: Path, users: str
) -> subprocess.CompletedProcess:
    """The component's /etc/<component>/ web files under `base`, joined by the rendered init script."""
    moved = lambda text: text.replace(f"/etc/{component}/", f"{base}/")  # noqa: E731
    for sub in ("web-template", "web-auth", "web-config", "web-tls"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    for key, text in _cm(objs, f"{RELEASE}-{component}-web-config").items():
        (base / "web-template" / key).write_text(moved(text))
    (base / "web-auth" / "basic-auth-users.yml").write_text(users)
    for name in ("tls.crt", "tls.key", "ca.crt"):
        shutil.copy(pki / name, base / "web-tls" / name)
    return subprocess.run(
        ["/bin/sh", "-c", moved(_init_script(objs, component))], capture_output=True, text=True, timeout=30
    )


def _request(url: str, ctx: ssl.SSLContext, auth: tuple[str, str] | None, data: dict | None = None) -> int:
    req = urllib.request.Request(url, data=json.dumps(data).encode() if data is not None else None)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=5, context=ctx) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


def _get_json(url: str, ctx: ssl.SSLContext, auth: tuple[str, str]) -> dict:
    req = urllib.request.Request(url)
    req.add_header("Authorization", "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode())
    with urllib.request.urlopen(req, timeout=5, context=ctx) as resp:
        return json.loads(resp.read())


def _until(what: str, probe, timeout: float = WAIT_S):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except (OSError, urllib.error.URLError, ValueError) as err:
            last = err
        if last and not isinstance(last, Exception):
            return last
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout:.0f}s (last: {last})")


def test_init_script_refuses_a_plain_text_password(prod, tmp_path):
    """A plain-text password where a bcrypt hash belongs stops the pod with the Secret and key named."""
    pki = _pki(tmp_path)
    bad = _materialise(prod, "prometheus", tmp_path / "bad", pki, "basic_auth_users:\n  admin: hunter2\n")
    assert bad.returncode == 1
    assert "Secret creativeflow-prometheus-web, key basic-auth-users.yml" in bad.stderr, bad.stderr
    assert "bcrypt" in bad.stderr
    assert not (tmp_path / "bad" / "web-config" / "web-config.yml").exists()
    good = _materialise(prod, "alertmanager", tmp_path / "good", pki, _users(prometheus=PASSWORD))
    assert good.returncode == 0, good.stderr
    joined = yaml.safe_load((tmp_path / "good" / "web-config" / "web-config.yml").read_text())
    assert set(joined) == {"tls_server_config", "http_server_config", "basic_auth_users"}


def test_prod_auth_and_tls_live(prod, tmp_path):
    pki = _pki(tmp_path)
    users = _users(**{USER: PASSWORD, GRAFANA_USER: GRAFANA_PASSWORD})
    ctx = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    procs: list = []
    capture = sandbox.Capture(sandbox.free_port())
    threading.Thread(target=capture.server.serve_forever, daemon=True, kwargs={"poll_interval": 0.1}).start()
    try:
        # ---- Alertmanager: two peers gossiping over the rendered mutual-TLS cluster config.
        am_base = tmp_path / "alertmanager"
        assert _materialise(prod, "alertmanager", am_base, pki, users).returncode == 0
        am_args = _init_script(prod, "alertmanager")  # rendered: proves the StatefulSet uses the files
        am_sts = prod[f"StatefulSet/{RELEASE}-alertmanager"]["spec"]["template"]["spec"]["containers"][0]
        assert "--web.config.file=/etc/alertmanager/web-config/web-config.yml" in am_sts["args"], am_args
        assert "--cluster.tls-config=/etc/alertmanager/web-template/cluster-tls-config.yml" in am_sts["args"]
        am_doc = yaml.safe_load(_cm(prod, f"{RELEASE}-alertmanager-config")["alertmanager.yml"])
        am_cfg, _ = sandbox.rewrite_alertmanager(
            am_doc, 100, f"http://127.0.0.1:{capture.server.server_address[1]}", am_base / "secrets"
        )
        am_cfg["global"] = {"resolve_timeout": am_cfg["global"]["resolve_timeout"]}
        am_cfg.pop("templates", None)
        (am_base / "alertmanager.yml").write_text(yaml.safe_dump(am_cfg))
        web_ports = [sandbox.free_port(), sandbox.free_port()]
        cluster_ports = [sandbox.free_port(), sandbox.free_port()]
        for i in range(2):
            procs.append(
                binaries.start(
                    "alertmanager",
                    [
                        f"--config.file={am_base / 'alertmanager.yml'}",
                        f"--storage.path={am_base / f'data-{i}'}",
                        f"--web.listen-address=127.0.0.1:{web_ports[i]}",
                        f"--web.config.file={am_base / 'web-config/web-config.yml'}",
                        f"--cluster.listen-address=127.0.0.1:{cluster_ports[i]}",
                        f"--cluster.advertise-address=127.0.0.1:{cluster_ports[i]}",
                        *(f"--cluster.peer=127.0.0.1:{p}" for p in cluster_ports),
                        f"--cluster.tls-config={am_base / 'web-template/cluster-tls-config.yml'}",
                    ],
                    log=tmp_path / f"alertmanager-{i}.log",
                )
            )

        # ---- Prometheus: rendered alerting client and stack scrape jobs, rendered web config.
        prom_base = tmp_path / "prometheus"
        assert _materialise(prod, "prometheus", prom_base, pki, users).returncode == 0
        (prom_base / "web-auth" / "scrape-password").write_text(PASSWORD)
        for sub, name in (
            ("secrets/alertmanager", "alertmanager-password"),
            ("secrets/alertmanager-ca", "ca.crt"),
        ):
            (prom_base / sub).mkdir(parents=True)
            (prom_base / sub / name).write_text(
                PASSWORD if name != "ca.crt" else (pki / "ca.crt").read_text()
            )
        moved = lambda text: text.replace("/etc/prometheus/", f"{prom_base}/")  # noqa: E731
        prom_doc = yaml.safe_load(moved(_cm(prod, f"{RELEASE}-prometheus-config")["prometheus.yml"]))
        stack = yaml.safe_load(moved(_cm(prod, f"{RELEASE}-prometheus-scrape-configs")["stack_targets.yml"]))
        prom_port = sandbox.free_port()
        jobs = []
        for job in stack["scrape_configs"]:
            targets = {
                "prometheus": [f"127.0.0.1:{prom_port}"],
                "alertmanager": [f"127.0.0.1:{p}" for p in web_ports],
            }
            if job["job_name"] in targets:
                assert job["scheme"] == "https" and "basic_auth" in job and "tls_config" in job, job
                job = {
                    k: v for k, v in job.items() if not k.endswith("_sd_configs") and k != "relabel_configs"
                }
                jobs.append({**job, "scrape_interval": "1s", "scrape_timeout": "1s",
                             "static_configs": [{"targets": targets[job["job_name"]]}]})  # fmt: skip
        am_client = dict(prom_doc["alerting"]["alertmanagers"][0])
        assert am_client["scheme"] == "https" and am_client["basic_auth"]["username"] == USER
        am_client.pop("dns_sd_configs")
        am_client["static_configs"] = [{"targets": [f"127.0.0.1:{p}" for p in web_ports]}]
        (prom_base / "rules.yml").write_text(
            yaml.safe_dump(
                {
                    "groups": [
                        {
                            "name": "auth-live",
                            "rules": [
                                {
                                    "alert": "AuthLiveProbe",
                                    "expr": "vector(1)",
                                    "labels": {"severity": "warning"},
                                }
                            ],
                        }
                    ]
                }
            )
        )
        config = {
            "global": {
                "scrape_interval": "1s",
                "evaluation_interval": "1s",
                "external_labels": {"cluster": "live"},
            },
            "rule_files": [str(prom_base / "rules.yml")],
            "alerting": {"alertmanagers": [am_client]},
            "scrape_configs": jobs,
        }
        (prom_base / "prometheus.yml").write_text(yaml.safe_dump(config))
        procs.append(
            binaries.start(
                "prometheus",
                [
                    f"--config.file={prom_base / 'prometheus.yml'}",
                    f"--storage.tsdb.path={prom_base / 'data'}",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                    f"--web.config.file={prom_base / 'web-config/web-config.yml'}",
                    "--rules.alert.resend-delay=1s",
                ],
                log=tmp_path / "prometheus.log",
            )
        )

        prom = f"https://127.0.0.1:{prom_port}"
        ams = [f"https://127.0.0.1:{p}" for p in web_ports]
        right, wrong = (USER, PASSWORD), (USER, "not-the-password")
        _until("Prometheus up", lambda: _request(f"{prom}/-/ready", ctx, right) == 200)
        for am in ams:
            _until(f"Alertmanager {am} up", lambda am=am: _request(f"{am}/-/ready", ctx, right) == 200)

        # Unauthenticated and wrong credentials are refused on every path, the right ones work.
        results = {}
        for name, url in (
            ("prometheus", f"{prom}/api/v1/status/buildinfo"),
            ("alertmanager", f"{ams[0]}/api/v2/status"),
        ):
            results[name] = {
                "none": _request(url, ctx, None),
                "wrong": _request(url, ctx, wrong),
                "grafana": _request(url, ctx, (GRAFANA_USER, GRAFANA_PASSWORD)),
                "right": _request(url, ctx, right),
            }
        health = {"prometheus /-/healthy": _request(f"{prom}/-/healthy", ctx, None)}
        print("auth results:", results, health)
        assert results["prometheus"] == {"none": 401, "wrong": 401, "grafana": 200, "right": 200}, results
        assert results["alertmanager"] == {"none": 401, "wrong": 401, "grafana": 200, "right": 200}, results
        assert health["prometheus /-/healthy"] == 401  # the probes cannot use httpGet: tcpSocket
        # Plain HTTP to the TLS port is no way around it.
        plain = _request(
            f"http://127.0.0.1:{prom_port}/api/v1/status/buildinfo", ssl.create_default_context(), None
        )
        assert plain == 400, plain

        # A silence cannot be created without credentials; with them it can.
        silence = {
            "matchers": [{"name": "alertname", "value": "Nothing", "isRegex": False}],
            "startsAt": "2020-01-01T00:00:00Z",
            "endsAt": "2099-01-01T00:00:00Z",
            "createdBy": "test",
            "comment": "auth test",
        }
        assert _request(f"{ams[0]}/api/v2/silences", ctx, None, silence) == 401
        assert _request(f"{ams[0]}/api/v2/silences", ctx, wrong, silence) == 401
        assert _request(f"{ams[0]}/api/v2/silences", ctx, right, silence) == 200

        # The peers joined each other over mutual TLS.
        def members() -> bool:
            status = _get_json(f"{ams[1]}/api/v2/status", ctx, right)
            return len(status["cluster"]["peers"]) == 2 and status["cluster"]["status"] == "ready"

        _until("Alertmanager peers clustered over TLS", members)

        # The self-scrape and the Alertmanager scrape authenticate over TLS (up == 1).
        def scrapes_up() -> dict | None:
            res = _get_json(f"{prom}/api/v1/query?query=up", ctx, right)["data"]["result"]
            ups = {(r["metric"]["job"], r["metric"]["instance"]): r["value"][1] for r in res}
            return ups if len(ups) == 3 and set(ups.values()) == {"1"} else None

        print("scrapes:", _until("authenticated scrapes up", scrapes_up))

        # The alert flows Prometheus -> Alertmanager (basic auth + TLS) -> the capture webhook.
        def delivered():
            with capture.lock:
                return [
                    r for r in capture.received
                    if any(a["labels"].get("alertname") == "AuthLiveProbe" for a in r[3].get("alerts", []))
                ]  # fmt: skip

        got = _until("AuthLiveProbe delivered through the authenticated Alertmanager", delivered)
        assert got[0][1] == "warning-slack", got[0][:3]
        print("delivered to", got[0][1], got[0][2])
    finally:
        for proc in procs:
            binaries.stop(proc)
        capture.server.shutdown()
        for log in sorted(tmp_path.glob("*.log")):
            print(f"--- {log.name}\n{sandbox.log_tail(log)}")


def test_exporter_job_mutual_tls_live(tmp_path):
    """The rendered postgres-exporter job with `tls` (client certificate) scrapes the real
    postgres_exporter that requires one; the same job without the certificate is refused."""
    tls = {"existingSecret": "pg-scrape-tls", "caKey": "ca.crt", "certKey": "tls.crt", "keyKey": "tls.key"}
    overlay = {"prometheus": {"scrapeConfigs": {"databases": {"postgres": {"tls": tls}}}}}
    objs = render("prod", overlay, tmp_path)
    pki = _pki(tmp_path)
    secrets = tmp_path / "prometheus" / "secrets" / "scrape-postgres-exporter-tls"
    secrets.mkdir(parents=True)
    for name in ("tls.crt", "tls.key", "ca.crt"):
        shutil.copy(pki / name, secrets / name)
    files = _cm(objs, f"{RELEASE}-prometheus-scrape-configs")
    moved = files["database_targets.yml"].replace("/etc/prometheus/", f"{tmp_path / 'prometheus'}/")
    (job,) = [j for j in yaml.safe_load(moved)["scrape_configs"] if j["job_name"] == "postgres-exporter"]
    exporter_port, prom_port = sandbox.free_port(), sandbox.free_port()
    web = tmp_path / "exporter-web.yml"
    web.write_text(
        yaml.safe_dump(
            {
                "tls_server_config": {
                    "cert_file": str(pki / "tls.crt"),
                    "key_file": str(pki / "tls.key"),
                    "client_ca_file": str(pki / "ca.crt"),
                    "client_auth_type": "RequireAndVerifyClientCert",
                }
            }
        )
    )
    job = {k: v for k, v in job.items() if k not in ("file_sd_configs", "static_configs")}
    # 5 s: the exporter answers after its collectors fail on the absent database, which takes
    # longer than a second on a busy machine.
    job.update(
        scrape_interval="5s",
        scrape_timeout="5s",
        static_configs=[{"targets": [f"127.0.0.1:{exporter_port}"]}],
    )
    no_cert = {**job, "job_name": "no-client-cert", "tls_config": {"ca_file": job["tls_config"]["ca_file"]}}
    config = tmp_path / "prometheus.yml"
    config.write_text(yaml.safe_dump({"global": {"scrape_interval": "5s"}, "scrape_configs": [job, no_cert]}))
    exporter_bin = Path(binaries.require("prometheus")).with_name("prometheus-postgres-exporter")
    procs = []
    try:
        with (tmp_path / "exporter.log").open("ab") as log:
            procs.append(
                subprocess.Popen(
                    [
                        str(exporter_bin),
                        f"--web.listen-address=127.0.0.1:{exporter_port}",
                        f"--web.config.file={web}",
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env={"DATA_SOURCE_NAME": "postgresql://nobody@127.0.0.1:1/none?sslmode=disable"},
                    start_new_session=True,
                )
            )
        procs.append(
            binaries.start(
                "prometheus",
                [
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp_path / 'data'}",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                ],
                log=tmp_path / "prometheus.log",
            )
        )

        def targets() -> dict | None:
            url = f"http://127.0.0.1:{prom_port}/api/v1/targets"
            with urllib.request.urlopen(url, timeout=5) as resp:
                active = json.loads(resp.read())["data"]["activeTargets"]
            got = {t["labels"]["job"]: (t["health"], t["lastError"]) for t in active}
            seen.append(got)
            return (
                got
                if got.get("postgres-exporter", ("",))[0] == "up" and got["no-client-cert"][0] == "down"
                else None
            )

        seen: list[dict] = []
        try:
            got = _until("the job with the client certificate up, the one without down", targets)
        except AssertionError as err:
            raise AssertionError(f"{err}; targets: {seen[-1:]}") from None
        print("mTLS scrape:", got)
        # TLS 1.3 reports a missing client certificate after the handshake: as the server's alert
        # ("certificate required") or, when it lands first, as the connection it then resets or
        # closes (the client's next write then meets a broken pipe), which Go's HTTP/2 client may
        # report only as a connection it could not establish.
        refused = r"certificate|reset by peer|broken pipe|client conn could not be established"
        assert re.search(refused, got["no-client-cert"][1]), got
    finally:
        for proc in procs:
            binaries.stop(proc)
        for log in sorted(tmp_path.glob("*.log")):
            print(f"--- {log.name}\n{sandbox.log_tail(log)}")

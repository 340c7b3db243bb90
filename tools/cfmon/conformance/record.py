"""`cfmon conformance record`: run every real exporter against its real server on loopback and store
what each one exposes as tests/conformance/samples/<exporter>-<version>.prom.

The servers get a little traffic first (Redis keys read and missed, NGINX requests, a RabbitMQ
queue with messages, Prometheus scraping itself) so the series that only exist once something
happened are in the samples too. Each sample is normalised so that a re-recording is a reviewable
diff: metric families sorted by name, samples by labels (histogram buckets in `le` order), the
free loopback ports of the run replaced by each server's default port, the run's temporary
directory by a fixed path. Values are kept as recorded.

Every sample is fetched before any is written, and each file is replaced atomically: a server or
exporter that does not start leaves the samples as they were.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from cfmon import binaries
from cfmon.conformance.servers import Servers, scrape
from cfmon.errors import UserError
from cfmon.project import Project
from cfmon.sandbox import free_port

SAMPLES_DIR = "tests/conformance/samples"
TMP_PLACEHOLDER = "/tmp/cfmon-conformance"
QUEUE = "ai-generation-jobs"  # a queue the rules select, so its per-queue series are in the sample
# Every metric family the plugin's /metrics/detailed endpoint can be asked for (RabbitMQ 3.10+);
# it serves only the families named in the query.
DETAILED_FAMILIES = (
    "queue_coarse_metrics",
    "queue_consumer_count",
    "queue_metrics",
    "queue_delivery_metrics",
    "queue_exchange_metrics",
    "connection_churn_metrics",
    "connection_coarse_metrics",
    "connection_metrics",
    "channel_metrics",
    "channel_queue_metrics",
    "channel_exchange_metrics",
    "channel_queue_exchange_metrics",
    "channel_process_metrics",
    "exchange_names",
    "exchange_bindings",
    "node_coarse_metrics",
    "node_metrics",
    "node_node_metrics",
    "node_persister_metrics",
    "ra_metrics",
    "vhost_status",
)
# The port each recorded process listens on by default: what a reader of the sample expects.
DEFAULT_PORTS = {
    "postgres": 5432,
    "redis": 6379,
    "nginx": 80,
    "node-exporter": 9100,
    "postgres-exporter": 9187,
    "redis-exporter": 9121,
    "nginx-exporter": 9113,
    "rabbitmq": 15692,
    "epmd": 4369,
    "prometheus": 9090,
    "alertmanager": 9093,
    # Nothing listens on the recording Prometheus's remote-write and HTTP SD endpoints (below): shown
    # as the ports of the production remote-write receiver (vminsert) and of a plain web server.
    "remote-write": 8480,
    "http-sd": 8080,
}
RABBITMQ_DEFAULT_PORTS = {"amqp": 5672, "management": 15672}


@dataclass
class Sample:
    exporter: str  # file name stem, e.g. postgres-exporter, rabbitmq-per-object
    version: str
    source: str  # what produced it: the package or plugin
    server: str | None  # the server it read, with its version
    endpoint: str
    text: str = ""

    @property
    def filename(self) -> str:
        return f"{self.exporter}-{self.version}.prom"


# ---- normalising an exposition ----------------------------------------------------------------------

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(.*)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def _bound(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return float("inf")


def _sample_key(line: str) -> tuple:
    m = _SAMPLE.match(line)
    if not m:
        return (line, "", 0.0)
    labels = _LABEL.findall(m.group(2) or "")
    rest = sorted((k, v) for k, v in labels if k not in ("le", "quantile"))
    bound = next((_bound(v) for k, v in labels if k in ("le", "quantile")), 0.0)
    return (m.group(1), rest, bound)


def normalise(text: str, replacements: dict[str, str]) -> str:
    """Families sorted by name, samples by labels (buckets in `le` order); each `replacements`
    key (a port, a path) replaced in label values by its value."""
    blocks: dict[str, list[str]] = {}
    meta: dict[str, list[str]] = {}
    current: str | None = None
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                current = parts[2]
                meta.setdefault(current, []).append(line)
                blocks.setdefault(current, [])
            continue
        m = _SAMPLE.match(line)
        if not m:
            continue
        name = m.group(1)
        if current is None or not (name == current or name.startswith(current + "_")):
            current = name
            blocks.setdefault(current, [])
        labels = m.group(2) or ""
        for old, new in replacements.items():
            labels = re.sub(rf"(?<![\w.]){re.escape(old)}(?![\w])", new, labels)
        blocks[current].append(f"{name}{labels} {m.group(3)}")
    out = []
    for family in sorted(blocks):
        out += sorted(set(meta.get(family, [])), key=lambda m: (0 if " HELP " in m else 1, m))
        out += sorted(set(blocks[family]), key=_sample_key)
    return "\n".join(out) + "\n"


def header(sample: Sample) -> str:
    lines = [
        "# Generated by `cfmon conformance record` from the running exporter; do not edit, re-record.",
        f"# exporter: {sample.exporter} {sample.version} ({sample.source})",
        f"# server: {sample.server}" if sample.server else "# server: (none: the exporter is the server)",
        f"# endpoint: {sample.endpoint}",
        "# Sorted; the run's loopback ports shown as the default ports; values as recorded.",
    ]
    return "\n".join(lines) + "\n"


# ---- recording ------------------------------------------------------------------------------------


def _until(what: str, check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise UserError(f"{what} did not happen within {timeout:.0f}s")


def _get(url: str) -> None:
    with urllib.request.urlopen(url, timeout=5) as resp:
        resp.read()


def _stack_metrics(workdir: Path, say: Callable[[str], None]) -> list[Sample]:
    """Prometheus (scraping itself, so its scrape and TSDB series exist) and Alertmanager.

    Prometheus also gets a remote write and an HTTP service discovery, each aimed at a loopback
    port nothing listens on: the remote-storage queue series (per remote_name and url) and the
    SD refresh series (per mechanism) exist only when such a configuration does, as in production;
    their sends and refreshes fail, which is what the failure counters are there for."""
    logs = workdir / "logs"
    prom_port, am_port, cluster_port = free_port(), free_port(), free_port(udp=True)
    rw_port, sd_port = free_port(), free_port()
    prom_dir, am_dir = workdir / "prometheus", workdir / "alertmanager"
    prom_dir.mkdir()
    am_dir.mkdir()
    # One rule group, so the rule evaluation series (per rule_group) exist as they do in production.
    (prom_dir / "rules.yml").write_text(
        yaml.safe_dump(
            {
                "groups": [
                    {
                        "name": "conformance",
                        "rules": [
                            {"record": "job:up:sum", "expr": "sum by (job) (up)"},
                            {"alert": "ConformanceNeverFires", "expr": "vector(1) == 0"},
                        ],
                    }
                ]
            }
        )
    )
    (prom_dir / "prometheus.yml").write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": [str(prom_dir / "rules.yml")],
                "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]},
                "remote_write": [
                    {
                        "name": "longterm",
                        "url": f"http://127.0.0.1:{rw_port}/insert/0/prometheus/api/v1/write",
                    }
                ],
                "scrape_configs": [
                    {"job_name": "prometheus", "static_configs": [{"targets": [f"127.0.0.1:{prom_port}"]}]},
                    {
                        "job_name": "discovered",
                        "http_sd_configs": [
                            {"url": f"http://127.0.0.1:{sd_port}/targets", "refresh_interval": "1s"}
                        ],
                    },
                ],
            }
        )
    )
    (am_dir / "alertmanager.yml").write_text(
        yaml.safe_dump({"route": {"receiver": "none"}, "receivers": [{"name": "none"}]})
    )
    procs = []
    try:
        procs.append(
            binaries.start(
                "alertmanager",
                [
                    f"--config.file={am_dir / 'alertmanager.yml'}",
                    f"--storage.path={am_dir / 'data'}",
                    f"--web.listen-address=127.0.0.1:{am_port}",
                    # Clustered (a cluster of one), so the cluster series exist as in production.
                    f"--cluster.listen-address=127.0.0.1:{cluster_port}",
                    f"--cluster.advertise-address=127.0.0.1:{cluster_port}",
                ],
                log=logs / "alertmanager.log",
            )
        )
        procs.append(
            binaries.start(
                "prometheus",
                [
                    f"--config.file={prom_dir / 'prometheus.yml'}",
                    f"--storage.tsdb.path={prom_dir / 'data'}",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                    # The remote write never succeeds: give up flushing it at shutdown at once
                    # (the default minute would outlast the stop's grace period).
                    "--storage.remote.flush-deadline=1s",
                ],
                log=logs / "prometheus.log",
            )
        )
        for name, port, proc in (("alertmanager", am_port, procs[0]), ("prometheus", prom_port, procs[1])):

            def ready(port=port, proc=proc, name=name) -> bool:
                if proc.poll() is not None:
                    log = (logs / f"{name}.log").read_text(errors="replace").splitlines()[-15:]
                    raise UserError(f"{name} exited (code {proc.returncode}):\n    " + "\n    ".join(log))
                _get(f"http://127.0.0.1:{port}/-/ready")
                return True

            _until(f"{name} ready", ready)
        # A few scrapes and rule evaluations, and the notifier's Alertmanager discovered.
        _until(
            "Prometheus scraping itself",
            lambda: (
                "prometheus_target_interval_length_seconds{"
                in scrape(f"http://127.0.0.1:{prom_port}/metrics")
            ),
        )
        _until(
            "Prometheus's remote write and HTTP SD failing",
            lambda: (
                re.search(
                    r"^prometheus_sd_refresh_failures_total\{.*\} [1-9]",
                    text := scrape(f"http://127.0.0.1:{prom_port}/metrics"),
                    re.M,
                )
                is not None
                and "\nprometheus_remote_storage_samples_total{" in text
            ),
        )
        time.sleep(2)
        say("recording prometheus and alertmanager")
        samples = [
            Sample(
                "prometheus",
                binaries.probe("prometheus").version or "unknown",
                "prometheus, Debian",
                None,
                "/metrics",
                scrape(f"http://127.0.0.1:{prom_port}/metrics"),
            ),
            Sample(
                "alertmanager",
                binaries.probe("alertmanager").version or "unknown",
                "prometheus-alertmanager, Debian",
                None,
                "/metrics",
                scrape(f"http://127.0.0.1:{am_port}/metrics"),
            ),
        ]
        ports = {str(prom_port): "9090", str(am_port): "9093"}
        ports |= {
            str(rw_port): str(DEFAULT_PORTS["remote-write"]),
            str(sd_port): str(DEFAULT_PORTS["http-sd"]),
        }
        return [_with_ports(s, ports) for s in samples]
    finally:
        for proc in procs:
            binaries.stop(proc)


def _with_ports(sample: Sample, ports: dict[str, str]) -> Sample:
    sample.text = normalise(sample.text, ports)
    return sample


def record_samples(workdir: Path, say: Callable[[str], None]) -> list[Sample]:
    """Start everything in `workdir`, return every sample (nothing is written here)."""
    samples: list[Sample] = []
    with Servers(workdir, log=say) as s:
        say("starting PostgreSQL, Redis, NGINX, RabbitMQ and the exporters on loopback")
        s.start_postgres()
        s.start_redis()
        s.start_nginx()
        s.start_rabbitmq()
        s.start_node_exporter(node_exporter_chart_args())
        s.start_postgres_exporter()
        s.start_redis_exporter()
        s.start_nginx_exporter()
        s.wait(
            "postgres",
            "redis",
            "nginx",
            "node-exporter",
            "postgres-exporter",
            "redis-exporter",
            "nginx-exporter",
        )
        # Traffic, so the series that count something exist.
        s.redis("SET", "cfmon:key", "1")
        s.redis("GET", "cfmon:key")
        s.redis("GET", "cfmon:missing")
        for _ in range(3):
            _get(f"http://127.0.0.1:{s.procs['nginx'].port}/")
        _until(
            "postgres-exporter reading PostgreSQL", lambda: "\npg_up 1" in scrape(s.url("postgres-exporter"))
        )
        _until("redis-exporter reading Redis", lambda: "\nredis_up 1" in scrape(s.url("redis-exporter")))
        _until("nginx-exporter reading NGINX", lambda: "\nnginx_up 1" in scrape(s.url("nginx-exporter")))
        s.wait("rabbitmq")
        s.rabbitmq_api("PUT", f"/api/queues/%2F/{QUEUE}", {"durable": True})
        s.rabbitmq_publish(QUEUE, 3)
        per_object = s.url("rabbitmq", "/metrics/per-object")
        _until(
            f"RabbitMQ reporting queue {QUEUE}",
            lambda: (
                re.search(
                    rf'rabbitmq_queue_messages_ready\{{[^}}]*queue="{QUEUE}"[^}}]*\}} 3', scrape(per_object)
                )
                is not None
            ),
        )
        say("recording the exporters")
        v, sv = s.versions, s.server_versions
        rabbit = f"RabbitMQ {sv['rabbitmq']}"
        plugin = "rabbitmq_prometheus plugin, built into the broker"
        detailed = "/metrics/detailed?" + "&".join(f"family={f}" for f in DETAILED_FAMILIES)
        deb = "prometheus-{}, Debian"
        wanted = [
            ("node-exporter", deb.format("node-exporter"), "Linux (this machine)", s.url("node-exporter")),
            ("postgres-exporter", deb.format("postgres-exporter"), f"PostgreSQL {sv['postgres']}",
             s.url("postgres-exporter")),
            ("redis-exporter", deb.format("redis-exporter"), f"Redis {sv['redis']}", s.url("redis-exporter")),
            ("nginx-exporter", deb.format("nginx-exporter") + " (nginx-prometheus-exporter)",
             f"NGINX {sv['nginx']} stub_status", s.url("nginx-exporter")),
            ("rabbitmq", plugin, rabbit, s.url("rabbitmq")),
            ("rabbitmq-per-object", plugin, rabbit, per_object),
            ("rabbitmq-detailed", plugin, rabbit, s.url("rabbitmq", detailed)),
        ]  # fmt: skip
        for exporter, source, server, url in wanted:
            version = v[exporter.split("-per-object")[0].split("-detailed")[0]]
            endpoint = "/" + url.split("/", 3)[3]
            samples.append(Sample(exporter, version, source, server, endpoint, scrape(url)))
        ports = {str(p.port): str(DEFAULT_PORTS[n]) for n, p in s.procs.items() if n in DEFAULT_PORTS}
        ports |= {str(port): str(RABBITMQ_DEFAULT_PORTS[k]) for k, port in s.rabbit_ports.items()}
        ports[str(workdir)] = TMP_PLACEHOLDER
        samples = [_with_ports(sample, ports) for sample in samples]
    samples += _stack_metrics(workdir, say)
    return samples


def node_exporter_chart_args(project: Project | None = None) -> list[str]:
    """The node-exporter container's arguments in the prod render (the chart's DaemonSet)."""
    from cfmon.mounts import find_container
    from cfmon.project import find_root
    from cfmon.sandbox import render_resources

    project = project or find_root()
    _, container = find_container(render_resources(project, "prod"), "node-exporter")
    return [str(a) for a in container.get("args") or []]


def write_samples(samples: list[Sample], directory: Path) -> list[Path]:
    """Each sample to directory/<exporter>-<version>.prom, atomically (temp file, then rename);
    an older version's sample of the same exporter is removed."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for sample in samples:
        path = directory / sample.filename
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{sample.filename}.")
        with os.fdopen(fd, "w") as out:
            out.write(header(sample) + sample.text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
        written.append(path)
        for old in directory.glob(f"{sample.exporter}-*.prom"):
            stem = old.name.removeprefix(f"{sample.exporter}-").removesuffix(".prom")
            if old != path and re.fullmatch(r"\d+(\.\d+)*", stem):
                old.unlink()
    return written


def record(project: Project, out: Path | None = None, log: Callable[[str], None] | None = None) -> list[Path]:
    say = log or (lambda _m: None)
    directory = out or project.path(SAMPLES_DIR)
    workdir = Path(tempfile.mkdtemp(prefix="cfmon-conformance-"))
    try:
        samples = record_samples(workdir, say)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return write_samples(samples, directory)

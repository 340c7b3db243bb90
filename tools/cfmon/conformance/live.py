"""The live conformance tier: the real servers and exporters (servers.py) scraped by the real
Prometheus with the RENDERED prod configuration, its rendered rules and its rendered Alertmanager
cluster, time-scaled like the sandbox.

What is rewritten is what the sandbox rewrites (cfmon.sandbox does it; nothing is copied here):
targets, durations divided by the speed, receivers turned into webhooks to a capture server,
Alertmanager peers on loopback. Scrape jobs keep their names, relabelling, metrics paths and the
labels of their first rendered target group (so `instance` and `role` read as in prod); a job
whose exporter runs here points at it, every other job keeps no target. The real `prometheus` and
`alertmanager` jobs scrape the running Prometheus and Alertmanager peers, as in the sandbox.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cfmon import sandbox
from cfmon.conformance.servers import Servers
from cfmon.errors import UserError
from cfmon.manifests import Resource
from cfmon.mounts import find_container
from cfmon.project import Project
from cfmon.rendered import grafana
from cfmon.rendered.model import Render
from cfmon.rendered.prometheus import rule_files
from cfmon.scenario import default_instance

SPEED = 25  # 1 prod minute = 2.4 s: 15 s scrapes every 600 ms, `for: 5m` is 12 s. 25 divides
# every whole-second duration; faster, a busy 2-core CI machine misses scrape timeouts.
# Which process answers a rendered scrape job, by job name. The RabbitMQ plugin serves every
# endpoint (/metrics, /metrics/per-object, ...) on one port, so any RabbitMQ job points at it with
# its rendered metrics path. The legacy ingress-nginx controller does not run here.
SERVED_JOBS: tuple[tuple[re.Pattern, str], ...] = (
    (re.compile(r"^node-exporter$"), "node-exporter"),
    (re.compile(r"postgres"), "postgres-exporter"),
    (re.compile(r"redis"), "redis-exporter"),
    (re.compile(r"rabbitmq"), "rabbitmq"),
    (re.compile(r"^(?!ingress-nginx$).*(nginx|edge)"), "nginx-exporter"),
)
DASHBOARDS = "charts/creativeflow-monitoring/charts/grafana/files/dashboards"


def served_by(job: str) -> str | None:
    return next((proc for pattern, proc in SERVED_JOBS if pattern.search(job)), None)


@dataclass
class Notified:
    at: float  # time.time()
    receiver: str
    status: str  # of this alert: firing or resolved
    labels: dict[str, str]


@dataclass
class Live:
    """A running tier: servers, exporters, Prometheus, the Alertmanager peers, the capture webhook."""

    servers: Servers
    run: sandbox.Run
    speed: int
    jobs: dict[str, str]  # scrape job -> process serving it
    rules: dict[str, list[dict]]  # rule file name -> its rendered (unscaled) groups
    notes: list[str] = field(default_factory=list)

    @property
    def prometheus_url(self) -> str:
        """The running Prometheus (what `cfmon conformance --prometheus URL` can be pointed at)."""
        return f"http://127.0.0.1:{self.run.plan.prometheus_port}"

    @property
    def api(self) -> str:
        return f"{self.prometheus_url}/api/v1"

    def get(self, path: str, **params: Any) -> Any:
        query = urllib.parse.urlencode(params, doseq=True)
        with urllib.request.urlopen(f"{self.api}/{path}?{query}", timeout=10) as resp:
            body = json.loads(resp.read())
        if body.get("status") != "success":
            raise UserError(f"Prometheus {path} {params}: {body.get('error')}")
        return body["data"]

    def query(self, expr: str) -> list[dict]:
        return self.get("query", query=expr)["result"]

    def alerts(self) -> list[dict]:
        """Prometheus' active alerts (pending and firing)."""
        return self.get("alerts")["alerts"]

    def firing(self) -> set[str]:
        return {a["labels"]["alertname"] for a in self.alerts() if a["state"] == "firing"}

    def notifications(self, since: float = 0.0) -> list[Notified]:
        with self.run.capture.lock:
            received = list(self.run.capture.received)
        return [
            Notified(t, receiver, str(a.get("status")), dict(a.get("labels") or {}))
            for t, receiver, _integration, payload in received
            if t >= since
            for a in payload.get("alerts") or []
        ]

    def scenario_s(self, prod_seconds: float) -> float:
        """Real seconds for `prod_seconds` of (unscaled) prod time."""
        return prod_seconds / self.speed

    def wait(self, what: str, done: Callable[[], bool], timeout_s: float) -> None:
        """Poll `done` (and record Prometheus' alerts) until it holds; bounded by timeout_s."""
        deadline = time.time() + timeout_s
        while True:
            self.run.poll()
            with contextlib.suppress(OSError, ValueError):
                if done():
                    return
            if time.time() > deadline:
                raise AssertionError(f"{what}: not within {timeout_s:.0f}s")
            time.sleep(sandbox.POLL_S)


# ---- configuration -----------------------------------------------------------------------------------


def _first_group(job: dict) -> dict:
    """The job's first rendered target group (its instance and labels): static, or the first of
    its file-SD file."""
    for group in job.get("static_configs") or []:
        if group.get("targets"):
            return group
    for sd in job.get("file_sd_configs") or []:
        for name in sd.get("files") or []:
            path = Path(name)
            if path.is_file():
                groups = yaml.safe_load(path.read_text()) or []
                if groups and groups[0].get("targets"):
                    return groups[0]
    return {}


def configure(
    resources: list[Resource], workdir: Path, speed: int, addresses: dict[str, str]
) -> tuple[sandbox.Plan, dict[str, str], dict[str, list[dict]], list[str]]:
    """Rewrite the rendered Prometheus and Alertmanager for loopback; `addresses` is process ->
    host:port. Returns the plan, job -> process, the rendered rule groups per file, and notes."""
    notes: list[str] = []
    am_workload, _ = find_container(resources, "alertmanager")
    replicas = int(am_workload.obj["spec"].get("replicas", 1) or 1)
    peers = [
        sandbox.Peer(i, sandbox.free_port(), sandbox.free_port(udp=True) if replicas > 1 else None)
        for i in range(replicas)
    ]
    model = Render(resources)
    prom = model.prometheus(workdir / "prometheus")
    config = yaml.safe_load(prom.config.read_text()) or {}
    cluster = str(((config.get("global") or {}).get("external_labels") or {}).get("cluster", ""))
    prometheus_port, exporter_port, capture_port = (sandbox.free_port() for _ in range(3))
    jobs = sandbox._scrape_jobs(prom, config)
    config, more = sandbox.rewrite_prometheus(config, speed, [f"127.0.0.1:{p.port}" for p in peers])
    notes += more
    interval = config["global"]["scrape_interval"]
    served: dict[str, str] = {}
    rewritten: dict[Path | None, dict[int, dict]] = {}
    for path, index, job in jobs:
        name = str(job.get("job_name"))
        proc = served_by(name)
        if name == sandbox.PROMETHEUS_JOB:
            groups = [{"targets": [f"127.0.0.1:{prometheus_port}"], "labels": {"instance": "prometheus-0"}}]
        elif name == sandbox.ALERTMANAGER_JOB:
            groups = [{"targets": [f"127.0.0.1:{p.port}"], "labels": {"instance": p.name}} for p in peers]
        elif proc is not None and proc in addresses:
            first = _first_group(job)
            instance = str(first["targets"][0]) if first else default_instance(name)
            labels = {**(first.get("labels") or {}), "instance": instance}
            groups = [{"targets": [addresses[proc]], "labels": labels}]
            served[name] = proc
        else:
            groups = []
        new, _ = sandbox.rewrite_scrape_job(job, groups, speed, interval, synthetic=False)
        rewritten.setdefault(path, {})[index] = new
    sandbox.write_scrape_jobs(config, rewritten)
    idle = sorted(str(j.get("job_name")) for _, _, j in jobs if not served_by(str(j.get("job_name"))))
    notes.append(f"jobs without a process here (no target): {', '.join(idle)}")
    prom.config.write_text(yaml.safe_dump(config, sort_keys=False))

    rules: dict[str, list[dict]] = {}
    alert_names: set[str] = set()
    for name, path in rule_files(prom).items():
        doc = yaml.safe_load(path.read_text()) or {}
        rules[name] = doc.get("groups") or []
        new_doc, skipped = sandbox.rewrite_rules(doc, speed)
        if skipped:
            notes.append(f"{name}: left out (wall clock): {', '.join(skipped)}")
        alert_names |= {str(r["alert"]) for g in rules[name] for r in g.get("rules") or [] if "alert" in r}
        path.write_text(yaml.safe_dump(new_doc, sort_keys=False))

    am = model.alertmanager(workdir / "alertmanager")
    assert am is not None  # its workload was found above
    am_config, receivers = sandbox.rewrite_alertmanager(
        yaml.safe_load(am.config.read_text()) or {},
        speed,
        f"http://127.0.0.1:{capture_port}",
        workdir / "alertmanager" / "sandbox-urls",
    )
    am.config.write_text(yaml.safe_dump(am_config, sort_keys=False))
    plan = sandbox.Plan(
        env="prod",
        scenarios=[],
        speed=speed,
        duration_ms=0,
        events=[],
        workdir=workdir,
        cluster=cluster,
        prometheus_config=prom.config,
        prometheus_args=sandbox.prometheus_flags(resources, prom.config, workdir, prometheus_port, speed),
        prometheus_port=prometheus_port,
        alertmanager_config=am.config,
        peers=peers,
        exporter_port=exporter_port,
        capture_port=capture_port,
        targets={},
        receivers=receivers,
        alert_names=alert_names,
        notes=notes,
    )
    return plan, served, rules, notes


def start_servers(servers: Servers, resources: list[Resource]) -> dict[str, str]:
    """Every server and exporter, ready; returns process -> host:port of what Prometheus scrapes."""
    _, node = find_container(resources, "node-exporter")
    servers.start_postgres()
    servers.start_redis()
    servers.start_nginx()
    servers.start_rabbitmq()
    servers.start_node_exporter([str(a) for a in node.get("args") or []])
    servers.start_postgres_exporter()
    servers.start_redis_exporter()
    servers.start_nginx_exporter()
    names = ["postgres", "redis", "nginx", "node-exporter", "postgres-exporter", "redis-exporter"]
    servers.wait(*names, "nginx-exporter", "rabbitmq")
    return {
        name: f"127.0.0.1:{servers.procs[name].port}"
        for name in ("node-exporter", "postgres-exporter", "redis-exporter", "nginx-exporter", "rabbitmq")
    }


@contextlib.contextmanager
def running(project: Project, *, speed: int = SPEED, log: Callable[[str], None] | None = None):
    """Start the whole tier in a new temporary directory, yield a Live, stop every process (by its
    PID) and remove the directory on the way out."""
    say = log or (lambda _m: None)
    # Under /tmp and world-traversable: the servers run as their own users and must reach their
    # directories (a pytest tmp_path sits below root-only directories).
    workdir = Path(tempfile.mkdtemp(prefix="cfmon-conformance-live-"))
    workdir.chmod(0o755)
    resources = sandbox.render_resources(project, "prod")
    servers = Servers(workdir / "servers", log=say)
    run: sandbox.Run | None = None
    try:
        began = time.time()
        addresses = start_servers(servers, resources)
        say(f"conformance tier: servers and exporters ready in {time.time() - began:.1f}s")
        plan, served, rules, notes = configure(resources, workdir / "stack", speed, addresses)
        run = sandbox.Run(plan)
        run.start()
        run.t0 = time.time()
        say(f"conformance tier: Prometheus and Alertmanager ready in {time.time() - began:.1f}s")
        yield Live(servers, run, speed, served, rules, notes)
    finally:
        began = time.time()
        # Prometheus and the Alertmanager peers stop beside the servers (nothing of one needs the
        # other to shut down; each process is still stopped by its own PID, each wait bounded).
        stopper = None
        if run is not None:
            stopper = threading.Thread(target=run.stop_all)
            stopper.start()
        servers.close()
        if stopper is not None:
            stopper.join()
        say(f"conformance tier: every process stopped in {time.time() - began:.1f}s")
        _unmount_below(workdir)  # a fault's filesystem, should its own clean-up not have run
        shutil.rmtree(workdir, ignore_errors=True)


def _unmount_below(directory: Path) -> None:
    mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    for mount in sorted((m for m in mounts if m.startswith(f"{directory}/")), reverse=True):
        subprocess.run(["umount", mount], capture_output=True)


# ---- recording rules and dashboards --------------------------------------------------------------------


def recording_rules_over(rules: dict[str, list[dict]], jobs: set[str]) -> list[tuple[str, str]]:
    """(rule file, record) of every recording rule that reads one of `jobs`, directly or through
    another recording rule."""
    records: list[tuple[str, str, str]] = [
        (file, str(r["record"]), str(r["expr"]))
        for file, groups in sorted(rules.items())
        for g in groups
        for r in g.get("rules") or []
        if "record" in r
    ]
    reads_job = re.compile(r'\bjob\s*=~?\s*"(' + "|".join(re.escape(j) for j in sorted(jobs)) + r')"')
    over: dict[str, str] = {}
    changed = True
    while changed:
        changed = False
        for file, record, expr in records:
            if record in over:
                continue
            if reads_job.search(expr) or any(
                re.search(rf"(?<![\w:]){re.escape(r)}(?![\w:])", expr) for r in over
            ):
                over[record] = file
                changed = True
    return [(over[r], r) for _, r, _ in records if r in over]


@dataclass
class PanelQuery:
    dashboard: str  # file under the dashboards folder
    panel: str
    expr: str  # as written, Grafana variables and all


def dashboard_queries(project: Project, files: list[str]) -> list[tuple[PanelQuery, list[dict]]]:
    """Every PromQL target of the given dashboard files, with the dashboard's variables."""
    out = []
    for rel in files:
        model = json.loads(project.path(f"{DASHBOARDS}/{rel}").read_text())
        variables = grafana.variables(model)
        for panel in grafana.panels(model):
            for target in panel.targets():
                expr = str(target.get("expr") or "").strip()
                if expr:
                    out.append((PanelQuery(rel, panel.title, expr), variables))
    return out


_LABEL_VALUES = re.compile(r"^\s*label_values\((?:(.*),)?\s*(\w+)\s*\)\s*$", re.S)


def _with_values(text: str, values: dict[str, str]) -> str:
    def repl(m: re.Match) -> str:
        name = next(g for g in (m.group(1), m.group(2), m.group(4)) if g)
        return values.get(name, m.group(0))

    return grafana.VARIABLE.sub(repl, text)


def resolve_variables(live: Live, variables: list[dict]) -> dict[str, str]:
    """Each query variable's value as Grafana would choose it against this Prometheus: its "All"
    value (allValue) when it offers one, else the first value label_values() returns."""
    values: dict[str, str] = {}
    for var in variables:
        name = str(var.get("name"))
        if var.get("type") != "query":
            continue
        m = _LABEL_VALUES.match(grafana.variable_query(var))
        if not m:
            continue
        if var.get("includeAll") and var.get("allValue"):
            values[name] = str(var["allValue"])
            continue
        selector, label = m.group(1), m.group(2)
        params: dict[str, Any] = {}
        if selector:
            params["match[]"] = [_with_values(selector.strip(), values)]
        found = sorted(live.get(f"label/{label}/values", **params))
        values[name] = found[0] if found else ""
    return values


def panel_expr(live: Live, query: PanelQuery, variables: list[dict]) -> str:
    """The target as Grafana sends it: user variables resolved, built-ins ($__rate_interval) by
    durations (grafana.substitute)."""
    return grafana.substitute(_with_values(query.expr, resolve_variables(live, variables)), variables)


# ---- faults ----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def full_filesystem(directory: Path, fill_ratio: float, size_mb: int = 64):
    """An ext4 image of `size_mb`, loop-mounted at directory/mnt and filled to `fill_ratio`;
    unmounted (the loop device detaches with it) on the way out."""
    directory.mkdir(parents=True, exist_ok=True)
    image, mnt = directory / "fs.img", directory / "mnt"
    mnt.mkdir(exist_ok=True)
    with image.open("wb") as f:
        f.truncate(size_mb << 20)
    # -m 0: no blocks reserved for root, so "available" is what a user sees as free.
    subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", str(image)], check=True, capture_output=True)
    subprocess.run(["mount", "-o", "loop", str(image), str(mnt)], check=True, capture_output=True)
    try:
        os.chmod(mnt, 0o755)  # node-exporter runs as nobody: it must reach the mount to stat it
        st = os.statvfs(mnt)
        fill = int(st.f_blocks * st.f_frsize * fill_ratio) - (st.f_blocks - st.f_bavail) * st.f_frsize
        with (mnt / "fill").open("wb") as f:
            os.posix_fallocate(f.fileno(), 0, max(fill, 0))
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def loop_devices_usable() -> str | None:
    """None when a loop device can be set up here, else why not."""
    if os.geteuid() != 0:
        return "not root"
    missing = [tool for tool in ("mkfs.ext4", "mount", "umount", "losetup") if not shutil.which(tool)]
    if missing:
        return f"{', '.join(missing)} not installed"
    if not Path("/dev/loop-control").exists():
        return "no /dev/loop-control (loop devices are not available in this container)"
    proc = subprocess.run(["losetup", "-f"], capture_output=True, text=True)
    if proc.returncode:
        return f"losetup -f: {proc.stderr.strip()}"
    return None

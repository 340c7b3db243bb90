"""A sandbox run: start Prometheus and the Alertmanager peers as planned, replay the scenarios'
timeline and events, observe alerts, inhibitions and notifications, stop everything, and judge
each scenario's expectations."""

from __future__ import annotations

import contextlib
import shutil
import signal
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cfmon import binaries
from cfmon.durations import format_ms
from cfmon.errors import UserError
from cfmon.manifests import Resource
from cfmon.project import Project
from cfmon.sandbox.plan import ALERTMANAGER_JOB, Peer, Plan, alertmanager_args, plan
from cfmon.sandbox.report import SandboxResult, ScenarioReport, _t
from cfmon.sandbox.servers import Capture, Exporter, _get_json, log_tail
from cfmon.scenario import (
    AlertSeen,
    Notification,
    Observed,
    Scenario,
    evaluate,
)

POLL_S = 0.1
READY_TIMEOUT_S = 60.0


class _Stop(Exception):
    """SIGTERM during a run (turned into a clean shutdown)."""


class Run:
    def __init__(self, plan: Plan, deadline: float | None = None) -> None:
        self.plan = plan
        self.deadline = deadline  # time.time() after which the run gives up (a hard limit)
        self.procs: dict[str, Any] = {}
        self.killed: set[str] = set()
        self.exporter = Exporter(plan)
        self.capture = Capture(plan.capture_port)
        self.t0: float | None = None
        self.alerts: dict[tuple, AlertSeen] = {}
        self.inhibited: dict[tuple, dict] = {}
        self.events: list[str] = []
        self.rule_errors: list[str] = []
        self.failed_scrapes: dict[str, int] = {}
        self.disturbed: set[str] = set()  # job/instance the events stopped (their failures are meant)
        self.logs = plan.workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)

    # -- time
    def now_ms(self, t: float | None = None) -> int:
        assert self.t0 is not None
        return round(((t if t is not None else time.time()) - self.t0) * 1000 * self.plan.speed)

    def at_real(self, ms: int) -> float:
        assert self.t0 is not None
        return self.t0 + ms / 1000 / self.plan.speed

    # -- processes
    def _start(self, name: str, tool: str, args: list[str], env: dict[str, str] | None = None) -> None:
        self.procs[name] = binaries.start(
            tool, args, log=self.logs / f"{name}.log", env={**binaries.GOGC_ENV, **(env or {})}
        )

    def _check_alive(self) -> None:
        for name, proc in self.procs.items():
            if name not in self.killed and proc.poll() is not None:
                raise UserError(
                    f"{name} exited with code {proc.returncode}:\n    {log_tail(self.logs / f'{name}.log')}",
                    hint=f"see {self.logs / f'{name}.log'} (run with --keep-dir to keep it)",
                )

    def _check_deadline(self) -> None:
        if self.deadline is not None and time.time() > self.deadline:
            raise UserError("the sandbox run exceeded its time limit; every process was stopped")

    def _wait(self, what: str, ready, timeout: float = READY_TIMEOUT_S) -> None:
        deadline = time.time() + timeout
        last = ""
        while time.time() < deadline:
            self._check_deadline()
            self._check_alive()
            try:
                problem = ready()
            except (OSError, ValueError) as exc:
                problem = str(exc)
            if not problem:
                return
            last = problem
            time.sleep(0.05)
        raise UserError(f"{what} not ready after {timeout:.0f}s: {last}")

    def start_prometheus(self) -> None:
        self._start("prometheus", "prometheus", self.plan.prometheus_args, env={"POD_NAME": "prometheus-0"})
        url = f"http://127.0.0.1:{self.plan.prometheus_port}"

        def ready():
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as resp:
                return None if resp.status == 200 else f"HTTP {resp.status}"

        self._wait("prometheus", ready)
        self.killed.discard("prometheus")

    def stop_prometheus(self) -> None:
        proc = self.procs.get("prometheus")
        if proc is not None:
            self.killed.add("prometheus")
            binaries.stop(proc, timeout=10)

    def targets_up(self) -> str | None:
        data = _get_json(f"http://127.0.0.1:{self.plan.prometheus_port}/api/v1/targets?state=active")
        down = [
            f"{t['labels'].get('job')}/{t['labels'].get('instance')}: {t.get('lastError') or t.get('health')}"
            for t in data["data"]["activeTargets"]
            if t.get("health") != "up"
        ]
        return f"targets not up yet: {'; '.join(down[:5])}" if down else None

    def start(self) -> None:
        """Everything starts at once; then each readiness is awaited (Prometheus takes up to 5 s
        to hand its Alertmanagers to the notifier, the peers as long to settle their gossip)."""
        for srv in (self.exporter.server, self.capture.server):
            threading.Thread(target=srv.serve_forever, daemon=True, kwargs={"poll_interval": 0.1}).start()
        for peer in self.plan.peers:
            self._start(peer.name, "alertmanager", alertmanager_args(self.plan, peer))
        self.start_prometheus()
        for peer in self.plan.peers:

            def settled(peer=peer):
                status = _get_json(f"{peer.url}/api/v2/status")
                state = (status.get("cluster") or {}).get("status")
                return None if state in ("ready", "disabled") else f"cluster {state}"

            self._wait(peer.name, settled)
        self._wait("scrape targets", self.targets_up)
        self._wait("Prometheus' Alertmanager discovery", self.alertmanagers_found)

    def alertmanagers_found(self) -> str | None:
        data = _get_json(f"http://127.0.0.1:{self.plan.prometheus_port}/api/v1/alertmanagers")
        found = len(data["data"]["activeAlertmanagers"])
        return None if found == len(self.plan.peers) else f"{found} of {len(self.plan.peers)} found"

    def stop_all(self) -> None:
        for name in sorted(self.procs, key=lambda n: n != "prometheus"):  # Prometheus first
            with contextlib.suppress(OSError):
                binaries.stop(self.procs[name], timeout=10)
        for srv in (self.exporter.server, self.capture.server):
            with contextlib.suppress(OSError):
                srv.shutdown()
                srv.server_close()

    # -- events
    def first_peer(self) -> Peer:
        """The peer at cluster position 0 (the one that notifies first; the others wait)."""
        live = [p for p in self.plan.peers if p.name not in self.killed]
        status = _get_json(f"{live[0].url}/api/v2/status")
        names = {p["address"]: p["name"] for p in (status.get("cluster") or {}).get("peers") or []}
        by_name = {names.get(f"127.0.0.1:{p.cluster_port}"): p for p in live}
        first = min(n for n in by_name if n is not None)
        return by_name[first]

    def do(self, event) -> None:
        when = format_ms(event.at_ms)
        if event.action in ("stop_target", "start_target"):
            key = (event.job, event.instance)
            if event.action == "stop_target":
                self.exporter.stopped.add(key)
            else:
                self.exporter.stopped.discard(key)
            self.disturbed.add(f"{event.job}/{event.instance}")
            self.events.append(f"{when} {event.action.replace('_', ' ')} {event.job}/{event.instance}")
        elif event.action == "kill_alertmanager":
            if event.peer == "first":
                peer = self.first_peer()
                why = " (the peer that notifies first)"
            else:
                index = int(event.peer or 0)
                if index >= len(self.plan.peers):
                    raise UserError(
                        f"kill_alertmanager: peer {index} does not exist "
                        f"({len(self.plan.peers)} peers in {self.plan.env})",
                        key="events",
                    )
                peer, why = self.plan.peers[index], ""
            self.killed.add(peer.name)
            self.disturbed.add(f"{ALERTMANAGER_JOB}/{peer.name}")
            proc = self.procs[peer.name]
            proc.kill()  # a crash, not a clean leave: the others must notice on their own
            proc.wait()
            self.events.append(f"{when} killed {peer.name}{why}")
        elif event.action == "restart_prometheus":
            self.stop_prometheus()
            self.start_prometheus()
            # Scraping and notifying resume only once Prometheus hands over its targets (a fixed
            # ~5 s of real time: several scenario minutes at high speed).
            self._wait("scrape targets after the restart", self.targets_up)
            self._wait("Prometheus' Alertmanager discovery after the restart", self.alertmanagers_found)
            self.events.append(f"{when} restarted prometheus (scraping again at {_t(self.now_ms())})")
        elif event.action == "stop_prometheus":
            self.stop_prometheus()
            self.events.append(f"{when} stopped prometheus")

    # -- observation
    def poll(self) -> None:
        now = self.now_ms()
        if "prometheus" not in self.killed:
            try:
                data = _get_json(f"http://127.0.0.1:{self.plan.prometheus_port}/api/v1/alerts", timeout=1)
            except (OSError, ValueError):
                data = None
            if data is not None:
                active = set()
                for a in data["data"]["alerts"]:
                    key = tuple(sorted(a["labels"].items()))
                    active.add(key)
                    seen = self.alerts.setdefault(key, AlertSeen(dict(a["labels"])))
                    if seen.pending_ms is None:
                        seen.pending_ms = now
                    open_episode = seen.firing and seen.firing[-1][1] is None
                    if a["state"] == "firing" and not open_episode:
                        seen.firing.append([now, None])
                    elif a["state"] != "firing" and open_episode:
                        seen.firing[-1][1] = now
                for key, seen in self.alerts.items():
                    if key not in active and seen.firing and seen.firing[-1][1] is None:
                        seen.firing[-1][1] = now
        for peer in self.plan.peers:
            if peer.name in self.killed:
                continue
            try:
                alerts = _get_json(
                    f"{peer.url}/api/v2/alerts?active=true&inhibited=true&silenced=true", timeout=1
                )
            except (OSError, ValueError):
                continue
            for a in alerts:
                if (a.get("status") or {}).get("inhibitedBy"):
                    key = tuple(sorted(a["labels"].items()))
                    self.inhibited.setdefault(key, {"at_ms": now, "labels": dict(a["labels"])})
            break  # every peer gets every alert: one is enough

    def collect_health(self) -> None:
        """Rules that failed to evaluate, and scrapes that failed although no event stopped the
        target (a machine too busy for the speed: alerts on `up` are then artefacts)."""
        api = f"http://127.0.0.1:{self.plan.prometheus_port}/api/v1"
        try:
            data = _get_json(f"{api}/rules", timeout=5)
            query = urllib.parse.quote("count_over_time(up[1h]) - sum_over_time(up[1h]) > 0")
            failed = _get_json(f"{api}/query?query={query}", timeout=5)
        except (OSError, ValueError):
            return
        for group in data["data"]["groups"]:
            for rule in group["rules"]:
                if rule.get("health") == "err":
                    self.rule_errors.append(
                        f"{rule['name']} (group {group['name']}): {rule.get('lastError')}"
                    )
        for r in failed["data"]["result"]:
            target = f"{r['metric'].get('job')}/{r['metric'].get('instance')}"
            if target not in self.disturbed:
                self.failed_scrapes[target] = int(float(r["value"][1]))

    def notifications(self) -> list[Notification]:
        peers = {p.url: p.name for p in self.plan.peers}
        out = []
        with self.capture.lock:
            received = list(self.capture.received)
        for t, receiver, integration, payload in received:
            out.append(
                Notification(
                    at_ms=self.now_ms(t),
                    receiver=receiver,
                    integration=integration,
                    status=str(payload.get("status", "")),
                    peer=peers.get(
                        str(payload.get("externalURL", "")).rstrip("/"), str(payload.get("externalURL"))
                    ),
                    alerts=[
                        {"status": a.get("status"), "labels": a.get("labels") or {}}
                        for a in payload.get("alerts") or []
                    ],
                )
            )
        return out

    def loop(self) -> None:
        self.t0 = time.time()
        self.exporter.t0 = self.t0
        end = self.at_real(self.plan.duration_ms)
        pending = list(self.plan.events)
        next_poll = 0.0
        while True:
            now = time.time()
            while pending and self.at_real(pending[0].at_ms) <= now:
                self.do(pending.pop(0))
            if now >= next_poll:
                self._check_deadline()
                self._check_alive()
                self.poll()
                next_poll = now + POLL_S
            if now >= end:
                break
            time.sleep(max(0.0, min(0.02, end - now)))
        if "prometheus" not in self.killed:
            self.collect_health()


def _sigterm(signum, frame):
    raise _Stop()


def run(
    project: Project,
    env: str,
    scenarios: list[Scenario],
    *,
    speed: int | None = None,
    keep_dir: Path | None = None,
    resources: list[Resource] | None = None,
    log: Callable[[str], None] | None = None,
    timeout_s: float | None = None,
) -> SandboxResult:
    """Plan, start, replay the scenarios, stop everything, and judge each scenario's expectations.
    `log` gets progress lines (the CLI prints them on stderr); `timeout_s` bounds the whole run
    (start-up included): past it, the run stops everything and raises a UserError."""
    say = log or (lambda _msg: None)
    for tool in ("prometheus", "alertmanager"):
        binaries.require(tool)  # before anything is rendered or started
    if keep_dir is not None:
        if keep_dir.exists() and (not keep_dir.is_dir() or any(keep_dir.iterdir())):
            raise UserError(
                "not an empty directory",
                key="--keep-dir",
                file=str(keep_dir),
                hint="pass a new or empty directory",
            )
        keep_dir.mkdir(parents=True, exist_ok=True)
        workdir = keep_dir.resolve()
    else:
        workdir = Path(tempfile.mkdtemp(prefix=f"cfmon-sandbox-{env}-"))
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _sigterm) if main else None
    began = time.time()
    runner: Run | None = None
    try:
        say(f"sandbox: rendering {env} and rewriting it for loopback in {workdir}")
        p = plan(project, env, scenarios, workdir, speed=speed, resources=resources)
        runner = Run(p, began + timeout_s if timeout_s else None)
        say(f"sandbox: starting Prometheus and {len(p.peers)} Alertmanager peer(s)")
        runner.start()
        started = time.time()
        say(
            f"sandbox: replaying {format_ms(p.duration_ms)} of scenario time at speed {p.speed} "
            f"(~{p.duration_ms / p.speed / 1000:.0f}s)"
        )
        runner.loop()
        run_s = time.time() - started
    except _Stop:
        raise KeyboardInterrupt from None
    finally:
        if runner is not None:
            runner.stop_all()
        if main:
            signal.signal(signal.SIGTERM, previous)
        if keep_dir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    observed = Observed(
        alerts=sorted(
            runner.alerts.values(),
            key=lambda a: (a.firing[0][0] if a.firing else 1 << 62, sorted(a.labels.items())),
        ),
        notifications=runner.notifications(),
        inhibited=sorted(runner.inhibited.values(), key=lambda i: (i["at_ms"], sorted(i["labels"].items()))),
    )
    reports = [
        ScenarioReport(sc.name, project.rel(sc.path), evaluate(sc, env, p.cluster, observed))
        for sc in scenarios
    ]
    return SandboxResult(
        env=env,
        speed=p.speed,
        cluster=p.cluster,
        peers=len(p.peers),
        notes=p.notes,
        events=runner.events,
        alerts=observed.alerts,
        notifications=observed.notifications,
        inhibited=observed.inhibited,
        rule_errors=runner.rule_errors,
        failed_scrapes=runner.failed_scrapes,
        reports=reports,
        startup_s=started - began,
        run_s=run_s,
        workdir=str(workdir) if keep_dir is not None else None,
    )

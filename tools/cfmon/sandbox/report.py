"""The outcome of a sandbox run (what fired, who was notified, each scenario's verdicts) and its
text and JSON output."""

from __future__ import annotations

from dataclasses import dataclass

from cfmon.durations import format_ms
from cfmon.scenario import (
    AlertSeen,
    Notification,
    Verdict,
)


@dataclass
class ScenarioReport:
    name: str
    file: str
    verdicts: list[Verdict]


@dataclass
class SandboxResult:
    env: str
    speed: int
    cluster: str
    peers: int
    notes: list[str]
    events: list[str]
    alerts: list[AlertSeen]
    notifications: list[Notification]
    inhibited: list[dict]
    rule_errors: list[str]
    failed_scrapes: dict[str, int]  # job/instance -> failed scrapes the scenarios did not cause
    reports: list[ScenarioReport]
    startup_s: float
    run_s: float
    workdir: str | None

    @property
    def ok(self) -> bool:
        return not self.rule_errors and all(v.ok for r in self.reports for v in r.verdicts)


def _t(ms: int | None) -> str:
    if ms is None:
        return "-"
    sign = "-" if ms < 0 else ""
    return sign + format_ms(round(abs(ms) / 1000) * 1000)


def _labels_text(labels: dict[str, str], skip: tuple[str, ...] = ("alertname",)) -> str:
    return "{" + ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k not in skip) + "}"


def scaling_text(speed: int) -> str:
    if speed == 1:
        return "time not scaled (speed 1)"
    return (
        f"time scaled by {speed}: every duration divided by {speed} (scrape and evaluation intervals, "
        "rule for, PromQL ranges and offsets, group_wait/group_interval/repeat_interval, the scenarios); "
        f"1 scenario minute = {60 / speed:g}s real; times below are scenario times"
    )


def format_text(result: SandboxResult) -> str:
    peers = f"{result.peers} Alertmanager peer{'s' if result.peers > 1 else ''}"
    out = [f"sandbox {result.env} (cluster {result.cluster}, {peers})\n", scaling_text(result.speed) + "\n"]
    out += [f"note: {n}\n" for n in result.notes]
    if result.events:
        out.append("events:\n" + "".join(f"  {e}\n" for e in result.events))
    out.append("alerts fired (firing episodes):\n")
    for a in result.alerts:
        if a.firing:
            episodes = ", ".join(f"{_t(s)}-{_t(e) if e is not None else 'end'}" for s, e in a.firing)
            out.append(f"  {a.name:40} {episodes:24} {_labels_text(a.labels)}\n")
    pending_only = sorted({a.name for a in result.alerts if not a.firing})
    if pending_only:
        out.append(f"  pending only (never fired): {', '.join(pending_only)}\n")
    out.append("notifications (receiver, status, alert, labels, sending peer):\n")
    for n in result.notifications:
        for a in n.alerts:
            out.append(
                f"  {_t(n.at_ms):>8} {n.receiver:20} {a['status']:8} {a['labels'].get('alertname', ''):34} "
                f"{_labels_text(a['labels'])} via {n.peer}\n"
            )
    if result.inhibited:
        out.append("inhibited (first seen):\n")
        for i in result.inhibited:
            out.append(f"  {_t(i['at_ms']):>8} {i['labels'].get('alertname')} {_labels_text(i['labels'])}\n")
    if result.rule_errors:
        out.append("rule evaluation errors:\n" + "".join(f"  {e}\n" for e in result.rule_errors))
    if result.failed_scrapes:
        shown = ", ".join(f"{t} {n}x" for t, n in sorted(result.failed_scrapes.items()))
        out.append(
            f"warning: scrapes failed on targets no event stopped ({shown}): the machine was too busy "
            f"for speed {result.speed}; alerts on `up` may be artefacts (try a lower --speed)\n"
        )
    failed = total = 0
    for report in result.reports:
        out.append(f"expectations of {report.name} ({report.file}):\n")
        for v in report.verdicts:
            out.append(f"  {'ok  ' if v.ok else 'FAIL'}  {v.text}\n")
            total += 1
            failed += not v.ok
    out.append(
        f"sandbox: {total} expectations, {failed} failed"
        + (f", {len(result.rule_errors)} rule errors" if result.rule_errors else "")
        + f" (start-up {result.startup_s:.1f}s, run {result.run_s:.1f}s)"
        + (f"; files kept in {result.workdir}" if result.workdir else "")
        + "\n"
    )
    return "".join(out)


def as_json(result: SandboxResult) -> dict:
    return {
        "env": result.env,
        "speed": result.speed,
        "cluster": result.cluster,
        "peers": result.peers,
        "notes": result.notes,
        "events": result.events,
        "alerts": [
            {"labels": a.labels, "pending_ms": a.pending_ms, "firing_ms": a.firing} for a in result.alerts
        ],
        "notifications": [n.__dict__ for n in result.notifications],
        "inhibited": result.inhibited,
        "rule_errors": result.rule_errors,
        "failed_scrapes": result.failed_scrapes,
        "scenarios": [
            {
                "name": r.name,
                "file": r.file,
                "expectations": [{"ok": v.ok, "text": v.text} for v in r.verdicts],
            }
            for r in result.reports
        ],
        "ok": result.ok,
        "startup_s": round(result.startup_s, 3),
        "run_s": round(result.run_s, 3),
        "workdir": result.workdir,
    }

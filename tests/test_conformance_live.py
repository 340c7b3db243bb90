"""The live conformance tier: real PostgreSQL, Redis, RabbitMQ (rabbitmq_prometheus plugin), NGINX and
this machine's node-exporter, scraped by the real Prometheus with the rendered prod configuration
(only targets rewritten), the rendered rules and the rendered 3-peer Alertmanager cluster, time
divided by live.SPEED (cfmon.conformance.live).

The stack runs once for the module: first healthy for HEALTHY_MINUTES prod minutes (no alert but
Watchdog, every exception explained by this machine's real state), then the recording rules and the
dashboards' queries are read back, then each fault (its own test) is caused for real, fires exactly
its alerts to its receivers, is repaired and resolves before the next one starts. A background
fault (a long `for`) is caused before the first of them and judged in its own test, its alerts and
theirs told apart by name, time and the machine's real state.

Needs root (the servers run as their own users through setpriv; the filesystem fault mounts a
loop device) and the servers tools/install-deps installs.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.conformance

HEALTHY_MINUTES = 10  # prod minutes of healthy running before anything is judged
QUEUE = "ai-generation-jobs"  # an AI-generation queue: the ready-message and no-consumer rules select it
BYSTANDER_QUEUE = "thumbnails"  # a queue no queue rule selects: per-queue series while healthy
SLACK_S = 30.0  # real seconds on top of a rule's scaled `for`: scrape, evaluation, group_wait, delivery
TIMINGS: dict[str, float] = {}


def _root_problem() -> str | None:
    if os.geteuid() != 0:
        return "the servers run as their own users through setpriv: run as root (CI does)"
    if not shutil.which("setpriv"):
        return "setpriv (util-linux) is missing"
    return None


@pytest.fixture(scope="module")
def live():
    problem = _root_problem()
    if problem:
        pytest.skip(problem)
    from cfmon.conformance import live as tier
    from cfmon.project import find_root

    began = time.time()
    with tier.running(find_root(ROOT), log=lambda m: print(m, file=sys.stderr)) as stack:
        TIMINGS["start-up"] = time.time() - began
        stack.servers.rabbitmq_api("PUT", f"/api/queues/%2F/{BYSTANDER_QUEUE}", {"durable": True})
        stack.servers.rabbitmq_publish(BYSTANDER_QUEUE, 5)
        # Traffic, so the rates the dashboards draw are not all zero.
        stack.servers.redis("SET", "cfmon:key", "1")
        stack.servers.redis("GET", "cfmon:key")
        stack.servers.redis("GET", "cfmon:missing")
        healthy_until = time.time() + stack.scenario_s(HEALTHY_MINUTES * 60)
        stack.wait("the healthy period", lambda: time.time() >= healthy_until, HEALTHY_MINUTES * 60)
        TIMINGS["healthy period"] = time.time() - began - TIMINGS["start-up"]
        yield stack
    TIMINGS["total"] = time.time() - began
    print(
        "conformance tier timings: " + ", ".join(f"{k} {v:.0f}s" for k, v in TIMINGS.items()), file=sys.stderr
    )


# ---- healthy: no alert but Watchdog, unless this machine's real state explains it ---------------------


def _memory_used() -> float:
    info = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    kb = {k: int(v.split()[0]) for k, v in info.items() if k in ("MemTotal", "MemAvailable")}
    return 1 - kb["MemAvailable"] / kb["MemTotal"]


def _clock_unsynchronised() -> bool:
    """Whether the kernel says its clock is unsynchronised, as node-exporter's timex collector reads
    it (adjtimex returns TIME_ERROR, 5): no NTP daemon disciplines this machine's clock."""
    import ctypes

    class Timex(ctypes.Structure):  # struct timex: the fields before `status` and room for the rest
        _fields_ = [
            ("modes", ctypes.c_uint),
            ("offset", ctypes.c_long),
            ("freq", ctypes.c_long),
            ("maxerror", ctypes.c_long),
            ("esterror", ctypes.c_long),
            ("status", ctypes.c_int),
            ("rest", ctypes.c_byte * 256),
        ]

    try:
        return ctypes.CDLL(None).adjtimex(ctypes.byref(Timex())) == 5
    except (OSError, AttributeError):
        return False


def _explain(alert: dict) -> str | None:
    """Why this alert fires on a healthy stack on this machine, checked against the machine's real
    state (not against Prometheus); None when nothing explains it."""
    name, labels = alert["labels"]["alertname"], alert["labels"]
    if name in ("GrafanaDown", "LokiDown"):
        # The rule also fires when the job has no target at all (a missing component must alert).
        return f"{name}: no {name.removesuffix('Down')} runs in this tier, its scrape job keeps no target"
    if name.startswith("NodeCpuUsage"):
        # node-exporter's CPU counters advance in real time, but the tier's rules divide every
        # rate by the speed (time runs that much faster for them): the idle share they compute is
        # at most 1/SPEED of a CPU, so the utilisation is at least 1 - 1/SPEED (96%) whatever this
        # machine does. This tier cannot judge CPU alerts; the promtool tests do.
        from cfmon.conformance import live as tier

        floor = 1 - 1 / tier.SPEED
        return f"{name}: the tier divides real CPU counters' rates by {tier.SPEED}: usage >= {floor:.0%}"
    if name.startswith("NodeMemoryUsage"):
        used = _memory_used()
        if used > 0.8:
            return f"{name}: this machine's memory is {used:.0%} used (/proc/meminfo)"
    if name in ("NodeClockNotSynchronising", "NodeClockSkewHigh") and _clock_unsynchronised():
        return f"{name}: this machine's kernel clock is not synchronised (adjtimex reports TIME_ERROR)"
    if name.startswith("NodeFilesystem") and labels.get("mountpoint"):
        try:
            st = os.statvfs(labels["mountpoint"])
        except OSError:
            return None
        free = st.f_bavail / max(st.f_blocks, 1)
        if free < 0.2:
            return f"{name}: {labels['mountpoint']} on this machine is {1 - free:.0%} full (statvfs)"
    return None


def _unexplained(live) -> tuple[list[str], list[str]]:
    unexplained, explained = [], []
    for a in live.alerts():
        if a["state"] != "firing" or a["labels"]["alertname"] == "Watchdog":
            continue
        reason = _explain(a)
        labels = {k: v for k, v in a["labels"].items() if k not in ("cluster", "environment")}
        (explained if reason else unexplained).append(reason or str(labels))
    return unexplained, explained


# A target is down when no scrape of the last RECENT succeeded: on a busy machine a scrape
# sometimes misses its (scaled) timeout, which no alert turns into a page (they all wait `for`).
RECENT = "30s"


def test_healthy_fires_nothing_but_watchdog(live):
    down = [r["metric"] for r in live.query(f"max_over_time(up[{RECENT}]) == 0")]
    assert not down, f"targets down on a healthy stack: {down}"
    flaky = live.query(f"avg_over_time(up[{RECENT}]) < 1")
    for r in flaky:
        print(
            f"note: {r['metric'].get('job')} missed {1 - float(r['value'][1]):.0%} of its scrapes",
            file=sys.stderr,
        )
    assert "Watchdog" in live.firing()
    unexplained, explained = _unexplained(live)
    for reason in explained:
        print(f"explained: {reason}", file=sys.stderr)
    assert not unexplained, f"alerts firing on a healthy stack: {unexplained}"


def test_every_job_scrapes_its_real_exporter(live):
    for job in live.jobs:
        up = live.query(f'max_over_time(up{{job="{job}"}}[{RECENT}])')
        assert up and all(r["value"][1] == "1" for r in up), f"job {job}: {up}"


# ---- recording rules and dashboard targets --------------------------------------------------------------


# Series the processes of this tier cannot give, by design, with the reason: a rule or target
# that reads only these is reported, not failed.
NOT_GIVEN_HERE = {
    re.compile(r"\bedge:requests_errors:|\bedge:request_duration_seconds:|\bedge_upstream:|"
               r"\bedge_instance:config_reload_successful:"):
    "of the edge adapters only NGINX runs here (not Envoy Gateway, not the ingress-nginx controller), "
    "and nginx-prometheus-exporter reads stub_status: connections and request counts, no status "
    "codes, latency, upstream health or reload status",
    re.compile(r":[a-z0-9_]+_tier1d$"):
    "the long-term 1d tier is evaluated once an hour, and the tier runs for less than a (scaled) hour",
}  # fmt: skip


def _not_given(expr: str) -> str | None:
    return next((why for pattern, why in NOT_GIVEN_HERE.items() if pattern.search(expr)), None)


def test_every_recording_rule_over_these_exporters_returns_series(live):
    from cfmon.conformance.live import recording_rules_over

    records = recording_rules_over(live.rules, set(live.jobs))
    assert len(records) > 20, records
    for file, record in records:
        if _not_given(record):
            print(f"not judged: {file}: {record}: {_not_given(record)}", file=sys.stderr)
    empty = [
        f"{file}: {record}" for file, record in records if not _not_given(record) and not live.query(record)
    ]
    assert not empty, f"{len(empty)} of {len(records)} recording rules return nothing:\n  " + "\n  ".join(
        empty
    )


def _dashboards() -> list[str]:
    base = ROOT / "charts/creativeflow-monitoring/charts/grafana/files/dashboards"
    wanted = ["nodes", "postgresql", "redis", "rabbitmq"]
    found = [f"Infrastructure/{n}.json" for n in wanted]
    # The edge dashboard: the NGINX adapter's (edge-*), else the legacy ingress-nginx one.
    edge = sorted(p.relative_to(base).as_posix() for p in base.glob("*/edge*.json"))
    return found + (edge or ["Infrastructure/ingress-nginx.json"])


# Offsets/ranges longer than the run can have no data in a fresh Prometheus: such a target is
# reported, not failed.
_LONG = re.compile(r"\boffset\s+(\d+)([dwy])\b")


@pytest.mark.parametrize("dashboard", _dashboards())
def test_every_dashboard_target_returns_data(live, dashboard):
    from cfmon.conformance.live import dashboard_queries, panel_expr
    from cfmon.project import find_root

    queries = dashboard_queries(find_root(ROOT), [dashboard])
    assert queries
    empty, skipped = [], []
    for q, variables in queries:
        if _LONG.search(q.expr):
            skipped.append(f"{q.panel}: reads {_LONG.search(q.expr).group(0)} ago")
            continue
        if _not_given(q.expr):
            skipped.append(f"{q.panel}: {_not_given(q.expr)}")
            continue
        expr = panel_expr(live, q, variables)
        if not live.query(expr):
            empty.append(f'panel "{q.panel}": {expr}')
    for s in skipped:
        print(f"{dashboard}: not judged: {s}", file=sys.stderr)
    assert not empty, (
        f"{dashboard}: {len(empty)} of {len(queries)} targets return nothing:\n  " + "\n  ".join(empty)
    )


# ---- faults --------------------------------------------------------------------------------------------


@dataclass
class Fault:
    id: str
    # alert -> receiver that gets it; None: it fires but its notification is inhibited
    expect: dict[str, str | None]
    cause: Callable  # (live, fault) -> None; may wait between stages
    repair: Callable  # (live) -> None
    skip: Callable[[], str | None] = lambda: None
    # Caused when the first fault starts, left in place while the others run, judged (and
    # repaired) in its own test: for a fault whose alert waits a long `for`, whose alerts this
    # module explains by the machine's state while other faults run (_explain), and which no
    # other fault's alert reads.
    background: bool = False
    state: dict = field(default_factory=dict)


def _for_s(live, alert: str) -> float:
    from cfmon.durations import parse_ms

    for groups in live.rules.values():
        for g in groups:
            for r in g.get("rules") or []:
                if r.get("alert") == alert:
                    return parse_ms(str(r.get("for", "0s"))) / 1000
    return 0.0


def _notified(live, since: float, alert: str, receiver: str, status: str) -> bool:
    return any(
        n.labels.get("alertname") == alert and n.receiver == receiver and n.status == status
        for n in live.notifications(since)
    )


def _await_fired(live, since: float, alerts: dict[str, str | None]) -> None:
    for alert, receiver in alerts.items():
        timeout = live.scenario_s(_for_s(live, alert)) + SLACK_S
        if receiver is None:
            live.wait(
                f"{alert} firing, its notification inhibited",
                lambda a=alert: (
                    a in live.firing()
                    and any(i["labels"].get("alertname") == a for i in live.run.inhibited.values())
                ),
                timeout,
            )
        else:
            live.wait(
                f"{alert} notified to {receiver}",
                lambda a=alert, r=receiver: _notified(live, since, a, r, "firing"),
                timeout,
            )


def _stop(name: str):
    return lambda live, fault: live.servers.stop(name)


def _restart(name: str):
    return lambda live: live.servers.restart(name)


def _queue_backlog(live, fault: Fault) -> None:
    live.servers.rabbitmq_api("PUT", f"/api/queues/%2F/{QUEUE}", {"durable": True})
    live.servers.rabbitmq_publish(QUEUE, 1001)
    _await_fired(
        live,
        fault.state["since"],
        {"RabbitmqQueueReadyMessagesHigh": "warning-slack", "RabbitmqQueueNoConsumers": "warning-slack"},
    )
    live.servers.rabbitmq_publish(QUEUE, 4000)


def _disk_alarm(live, fault: Fault) -> None:
    free = shutil.disk_usage(live.servers.workdir).free
    live.servers.rabbitmqctl("set_disk_free_limit", str(free + (1 << 30)))


def _filesystem_full(live, fault: Fault) -> None:
    from cfmon.conformance.live import full_filesystem

    ctx = full_filesystem(live.servers.workdir / "loopfs", 0.95)
    fault.state["mount"] = ctx
    ctx.__enter__()


def _filesystem_repair(live) -> None:
    mount = FAULTS_BY_ID["filesystem-95pct-full"].state.pop("mount", None)
    if mount is not None:
        mount.__exit__(None, None, None)


def _loop_problem() -> str | None:
    from cfmon.conformance.live import loop_devices_usable

    return loop_devices_usable()


FAULTS = [
    Fault("postgres-stopped", {"PostgresDown": "db-team-pagerduty"}, _stop("postgres"), _restart("postgres")),
    Fault("redis-stopped", {"RedisDown": "critical-pagerduty"}, _stop("redis"), _restart("redis")),
    # An AI-generation queue (the queue rules select those): past 1000 ready messages the warning,
    # past 5000 the critical (which then inhibits the warning); no consumer at all fires too.
    Fault(
        "rabbitmq-queue-backlog",
        {
            "RabbitmqQueueReadyMessagesHigh": "warning-slack",
            "RabbitmqQueueNoConsumers": "warning-slack",
            "RabbitmqQueueReadyMessagesCritical": "critical-pagerduty",
        },
        _queue_backlog,
        lambda live: live.servers.rabbitmq_api("DELETE", f"/api/queues/%2F/{QUEUE}"),
    ),
    Fault(
        "rabbitmq-stopped", {"RabbitmqDown": "critical-pagerduty"}, _stop("rabbitmq"), _restart("rabbitmq")
    ),
    Fault(
        "rabbitmq-disk-alarm",
        {"RabbitmqDiskAlarm": "critical-pagerduty"},
        _disk_alarm,
        lambda live: live.servers.rabbitmqctl("set_disk_free_limit", "50MB"),
    ),
    # 95% full: below both thresholds; the critical inhibits the warning (same symptom and mount).
    Fault(
        "filesystem-95pct-full",
        {"NodeFilesystemSpaceCritical": "critical-pagerduty", "NodeFilesystemSpaceLow": None},
        _filesystem_full,
        _filesystem_repair,
        skip=_loop_problem,
        # NodeFilesystemSpaceLow waits 30 prod minutes (72 s here): the other faults run meanwhile.
        # Their alerts are told apart by name and time (_others), its own by the filled mount's
        # real state (_explain), so each fault is still judged exactly.
        background=True,
    ),
    # The tier runs one NGINX: stopping it takes the whole gateway down (the critical), and its
    # instance alert, firing later, is inhibited by it (same symptom and instance).
    Fault(
        "nginx-stopped",
        {"EdgeGatewayDown": "critical-pagerduty", "EdgeGatewayInstanceDown": None},
        _stop("nginx"),
        _restart("nginx"),
    ),
]
FAULTS_BY_ID = {f.id: f for f in FAULTS}


# (fault, began, ended) of every foreground fault run so far: a background fault's judgement
# leaves out their alerts' notifications, by name and within their own run only.
RAN: list[tuple[Fault, float, float]] = []


def _cause(live, fault: Fault) -> None:
    fault.state["since"] = time.time()
    fault.state["before"] = live.firing()
    fault.cause(live, fault)


def _start_background(live, selected: set[str]) -> None:
    """Cause every selected background fault that has not been caused yet."""
    for f in FAULTS:
        if f.background and f.id in selected and "since" not in f.state and not f.skip():
            try:
                _cause(live, f)
            except Exception as exc:  # judged (as an error) in the fault's own test
                f.state["error"] = exc


def _others(fault: Fault, n) -> bool:
    """Whether notification n is another fault's alert, sent while that fault ran."""
    return any(
        other is not fault and n.labels.get("alertname") in other.expect and began <= n.at <= ended
        for other, began, ended in RAN
    )


def _selected(request) -> set[str]:
    """The ids of the faults this session runs (a fault left out by -k is not caused)."""
    params = [getattr(item, "callspec", None) for item in request.session.items]
    return {
        c.params["fault"].id for c in params if c is not None and isinstance(c.params.get("fault"), Fault)
    }


@pytest.mark.parametrize("fault", FAULTS, ids=[f.id for f in FAULTS])
def test_fault_fires_exactly_its_alerts_then_resolves(live, fault, request):
    problem = fault.skip()
    if problem:
        pytest.skip(f"{fault.id}: {problem}")
    missing = sorted(set(fault.expect) - live.run.plan.alert_names)
    assert not missing, f"no alert {', '.join(missing)} in the prod render"
    _start_background(live, _selected(request) - {fault.id})
    wanted = {(a, r) for a, r in fault.expect.items() if r}
    try:
        if "since" not in fault.state:
            _cause(live, fault)
        if "error" in fault.state:
            raise fault.state.pop("error")
        began, before = fault.state["since"], fault.state["before"]
        _await_fired(live, began, fault.expect)
        # Alerts already firing before the fault (the healthy exceptions) and alerts this
        # machine's state explains right now (a full disk, say) are not the fault's.
        explained = {a["labels"]["alertname"] for a in live.alerts() if _explain(a)} - set(fault.expect)
        ignored = before | explained | {"Watchdog"}
        new = live.firing() - ignored
        assert new == set(fault.expect), f"fired {sorted(new)}, expected exactly {sorted(fault.expect)}"
        notified = {
            (n.labels["alertname"], n.receiver)
            for n in live.notifications(began)
            if n.status == "firing"
            and n.labels.get("alertname") not in ignored
            # Another alert this machine's state explains (the fault's own alert is explained too,
            # by the state the fault made: a filesystem it filled, say).
            and (n.labels.get("alertname") in fault.expect or not _explain({"labels": n.labels}))
            and not _others(fault, n)
        }
        assert notified == wanted, f"notified {sorted(notified)}, expected {sorted(wanted)}"
    finally:
        repaired = time.time()
        fault.repair(live)
    timeout = SLACK_S + live.scenario_s(5 * 60)  # the repaired server's first scrapes, group_interval
    for alert, receiver in wanted:
        live.wait(
            f"{alert} resolved to {receiver}",
            lambda a=alert, r=receiver: _notified(live, repaired, a, r, "resolved"),
            timeout,
        )
    live.wait("every fault alert resolved", lambda: not (live.firing() & set(fault.expect)), timeout)
    if not fault.background:
        RAN.append((fault, began, time.time()))
    TIMINGS[fault.id] = time.time() - began
    inhibited = sorted(a for a, r in fault.expect.items() if r is None)
    print(
        f"{fault.id}: fired {sorted(new)}; notified {sorted(notified)}; inhibited {inhibited}; "
        f"resolved {time.time() - repaired:.0f}s after the repair",
        file=sys.stderr,
    )

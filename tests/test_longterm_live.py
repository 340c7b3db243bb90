"""The long-term store, live (marked e2e): two Prometheus 3.5 replicas run dev's rendered config and
rules (time-scaled by the sandbox's own rewriting, targets on its synthetic exporter) and
remote-write through the rendered `longterm` remote write to a real single-node VictoriaMetrics
1.145 on 127.0.0.1, started with the flags the chart renders (scaled).

One timeline, about two and a half minutes, then the assertions:
  - the aggregate tiers arrive, no raw series and no other recording rule does;
  - the store holds one copy of each aggregate: the replica label is dropped, each stored sample is
    a replica's sample at the same timestamp (not a sum of both), one per tier interval, not two;
  - the store down for 20 s (over 3 evaluations of the 5m tier), then back: no gap in any 5m-tier
    series (Prometheus re-sends from its WAL);
  - both replicas restarted: the 5m-tier gap is no longer than the restart itself plus one
    evaluation;
  - every target of the Capacity & trends dashboard, run against the store as Grafana would run
    it, succeeds, and the RED panels read the scenario's values.
Time runs SPEED times faster: the 5m tier is evaluated every 6 s, the 1d tier every 72 s.
"""

from __future__ import annotations

import calendar
import itertools
import json
import re
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from cfmon import binaries, sandbox
from cfmon.checks.longterm import TIER_NAME, parse_args
from cfmon.project import find_root
from cfmon.scenario import load as load_scenario

pytestmark = pytest.mark.e2e

PROJECT = find_root(ROOT)
ENV = "dev"
SPEED = 50
TIER_5M_S = 300 / SPEED  # the 5m tier's evaluation interval, scaled
STEP_S = 60 / SPEED  # the scenario's step (its default interval, 1m), scaled
STEP_LEAD_S = 1.0  # a step's lead on the 5m tier's next evaluation (< STEP_S: 5 steps per window)
OUTAGE_S = 20.0
RESTART_S = 8.0
DASHBOARD = (
    ROOT / "charts/creativeflow-monitoring/charts/grafana/files/dashboards/Capacity/capacity-trends.json"
)
CLUSTER = "creativeflow-dev"

# 600 good and 60 failing requests a minute on the API gateway: 11 requests/s, 1 error/s.
LABELS = (
    'job="application-services", instance="api-gateway-0", namespace="creativeflow", '
    'pod="api-gateway-0", service="api-gateway", method="GET", route="/v1/assets"'
)
SCENARIO = f"""
name: longterm-live
description: Steady API traffic for the long-term store test.
speed: 50
duration: 4h
series:
  - series: 'http_requests_total{{{LABELS}, status="200"}}'
    values: '0+600x240'
  - series: 'http_requests_total{{{LABELS}, status="503"}}'
    values: '0+60x240'
"""


def get(url: str, timeout: float = 5.0):
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return json.loads(resp.read())


def query(base: str, expr: str, at: float | None = None) -> list[dict]:
    args = {"query": expr}
    if at is not None:
        args["time"] = f"{at:.3f}"
    data = get(f"{base}/api/v1/query?{urllib.parse.urlencode(args)}")
    assert data["status"] == "success", data
    return data["data"]["result"]


def wait_for(what: str, ready, timeout: float) -> None:
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            if ready():
                return
        except OSError as exc:
            last = exc
        time.sleep(0.1)
    raise AssertionError(f"{what} not ready after {timeout:.0f}s ({last})")


class Stack:
    """The store and the two replicas, each stopped by its own process handle."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.logs = workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.procs: dict[str, object] = {}

    def start(self, name: str, tool: str, args: list[str], env: dict[str, str] | None = None) -> None:
        if tool != "victoria-metrics":
            self.procs[name] = binaries.start(tool, args, log=self.logs / f"{name}.log", env=env)
            return
        # Not a pinned cfmon tool (its Debian build reports no version): started from .tools/bin.
        binary = binaries._tools_bin() / "victoria-metrics"
        if not binary.exists():
            pytest.skip("victoria-metrics is not installed (tools/install-deps)")
        with (self.logs / f"{name}.log").open("ab") as log:
            self.procs[name] = subprocess.Popen(
                [str(binary), *args],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is not None:
            binaries.stop(proc, timeout=20)

    def stop_all(self) -> None:
        # The replicas before the store: a Prometheus stopping with its store gone retries its
        # remote-write queue until the flush deadline (a minute) and is only killed at the timeout.
        for name in sorted(self.procs, key=lambda n: n == "victoria-metrics"):
            self.stop(name)


def rendered_store_flags(resources) -> dict[str, str]:
    (res,) = [
        r
        for r in resources
        if r.kind == "StatefulSet"
        and (r.obj["metadata"].get("labels") or {}).get("app.kubernetes.io/name") == "victoria-metrics"
    ]
    return parse_args(res.obj["spec"]["template"]["spec"]["containers"][0]["args"])


def rendered_remote_write(resources) -> dict:
    for r in resources:
        if r.kind == "ConfigMap" and "prometheus.yml" in (r.obj.get("data") or {}):
            config = yaml.safe_load(r.obj["data"]["prometheus.yml"])
            (rw,) = [w for w in config["remote_write"] if w["name"] == "longterm"]
            return rw
    raise AssertionError("no rendered prometheus.yml")


def evaluation_phase(base: str, record: str) -> float:
    """When (epoch s) the rule group recording `record` last evaluated on this Prometheus; it
    evaluates again every interval from then (groups evaluate on a fixed wall-clock phase)."""

    def last() -> float | None:
        for group in get(f"{base}/api/v1/rules?type=record")["data"]["groups"]:
            if any(r.get("name") == record for r in group["rules"]):
                stamp = group.get("lastEvaluation") or ""
                if stamp.startswith("0001-"):
                    return None  # not evaluated yet
                whole, _, frac = stamp.rstrip("Z").partition(".")  # RFC 3339, UTC, nanoseconds
                return calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S")) + float(f"0.{frac or 0}")
        raise AssertionError(f"no rule group records {record}")

    found: list[float] = []

    def evaluated() -> bool:
        t = last()
        if t is not None:
            found.append(t)
        return t is not None

    wait_for(f"the group of {record} evaluated", evaluated, 30)
    return found[-1]


def series_samples(vm: str, selector: str, start: float, end: float) -> dict[str, list[float]]:
    """Timestamps (s) of every series matching selector in [start, end], as the store returns them."""
    args = urllib.parse.urlencode({"match[]": selector, "start": f"{start:.3f}", "end": f"{end:.3f}"})
    with urllib.request.urlopen(f"{vm}/api/v1/export?{args}", timeout=10) as resp:
        lines = resp.read().decode().splitlines()
    out = {}
    for line in lines:
        doc = json.loads(line)
        key = doc["metric"]["__name__"] + json.dumps(
            {k: v for k, v in doc["metric"].items() if k != "__name__"}, sort_keys=True
        )
        out[key] = sorted(t / 1000 for t in doc["timestamps"])
    return out


def max_gap(stamps: list[float], start: float, end: float) -> float:
    inside = [t for t in stamps if start <= t <= end]
    return max((b - a for a, b in itertools.pairwise(inside)), default=float("inf"))


def substitute(expr: str) -> str:
    """A dashboard target as Grafana sends it (its variables filled in for dev)."""
    values = {
        "environment": ENV,
        "cluster": CLUSTER,
        "__rate_interval": "5m",
        "__interval": "5m",
        "__range": "1h",
    }
    return re.sub(r"\$\{?(\w+)(?::\w+)?\}?", lambda m: values.get(m.group(1), m.group(0)), expr)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    fixture_began = time.time()
    workdir = tmp_path_factory.mktemp("longterm-live")
    scenario_file = workdir / "longterm-live.yaml"
    scenario_file.write_text(SCENARIO)
    resources = sandbox.render_resources(PROJECT, ENV)
    plan = sandbox.plan(
        PROJECT, ENV, [load_scenario(scenario_file)], workdir, speed=SPEED, resources=resources
    )

    # -- the store, with the rendered flags (durations scaled), on loopback
    flags = rendered_store_flags(resources)
    vm_port = sandbox.free_port()
    vm = f"http://127.0.0.1:{vm_port}"
    dedup = sandbox.scale_duration(flags["dedup.minScrapeInterval"], SPEED, "dedup")
    vm_args = [
        f"-storageDataPath={workdir / 'vm-data'}",
        f"-httpListenAddr=127.0.0.1:{vm_port}",
        f"-retentionPeriod={flags['retentionPeriod']}",
        f"-dedup.minScrapeInterval={dedup}",
        # The test reads what was just written: no 30 s latency offset, no result cache.
        "-search.latencyOffset=0s",
        "-search.disableCache",
    ]

    # -- both replicas: the sandbox's config plus the rendered `longterm` remote write, its URL on loopback
    config = yaml.safe_load(plan.prometheus_config.read_text())
    rw = rendered_remote_write(resources)
    rw["url"] = f"{vm}/api/v1/write"
    config["remote_write"] = [rw]
    plan.prometheus_config.write_text(yaml.safe_dump(config, sort_keys=False))
    keep = [
        a for a in plan.prometheus_args if not a.startswith(("--storage.tsdb.path=", "--web.listen-address="))
    ]
    ports = [plan.prometheus_port, sandbox.free_port()]

    def replica_args(i: int) -> list[str]:
        return [
            *keep,
            f"--storage.tsdb.path={workdir / f'prom-{i}'}",
            f"--web.listen-address=127.0.0.1:{ports[i]}",
        ]

    stack = Stack(workdir)
    exporter = sandbox.Exporter(plan)
    threading.Thread(target=exporter.server.serve_forever, daemon=True, kwargs={"poll_interval": 0.1}).start()
    result: dict = {"vm": vm, "prom": [f"http://127.0.0.1:{p}" for p in ports], "events": {}, "phases": {}}

    def start_replicas():
        for i in (0, 1):
            stack.start(f"prometheus-{i}", "prometheus", replica_args(i), env={"POD_NAME": f"prometheus-{i}"})
        for i in (0, 1):
            wait_for(f"prometheus-{i}", lambda i=i: ok(f"{result['prom'][i]}/-/ready"), 60)

    def ok(url: str) -> bool:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return resp.status == 200

    def vm_ready():
        return ok(f"{vm}/health")

    began = time.time()
    result["phases"]["rendered and planned"] = fixture_began
    try:
        stack.start("victoria-metrics", "victoria-metrics", vm_args)
        wait_for("victoria-metrics", vm_ready, 30)
        result["phases"]["store ready"] = time.time()
        start_replicas()
        result["phases"]["replicas ready"] = time.time()
        # The scenario's timeline starts in phase with the 5m tier's evaluations. Its samples carry
        # the timestamp of their step (every STEP_S) but reach a replica at its next scrape: a rate
        # evaluated between the two misses its newest sample and extrapolates less than the full
        # window (9.59 for 11.0). Steps STEP_LEAD_S before each 5m-tier evaluation leave the rate
        # it reads (evaluated at most one 15 s evaluation interval, 0.3 s, earlier) over 5 whole
        # steps, each scraped at least two scrape intervals before: 11.0 on both replicas, not a
        # value that depends on where this run's start happened to fall.
        tier_at = evaluation_phase(result["prom"][0], "service:http_requests:rate_tier5m")
        now = time.time()
        exporter.t0 = now - (now - (tier_at - STEP_LEAD_S)) % STEP_S
        result["phases"]["the scenario started in phase"] = time.time()
        tier = 'service:http_requests:rate_tier5m{service="api-gateway"}'
        wait_for("the 5m tier in the store", lambda: query(vm, tier) != [], 60)
        result["first"] = time.time()
        result["phases"]["first 5m-tier sample in the store"] = result["first"]
        time.sleep(15)

        # -- the store goes away for a while, then comes back on the same data
        result["events"]["outage"] = (time.time(), None)
        stack.stop("victoria-metrics")
        time.sleep(OUTAGE_S)
        stack.start("victoria-metrics", "victoria-metrics", vm_args)
        wait_for("victoria-metrics again", vm_ready, 30)
        result["events"]["outage"] = (result["events"]["outage"][0], time.time())
        time.sleep(20)

        # -- both Prometheus replicas restart
        down = time.time()
        stack.stop("prometheus-0")
        stack.stop("prometheus-1")
        time.sleep(RESTART_S)
        start_replicas()
        result["events"]["restart"] = (down, time.time())
        # The end of the timeline: late enough that the 1h tier's window (72 s) read at it lies past
        # the replicas' first minute, whose 5m-tier rates are still filling their windows.
        result["end"] = time.time() + 22 - 2 * TIER_5M_S
        series = set(series_samples(vm, '{__name__=~".+_tier5m"}', result["first"], down))

        def complete() -> bool:
            # Remote write sends each series' samples in order: once every 5m-tier series has a
            # sample at or after the end, the store holds all of them up to it.
            latest = series_samples(vm, '{__name__=~".+_tier5m"}', down, time.time())
            return set(latest) >= series and all(max(latest[k]) >= result["end"] for k in series)

        wait_for("every 5m-tier series in the store up to the end", complete, 60)
        result["phases"]["the store complete up to the end"] = time.time()

        # -- measurements
        result["tier5m"] = series_samples(vm, '{__name__=~".+_tier5m"}', result["first"], result["end"])
        result["names"] = get(f"{vm}/api/v1/label/__name__/values")["data"]
        stored = series_samples(vm, '{__name__=~".+"}', began, time.time())
        result["stored_series"], result["stored_samples"] = len(stored), sum(map(len, stored.values()))
        # The same instant on both, in the steady phase; last_over_time spans two 5m-tier intervals
        # because Prometheus' scaled lookback (6 s) is exactly one interval.
        at = result["events"]["outage"][0] - TIER_5M_S
        window = f"{int(2 * TIER_5M_S)}s"
        for where, base in (("vm", vm), ("prom", result["prom"][0])):
            result[f"sum_{where}"] = query(
                base, f"sum(last_over_time(service:http_requests:rate_tier5m[{window}]))", at
            )
            result[f"count_{where}"] = query(
                base, f"count(last_over_time(service:http_requests:rate_tier5m[{window}]))", at
            )
        # The raw samples of that window, in the store and on each replica (a wider window on the
        # replicas: the store's samples must be among theirs, whatever either does at the edges).
        result["raw_vm"] = query(vm, f"service:http_requests:rate_tier5m[{window}]", at)
        result["raw_prom"] = [
            query(base, f"service:http_requests:rate_tier5m[{int(3 * TIER_5M_S)}s]", at)
            for base in result["prom"]
        ]
        with urllib.request.urlopen(f"{vm}/metrics", timeout=5) as resp:
            metrics = resp.read().decode()
        result["rows"] = sum(
            float(v)
            for v in re.findall(r'^vm_rows_inserted_total\{type="promremotewrite"\} (\S+)$', metrics, re.M)
        )
        result["seconds"] = time.time() - began
        result["phases"]["measured"] = time.time()
        result["began"] = began
        yield result
    finally:
        stopping = time.time()
        stack.stop_all()
        exporter.server.shutdown()
        print(f"longterm live: every process stopped in {time.time() - stopping:.1f}s")


def test_the_aggregates_arrive_and_raw_series_do_not(live):
    names = live["names"]
    assert "service:http_requests:rate_tier5m" in names
    assert "service:http_requests:rate_tier1h" in names
    assert "service:http_requests_errors:ratio_tier5m" in names
    strays = [n for n in names if not TIER_NAME.fullmatch(n)]
    assert strays == [], f"series that are not tier records reached the store: {strays[:10]}"
    assert live["rows"] > 0


def test_the_store_holds_one_copy_of_each_aggregate(live):
    # The replica label is dropped and the store deduplicates: one series, each of its samples one
    # replica's sample at the same timestamp (not a sum of both). The replicas evaluate at the same
    # instants but scrape at their own offsets, so their rates may differ (a rate evaluated before
    # the replica's scrape brought the newest step reads 9.6, not 11.0) and the store keeps either:
    # it is compared sample by sample, timestamp with timestamp, not with one chosen replica.
    (vm,) = live["sum_vm"]
    assert float(vm["value"][1]) == pytest.approx(11.0, rel=1e-3)
    (stored,) = live["raw_vm"]
    replicas: dict[int, list[float]] = {}
    for result in live["raw_prom"]:
        for series in result:
            for t, v in series["values"]:
                replicas.setdefault(round(float(t) * 1000), []).append(float(v))
    assert stored["values"], "no 5m-tier sample in the store's steady window"
    for t, v in stored["values"]:
        ms = round(float(t) * 1000)
        assert ms in replicas, f"the store's sample at {ms} ms is no replica's (they have {sorted(replicas)})"
        # The store keeps 12 significant digits of a value.
        assert any(float(v) == pytest.approx(r, rel=1e-9) for r in replicas[ms]), (
            f"the store's sample at {ms} ms is {v}, the replicas' {replicas[ms]}"
        )
    assert live["count_vm"][0]["value"][1] == live["count_prom"][0]["value"][1] == "1"
    # One sample per 5m-tier evaluation, not one per replica and evaluation.
    for key, stamps in live["tier5m"].items():
        steady = [t for t in stamps if live["first"] <= t <= live["events"]["outage"][0]]
        spacing = (steady[-1] - steady[0]) / max(len(steady) - 1, 1)
        assert spacing > 0.8 * TIER_5M_S, (
            f"{key}: samples {spacing:.2f}s apart: the replicas were not deduplicated"
        )


def test_no_gap_after_the_store_comes_back(live):
    assert live["tier5m"], "no 5m-tier series in the store"
    start, end = live["first"], live["events"]["restart"][0]
    for key, stamps in live["tier5m"].items():
        gap = max_gap(stamps, start, end)
        # Dedup keeps the last sample of each interval: two samples are at most two intervals apart.
        assert gap <= 2 * TIER_5M_S + 0.5, f"{key}: a {gap:.1f}s gap around the store outage"


def test_a_restart_leaves_no_gap_beyond_itself(live):
    # Beyond the restart (both replicas down, then ready again) a series may miss: the evaluation
    # before the stop, the first one after the start, and one dedup bucket's alignment.
    down, up = live["events"]["restart"]
    for key, stamps in live["tier5m"].items():
        gap = max_gap(stamps, down - 2 * TIER_5M_S, live["end"])
        assert gap - (up - down) <= 3 * TIER_5M_S, f"{key}: a {gap:.1f}s gap for a {up - down:.1f}s restart"


def test_report(live):
    """What the run measured (shown with -s; the numbers the README quotes)."""
    outage = live["events"]["outage"]
    down, up = live["events"]["restart"]
    gaps_outage = [max_gap(s, live["first"], down) for s in live["tier5m"].values()]
    gaps_restart = [max_gap(s, down - 2 * TIER_5M_S, live["end"]) for s in live["tier5m"].values()]
    print(
        f"\nlongterm live: {live['seconds']:.0f}s, speed {SPEED}, {len(live['tier5m'])} 5m-tier series, "
        f"{live['stored_samples']} samples stored in {live['stored_series']} series "
        f"({live['rows']:.0f} received since the store's restart, both replicas, before dedup)\n"
        f"  store down {outage[1] - outage[0]:.1f}s: largest 5m-tier gap {max(gaps_outage):.1f}s "
        f"(tier interval {TIER_5M_S:.0f}s)\n"
        f"  replicas down {up - down:.1f}s: largest 5m-tier gap {max(gaps_restart):.1f}s\n"
        f"  sum(service:http_requests:rate_tier5m): store {live['sum_vm'][0]['value'][1]}, "
        f"replica {live['sum_prom'][0]['value'][1]}\n"
        "  phases: " + ", ".join(f"{k} +{t - live['began']:.1f}s" for k, t in live["phases"].items())
    )


def test_the_capacity_dashboard_reads_the_store(live):
    dashboard = json.loads(DASHBOARD.read_text())
    targets = [
        (panel["title"], t["expr"])
        for panel in dashboard["panels"]
        for t in panel.get("targets") or []
        if t.get("expr")
    ]
    assert targets
    for _, expr in targets:
        query(live["vm"], substitute(expr), live["end"])  # every target runs (status success)
    red = [
        expr
        for title, expr in targets
        if expr.startswith("sum by (service) (service:http_requests:rate_tier1h")
    ]
    assert red, "the dashboard has no RED throughput target"
    values = [float(s["value"][1]) for expr in red for s in query(live["vm"], substitute(expr), live["end"])]
    # The 1h tier averages the 5m tier over a window that spans the replicas' restart, where the
    # underlying rate misses a few evaluations and may dip (10.75 was seen on a loaded machine).
    # The store never adds: the hour's average is at most what was sent and close to it.
    assert values and all(11.0 * 0.9 <= v <= 11.0 * 1.001 for v in values), values

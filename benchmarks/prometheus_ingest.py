"""Prometheus under ingest load: the real Prometheus with the environment's full rendered rule set
(every rule file, group intervals and global evaluation interval as rendered), scraping the
production-shaped synthetic series (cfbench.openmetrics, the shape query_cost.py uses) at RATE
samples per second, for MINUTES minutes.

The series are copied per cluster (`cluster="<name>-<k>"`) until RATE x scrape interval series
exist, split over TARGETS loopback targets served from memory (honor_labels: the series keep their
own job/instance labels, so every rule finds what it reads). Each scrape reads the values of the
moment it asks: counters grow at the shape's rates and gauges follow its daily curve, so the rules
see a healthy production cluster. (A fixed snapshot would not do: every counter's rate would be 0,
every node would read 100 % CPU busy, and hundreds of alerts would fire and expand their templates
on every evaluation, a cost production does not have.)

Printed: samples appended per second (measured by Prometheus), head series, rule evaluation
failures and missed iterations over the run, the alerts pending and firing at the end, each
group's evaluation time as a share of its interval (median and maximum of one poll a scrape
interval, the worst ten), the slowest rules, the CPU of Prometheus and of the targets' server
(this process: on the same cores, it must stay small), resident memory and memory per active
series, and the load average.
Loopback only; bounded by MINUTES; Prometheus and the server are always stopped.

Usage: .venv/bin/python benchmarks/prometheus_ingest.py [--env prod] [--rate 100000] [--minutes 5]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import math
import os
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml
from cfbench import openmetrics
from cfbench.prom import Prometheus

from cfmon.project import find_root
from cfmon.rendered.model import Render
from cfmon.rendered.prometheus import rule_files
from cfmon.sandbox import free_port, render_resources

ROOT = Path(__file__).resolve().parents[1]
SCRAPE_INTERVAL_S = 15


def copied_series(families: list[openmetrics.Family], copies: int, cluster: str) -> list[openmetrics.Series]:
    """Every series `copies` times, the cluster label renamed in each copy."""
    out: list[openmetrics.Series] = []
    for fam in families:
        if fam.name == "up":  # Prometheus writes its own `up` per target
            continue
        for s in fam.series:
            for k in range(copies):
                prefix = s.prefix.replace(f'cluster="{cluster}"', f'cluster="{cluster}-{k}"')
                out.append(dataclasses.replace(s, prefix=prefix))
    return out


def serve(parts: list[list[openmetrics.Series]], origin: int) -> ThreadingHTTPServer:
    """Target i (path /i) answers with parts[i] as they are at the time of the request."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            try:
                series = parts[int(self.path.strip("/").split("/")[-1])]
            except (ValueError, IndexError):
                self.send_error(404)
                return
            body = openmetrics.scrape(series, time.time(), origin)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            # Prometheus may be stopped in the middle of a scrape.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def sample_groups(prom: Prometheus, until: float) -> tuple[dict, dict]:
    """Every group's and rule's evaluation time, polled once a scrape interval until `until`.

    A group's last evaluation is one draw; its median over the run says what it usually costs and
    its maximum what a busy moment costs. The first polls are skipped while the rates' windows and
    the head fill.
    """
    groups: dict[str, tuple[float, list[float]]] = {}
    rules: dict[str, list[float]] = {}
    warm = time.time() + 3 * SCRAPE_INTERVAL_S
    while time.time() < until:
        time.sleep(min(SCRAPE_INTERVAL_S, max(0.0, until - time.time())))
        if time.time() < warm:
            continue
        for g in prom.api("/api/v1/rules").get("groups", []):
            name = f"{Path(g['file']).name}:{g['name']}"
            interval = float(g.get("interval") or 60)
            groups.setdefault(name, (interval, []))[1].append(float(g.get("evaluationTime", 0)))
            for i, r in enumerate(g.get("rules", [])):
                rule = f"{g['name']}[{i}] {r.get('name')}"
                rules.setdefault(rule, []).append(float(r.get("evaluationTime", 0)))
    return groups, rules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="prod")
    parser.add_argument("--rate", type=int, default=100_000, help="samples ingested per second")
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--targets", type=int, default=40)
    args = parser.parse_args()

    project = find_root(ROOT)
    resources = render_resources(project, args.env)
    shape = openmetrics.Shape()
    families = openmetrics.build(shape)
    per_copy = sum(len(f.series) for f in families if f.name != "up")
    copies = max(1, math.ceil(args.rate * SCRAPE_INTERVAL_S / per_copy))
    lines = copied_series(families, copies, shape.cluster)
    parts = [lines[i :: args.targets] for i in range(args.targets)]
    print(
        f"{len(lines)} series ({copies} cluster copies of {per_copy}) over {args.targets} targets, "
        f"scraped every {SCRAPE_INTERVAL_S}s",
        file=sys.stderr,
    )
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="cfmon-ingest-") as tmp:
        work = Path(tmp)
        layout = Render(resources).prometheus(work / "pod")
        rendered = yaml.safe_load(layout.config.read_text()) or {}
        evaluation = (rendered.get("global") or {}).get("evaluation_interval", "1m")
        files = list(rule_files(layout).values())
        server = serve(parts, int(time.time()) - 3600)
        port = server.server_address[1]
        job = {
            "job_name": "ingest",
            "honor_labels": True,
            "scrape_interval": f"{SCRAPE_INTERVAL_S}s",
            "scrape_timeout": f"{SCRAPE_INTERVAL_S - 1}s",
            "metrics_path": "/",
            "static_configs": [{"targets": [f"127.0.0.1:{port}"]}],
        }
        # One job per body: the path is the body's index.
        jobs = [{**job, "job_name": f"ingest-{i}", "metrics_path": f"/{i}"} for i in range(args.targets)]
        data = work / "data"
        data.mkdir()
        try:
            with Prometheus(
                data,
                work,
                rule_files=files,
                evaluation_interval=evaluation,
                scrape_configs=jobs,
                retention="1d",
            ) as prom:
                began = time.time()
                appended0 = prom.metric("prometheus_tsdb_head_samples_appended_total")
                cpu0 = prom.metric("process_cpu_seconds_total")
                own0 = time.process_time()
                samples = sample_groups(prom, began + args.minutes * 60)
                elapsed = time.time() - began
                appended = prom.metric("prometheus_tsdb_head_samples_appended_total") - appended0
                cpu = prom.metric("process_cpu_seconds_total") - cpu0
                own = time.process_time() - own0  # the targets' server and the polling
                failures = prom.metric("prometheus_rule_evaluation_failures_total")
                missed = prom.metric("prometheus_rule_group_iterations_missed_total")
                head = prom.metric("prometheus_tsdb_head_series")
                rss = prom.metric("process_resident_memory_bytes")
                groups = prom.api("/api/v1/rules").get("groups", [])
                alerts = prom.api("/api/v1/alerts").get("alerts", [])
        finally:
            server.shutdown()
    load_after = os.getloadavg()
    group_times, rule_times = samples
    shares = sorted(
        (
            statistics.median(times) / interval,
            max(times) / interval,
            name,
        )
        for name, (interval, times) in group_times.items()
    )
    rules = sum(len(g.get("rules", [])) for g in groups)
    print(
        f"prometheus ingest, {args.env}: {len(groups)} rule groups ({rules} rules), "
        f"{len(lines)} series, {args.minutes:g} min"
    )
    print(f"  samples appended: {appended / elapsed:,.0f}/s (target {args.rate:,}/s)")
    print(f"  rule evaluation failures {failures:.0f}, missed iterations {missed:.0f}")
    busy = sum(statistics.median(t) / interval for interval, t in group_times.values())
    print(
        f"  Prometheus CPU {cpu / elapsed:.2f} of {os.cpu_count()} cores (the targets and this benchmark "
        f"{own / elapsed:.2f}); the groups' median evaluation times add up to {busy:.2f} s per second "
        "(above the cores Prometheus gets, they wait for CPU)"
    )
    states = collections.Counter(str(a.get("state")) for a in alerts)
    names = collections.Counter(str(a.get("labels", {}).get("alertname")) for a in alerts)
    print(
        f"  alerts at the end: {states['firing']} firing, {states['pending']} pending"
        + (" (" + ", ".join(f"{n} {c}" for n, c in names.most_common(5)) + ")" if alerts else "")
    )
    print(
        f"  head series {head:,.0f}; RSS {rss / 2**20:,.0f} MiB = {rss / max(head, 1):,.0f} bytes per series"
    )
    # Why rules failed: each failing rule's last error, the same errors counted once.
    errors: dict[str, list[str]] = {}
    for g in groups:
        for r in g.get("rules", []):
            if r.get("lastError"):
                errors.setdefault(str(r["lastError"])[:200], []).append(str(r.get("name")))
    for error, names in sorted(errors.items(), key=lambda e: -len(e[1])):
        shown = ", ".join(sorted(names)[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        print(f"  failing at the end: {len(names)} rules ({shown}): {error}")
    polls = max((len(t) for _, t in group_times.values()), default=0)
    print(f"  slowest groups (evaluation time / interval, median and max of {polls} polls):")
    for median, worst, name in shares[::-1][:10]:
        print(f"    {median * 100:6.2f} % (max {worst * 100:6.2f} %)  {name}")
    print("  slowest rules (median evaluation time):")
    slowest = sorted(((statistics.median(t), name) for name, t in rule_times.items()), reverse=True)
    for seconds, name in slowest[:15]:
        print(f"    {seconds * 1000:8.1f} ms  {name}")
    print(
        "  load average before {:.2f} {:.2f} {:.2f}, after {:.2f} {:.2f} {:.2f}".format(
            *load_before, *load_after
        )
    )


if __name__ == "__main__":
    main()

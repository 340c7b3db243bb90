"""Prometheus under ingest load: the real Prometheus with the environment's full rendered rule set
(every rule file, group intervals and global evaluation interval as rendered), scraping the
production-shaped synthetic series (cfbench.openmetrics, the shape query_cost.py uses) at RATE
samples per second, for MINUTES minutes.

The series are copied per cluster (`cluster="<name>-<k>"`) until RATE x scrape interval series
exist, split over TARGETS loopback targets served from memory (honor_labels: the series keep their
own job/instance labels, so every rule finds what it reads). Values are a fixed snapshot: a
counter's rate is 0, which changes what the rules return, not how much they read.

Printed: samples appended per second (measured by Prometheus), head series, rule evaluation
failures and missed iterations over the run, each group's last evaluation time as a share of its
interval (the worst ten), resident memory and memory per active series, the load average.
Loopback only; bounded by MINUTES; Prometheus and the server are always stopped.

Usage: .venv/bin/python benchmarks/prometheus_ingest.py [--env prod] [--rate 100000] [--minutes 5]
"""

from __future__ import annotations

import argparse
import math
import os
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


def exposition_lines(families: list[openmetrics.Family], copies: int, cluster: str) -> list[bytes]:
    """Every series as one exposition line, `copies` times with the cluster label renamed."""
    lines: list[bytes] = []
    for fam in families:
        if fam.name == "up":  # Prometheus writes its own `up` per target
            continue
        for s in fam.series:
            value = s.offset + s.base * 3600 if s.kind == "counter" else s.base
            text = f"{s.prefix}{value:.{s.digits}f}\n" if s.digits else f"{s.prefix}{int(value)}\n"
            for k in range(copies):
                lines.append(text.replace(f'cluster="{cluster}"', f'cluster="{cluster}-{k}"').encode())
    return lines


def serve(bodies: list[bytes]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            try:
                body = bodies[int(self.path.strip("/").split("/")[-1])]
            except (ValueError, IndexError):
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


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
    lines = exposition_lines(families, copies, shape.cluster)
    bodies = [b"".join(lines[i :: args.targets]) for i in range(args.targets)]
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
        server = serve(bodies)
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
                time.sleep(args.minutes * 60)
                elapsed = time.time() - began
                appended = prom.metric("prometheus_tsdb_head_samples_appended_total") - appended0
                failures = prom.metric("prometheus_rule_evaluation_failures_total")
                missed = prom.metric("prometheus_rule_group_iterations_missed_total")
                head = prom.metric("prometheus_tsdb_head_series")
                rss = prom.metric("process_resident_memory_bytes")
                groups = prom.api("/api/v1/rules").get("groups", [])
        finally:
            server.shutdown()
    load_after = os.getloadavg()
    shares = sorted(
        (
            g.get("evaluationTime", 0) / float(g.get("interval") or 60),
            f"{Path(g['file']).name}:{g['name']}",
        )
        for g in groups
    )
    rules = sum(len(g.get("rules", [])) for g in groups)
    print(
        f"prometheus ingest, {args.env}: {len(groups)} rule groups ({rules} rules), "
        f"{len(lines)} series, {args.minutes:g} min"
    )
    print(f"  samples appended: {appended / elapsed:,.0f}/s (target {args.rate:,}/s)")
    print(f"  rule evaluation failures {failures:.0f}, missed iterations {missed:.0f}")
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
    print("  slowest groups (last evaluation / interval):")
    for share, name in shares[::-1][:10]:
        print(f"    {share * 100:6.2f} %  {name}")
    print(
        "  load average before {:.2f} {:.2f} {:.2f}, after {:.2f} {:.2f} {:.2f}".format(
            *load_before, *load_after
        )
    )


if __name__ == "__main__":
    main()

"""Alertmanager under load: the environment's rendered Alertmanager cluster (3 peers in prod) on
loopback, fed RATE new alerts a minute for MINUTES minutes, the way Prometheus sends them (every
batch to every peer), every receiver rewritten to one capture webhook (as `cfmon sandbox` does;
durations are NOT scaled: group_wait and the peers' timeouts are the rendered ones).

Every alert has its own alertname, so it is its own notification group and is due exactly once,
group_wait after it arrived. Printed:
  - notification latency after group_wait (p50, p99, max): webhook receipt - first send - the
    group_wait of the route the alert takes;
  - processing per alert: the POST /api/v2/alerts time of a batch divided by its size (p50, p99);
  - lost (never notified), duplicated (notified more than once, by any peer), peer RSS at the end;
  - the load average before and after (the machine's other work skews every figure).
Loopback only, bounded by RATE x MINUTES alerts and a drain timeout; every peer is stopped.

Usage: .venv/bin/python benchmarks/alertmanager_load.py [--env prod] [--rate 10000] [--minutes 5]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import types
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from cfbench.stats import median, percentile

from cfmon import binaries, sandbox
from cfmon.durations import parse_ms
from cfmon.project import find_root

ROOT = Path(__file__).resolve().parents[1]
BATCH = 100  # alerts per POST, as a Prometheus sends them (its default max batch is larger)


def config_map(resources, name: str) -> dict:
    res = next(r for r in resources if r.kind == "ConfigMap" and r.name.endswith(name))
    return res.obj["data"]


def replicas(resources) -> int:
    sts = next(r for r in resources if r.kind == "StatefulSet" and r.name.endswith("alertmanager"))
    return int(sts.obj["spec"].get("replicas", 1))


def post(url: str, payload: bytes) -> float:
    began = time.perf_counter()
    req = urllib.request.Request(url, payload, {"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=30) as resp:
        resp.read()
    return time.perf_counter() - began


def wait_ready(peers, deadline: float) -> None:
    while time.time() < deadline:
        try:
            statuses = [json.load(urllib.request.urlopen(f"{p.url}/api/v2/status", timeout=2)) for p in peers]
            if all(len(s["cluster"].get("peers") or []) == len(peers) for s in statuses):
                return
        except OSError:
            pass
        time.sleep(0.5)
    sys.exit("alertmanager peers did not form a cluster in time")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="prod")
    parser.add_argument("--rate", type=int, default=10_000, help="new alerts per minute")
    parser.add_argument("--minutes", type=float, default=5.0)
    args = parser.parse_args()

    project = find_root(ROOT)
    resources = sandbox.render_resources(project, args.env)
    rendered = yaml.safe_load(config_map(resources, "alertmanager-config")["alertmanager.yml"])
    labels = {"cluster": "load-test", "environment": args.env, "service": "load"}
    load_before = os.getloadavg()
    procs = []
    with tempfile.TemporaryDirectory(prefix="cfmon-am-load-") as tmp:
        work = Path(tmp)
        capture = sandbox.Capture(sandbox.free_port())
        threading.Thread(target=capture.server.serve_forever, daemon=True).start()
        capture_url = f"http://127.0.0.1:{capture.server.server_address[1]}"
        config, _ = sandbox.rewrite_alertmanager(rendered, 1, capture_url, work / "secrets")
        config_path = work / "alertmanager.yml"
        config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        n = replicas(resources)
        peers = [
            sandbox.Peer(i, sandbox.free_port(), sandbox.free_port(udp=True) if n > 1 else None)
            for i in range(n)
        ]
        # alertmanager_args reads only these fields of a sandbox plan.
        plan = types.SimpleNamespace(alertmanager_config=config_path, workdir=work, speed=1, peers=peers)
        try:
            for peer in peers:
                procs.append(
                    binaries.start(
                        "alertmanager",
                        sandbox.alertmanager_args(plan, peer),
                        log=work / f"alertmanager-{peer.index}.log",
                    )
                )
            wait_ready(peers, time.time() + 60)

            total = int(args.rate * args.minutes)
            interval = 60.0 * BATCH / args.rate
            sent: dict[str, float] = {}
            wait_of: dict[str, int] = {}
            per_alert: list[float] = []
            began = time.time()
            for start in range(0, total, BATCH):
                due = began + (start // BATCH) * interval
                time.sleep(max(0.0, due - time.time()))
                now = datetime.now(UTC)
                batch = []
                for i in range(start, min(start + BATCH, total)):
                    name = f"LoadTest{i:06d}"
                    severity = "critical" if i % 2 else "warning"
                    alert_labels = {**labels, "alertname": name, "severity": severity}
                    route = sandbox.routes_for(config["route"], alert_labels)[0]
                    wait_of[name] = parse_ms(route.get("group_wait", "30s"))
                    batch.append(
                        {
                            "labels": alert_labels,
                            "annotations": {"summary": "Load test."},
                            "startsAt": now.isoformat(),
                            "endsAt": (now + timedelta(hours=1)).isoformat(),
                        }
                    )
                payload = json.dumps(batch).encode()
                stamp = time.time()
                for alert in batch:
                    sent[alert["labels"]["alertname"]] = stamp
                for peer in peers:
                    per_alert.append(post(f"{peer.url}/api/v2/alerts", payload) / len(batch))
            sending_s = time.time() - began
            # Drain: the last alerts are due group_wait after they were sent.
            deadline = time.time() + max(wait_of.values()) / 1000 + 60
            while time.time() < deadline:
                with capture.lock:
                    received = [p for *_, p in capture.received]
                seen = {a["labels"]["alertname"] for p in received for a in p.get("alerts", [])}
                if len(seen) >= total:
                    break
                time.sleep(1)
            rss = [rss_mb(p.pid) for p in procs]
        finally:
            for proc in procs:
                binaries.stop(proc)
            capture.server.shutdown()
    load_after = os.getloadavg()

    first: dict[str, float] = {}
    count: dict[str, int] = {}
    for at, _receiver, _integration, payload in capture.received:
        for alert in payload.get("alerts", []):
            if alert.get("status") != "firing":
                continue
            name = alert["labels"]["alertname"]
            count[name] = count.get(name, 0) + 1
            first[name] = min(first.get(name, at), at)
    latencies = [first[n] - sent[n] - wait_of[n] / 1000 for n in first if n in sent]
    lost = sum(1 for n in sent if n not in first)
    duplicated = sum(c - 1 for c in count.values() if c > 1)
    print(
        f"alertmanager load, {args.env}: {n} peers, {len(sent)} alerts at {args.rate}/min "
        f"for {args.minutes:g} min (sent in {sending_s:.1f} s), batches of {BATCH} to every peer"
    )
    print(
        f"  notification latency after group_wait: p50 {median(latencies):.2f} s  "
        f"p99 {percentile(latencies, 99):.2f} s  max {max(latencies):.2f} s"
    )
    print(
        f"  processing per alert (POST time / batch): p50 {median(per_alert) * 1000:.2f} ms  "
        f"p99 {percentile(per_alert, 99) * 1000:.2f} ms"
    )
    print(f"  lost {lost}  duplicated {duplicated}  notifications {len(capture.received)}")
    print("  peer RSS at the end: " + ", ".join(f"{r:.0f} MiB" for r in rss))
    print(
        "  load average before {:.2f} {:.2f} {:.2f}, after {:.2f} {:.2f} {:.2f}".format(
            *load_before, *load_after
        )
    )


if __name__ == "__main__":
    main()

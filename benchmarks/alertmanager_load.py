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

from cfmon import binaries
from cfmon.durations import parse_ms
from cfmon.project import find_root
from cfmon.sandbox import Capture, Peer, free_port, render_resources, rewrite_alertmanager, routes_for
from cfmon.sandbox.plan import alertmanager_args

ROOT = Path(__file__).resolve().parents[1]
BATCH = 100  # alerts per POST, as a Prometheus sends them (its default max batch is larger)


def config_map(resources, name: str) -> dict:
    res = next(r for r in resources if r.kind == "ConfigMap" and r.name.endswith(name))
    return res.obj["data"]


# Gossip timing flags of the rendered StatefulSet: the benchmark runs the cluster with these (the
# sandbox's own faster gossip would hide what a production cluster does under a burst).
TIMING_FLAGS = ("--cluster.gossip-interval", "--cluster.pushpull-interval", "--cluster.peer-timeout")


def cluster_timing(resources) -> dict[str, str]:
    """The rendered peers' gossip timing flags, with Alertmanager's defaults for those not set."""
    sts = next(r for r in resources if r.kind == "StatefulSet" and r.name.endswith("alertmanager"))
    args = [a for c in sts.obj["spec"]["template"]["spec"]["containers"] for a in c.get("args") or []]
    flags = dict(a.split("=", 1) for a in args if a.startswith(TIMING_FLAGS))
    defaults = dict(zip(TIMING_FLAGS, ("200ms", "1m0s", "15s"), strict=True))
    return {**defaults, **flags}


def with_rendered_timing(args: list[str], timing: dict[str, str]) -> list[str]:
    return [a for a in args if not a.startswith(TIMING_FLAGS)] + [f"{k}={v}" for k, v in timing.items()]


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


# The cluster's own account of its gossip: a pruned or dropped message is a notification log entry
# a peer may not hear of in time, and then it notifies too (Alertmanager's HA is at-least-once).
GOSSIP_METRICS = (
    "alertmanager_cluster_messages_pruned_total",
    "alertmanager_cluster_messages_queued",
    "alertmanager_nflog_gossip_messages_propagated_total",
)


def peer_metrics(url: str) -> dict[str, float]:
    text = urllib.request.urlopen(f"{url}/metrics", timeout=10).read().decode()
    out: dict[str, float] = {}
    for line in text.splitlines():
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name in GOSSIP_METRICS:
            out[name] = out.get(name, 0.0) + float(line.rsplit(" ", 1)[1])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="prod")
    parser.add_argument("--rate", type=int, default=10_000, help="new alerts per minute")
    parser.add_argument("--minutes", type=float, default=5.0)
    args = parser.parse_args()

    project = find_root(ROOT)
    resources = render_resources(project, args.env)
    rendered = yaml.safe_load(config_map(resources, "alertmanager-config")["alertmanager.yml"])
    labels = {"cluster": "load-test", "environment": args.env, "service": "load"}
    load_before = os.getloadavg()
    procs = []
    with tempfile.TemporaryDirectory(prefix="cfmon-am-load-") as tmp:
        work = Path(tmp)
        capture = Capture(free_port())
        threading.Thread(target=capture.server.serve_forever, daemon=True).start()
        capture_url = f"http://127.0.0.1:{capture.server.server_address[1]}"
        config, _ = rewrite_alertmanager(rendered, 1, capture_url, work / "secrets")
        config_path = work / "alertmanager.yml"
        config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        n = replicas(resources)
        rendered_timing = cluster_timing(resources)
        peers = [Peer(i, free_port(), free_port(udp=True) if n > 1 else None) for i in range(n)]
        # alertmanager_args reads only these fields of a sandbox plan.
        plan = types.SimpleNamespace(alertmanager_config=config_path, workdir=work, speed=1, peers=peers)
        try:
            for peer in peers:
                procs.append(
                    binaries.start(
                        "alertmanager",
                        with_rendered_timing(alertmanager_args(plan, peer), rendered_timing),
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
                    route = routes_for(config["route"], alert_labels)[0]
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
            gossip = [peer_metrics(p.url) for p in peers]
        finally:
            for proc in procs:
                binaries.stop(proc)
            capture.server.shutdown()
    load_after = os.getloadavg()

    first: dict[str, float] = {}
    count: dict[str, int] = {}
    # Which peer sent each notification (its external URL is the peer's own) and, for a copy, how
    # long after the first: a copy later than the peer's wait says its gossip arrived too late.
    by_peer: dict[str, int] = {}
    copies: dict[str, int] = {}
    copy_delays: list[float] = []
    for at, _receiver, _integration, payload in sorted(capture.received, key=lambda r: r[0]):
        sender = str(payload.get("externalURL", "?"))
        by_peer[sender] = by_peer.get(sender, 0) + 1
        for alert in payload.get("alerts", []):
            if alert.get("status") != "firing":
                continue
            name = alert["labels"]["alertname"]
            count[name] = count.get(name, 0) + 1
            if name in first:
                copies[sender] = copies.get(sender, 0) + 1
                copy_delays.append(at - first[name])
            first[name] = min(first.get(name, at), at)
    latencies = [first[n] - sent[n] - wait_of[n] / 1000 for n in first if n in sent]
    lost = sum(1 for n in sent if n not in first)
    duplicated = sum(c - 1 for c in count.values() if c > 1)
    print(
        f"alertmanager load, {args.env}: {n} peers, {len(sent)} alerts at {args.rate}/min "
        f"for {args.minutes:g} min (sent in {sending_s:.1f} s), batches of {BATCH} to every peer"
    )
    print("  peers' gossip timing (rendered): " + " ".join(f"{k}={v}" for k, v in rendered_timing.items()))
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
    order = {p.url: p.index for p in peers}
    print(
        "  notifications by peer: "
        + ", ".join(f"peer {order.get(u, u)} {by_peer[u]} ({copies.get(u, 0)} copies)" for u in by_peer)
    )
    if copy_delays:
        print(
            f"  a copy came after the first notification by: p50 {median(copy_delays):.1f} s  "
            f"max {max(copy_delays):.1f} s"
        )
    for peer, metrics in zip(peers, gossip, strict=True):
        shown = ", ".join(f"{k.split('_', 2)[2]} {v:g}" for k, v in sorted(metrics.items()))
        print(f"  peer {peer.index} gossip: {shown}")
    print(
        "  load average before {:.2f} {:.2f} {:.2f}, after {:.2f} {:.2f} {:.2f}".format(
            *load_before, *load_after
        )
    )


if __name__ == "__main__":
    main()

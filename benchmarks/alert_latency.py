"""Alert latency in the sandbox: from the synthetic metric crossing the threshold to the webhook
receiving the notification, against the floor the configuration sets (scrape interval + the
intervals of the recording groups the alert reads through + its own group's evaluation interval +
its `for` + the route's group_wait), median and max over N trials.

Each trial is a fresh `cfmon sandbox` run (real Prometheus and Alertmanager on loopback) of a
generated scenario: PostgreSQL replication lag at 2 s, then 600 s from minute 2 (threshold 300 s),
so PostgresReplicationLagHigh fires and pages. A fresh stack per trial keeps trials independent
(Alertmanager keeps an emptied notification group for up to 30 s, which would skip group_wait).
Every number is in scenario time (what the configuration means); real seconds = scenario / speed.

Usage: .venv/bin/python benchmarks/alert_latency.py [--env prod] [--trials 10] [--speed 100]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml
from cfbench import rules as rulelib

from cfmon import scenario
from cfmon.durations import format_ms, parse_ms
from cfmon.project import find_root
from cfmon.rendered.model import Render
from cfmon.sandbox import format_text, render_resources, routes_for
from cfmon.sandbox import run as sandbox_run

ROOT = Path(__file__).resolve().parents[1]

ALERT = "PostgresReplicationLagHigh"
JOB = "postgres-exporter"
TARGET = f'job="{JOB}", instance="postgres-replica-0", role="replica"'
CROSSING_MS = 2 * 60_000  # the lag jumps over the threshold at minute 2
SCENARIO = {
    "name": "alert-latency",
    "description": "Replication lag crosses its threshold at minute 2 (benchmark).",
    "duration": "10m",
    "series": [
        {
            "series": f"pg_replication_lag_seconds{{{TARGET}}}",
            "values": "2x1 600x8",
        },
        {"series": f"pg_up{{{TARGET}}}", "values": "1x10"},
    ],
}


def config_map(resources, name: str) -> dict:
    res = next(r for r in resources if r.kind == "ConfigMap" and r.name.endswith(name))
    return res.obj["data"]


def floor_parts(resources, labels: dict[str, str], receiver: str) -> dict[str, int]:
    """The rendered (unscaled) intervals on the alert's path, in milliseconds."""
    prom = yaml.safe_load(config_map(resources, "prometheus-config")["prometheus.yml"])
    glob = prom.get("global") or {}
    scrape = parse_ms(glob.get("scrape_interval", "1m"))
    for payload in config_map(resources, "prometheus-scrape-configs").values():
        for job in (yaml.safe_load(payload) or {}).get("scrape_configs") or []:
            if job.get("job_name") == JOB and "scrape_interval" in job:
                scrape = parse_ms(job["scrape_interval"])
    default = glob.get("evaluation_interval", "1m")
    groups = [
        rulelib.Group(file, str(g.get("name")), g.get("interval"), tuple(g.get("rules") or []))
        for file, g in Render(resources).rule_groups
    ]
    evaluation, hold, recording = parse_ms(default), 0, 0
    for group in groups:
        for i, rule in enumerate(group.rules):
            if rule.get("alert") == ALERT:
                evaluation = parse_ms(group.interval or default)
                hold = parse_ms(rule.get("for", "0s"))
                delay = rulelib.recording_delay(groups, default, (group.name, i), str(rule["expr"]))
                recording = round(delay * 1000)
    am = yaml.safe_load(config_map(resources, "alertmanager-config")["alertmanager.yml"])
    route = next(r for r in routes_for(am["route"], labels) if r["receiver"] == receiver)
    return {
        "scrape": scrape,
        "recording": recording,
        "evaluation": evaluation,
        "for": hold,
        "group_wait": parse_ms(route["group_wait"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="prod")
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--speed", type=int, default=100)
    args = parser.parse_args()

    project = find_root(ROOT)
    resources = render_resources(project, args.env)
    latencies: list[int] = []
    parts: dict[str, int] = {}
    receiver = ""
    with tempfile.TemporaryDirectory(prefix="cfmon-latency-") as tmp:
        path = Path(tmp) / "alert-latency.yaml"
        path.write_text(yaml.safe_dump(SCENARIO, sort_keys=False))
        sc = scenario.load(path)
        for trial in range(1, args.trials + 1):
            began = time.time()
            result = sandbox_run(
                project, args.env, [sc], speed=args.speed, resources=resources, timeout_s=120
            )
            pages = [
                n
                for n in result.notifications
                if n.receiver != "heartbeat"
                and any(a["status"] == "firing" and a["labels"].get("alertname") == ALERT for a in n.alerts)
            ]
            if not pages:
                sys.exit(f"trial {trial}: {ALERT} was never notified\n{format_text(result)}")
            first = min(pages, key=lambda n: n.at_ms)
            if not parts:
                receiver = first.receiver
                alert = next(a for a in first.alerts if a["labels"].get("alertname") == ALERT)
                parts = floor_parts(resources, alert["labels"], receiver)
            latency = first.at_ms - CROSSING_MS
            latencies.append(latency)
            print(
                f"trial {trial:2}: {format_ms(latency)} scenario ({latency / args.speed / 1000:.2f}s real) "
                f"via {first.peer}; run {time.time() - began:.1f}s",
                file=sys.stderr,
            )
    floor = sum(parts.values())
    median, worst = statistics.median(latencies), max(latencies)
    shown = " + ".join(f"{k} {format_ms(v)}" for k, v in parts.items())
    print(f"alert latency, {args.env}, {ALERT} -> {receiver}, {args.trials} trials at speed {args.speed}")
    print(f"  floor   {format_ms(floor)} = {shown}")
    print(f"  median  {format_ms(round(median))}  ratio {median / floor:.3f}")
    print(f"  max     {format_ms(worst)}  ratio {worst / floor:.3f}")
    print(f"  min     {format_ms(min(latencies))}  ratio {min(latencies) / floor:.3f}")


if __name__ == "__main__":
    main()

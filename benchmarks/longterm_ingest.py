"""Long-term store sizing: how fast a real single-node VictoriaMetrics 1.145 ingests one day of the
prod aggregate set, and how many bytes that day takes on disk.

1. The prod render's longterm.yaml (the tier records) gives the records per tier; each record's
   series count is its level's cardinality in the production shape of cfbench (50 services, 200
   nodes, 20 custom models, 60 queues, ...; the table below names the few the shape lacks).
2. One day of every series at its tier's evaluation interval (5m tier: every 5 minutes, 1h tier:
   every 5 minutes, 1d tier: every hour), values a seeded random walk written with 17 significant
   digits like Prometheus writes rule results (the worst case for compression), is imported through
   /api/v1/import/prometheus in batches: samples/s is the import rate (one writer, as Prometheus'
   deduplicated stream).
3. After a forced flush and merge the data directory's size is one day's bytes; bytes/sample and the
   3-year total (x 1096 days, x the replication factor in prod) follow.

    .venv/bin/python benchmarks/longterm_ingest.py [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from cfbench.openmetrics import Shape  # noqa: E402

from cfmon import binaries  # noqa: E402
from cfmon.project import find_root  # noqa: E402
from cfmon.sandbox import free_port, render_resources  # noqa: E402

DAY_S = 86_400
INTERVAL_S = {"5m": 300, "1h": 300, "1d": 3600}
RETENTION_DAYS = 1096  # 3 years
REPLICATION = 2  # prod's victoria-metrics.cluster.replicationFactor


def cardinality(record: str, shape: Shape) -> int:
    """Series of one tier record in the production shape (its level's label values)."""
    level, metric, _ = record.split(":")
    by_level = {
        "service": shape.services,
        "ingress": shape.ingresses,
        "model": shape.models,
        "model_type": 5,  # image, video, text, audio, upscale
        "node": shape.gpu_nodes,
        "instance_mountpoint": shape.nodes * 2,  # root and data filesystems
        "namespace": 25,
        "queue": shape.queues,
        "channel": 4,
        "state": 5,
        "workflow": shape.workflows,
        "slo": 2,
        "cluster_plan": 4,
        "cluster": 1,
        "rabbitmq_cluster": 1,  # the one RabbitMQ cluster of the shape
        "job": 1,
    }
    if level == "instance":
        return 3 if metric.startswith(("pg_", "redis_")) else shape.nodes
    if level not in by_level:
        raise SystemExit(f"longterm_ingest: no cardinality for level {level!r} ({record}): add it")
    return by_level[level]


def tier_records(env: str = "prod") -> dict[str, list[str]]:
    """Tier -> record names, from the environment's rendered rule files."""
    project = find_root(ROOT)
    out: dict[str, list[str]] = {"5m": [], "1h": [], "1d": []}
    for res in render_resources(project, env):
        data = res.obj.get("data") or {} if res.kind == "ConfigMap" else {}
        if "longterm.yaml" not in data:
            continue
        for group in yaml.safe_load(data["longterm.yaml"])["groups"]:
            for rule in group["rules"]:
                tier = rule["record"].rsplit("_tier", 1)[1]
                out[tier].append(rule["record"])
    return out


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    shape = Shape()
    records = tier_records()
    series = {
        t: [(r, i) for r in names for i in range(cardinality(r, shape))] for t, names in records.items()
    }
    per_day = {t: len(s) * DAY_S // INTERVAL_S[t] for t, s in series.items()}

    binary = binaries._tools_bin() / "victoria-metrics"
    if not binary.exists():
        print("victoria-metrics is not installed: run tools/install-deps", file=sys.stderr)
        return 2
    rng = random.Random(16)
    start = (int(time.time()) // DAY_S - 2) * DAY_S  # two days ago, midnight: inside retention
    with tempfile.TemporaryDirectory(prefix="longterm-bench-") as tmp:
        data = Path(tmp) / "data"
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with (Path(tmp) / "vm.log").open("wb") as log:
            proc = subprocess.Popen(
                [
                    str(binary),
                    f"-storageDataPath={data}",
                    f"-httpListenAddr=127.0.0.1:{port}",
                    "-retentionPeriod=3y",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"{url}/health", timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.2)
            empty = du(data)
            samples = 0
            seconds = 0.0
            for tier, items in series.items():
                values = {key: rng.uniform(0, 100) for key in items}
                step = INTERVAL_S[tier]
                for t in range(start, start + DAY_S, step):
                    lines = []
                    for (record, i), v in values.items():
                        v = abs(v + rng.gauss(0, 1))
                        values[(record, i)] = v
                        labels = f'cluster="creativeflow-prod",environment="prod",idx="{i}"'
                        lines.append(f"{record}{{{labels}}} {v!r} {t * 1000}\n")
                    body = "".join(lines).encode()
                    began = time.perf_counter()
                    req = urllib.request.Request(f"{url}/api/v1/import/prometheus", data=body, method="POST")
                    urllib.request.urlopen(req, timeout=60).close()
                    seconds += time.perf_counter() - began
                    samples += len(lines)
            urllib.request.urlopen(f"{url}/internal/force_flush", timeout=60).close()
            urllib.request.urlopen(f"{url}/internal/force_merge", timeout=600).close()
            time.sleep(5)  # the merge runs in the background
            day_bytes = du(data) - empty
        finally:
            binaries.stop(proc, timeout=20)
    result = {
        "records_per_tier": {t: len(r) for t, r in records.items()},
        "series_per_tier": {t: len(s) for t, s in series.items()},
        "samples_per_day": per_day,
        "samples_imported": samples,
        "samples_per_second": samples / seconds if seconds else None,
        "bytes_per_day": day_bytes,
        "bytes_per_sample": day_bytes / samples,
        "bytes_3y_per_copy": day_bytes * RETENTION_DAYS,
        "bytes_3y_replicated": day_bytes * RETENTION_DAYS * REPLICATION,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print("tier  records  series  samples/day")
    for t in ("5m", "1h", "1d"):
        print(f"{t:4}  {len(records[t]):7}  {len(series[t]):6}  {per_day[t]:11}")
    print(f"imported {samples} samples in {seconds:.1f}s: {result['samples_per_second']:.0f} samples/s")
    print(f"one day on disk: {day_bytes / 1e6:.1f} MB, {result['bytes_per_sample']:.2f} bytes/sample")
    print(
        f"3 years ({RETENTION_DAYS} days): {result['bytes_3y_per_copy'] / 1e9:.1f} GB per copy, "
        f"{result['bytes_3y_replicated'] / 1e9:.1f} GB with replicationFactor {REPLICATION}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""CPU and wall time of `helm template` for each environment, run exactly as cfmon renders it.

Usage: .venv/bin/python benchmarks/helm_cpu.py [-e ENV] [-n N] [--chart DIR] [--json]
  -e/--env  an environment or `all` (default all)
  -n        timed runs per environment after one warm-up (default 7); medians are reported
  --chart   another copy of the chart (say `git archive` of an older commit) with the same values

Each run is the same argv cfmon.render.helm_output passes to the pinned helm (release, namespace,
oldest supported Kubernetes, --include-crds, the environment's values file), started directly
with nothing of cfmon around it. CPU time is user + sys of the helm process alone (from
wait4's rusage), so it is far less sensitive to other work on the machine than the wall time;
both are printed, with the load average before and after. No network, no server.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cfbench import stats  # noqa: E402

from cfmon import binaries, render  # noqa: E402
from cfmon.project import NAMESPACE, RELEASE, find_root, kube_versions  # noqa: E402


def log(message: str) -> None:
    print(f"helm_cpu: {message}", file=sys.stderr, flush=True)


def helm_argv(env: str, chart: Path | None = None) -> list[str]:
    """cfmon's render command line for one environment (as cfmon.render.helm_output builds it),
    for the repository's chart or another copy of it."""
    project = find_root(ROOT)
    args = binaries.helm_template_args(
        chart or project.chart,
        release=RELEASE,
        namespace=NAMESPACE,
        kube_version=kube_versions(project)[0],
        values=render.values_files(project, env, [])[1:],
    )
    return [binaries.require("helm"), *args]


def timed(argv: list[str]) -> tuple[float, float, int]:
    """(user + sys CPU seconds, wall seconds, output bytes) of one helm run. Output goes to
    temporary files and the process is reaped with wait4, so the rusage is helm's own."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        began = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - began
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            sys.exit(f"helm_cpu: helm failed (exit {proc.returncode}):\n{err.read().decode()[-3000:]}")
        return usage.ru_utime + usage.ru_stime, wall, out.tell()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-e", "--env", default="all", help="an environment or `all` (default all)")
    parser.add_argument("-n", type=int, default=7, help="timed runs per environment (default 7)")
    parser.add_argument(
        "--chart",
        type=Path,
        help="render this copy of the chart instead (e.g. a checkout of an older commit, to compare)",
    )
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    opts = parser.parse_args()
    if opts.n < 1:
        parser.error("-n must be at least 1")
    project = find_root(ROOT)
    envs = project.select_envs(opts.env)
    res: dict = {"runs": opts.n, "load_average_before": [round(x, 2) for x in os.getloadavg()], "envs": {}}
    for env in envs:
        argv = helm_argv(env, opts.chart.resolve() if opts.chart else None)
        log(f"{env}: warm-up, then {opts.n} runs")
        timed(argv)
        cpus, walls, sizes = [], [], set()
        for _ in range(opts.n):
            cpu, wall, size = timed(argv)
            cpus.append(cpu)
            walls.append(wall)
            sizes.add(size)
        res["envs"][env] = {
            "cpu_median_s": round(stats.median(cpus), 3),
            "wall_median_s": round(stats.median(walls), 3),
            "cpu_s": [round(x, 3) for x in cpus],
            "wall_s": [round(x, 3) for x in walls],
            "output_bytes": sorted(sizes),
        }
    res["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    if opts.json:
        print(json.dumps(res, indent=2, sort_keys=True))
        return 0
    rows = [
        [env, r["cpu_median_s"], min(r["cpu_s"]), max(r["cpu_s"]), r["wall_median_s"], r["output_bytes"][-1]]
        for env, r in res["envs"].items()
    ]
    print(f"helm template, median of {opts.n} runs per environment (user+sys CPU of helm alone)")
    headers = ["env", "cpu median s", "cpu min s", "cpu max s", "wall median s", "output bytes"]
    print(stats.table(headers, rows))
    print(f"load average before {res['load_average_before']}, after {res['load_average_after']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

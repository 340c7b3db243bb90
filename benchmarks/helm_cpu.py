"""CPU and wall time of `helm template` for each environment, run exactly as cfmon renders it.

Usage: .venv/bin/python benchmarks/helm_cpu.py [-e ENV] [-n N] [--chart DIR] [--floor] [--json]
                                                [--reference DIR [--reference-values FILE]]
  -e/--env  an environment or `all` (default all)
  -n        timed runs of each command after one warm-up (default 7), taken in turn; medians
  --chart   another copy of the chart (say `git archive` of an older commit) with the same values
  --floor   also time, for each environment, a copy of the chart whose templates print what the
            render printed as plain text (no schema): the same bytes with no template work, so
            the CPU helm spends whatever the templates do (splitting, sorting and printing what
            they print, loading the chart, starting up)
  --reference  another chart to time beside ours, with its own default values (or
            --reference-values), and the ratio of each environment's CPU median to its median

The reference is for comparing with a chart of another project, such as kube-prometheus-stack:
an unpacked chart directory with every dependency unpacked under its charts/ (helm uses those
and needs no network and no Chart.lock). To obtain kube-prometheus-stack without a registry, take
`charts/kube-prometheus-stack` of a clone of prometheus-community/helm-charts, then put under its
charts/ the dependency charts its Chart.yaml names, at the versions it asks for:
kube-state-metrics, prometheus-node-exporter and prometheus-windows-exporter from the same
repository, grafana from grafana-community/helm-charts (crds is already inside). The reference
is rendered with the same helm, namespace, Kubernetes version and --include-crds as ours, under
the release name `reference`; it is never committed here, only measured.

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

import yaml

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


def reference_argv(chart: Path, values: Path | None) -> list[str]:
    """`helm template` of another chart with our render's flags and its own defaults (or `values`)."""
    project = find_root(ROOT)
    args = binaries.helm_template_args(
        chart,
        release="reference",
        namespace=NAMESPACE,
        kube_version=kube_versions(project)[0],
        values=[values] if values else [],
    )
    return [binaries.require("helm"), *args]


def static_chart(argv: list[str], chart: Path, dest: Path) -> Path:
    """A copy of `chart` under `dest` whose templates print, as plain text, exactly what argv (a
    render of `chart`) printed from each of them: every chart's Chart.yaml and values.yaml (for the
    dependency conditions), each template that printed something as that text (`{{` escaped), no
    helpers, files or schemas. Its render prints the same bytes, which is checked."""
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    printed: dict[str, list[str]] = {}
    for doc in out.split("---\n# Source: ")[1:]:
        source, body = doc.split("\n", 1)
        printed.setdefault(source, []).append(body)
    root = dest / next(iter(printed)).split("/")[0]  # the chart's name, as the sources give it
    for meta in [
        *chart.glob("Chart.yaml"),
        *chart.glob("values.yaml"),
        *chart.glob("charts/*/Chart.yaml"),
        *chart.glob("charts/*/values.yaml"),
    ]:
        target = root / meta.relative_to(chart)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(meta.read_bytes())
    for source, bodies in printed.items():
        target = dest / source
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("".join("---\n" + body for body in bodies).replace("{{", '{{"{{"}}'))
    static_argv = [argv[0], *(str(root) if arg == str(chart) else arg for arg in argv[1:])]
    again = subprocess.run(static_argv, capture_output=True, text=True, check=True).stdout
    if again != out:
        raise SystemExit(f"helm_cpu: the static copy of {chart} does not print the same bytes")
    return root


def object_count(argv: list[str]) -> int:
    """The Kubernetes objects one run of argv prints (untimed). Documents are composed, not
    constructed: another chart's CRDs hold YAML 1.1 oddities (an enum value `=`) that no loader
    constructs."""
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return sum(
        1 for doc in yaml.compose_all(out, Loader=loader) if isinstance(doc, yaml.MappingNode) and doc.value
    )


def measure(argvs: list[list[str]], runs: int) -> list[dict]:
    """One untimed warm-up of each argv, then `runs` rounds that time each argv once: taken in
    turn, the commands share whatever else the machine is doing. Medians and every figure."""
    for argv in argvs:
        timed(argv)
    samples: list[list[tuple[float, float, int]]] = [[] for _ in argvs]
    for _ in range(runs):
        for argv, got in zip(argvs, samples, strict=True):
            got.append(timed(argv))
    return [
        {
            "cpu_median_s": round(stats.median([cpu for cpu, _, _ in got]), 3),
            "wall_median_s": round(stats.median([wall for _, wall, _ in got]), 3),
            "cpu_s": [round(cpu, 3) for cpu, _, _ in got],
            "wall_s": [round(wall, 3) for _, wall, _ in got],
            "output_bytes": sorted({size for _, _, size in got}),
            "objects": object_count(argv),
        }
        for argv, got in zip(argvs, samples, strict=True)
    ]


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
    parser.add_argument(
        "--reference",
        type=Path,
        help="another chart directory (dependencies unpacked under its charts/) to time beside ours",
    )
    parser.add_argument(
        "--reference-values", type=Path, help="a values file for --reference (default: its defaults)"
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also time a static copy of the chart (the same output, no template work)",
    )
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    opts = parser.parse_args()
    if opts.n < 1:
        parser.error("-n must be at least 1")
    if opts.reference_values and not opts.reference:
        parser.error("--reference-values needs --reference")
    if opts.reference and not (opts.reference / "Chart.yaml").is_file():
        parser.error(f"--reference {opts.reference}: no Chart.yaml there (give an unpacked chart directory)")
    project = find_root(ROOT)
    envs = project.select_envs(opts.env)
    res: dict = {"runs": opts.n, "load_average_before": [round(x, 2) for x in os.getloadavg()], "envs": {}}
    chart = opts.chart.resolve() if opts.chart else project.chart
    argvs = [helm_argv(env, chart) for env in envs]
    names = list(envs)
    scratch = tempfile.TemporaryDirectory(prefix="helm-cpu-floor-")
    if opts.floor:
        for env, argv in zip(envs, list(argvs), strict=True):
            argvs.append(helm_argv(env, static_chart(argv, chart, Path(scratch.name) / env)))
            names.append(f"{env} static")
    if opts.reference:
        values = opts.reference_values.resolve() if opts.reference_values else None
        argvs.append(reference_argv(opts.reference.resolve(), values))
    log(f"{', '.join(names)}{' and the reference' if opts.reference else ''}: warm-up, then {opts.n} rounds")
    figures = measure(argvs, opts.n)
    scratch.cleanup()
    res["envs"] = dict(zip(names, figures[: len(names)], strict=True))
    for env in envs if opts.floor else []:
        floor = stats.ratio(res["envs"][f"{env} static"]["cpu_median_s"], res["envs"][env]["cpu_median_s"])
        res["envs"][f"{env} static"]["cpu_ratio_to_env"] = round(floor, 2) if floor is not None else None
    if opts.reference:
        res["reference"] = {"chart": str(opts.reference), **figures[-1]}
        for r in res["envs"].values():
            cpu_ratio = stats.ratio(r["cpu_median_s"], res["reference"]["cpu_median_s"])
            r["cpu_ratio_to_reference"] = round(cpu_ratio, 2) if cpu_ratio is not None else None
    res["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    if opts.json:
        print(json.dumps(res, indent=2, sort_keys=True))
        return 0
    shown = dict(res["envs"])
    if opts.reference:
        shown["reference"] = res["reference"]
    rows = [
        [
            name,
            r["cpu_median_s"],
            min(r["cpu_s"]),
            max(r["cpu_s"]),
            r["wall_median_s"],
            r["output_bytes"][-1],
            r["objects"],
        ]
        + ([r.get("cpu_ratio_to_env", "-")] if opts.floor else [])
        + ([r.get("cpu_ratio_to_reference", "-")] if opts.reference else [])
        for name, r in shown.items()
    ]
    print(f"helm template, median of {opts.n} runs each (user+sys CPU of helm alone)")
    headers = (
        [
            "env",
            "cpu median s",
            "cpu min s",
            "cpu max s",
            "wall median s",
            "output bytes",
            "objects",
        ]
        + (["cpu / env"] if opts.floor else [])
        + (["cpu / reference"] if opts.reference else [])
    )
    print(stats.table(headers, rows))
    if opts.reference:
        values = opts.reference_values or "its default values"
        print(f"reference: {opts.reference} (release `reference`, {values})")
    print(f"load average before {res['load_average_before']}, after {res['load_average_after']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

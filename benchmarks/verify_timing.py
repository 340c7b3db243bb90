"""Wall time of `tools/verify` and of each of its steps, and how much of it the external tools are.

Usage: .venv/bin/python benchmarks/verify_timing.py [N] [--replays R] [--cold | --edit] [--json]
  N          timed runs of tools/verify after a warm-up (default 5); the median is reported
  --replays  bare runs of every captured tool invocation (default 3; 0 skips the capture)
  --cold     every run with an empty tool-result cache of its own, as on a fresh clone with the
             tools installed
  --edit     before every run, one alert's summary changes (a different text each run) in EDITED
             and in the rule tests that expect it, and `cfmon generate`, `cfmon docs` and
             `make golden` run (not timed): verify after editing one mixin's alert. Everything
             is restored at the end.

1. `tools/verify` N times (a subprocess, as CI runs it): wall time, each step's time and the
   external tools' own time, all from the `timings:` line verify prints on stderr.
2. One more verify in this process, with every external tool call (cfmon.binaries.run and the
   in-process go-jsonnet evaluations) replayed bare right after it ran, while its input files
   still exist: the same argv, cwd and environment, R times, nothing of cfmon around it. The sum of
   their medians is what the tools cost on their own; verify's wall time over that sum is the
   toolkit's overhead factor. Calls are serialised during the capture (the rule tests normally run
   two at a time), so the bare sum is a sequential sum.

Exit code 1 from verify (findings or golden drift) still times every step and is reported;
exit code 2 (a usage error or a missing tool) stops the benchmark.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cfbench import stats  # noqa: E402

STEP = re.compile(r"([\w +-]+?) ([\d.]+)s")
EXTERNAL = re.compile(r"external tools ([\d.]+)s in (\d+) calls")


def log(message: str) -> None:
    print(f"verify_timing: {message}", file=sys.stderr, flush=True)


def parse_timings(stderr: str) -> tuple[dict[str, float], float | None, int | None]:
    """(step -> seconds, external tools seconds, external tool calls) from verify's stderr."""
    line = next((x for x in stderr.splitlines() if "timings:" in x), None)
    if line is None:
        return {}, None, None
    body = line.split("timings:", 1)[1]
    steps = {name.strip(" ,"): float(secs) for name, secs in STEP.findall(body.split(";")[0])}
    m = EXTERNAL.search(body)
    return steps, (float(m.group(1)) if m else None), (int(m.group(2)) if m else None)


# The alert summary --edit changes: the first one in this mixin, and the rule tests that expect it.
EDITED = ROOT / "jsonnet/mixins/redis/mixin.libsonnet"
SUMMARY = re.compile(r"(summary: '([^'\n]*?))\.'")
RULE_TESTS = ROOT / "tests/rules"


def edit(originals: dict[Path, str], run: int) -> None:
    """One alert's summary changed (differently each run) where its author changes it: the mixin
    and the rule tests that expect the old text. Then what the author runs before verify:
    `cfmon generate`, `cfmon docs` and `make golden` (the goldens hold the rendered rules)."""
    match = SUMMARY.search(originals[EDITED])
    if match is None:
        sys.exit(f"verify_timing: no `summary: '...'` in {EDITED.relative_to(ROOT)} to edit")
    old, new = match[2] + ".", f"{match[2]} (edited for run {run})."
    for path, text in originals.items():
        path.write_text(text.replace(f"'{old}'", f"'{new}'") if path == EDITED else text.replace(old, new))
    regenerate()


def regenerate() -> None:
    cfmon = str(ROOT / ".venv/bin/cfmon")
    for argv in (
        [cfmon, "generate"],
        [cfmon, "docs"],
        [cfmon, "render", "--env", "all"],
        [cfmon, "golden", "--env", "all", "--update"],
    ):
        subprocess.run(argv, cwd=ROOT, capture_output=True, check=True)


def timed_runs(runs: int, cold: bool, edited: bool) -> dict:
    """Warm: the tool-result cache filled by the warm-up run; with nothing changed since, verify
    replays its last result. Cold: every run with an empty cache directory of its own, as on a
    fresh clone. Edited: one alert edited before every run (see `edit`)."""
    verify = [str(ROOT / "tools/verify")]
    log("warm-up run")
    subprocess.run(verify, cwd=ROOT, capture_output=True)
    originals = {p: p.read_text() for p in [EDITED, *sorted(RULE_TESTS.glob("*.yaml"))]}
    walls: list[float] = []
    steps: dict[str, list[float]] = defaultdict(list)
    ext: list[float] = []
    calls: list[int] = []
    codes = []
    try:
        for i in range(runs):
            if edited:
                edit(originals, i + 1)
            with tempfile.TemporaryDirectory(prefix="verify-timing-cache-") as empty:
                env = {**os.environ, "CFMON_CACHE_DIR": empty} if cold else None
                began = time.perf_counter()
                proc = subprocess.run(verify, cwd=ROOT, capture_output=True, text=True, env=env)
                walls.append(time.perf_counter() - began)
            record(proc, i, runs, walls, steps, ext, calls, codes)
    finally:
        if any(p.read_text() != text for p, text in originals.items()):
            for path, text in originals.items():
                path.write_text(text)
            regenerate()
    return {
        "runs": runs,
        "mode": "cold" if cold else "edited" if edited else "warm",
        "exit_codes": codes,
        "wall_median": stats.median(walls),
        "wall_min": min(walls),
        "wall_max": max(walls),
        "steps_median": [[name, stats.median(v)] for name, v in steps.items()],  # in verify's order
        "external_median": stats.median(ext) if ext else None,
        "external_calls": calls,
    }


def record(proc, i: int, runs: int, walls, steps, ext, calls, codes) -> None:
    """One timed run's exit code, steps and tool time into the lists."""
    codes.append(proc.returncode)
    if proc.returncode not in (0, 1):
        sys.exit(f"verify_timing: tools/verify failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    step_times, ext_s, n_calls = parse_timings(proc.stderr)
    for name, secs in step_times.items():
        steps[name].append(secs)
    if ext_s is not None:
        ext.append(ext_s)
        calls.append(n_calls or 0)
    log(f"run {i + 1}/{runs}: {walls[-1]:.2f}s (exit {proc.returncode})")


def _kind(call) -> str:
    """'promtool test', 'amtool config', 'helm template', 'go-jsonnet': what a call does."""
    if call.tool == "go-jsonnet":
        return call.tool
    sub = next((a for a in call.argv[1:] if not a.startswith("-")), "")
    return f"{call.tool} {sub}".strip()


def capture_and_replay(replays: int) -> dict:
    """verify in this process; every tool call replayed bare `replays` times right after it."""
    import _gojsonnet

    from cfmon import binaries, runner
    from cfmon.project import find_root

    lock = threading.RLock()
    bare: list[tuple[str, float, float]] = []  # (tool, seconds inside verify, median bare seconds)
    real_run, real_jsonnet = binaries.run, binaries.jsonnet_evaluate
    spent = [0.0]  # seconds spent replaying, taken off the capture run's wall time

    def replay(call: binaries.ToolCall) -> float:
        times = []
        for _ in range(replays):
            began = time.perf_counter()
            if call.tool == "go-jsonnet":
                with contextlib.suppress(RuntimeError):  # verify reports Jsonnet errors, not us
                    _gojsonnet.evaluate_file(call.argv[1])
            else:
                subprocess.run(
                    list(call.argv),
                    cwd=call.cwd,
                    env={**os.environ, **dict(call.env)},
                    capture_output=True,
                    timeout=600,
                )
            times.append(time.perf_counter() - began)
        spent[0] += sum(times)
        return stats.median(times)

    def run(*args, **kwargs):
        with lock:
            n = len(binaries.CALLS)
            proc = real_run(*args, **kwargs)
            for call in binaries.CALLS[n:]:
                bare.append((_kind(call), call.seconds, replay(call)))
            return proc

    def jsonnet(*args, **kwargs):
        with lock:
            n = len(binaries.CALLS)
            try:
                return real_jsonnet(*args, **kwargs)
            finally:
                for call in binaries.CALLS[n:]:
                    bare.append((_kind(call), call.seconds, replay(call)))

    binaries.run, binaries.jsonnet_evaluate = run, jsonnet
    try:
        project = find_root(ROOT)
        began = time.perf_counter()
        result = runner.verify(project, project.select_envs("all"))
        wall = time.perf_counter() - began
    finally:
        binaries.run, binaries.jsonnet_evaluate = real_run, real_jsonnet
    per_tool: dict[str, dict] = {}
    for tool, inside, alone in bare:
        t = per_tool.setdefault(tool, {"calls": 0, "in_verify_seconds": 0.0, "bare_seconds": 0.0})
        t["calls"] += 1
        t["in_verify_seconds"] += inside
        t["bare_seconds"] += alone
    return {
        "replays": replays,
        "serial_wall_seconds": wall - spent[0],  # verify in-process, tool calls one at a time
        "ok": result.ok,
        "calls": len(bare),
        "in_verify_seconds": sum(i for _, i, _ in bare),
        "bare_seconds": sum(a for _, _, a in bare),
        "per_tool": dict(sorted(per_tool.items())),
    }


def report(res: dict) -> str:
    out = [
        f"machine load average (1, 5, 15 min) before {res['load_average_before']}, "
        f"after {res['load_average_after']} on {os.cpu_count()} CPUs"
    ]
    t, c = res.get("timed"), res.get("capture")
    if t:
        out += [
            f"tools/verify, {t['runs']} {t.get('mode', 'warm')} runs: median {t['wall_median']:.2f}s "
            f"(min {t['wall_min']:.2f}s, max {t['wall_max']:.2f}s); exit codes {t['exit_codes']}",
            stats.table(["step", "median s"], t["steps_median"]),
        ]
        if t["external_median"] is not None:
            out.append(
                f"external tools inside verify (its own accounting): median {t['external_median']:.2f}s "
                f"in {t['external_calls']} calls (per run)"
            )
    if c:
        out.append(f"\nbare replays ({c['replays']} each, median per call), by tool and subcommand:")
        out.append(
            stats.table(
                ["tool", "calls", "in verify s", "bare s"],
                [[k, v["calls"], v["in_verify_seconds"], v["bare_seconds"]] for k, v in c["per_tool"].items()]
                + [["total", c["calls"], c["in_verify_seconds"], c["bare_seconds"]]],
            )
        )
        bare, serial = c["bare_seconds"], c["serial_wall_seconds"]
        out.append(
            f"capture run (in-process, tool calls one at a time): {serial:.2f}s / bare tools "
            f"{bare:.2f}s = {serial / bare:.2f}x"
        )
        if t:
            wall = t["wall_median"]
            out.append(
                f"toolkit overhead: verify median {wall:.2f}s / bare tools {bare:.2f}s = "
                f"{wall / bare:.2f}x ({wall - bare:+.2f}s outside the tools)"
            )
    if t and t["external_median"]:
        wall = t["wall_median"]
        out.append(
            f"by verify's own accounting: {wall:.2f}s / {t['external_median']:.2f}s = "
            f"{wall / t['external_median']:.2f}x (tool time summed around each call; calls that run "
            "in parallel count fully)"
        )
    return "\n".join(out) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description="Wall time of tools/verify, its steps and its tools.")
    ap.add_argument("runs", nargs="?", type=int, default=5, help="timed runs (default 5)")
    ap.add_argument("--replays", type=int, default=3, help="bare replays per tool call (default 3; 0: none)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    how = ap.add_mutually_exclusive_group()
    how.add_argument("--cold", action="store_true", help="every run with an empty cache (a fresh clone)")
    how.add_argument("--edit", action="store_true", help="one alert summary edited before every run")
    args = ap.parse_args()
    if args.runs < 0 or args.replays < 0 or args.runs + args.replays == 0:
        ap.error("N and --replays must be at least 0, and not both 0")
    res: dict = {"load_average_before": [round(x, 2) for x in os.getloadavg()]}
    if args.runs:
        res["timed"] = timed_runs(args.runs, args.cold, args.edit)
    if args.replays:
        log("capture run: every tool call replayed bare")
        res["capture"] = capture_and_replay(args.replays)
    res["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        print(json.dumps(res, indent=2, sort_keys=True))
    else:
        sys.stdout.write(report(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())

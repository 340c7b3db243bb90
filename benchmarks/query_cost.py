"""Query cost and rule evaluation on a backfilled TSDB shaped like production.

Usage: .venv/bin/python benchmarks/query_cost.py [--scale F] [--hours H] [--reps N] [--json]
(run `cfmon render --env prod` and `cfmon generate` first; see benchmarks/README.md)

1. Writes synthetic production metrics (cfbench/openmetrics.py) as OpenMetrics, one file per hour,
   and backfills them with `promtool tsdb create-blocks-from openmetrics`.
2. Starts the pinned Prometheus on that TSDB (loopback, a free port) and backfills every
   recording rule of the rendered environment with `promtool tsdb create-blocks-from rules`, level
   by level (a rule reading recorded series needs them in the TSDB first), restarting Prometheus
   to load each level's blocks, then waits until its compactions have settled.
3. (a) every Prometheus target of every dashboard: variables resolved against the data as on a
   fresh load, an instant query at the end of the data and a range query over the dashboard's
   default range with Grafana's step; p50/p95 per dashboard.
   (b) every recording rule a dashboard or an alert reads: the recorded series against the rule's
   own expression, instant and range; the ratio of the two.
4. (c) restarts Prometheus with the rendered rule files and reads each group's `evaluationTime`
   from /api/v1/rules over a few evaluation cycles: duration as a fraction of the interval.

The synthetic range ends `--lead-minutes` in the future, so that rules evaluated at the wall clock
in step 4 still find fresh samples. Numbers go to stdout (text tables or --json); progress to stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml
from cfbench import grafana, openmetrics, stats
from cfbench import rules as rulelib
from cfbench.prom import Prometheus, PrometheusError

from cfmon import binaries
from cfmon.errors import UserError
from cfmon.project import find_root
from cfmon.render import load_rendered

ROOT = Path(__file__).resolve().parents[1]
DASHBOARDS = Path("charts/creativeflow-monitoring/charts/grafana/files/dashboards")
WINDOW = 3600  # seconds of samples per OpenMetrics file (a file is mapped whole by promtool)


def log(message: str) -> None:
    print(f"query_cost: {message}", file=sys.stderr, flush=True)


@dataclass
class Timed:
    wall: list[float] = field(default_factory=list)
    samples: int = 0  # totalQueryableSamples of the last run
    error: str | None = None


def time_query(prom: Prometheus, params: dict[str, str], range_query: bool, reps: int) -> Timed:
    """One warm-up, then `reps` timed runs."""
    out = Timed()
    try:
        prom.timed(params, range_query)
        for _ in range(reps):
            wall, st = prom.timed(params, range_query)
            out.wall.append(wall)
            out.samples = int((st.get("samples") or {}).get("totalQueryableSamples") or 0)
    except PrometheusError as exc:
        out.error = str(exc)
    return out


# ---- 1 + 2: data ------------------------------------------------------------------------------


def backfill_raw(
    shape: openmetrics.Shape, start: int, end: int, interval: int, work: Path, data: Path
) -> dict:
    families = openmetrics.build(shape)
    n_series = openmetrics.series_count(families)
    per_series = (end - start) // interval
    log(f"{n_series} series x {per_series} samples each, {(end - start) / 3600:g}h at {interval}s")
    gen_s = fill_s = 0.0
    samples = 0
    text_bytes = 0
    for lo in range(start - start % WINDOW, end, WINDOW):
        ts = openmetrics.timestamps(max(lo, start), min(lo + WINDOW, end), interval)
        if not ts:
            continue
        path = work / f"window-{lo}.om"
        began = time.perf_counter()
        with path.open("w") as fh:
            samples += openmetrics.write(fh, families, ts, start)
        gen_s += time.perf_counter() - began
        text_bytes += path.stat().st_size
        began = time.perf_counter()
        proc = binaries.run(
            "promtool",
            ["tsdb", "create-blocks-from", "openmetrics", "--quiet", str(path), str(data)],
            timeout=3600,
        )
        fill_s += time.perf_counter() - began
        path.unlink()
        if proc.returncode != 0:
            raise SystemExit(f"promtool backfill failed:\n{proc.stderr[-2000:]}")
        log(f"  window from {time.strftime('%H:%M', time.gmtime(ts[0]))} UTC: {samples} samples so far")
    return {
        "series": n_series,
        "samples": samples,
        "samples_per_series": samples // max(n_series, 1),
        "families": len(families),
        "openmetrics_bytes": text_bytes,
        "generate_seconds": round(gen_s, 1),
        "backfill_seconds": round(fill_s, 1),
        "backfill_samples_per_second": round(samples / fill_s) if fill_s else None,
    }


def raw_from_cache(cache: Path, key: dict, data: Path) -> dict | None:
    """The cached run's metadata, its blocks copied into `data`; None when the cache is empty or
    was written for another size."""
    meta = cache / "raw.json"
    if not meta.is_file():
        return None
    saved = json.loads(meta.read_text())
    if {k: saved.get(k) for k in key} != key:
        log(f"  {cache} holds another size; backfilling anew")
        return None
    for block in sorted((cache / "blocks").iterdir()):
        shutil.copytree(block, data / block.name)
    return saved


def raw_to_cache(cache: Path, meta: dict, data: Path) -> None:
    shutil.rmtree(cache / "blocks", ignore_errors=True)
    (cache / "blocks").mkdir(parents=True)
    for block in sorted(data.iterdir()):
        if (block / "meta.json").is_file():
            shutil.copytree(block, cache / "blocks" / block.name)
    (cache / "raw.json").write_text(json.dumps(meta, indent=2, sort_keys=True))


def rendered_rules(env: str) -> tuple[list[rulelib.Group], dict[str, str], str]:
    """The environment's rule groups, its rule files as rendered and its evaluation interval."""
    project = find_root(ROOT)
    rendered = load_rendered(project, env)
    groups, files = [], {}
    interval = "1m"
    for res in rendered.resources:
        data = res.obj.get("data") or {}
        if res.kind == "ConfigMap" and "prometheus.yml" in data:
            cfg = yaml.safe_load(data["prometheus.yml"]) or {}
            interval = str((cfg.get("global") or {}).get("evaluation_interval") or interval)
    for file, group in rendered.model.rule_groups:
        groups.append(
            rulelib.Group(
                file, str(group.get("name")), group.get("interval"), tuple(group.get("rules") or [])
            )
        )
    for res in rendered.resources:
        labels = res.obj.get("metadata", {}).get("labels", {})
        if res.kind == "ConfigMap" and labels.get("app.kubernetes.io/name") == "prometheus":
            for name, payload in sorted((res.obj.get("data") or {}).items()):
                if "groups" in (yaml.safe_load(payload) or {}):
                    files[name] = payload
    return groups, files, interval


def backfill_rules(
    prom: Prometheus, groups: list[rulelib.Group], start: int, end: int, interval: str, work: Path
) -> list[dict]:
    """promtool create-blocks-from rules, one dependency level at a time; Prometheus is restarted
    after each level so the next one reads the series just recorded."""
    level = rulelib.levels(groups)
    out = []
    for n in range(1, max(level.values(), default=0) + 1):
        content = rulelib.groups_at_level(groups, level, n)
        path = work / f"rules-level-{n}.yaml"
        path.write_text(yaml.safe_dump({"groups": content}, sort_keys=False))
        blocks = work / f"rule-blocks-{n}"
        began = time.perf_counter()
        proc = binaries.run(
            "promtool",
            [
                "tsdb",
                "create-blocks-from",
                "rules",
                "--quiet",
                f"--url={prom.url}",
                f"--start={start}",
                f"--end={end}",
                f"--eval-interval={interval}",
                f"--output-dir={blocks}",
                str(path),
            ],
            timeout=7200,
        )
        seconds = time.perf_counter() - began
        if proc.returncode != 0:
            raise SystemExit(f"promtool rule backfill (level {n}) failed:\n{proc.stderr[-2000:]}")
        for block in sorted(blocks.iterdir()) if blocks.exists() else []:
            shutil.move(str(block), prom.data / block.name)
        rules_n = sum(len(g["rules"]) for g in content)
        log(f"  level {n}: {rules_n} recording rules in {seconds:.1f}s")
        out.append({"level": n, "rules": rules_n, "seconds": round(seconds, 1)})
        prom.__exit__(None, None, None)
        prom.__enter__()
    return out


def settle(prom: Prometheus, quiet_for: float = 20, timeout: float = 900) -> float:
    """Wait for the first compaction cycle (a minute after start) and until nothing changes, so
    compactions of the backfilled blocks do not run under the timings."""
    began = time.monotonic()
    last, still_since = None, time.monotonic()
    while time.monotonic() - began < timeout:
        state = (
            prom.metric("prometheus_tsdb_compactions_triggered_total"),
            prom.metric("prometheus_tsdb_compactions_total"),
            prom.metric("prometheus_tsdb_blocks_loaded"),
        )
        if state != last:
            last, still_since = state, time.monotonic()
        elif state[0] >= 1 and time.monotonic() - still_since >= quiet_for:
            return time.monotonic() - began
        time.sleep(2)
    return time.monotonic() - began


# ---- 3a: dashboards ---------------------------------------------------------------------------


def bench_dashboards(prom: Prometheus, end: int, data_s: int, scrape: float, reps: int) -> dict:
    directory = ROOT / DASHBOARDS
    dashboards = grafana.load_all(directory) if directory.is_dir() else []
    results = []
    for dash in dashboards:
        start = end - dash.range_s

        def lookup(kind: str, expr: str, label: str, start: float = start) -> list[str]:
            if kind == "label_values":
                return prom.label_values(label, expr, start, end)
            return prom.query_result(expr, end)

        try:
            values = grafana.resolve(dash.variables, lookup, grafana.builtins(dash.range_s, scrape, scrape))
        except PrometheusError as exc:
            log(f"  {dash.key}: a variable query failed: {exc}")
            values = {}
        queries = []
        for q in dash.queries:
            step = grafana.step_for(dash.range_s, q.max_data_points, max(q.min_interval or 0, scrape))
            expr = grafana.expand(q.expr, values, grafana.builtins(dash.range_s, step, scrape))
            aligned_end = end - end % step
            inst = time_query(prom, {"query": expr, "time": str(end)}, False, reps)
            rng = time_query(
                prom,
                {
                    "query": expr,
                    "start": str(aligned_end - dash.range_s),
                    "end": str(aligned_end),
                    "step": str(step),
                },
                True,
                reps,
            )
            queries.append(
                {
                    "panel": q.panel,
                    "ref": q.ref,
                    "expr": expr,
                    "grafana_runs": "instant" if q.instant else "range",
                    "step_seconds": step,
                    "instant": asdict(inst),
                    "range": asdict(rng),
                }
            )
        for q in queries:
            # What Prometheus read for this target on a default load (totalQueryableSamples).
            q["samples"] = q[q["grafana_runs"]]["samples"]
        inst_all = [w for q in queries for w in q["instant"]["wall"]]
        rng_all = [w for q in queries for w in q["range"]["wall"]]
        # What one load of the dashboard costs, each target run the way Grafana runs it.
        load = sum(
            stats.median(q["instant" if q["grafana_runs"] == "instant" else "range"]["wall"] or [0])
            for q in queries
        )
        results.append(
            {
                "dashboard": dash.key,
                "title": dash.title,
                "range_hours": dash.range_s / 3600,
                "data_coverage": round(min(1.0, data_s / dash.range_s), 2),
                "queries": len(queries),
                "skipped_non_prometheus": dash.skipped,
                "errors": sum(bool(q["instant"]["error"] or q["range"]["error"]) for q in queries),
                "instant_p50": stats.percentile(inst_all, 50) if inst_all else None,
                "instant_p95": stats.percentile(inst_all, 95) if inst_all else None,
                "range_p50": stats.percentile(rng_all, 50) if rng_all else None,
                "range_p95": stats.percentile(rng_all, 95) if rng_all else None,
                "load_seconds": load,
                "samples": sum(q["samples"] for q in queries),
                "max_samples": max((q["samples"] for q in queries), default=0),
                "detail": queries,
            }
        )
        log(f"  {dash.key}: {len(queries)} queries, load {load:.3f}s")
    every_range = [w for r in results for q in r["detail"] for w in q["range"]["wall"]]
    return {
        "directory": str(DASHBOARDS),
        "dashboards": results,
        "range_p95_all": stats.percentile(every_range, 95) if every_range else None,
        "heaviest_load": max(results, key=lambda r: r["load_seconds"])["dashboard"] if results else None,
    }


def heavy_queries(dashboards: dict, groups: list[rulelib.Group], hours: float) -> list[dict]:
    """Dashboard targets that read more than HEAVY_SAMPLES samples on a default load (range queries
    scaled to the whole default range) and read a raw series (one no recording rule writes)."""
    queries = [
        {
            "dashboard": r["dashboard"],
            "panel": q["panel"],
            "expr": q["expr"],
            "measured_samples": q["samples"],
            # A range query over data that covers only part of the default range reads that part:
            # scaled up to the whole range, what a production load reads.
            "samples": round(
                q["samples"] * (max(1.0, r["range_hours"] / hours) if q["grafana_runs"] == "range" else 1)
            ),
        }
        for r in dashboards["dashboards"]
        for q in r["detail"]
    ]
    return rulelib.heavy_raw(queries, set(rulelib.records(groups)))


# ---- 3b: recorded series against their expressions --------------------------------------------


def bench_records(
    prom: Prometheus,
    groups: list[rulelib.Group],
    exprs: list[str],
    end: int,
    range_s: float,
    scrape: float,
    reps: int,
) -> list[dict]:
    recs = rulelib.records(groups)
    users = rulelib.used_records(exprs, groups)
    step = grafana.step_for(range_s, 900, scrape)  # a half-width panel
    aligned_end = end - end % step
    out = []
    for name in sorted(users):
        rule = recs[name]
        row = {"record": name, "used_by": sorted(users[name]), "expr": str(rule["expr"])}
        for kind, params in (
            ("instant", lambda q: {"query": q, "time": str(end)}),
            (
                "range",
                lambda q: {
                    "query": q,
                    "start": str(aligned_end - range_s),
                    "end": str(aligned_end),
                    "step": str(step),
                },
            ),
        ):
            rec = time_query(prom, params(name), kind == "range", reps)
            raw = time_query(prom, params(str(rule["expr"])), kind == "range", reps)
            rec_s = stats.median(rec.wall) if rec.wall else None
            raw_s = stats.median(raw.wall) if raw.wall else None
            row[kind] = {
                "recorded_seconds": rec_s,
                "raw_seconds": raw_s,
                "ratio": stats.ratio(raw_s, rec_s) if rec_s and raw_s else None,
                "recorded_samples": rec.samples,
                "raw_samples": raw.samples,
                "error": rec.error or raw.error,
            }
        out.append(row)
    return out


# ---- 4: rule evaluation -----------------------------------------------------------------------

RULE_EVAL_WAIT_S = 900  # the longest the rule-evaluation step waits for its evaluations


def bench_rule_eval(
    data: Path,
    work: Path,
    files: dict[str, str],
    groups: list[rulelib.Group],
    interval: str,
    data_start: int,
    data_end: int,
    cycles: int,
    ooo: str,
) -> dict:
    rule_dir = work / "rules"
    rule_dir.mkdir(exist_ok=True)
    paths = []
    for name, payload in sorted(files.items()):
        (rule_dir / name).write_text(payload)
        paths.append(rule_dir / name)
    default_s = grafana.seconds(interval)
    lookbacks = {
        g.name: max((rulelib.lookback(str(r["expr"])) for r in g.rules), default=0.0) for g in groups
    }
    seen: dict[str, dict[str, float]] = {}  # group -> lastEvaluation -> evaluationTime
    meta: dict[str, dict] = {}
    every = {g.name: grafana.seconds(g.interval) if g.interval else default_s for g in groups}
    # Waiting for `cycles` evaluations of the long-term tiers (every 5m and 1h) would take hours:
    # a group slower than the wait allows is reported with the evaluations the run saw (maybe none).
    awaited = {name for name, s in every.items() if s * (cycles + 2) <= RULE_EVAL_WAIT_S}
    with Prometheus(data, work, rule_files=paths, evaluation_interval=interval, ooo_window=ooo) as prom:
        longest = max((every[name] for name in awaited), default=default_s)
        deadline = time.monotonic() + longest * (cycles + 2) + 60
        while time.monotonic() < deadline:
            for f in prom.api("/api/v1/rules").get("groups", []):
                name = f["name"]
                meta[name] = {
                    "file": Path(f["file"]).name,
                    "interval": f["interval"],
                    "rules": len(f["rules"]),
                    "unhealthy": sorted(
                        {r.get("lastError", "")[:120] for r in f["rules"] if r.get("health") == "err"}
                    ),
                }
                if f.get("lastEvaluation", "").startswith("0001"):
                    continue
                seen.setdefault(name, {})[f["lastEvaluation"]] = float(f["evaluationTime"])
            if meta and all(len(seen.get(n, {})) >= cycles + 1 for n in meta if n in awaited):
                break
            time.sleep(min(5, default_s / 3))
        now = time.time()
    rows = []
    for name, m in meta.items():
        evals = [v for _, v in sorted(seen.get(name, {}).items())][1:]  # the first one is cold
        med = stats.median(evals) if evals else None
        rows.append(
            {
                "group": name,
                **m,
                "evaluations": len(evals),
                "median_seconds": med,
                "max_seconds": max(evals) if evals else None,
                "fraction_of_interval": med / m["interval"] if med is not None else None,
                "lookback_seconds": lookbacks.get(name, 0.0),
                "data_covers_lookback": lookbacks.get(name, 0.0) <= now - data_start,
            }
        )
    rows.sort(key=lambda r: (-(r["fraction_of_interval"] or 0), r["group"]))
    return {
        "evaluated_at_data_age_seconds": round(data_end - now),
        "fresh": now < data_end - 300,
        "groups": rows,
        "total_median_seconds_per_15s": sum(
            (r["median_seconds"] or 0) * default_s / r["interval"] for r in rows
        ),
    }


# ---- output -----------------------------------------------------------------------------------


def report_text(res: dict) -> str:
    d = res["data"]
    out = [
        "# Synthetic production TSDB",
        f"shape: {res['shape']}",
        f"series {d['series']}, samples {d['samples']} ({d['samples_per_series']} per series, "
        f"{res['hours']:g}h at {res['interval']}s), {d['families']} metric families",
        f"machine load average (1, 5, 15 min) before {res['load_average_before']}, "
        f"after {res['load_average_after']} on {os.cpu_count()} CPUs",
        f"OpenMetrics text {d['openmetrics_bytes'] / 2**30:.2f} GiB written in {d['generate_seconds']}s; "
        f"promtool backfill {d['backfill_seconds']}s ({d['backfill_samples_per_second']} samples/s)",
        "recording rules backfilled: "
        + ", ".join(f"level {r['level']} {r['rules']} rules {r['seconds']}s" for r in res["rule_backfill"])
        + f"; compactions settled in {res['settle_seconds']:.0f}s",
    ]
    if res["missing_metrics"]:
        out.append(f"metrics read by rules/dashboards but not generated: {', '.join(res['missing_metrics'])}")
    if res["empty_records"]:
        out.append(f"recording rules with no output on this data: {', '.join(res['empty_records'])}")
    out.append("")
    dash = res["dashboards"]["dashboards"]
    out.append(f"# (a) Dashboard queries ({res['reps']} timed runs each, after a warm-up; seconds)")
    if not dash:
        out.append(f"no dashboards under {res['dashboards']['directory']}")
    else:
        out.append(
            stats.table(
                [
                    "dashboard",
                    "range",
                    "data",
                    "queries",
                    "errors",
                    "instant p50",
                    "instant p95",
                    "range p50",
                    "range p95",
                    "load",
                    "samples",
                    "max samples",
                ],
                [
                    [
                        r["dashboard"],
                        f"{r['range_hours']:g}h",
                        f"{r['data_coverage']:.0%}",
                        r["queries"],
                        r["errors"],
                        r["instant_p50"],
                        r["instant_p95"],
                        r["range_p50"],
                        r["range_p95"],
                        r["load_seconds"],
                        r["samples"],
                        r["max_samples"],
                    ]
                    for r in dash
                ],
            )
        )
        # Ranked the way Grafana runs each target (a stat panel's instant query is not a range).
        slow = sorted(
            (
                (stats.median(q[q["grafana_runs"]]["wall"] or [0]), r["dashboard"], q)
                for r in dash
                for q in r["detail"]
            ),
            key=lambda x: (-x[0], x[1], x[2]["panel"]),
        )[:10]
        heaviest = max(dash, key=lambda r: r["load_seconds"])
        out.append(
            f"heaviest dashboard load: {heaviest['dashboard']} {heaviest['load_seconds']:.3f}s; "
            f"range-query p95 over every dashboard query: {res['dashboards']['range_p95_all']:.3f}s"
        )
        heavy = res["heavy_queries"]
        out.append(
            f"queries reading more than {rulelib.HEAVY_SAMPLES:,} samples on a default load (range "
            f"queries scaled to the whole default range) and reading raw series: {len(heavy)}"
        )
        if heavy:
            out.append(
                stats.table(
                    ["samples", "measured", "dashboard", "panel", "expr"],
                    [
                        [q["samples"], q["measured_samples"], q["dashboard"], q["panel"], q["expr"][:100]]
                        for q in heavy
                    ],
                )
            )
        out.append("slowest queries, as Grafana runs them:")
        out.append(
            stats.table(
                ["seconds", "runs as", "samples", "dashboard", "panel", "expr"],
                [
                    [s, q["grafana_runs"], q[q["grafana_runs"]]["samples"], d_, q["panel"], q["expr"][:80]]
                    for s, d_, q in slow
                ],
            )
        )
        errs = [
            (r["dashboard"], q)
            for r in dash
            for q in r["detail"]
            if q["instant"]["error"] or q["range"]["error"]
        ]
        for d_, q in errs[:20]:
            out.append(f"error: {d_} / {q['panel']}: {q['instant']['error'] or q['range']['error']}")
    out.append("")
    if "records" in res:
        recs = res["records"]
        out.append(
            f"# (b) Recorded series vs the expression they replace (median of {res['reps']}; "
            "ratio = raw / recorded; seconds)"
        )
        out.append(f"range queries over {res['records_range_hours']:g}h")
        # Both sides empty: the metrics behind it are not generated; a ratio would be noise.
        with_data = [r for r in recs if r["range"]["raw_samples"] or r["range"]["recorded_samples"]]
        no_data = sorted(
            r["record"] for r in recs if not (r["range"]["raw_samples"] or r["range"]["recorded_samples"])
        )
        rows = sorted(with_data, key=lambda r: (-(r["range"]["ratio"] or 0), r["record"]))
        out.append(
            stats.table(
                [
                    "record",
                    "used by",
                    "instant rec",
                    "instant raw",
                    "ratio",
                    "range rec",
                    "range raw",
                    "ratio",
                    "raw samples",
                ],
                [
                    [
                        r["record"],
                        ",".join(r["used_by"]),
                        r["instant"]["recorded_seconds"],
                        r["instant"]["raw_seconds"],
                        r["instant"]["ratio"],
                        r["range"]["recorded_seconds"],
                        r["range"]["raw_seconds"],
                        r["range"]["ratio"],
                        r["range"]["raw_samples"],
                    ]
                    for r in rows
                ],
            )
        )
        if no_data:
            out.append(f"not compared (no data on either side): {', '.join(no_data)}")
        for kind in ("instant", "range"):
            ratios = [r[kind]["ratio"] for r in with_data if r[kind]["ratio"]]
            if ratios:
                out.append(
                    f"{kind}: geometric mean ratio {stats.geomean(ratios):.2f}, "
                    f"median {stats.median(ratios):.2f}, {sum(x < 1 for x in ratios)} of {len(ratios)} "
                    "recorded series slower than their expression"
                )
    if "rule_eval" in res:
        out.append("")
        ev = res["rule_eval"]
        out.append(
            f"# (c) Rule group evaluation (median of the evaluations after the first; evaluated "
            f"{ev['evaluated_at_data_age_seconds']}s before the end of the data)"
        )
        if not ev["fresh"]:
            out.append("WARNING: the data ended before the evaluations: raise --lead-minutes")
        out.append(
            stats.table(
                ["group", "interval", "rules", "evals", "median s", "max s", "fraction", "lookback", "note"],
                [
                    [
                        g["group"],
                        f"{g['interval']:g}s",
                        g["rules"],
                        g["evaluations"],
                        g["median_seconds"],
                        g["max_seconds"],
                        g["fraction_of_interval"],
                        grafana.duration(g["lookback_seconds"] or 0),
                        ("" if g["data_covers_lookback"] else "lookback beyond data; ")
                        + ("errors: " + "; ".join(g["unhealthy"]) if g["unhealthy"] else ""),
                    ]
                    for g in ev["groups"]
                ],
            )
        )
        out.append(
            f"all groups together: {ev['total_median_seconds_per_15s']:.3f}s of evaluation "
            "per 15s of wall time"
        )
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--env", default="prod", help="rendered environment whose rules are used (default prod)")
    ap.add_argument(
        "--scale", type=float, default=1.0, help="multiply nodes, services and models (default 1)"
    )
    ap.add_argument("--hours", type=float, default=2.0, help="hours of samples (default 2)")
    ap.add_argument("--interval", type=int, default=15, help="scrape interval in seconds (default 15)")
    ap.add_argument("--reps", type=int, default=3, help="timed runs per query, after a warm-up (default 3)")
    ap.add_argument(
        "--cycles", type=int, default=3, help="rule evaluations per group to wait for (default 3)"
    )
    ap.add_argument("--lead-minutes", type=float, default=60, help="the data ends this far in the future")
    ap.add_argument("--workdir", type=Path, help="where the TSDB goes (default: a temporary directory)")
    ap.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=["records", "rule-eval"],
        help="leave out (b) recorded vs raw or (c) rule evaluation (repeatable)",
    )
    ap.add_argument(
        "--raw-cache",
        type=Path,
        help="keep the raw blocks here and reuse them on the next run with the same size "
        "(before/after comparisons of rule or dashboard changes on the same data)",
    )
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args(argv)
    if args.scale <= 0 or args.hours <= 0 or args.interval <= 0 or args.reps < 1 or args.cycles < 1:
        ap.error("--scale, --hours, --interval must be positive; --reps and --cycles at least 1")
    base = openmetrics.Shape()
    shape = openmetrics.Shape(
        nodes=max(2, round(base.nodes * args.scale)),
        services=max(16, round(base.services * args.scale)),  # the named services always exist
        models=max(2, round(base.models * args.scale)),
        gpu_nodes=max(1, round(base.gpu_nodes * args.scale)),
    )
    try:
        groups, files, eval_interval = rendered_rules(args.env)
    except UserError as exc:
        print(f"query_cost: error: {exc}", file=sys.stderr)
        return 2
    scrape = float(args.interval)
    end = math.ceil((time.time() + args.lead_minutes * 60) / args.interval) * args.interval
    start = end - round(args.hours * 3600)
    tmp = None
    if args.workdir:
        work = args.workdir
        if work.exists() and any(work.iterdir()):
            print(
                f"query_cost: error: {work} is not empty\n  fix: pass a new or empty --workdir",
                file=sys.stderr,
            )
            return 2
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="cfbench-")
        work = Path(tmp.name)
    data = work / "tsdb"
    data.mkdir()
    res: dict = {
        "shape": {k: v for k, v in asdict(shape).items() if k not in ("cluster", "environment")},
        "hours": args.hours,
        "interval": args.interval,
        "reps": args.reps,
        "env": args.env,
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        log(f"1. synthetic data, {args.hours:g}h ending {args.lead_minutes:g} min from now")
        key = {"shape": res["shape"], "hours": args.hours, "interval": args.interval}
        cached = raw_from_cache(args.raw_cache, key, data) if args.raw_cache else None
        if cached:
            res["data"], start, end = cached["data"], cached["start"], cached["end"]
            ahead = (end - time.time()) / 60
            log(f"  raw blocks reused from {args.raw_cache}, data ends {ahead:.0f} min from now")
        else:
            res["data"] = backfill_raw(shape, start, end, args.interval, work, data)
            if args.raw_cache:
                raw_to_cache(args.raw_cache, {**key, "data": res["data"], "start": start, "end": end}, data)
        prom = Prometheus(data, work, evaluation_interval=eval_interval)
        with prom:
            log("2. recording rules, level by level")
            res["rule_backfill"] = backfill_rules(prom, groups, start, end, eval_interval, work)
            res["settle_seconds"] = settle(prom)
            log(f"  compactions settled after {res['settle_seconds']:.0f}s")
            dashboards = grafana.load_all(ROOT / DASHBOARDS) if (ROOT / DASHBOARDS).is_dir() else []
            exprs = [q.expr for d in dashboards for q in d.queries]
            known = set(prom.api("/api/v1/label/__name__/values"))
            wanted = set()
            for e in [*exprs, *(str(r["expr"]) for g in groups for r in g.rules)]:
                wanted |= rulelib.names_in(grafana.expand(e, {}, grafana.builtins(3600, 60, scrape)))
            recorded = set(rulelib.records(groups))
            res["missing_metrics"] = sorted(wanted - known - recorded)
            res["empty_records"] = sorted(recorded - known)
            log("3a. dashboard queries")
            res["dashboards"] = bench_dashboards(prom, end, end - start, scrape, args.reps)
            res["heavy_queries"] = heavy_queries(res["dashboards"], groups, (end - start) / 3600)
            if "records" not in args.skip:
                log("3b. recorded series against their expressions")
                range_s = min(6 * 3600, end - start)
                res["records_range_hours"] = range_s / 3600
                res["records"] = bench_records(prom, groups, exprs, end, range_s, scrape, args.reps)
        if "rule-eval" not in args.skip:
            log("4. rule evaluation")
            ooo = grafana.duration(max(0, end - time.time()) + 3600)
            res["rule_eval"] = bench_rule_eval(
                data, work, files, groups, eval_interval, start, end, args.cycles, ooo
            )
    except (PrometheusError, UserError) as exc:
        print(f"query_cost: error: {exc}", file=sys.stderr)
        return 2
    finally:
        if tmp is not None:
            tmp.cleanup()
    res["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        print(json.dumps(res, indent=2, sort_keys=True, default=str))
    else:
        sys.stdout.write(report_text(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())

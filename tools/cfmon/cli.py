"""The `cfmon` command line: parses arguments and prints; the logic lives in the other modules.

Exit codes: 0 clean, 1 findings or drift, 2 usage, configuration or missing tool.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from cfmon import binaries, cache, diffing, docs, generate, golden, preview, render, report, runner
from cfmon.checks import REGISTRY
from cfmon.errors import UserError
from cfmon.project import CACHE_DIR, find_root

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Render and verify the CreativeFlow monitoring stack with the real tools.",
)

EnvOpt = Annotated[str, typer.Option("--env", "-e", help="Environment (values/<env>.yaml) or 'all'.")]
FormatOpt = Annotated[str, typer.Option("--format", help="Output: text, json, github or junit.")]
ValuesOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--values", "-f", help="Extra values overlay, applied after values/<env>.yaml (repeatable)."
    ),
]


NoCacheOpt = Annotated[
    bool,
    typer.Option(
        "--no-cache",
        help="Run every tool afresh instead of reusing results cached under build/cache "
        "(a result is reused only when the tool version and every input byte are the same).",
    ),
]


def _use_cache(project, no_cache: bool) -> None:
    cache.configure(None if no_cache else project.path(CACHE_DIR))


def _log_cache() -> None:
    if cache.enabled():
        runner.log(f"cache: {cache.STATS['hits']} hits, {cache.STATS['misses']} misses")


def _out(text: str) -> None:
    sys.stdout.write(text)


def _format(fmt: str) -> str:
    if fmt not in report.FORMATS:
        raise UserError(
            f"unknown format {fmt!r}", key="--format", hint=f"use one of: {', '.join(report.FORMATS)}"
        )
    return fmt


@app.command("generate")
def generate_cmd(
    check: Annotated[bool, typer.Option("--check", help="Fail if generated files are stale.")] = False,
    no_cache: NoCacheOpt = False,
):
    """Evaluate jsonnet/build/*.jsonnet and write the generated rule, dashboard and schema files."""
    project = find_root()
    _use_cache(project, no_cache)
    result = generate.generate(project, check=check)
    if check:
        if result.stale:
            _out(
                "stale generated files (run `cfmon generate`):\n" + "".join(f"  {p}\n" for p in result.stale)
            )
            raise typer.Exit(1)
        _out(f"generated files are up to date ({len(result.unchanged)} files)\n")
        return
    for p in result.written:
        _out(f"wrote {p}\n")
    for p in result.removed:
        _out(f"removed {p}\n")
    _out(f"{len(result.written)} written, {len(result.removed)} removed, {len(result.unchanged)} unchanged\n")


@app.command("render")
def render_cmd(env: EnvOpt = "all", values: ValuesOpt = None):
    """helm template every environment into build/rendered/<env>/ (one file per # Source)."""
    project = find_root()
    for name in project.select_envs(env):
        rendered = render.render(project, name, values or [])
        _out(f"{name}: {len(rendered.resources)} objects -> {project.rel(rendered.directory)}\n")


def _print_docs(result: docs.DocsResult) -> None:
    if result.stale:
        _out("stale docs (run `cfmon docs`):\n" + "".join(f"  {p}\n" for p in result.stale))
    if result.undocumented:
        _out(
            "values keys without a `# --` comment (document them, or a parent key):\n"
            + "".join(f"  {k}\n" for k in result.undocumented)
        )


@app.command("docs")
def docs_cmd(
    check: Annotated[bool, typer.Option("--check", help="Fail if the docs are stale.")] = False,
):
    """Write docs/alerts.md, docs/routing-<env>.md and the chart README's values tables from the renders."""
    project = find_root()
    renders = {name: render.render(project, name) for name in project.select_envs("all")}
    result = docs.write_docs(project, renders, check=check)
    _print_docs(result)
    for p in result.written:
        _out(f"wrote {p}\n")
    for p in result.removed:
        _out(f"removed {p}\n")
    if not check:
        _out(f"{len(result.written)} written, {len(result.unchanged)} unchanged\n")
    elif not result.stale:
        _out(f"docs are up to date ({len(result.unchanged)} files)\n")
    if result.undocumented or (check and result.stale):
        raise typer.Exit(1)


@app.command("preview")
def preview_cmd(
    env: EnvOpt = "all",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help=f"Output directory (default {preview.PREVIEW_DIR}).")
    ] = None,
):
    """Draw each rendered dashboard's layout: <out>/<uid>.svg and <out>/index.html showing them all."""
    project = find_root()
    renders = {name: render.render(project, name) for name in project.select_envs(env)}
    written, count = preview.write_preview(renders, out or project.path(preview.PREVIEW_DIR), project.root)
    for p in written:
        _out(f"wrote {project.rel(p)}\n")
    _out(f"{count} dashboards -> {project.rel(written[-1])}\n")


def _print_findings(findings, fmt: str, envs: list[str], checks: list[str]) -> None:
    _out(report.render(findings, fmt, checks=checks, envs=envs))
    if fmt == "text":
        errors = sum(f.severity == "error" for f in findings)
        infos = sum(f.severity == "info" for f in findings)
        _out(
            f"{len(checks)} checks x {len(envs)} environments: {errors} errors, "
            f"{len(findings) - errors - infos} warnings"
            + (f", {infos} replaced (info)" if infos else "")
            + "\n"
        )


@app.command("check")
def check_cmd(
    env: EnvOpt = "all",
    fmt: FormatOpt = "text",
    values: ValuesOpt = None,
    only: Annotated[list[str] | None, typer.Option("--only", help="Run only this check id.")] = None,
    no_cache: NoCacheOpt = False,
):
    """Run every registered check on the rendered output (rendered again first when
    build/rendered/<env> was made from other values, overlays or chart files); without -f, also
    every team overlay in values/teams/<team>/ on top of each environment."""
    project = find_root()
    _use_cache(project, no_cache)
    fmt = _format(fmt)
    envs = project.select_envs(env)
    findings = runner.check(project, envs, only=only, overlays=values or [])
    _log_cache()
    _print_findings(findings, fmt, envs, [c.id for c in runner.select_checks(only)])
    if any(f.severity == "error" for f in findings):
        raise typer.Exit(1)


def _print_diffs(diffs: dict[str, list[diffing.ResourceDiff]], fmt: str) -> None:
    if fmt == "json":
        _out(
            json.dumps(
                [diffing.as_json(e, d) for e, d in diffs.items()], indent=2, sort_keys=True, default=str
            )
            + "\n"
        )
    else:
        for env, d in diffs.items():
            _out(diffing.format_text(env, d))


@app.command("golden")
def golden_cmd(
    env: EnvOpt = "all",
    update: Annotated[bool, typer.Option("--update", help="Rewrite the goldens.")] = False,
    fmt: FormatOpt = "text",
):
    """Compare build/rendered/<env>/ with tests/golden/<env>/ per resource; --update rewrites them."""
    project = find_root()
    envs = project.select_envs(env)
    if update:
        for name in envs:
            golden.update(project, name)
            _out(f"{name}: goldens updated from {project.rel(project.render_dir(name))}\n")
        return
    diffs = {name: golden.compare(project, name) for name in envs}
    _print_diffs(diffs, _format(fmt))
    if any(diffs.values()):
        runner.log(
            "golden drift: review the changes; if they are what you meant, run `cfmon golden --update`"
        )
        raise typer.Exit(1)


@app.command("diff")
def diff_cmd(
    from_ref: Annotated[str, typer.Option("--from", help="Git ref to compare with (e.g. HEAD~1, main).")],
    env: EnvOpt = "all",
    fmt: FormatOpt = "text",
    values: ValuesOpt = None,
):
    """Render REF (in a temporary git worktree) and the working tree; show the per-resource diff."""
    from cfmon.gitdiff import diff_from

    project = find_root()
    fmt = _format(fmt)
    _print_diffs(diff_from(project, from_ref, project.select_envs(env), values or []), fmt)


@app.command("verify")
def verify_cmd(fmt: FormatOpt = "text", no_cache: NoCacheOpt = False):
    """Everything CI runs: generate --check, render, check and golden for every environment."""
    project = find_root()
    _use_cache(project, no_cache)
    fmt = _format(fmt)
    envs = project.select_envs("all")
    result = runner.verify(project, envs)
    if result.stale:
        _out("stale generated files (run `cfmon generate`):\n" + "".join(f"  {p}\n" for p in result.stale))
    _print_docs(result.docs)
    _print_findings(result.findings, fmt, envs, [c.id for c in REGISTRY])
    drift = {e: d for e, d in result.drift.items() if d}
    if drift:
        _print_diffs(drift, "text")
        _out("golden drift: if the changes are what you meant, run `cfmon golden --update` and review\n")
    total = sum(result.timings.values())
    # The tools' own share (helm, promtool, amtool, go-jsonnet); the rest is what cfmon adds.
    ext = sum(c.seconds for c in binaries.CALLS)
    runner.log(
        "timings: "
        + ", ".join(f"{k} {v:.2f}s" for k, v in result.timings.items())
        + f"; total {total:.2f}s; external tools {ext:.2f}s in {len(binaries.CALLS)} calls"
    )
    _log_cache()
    _out("verify: OK\n" if result.ok else "verify: FAILED\n")
    if not result.ok:
        raise typer.Exit(1)


@app.command("sandbox")
def sandbox_cmd(
    scenarios: Annotated[
        list[Path], typer.Argument(help="Scenario files (scenarios/*.yaml); several run together.")
    ],
    env: Annotated[
        str, typer.Option("--env", "-e", help="Environment whose render runs (values/<env>.yaml).")
    ],
    speed: Annotated[
        int | None, typer.Option("--speed", help="Divide every duration by N (default: the scenario's).")
    ] = None,
    keep_dir: Annotated[
        Path | None, typer.Option("--keep-dir", help="Run in this new directory and keep configs and logs.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="Output: text or json.")] = "text",
):
    """Run the rendered Prometheus and Alertmanager for real on loopback, replay SCENARIOS and
    report which alerts fired and who was notified; exit 1 when an expectation fails."""
    from cfmon import sandbox
    from cfmon.scenario import load as load_scenario

    project = find_root()
    if fmt not in ("text", "json"):
        raise UserError(f"unknown format {fmt!r}", key="--format", hint="use text or json")
    if env == "all" or len(project.select_envs(env)) != 1:
        raise UserError("the sandbox runs one environment", key="--env", hint="e.g. --env dev")
    if speed is not None and speed < 1:
        raise UserError(f"{speed} is not a speed", key="--speed", hint="a whole number >= 1, e.g. 100")
    loaded = [load_scenario(p, project.rel(p)) for p in scenarios]
    result = sandbox.run(project, env, loaded, speed=speed, keep_dir=keep_dir, log=runner.log)
    if fmt == "json":
        _out(json.dumps(sandbox.as_json(result), indent=2, sort_keys=True) + "\n")
    else:
        _out(sandbox.format_text(result))
    if not result.ok:
        raise typer.Exit(1)


conformance_app = typer.Typer(
    no_args_is_help=True,
    help="The stack against the real exporters: record what they expose, check selectors against it.",
)
app.add_typer(conformance_app, name="conformance")


@conformance_app.command("record")
def conformance_record(
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Directory for the samples (default tests/conformance/samples)."),
    ] = None,
):
    """Run the real servers and exporters on loopback (root: they run as their own users) and write
    each exporter's exposition to <out>/<exporter>-<version>.prom."""
    from cfmon.conformance import record as rec

    project = find_root()
    for path in rec.record(project, out, log=runner.log):
        _out(f"wrote {project.rel(path)}\n")


@app.command("doctor")
def doctor_cmd():
    """Each pinned tool: where it is, its version, and what to run when it is missing."""
    missing = 0
    for name, spec in binaries.TOOLS.items():
        info = binaries.probe(name)
        if info.ok:
            _out(f"ok       {name:28} {info.version:8} {info.path}\n")
        else:
            missing += 1
            _out(f"missing  {name:28} need {spec.pinned}: {info.problem}\n")
    try:
        import _gojsonnet  # noqa: F401

        _out("ok       go-jsonnet    (Python package gojsonnet)\n")
    except ImportError:
        missing += 1
        _out("missing  go-jsonnet    (Python package gojsonnet)\n")
    if missing:
        _out(f"{missing} missing: {binaries.INSTALL_HINT}\n")
        raise typer.Exit(2)


@conformance_app.command("check")
def conformance_check(
    env: Annotated[str, typer.Option("--env", "-e", help="Environment whose render is checked.")] = "prod",
    prometheus: Annotated[
        str | None,
        typer.Option(
            "--prometheus",
            help="A running Prometheus (base URL): check against its series instead of the samples.",
        ),
    ] = None,
    window: Annotated[
        str, typer.Option("--window", help="How far back to look for series on --prometheus (e.g. 1h, 6h).")
    ] = "1h",
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds per request to --prometheus.")] = 10.0,
    fmt: Annotated[str, typer.Option("--format", help="Output: text or json.")] = "text",
    values: ValuesOpt = None,
):
    """Which alerts, recording rules and panels read nothing: every selector of the rendered rules
    and dashboards against the exporter samples, or against a live Prometheus (--prometheus URL).
    Exit 1 when some selector reads nothing."""
    from cfmon.checks import conformance as conf
    from cfmon.checks.base import Context
    from cfmon.conformance import series as ser
    from cfmon.durations import parse_ms

    project = find_root()
    if fmt not in ("text", "json"):
        raise UserError(f"unknown format {fmt!r}", key="--format", hint="use text or json")
    if env == "all" or len(project.select_envs(env)) != 1:
        raise UserError("conformance check runs one environment", key="--env", hint="e.g. --env prod")
    try:
        seconds = parse_ms(window) / 1000
    except ValueError:
        seconds = 0
    if seconds <= 0:
        raise UserError(f"{window!r} is not a duration", key="--window", hint="e.g. 1h, 30m, 6h")
    if timeout <= 0:
        raise UserError(f"{timeout} is not a timeout", key="--timeout", hint="seconds, e.g. 10")
    rendered = render.render(project, env, values or [])
    ctx = Context(project, env, rendered)
    if prometheus:
        live = ser.LivePrometheus(prometheus, window_seconds=int(seconds), timeout=timeout)
        source = conf.LiveSource(live, ser.load_table(project.root), conf.scrape_jobs(ctx))
        origin = live.url
    else:
        source, origin = conf.SampleSource(project.root, conf.scrape_jobs(ctx)), ser.SAMPLES
    rep = conf.report(ctx, source, origin)
    if fmt == "json":
        _out(json.dumps(conf.as_json(rep), indent=2, sort_keys=True) + "\n")
    else:
        _out(conf.format_text(rep))
    if rep.results:
        raise typer.Exit(1)


def main() -> None:
    try:
        app()
    except UserError as exc:
        print(f"cfmon: error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("cfmon: interrupted", file=sys.stderr)
        sys.exit(130)

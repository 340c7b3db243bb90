"""Running the registered checks over rendered environments, and the verify pipeline."""

from __future__ import annotations

import importlib.metadata
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from cfmon import binaries, cache, docs, generate, golden, teams
from cfmon.checks import REGISTRY, Context, Finding
from cfmon.diffing import ResourceDiff
from cfmon.errors import UserError
from cfmon.project import RENDER_DIR, Project
from cfmon.render import STAMP, Rendered, load_rendered, render, render_text


def log(message: str) -> None:
    print(f"cfmon: {message}", file=sys.stderr, flush=True)


@contextmanager
def step(name: str, timings: dict[str, float]) -> Iterator[None]:
    log(f"{name} ...")
    start = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - start
    log(f"{name} done in {timings[name]:.2f}s")


def select_checks(only: list[str] | None) -> list[type]:
    if not only:
        return list(REGISTRY)
    known = {c.id: c for c in REGISTRY}
    unknown = [o for o in only if o not in known]
    if unknown:
        raise UserError(f"unknown check {', '.join(unknown)}", hint=f"known checks: {', '.join(known)}")
    return [known[o] for o in only]


def check_env(
    project: Project,
    rendered: Rendered,
    checks: list[type],
    rerender: Callable[[], str] | None,
    team_list: tuple[teams.Team, ...] = (),
    label: str | None = None,
) -> list[Finding]:
    findings: list[Finding] = []
    with tempfile.TemporaryDirectory(prefix=f"cfmon-{rendered.env}-") as tmp:
        ctx = Context(
            project,
            rendered.env,
            rendered,
            rerender=rerender,
            scratch=Path(tmp),
            teams=team_list,
            label=label,
        )
        for check in checks:
            findings += check().run(ctx)
    return findings


@dataclass(frozen=True)
class _Job:
    """One render to check: an environment, with a team's overlay or the command line's."""

    name: str  # the step's name in the log and timings, e.g. "check prod + team gateway"
    env: str
    overlays: tuple[Path, ...]
    out: Path | None  # where the render lives (None: build/rendered/<env>)
    teams: tuple[teams.Team, ...]
    label: str | None


def _run_job(project: Project, job: _Job, checks: list[type]) -> tuple[list[Finding], float, dict, list]:
    """A job's findings, its wall time, and what it added to the tool accounting (cache hits and
    misses, tool calls): a worker process sends those back to the parent."""
    stats, calls = dict(cache.STATS), len(binaries.CALLS)
    start = time.perf_counter()
    overlays = list(job.overlays)
    rendered = load_rendered(project, job.env, overlays, out=job.out, log=log)
    findings = check_env(
        project,
        rendered,
        checks,
        lambda: render_text(project, job.env, overlays),
        job.teams,
        label=job.label,
    )
    delta = {k: cache.STATS[k] - stats[k] for k in stats}
    return findings, time.perf_counter() - start, delta, binaries.CALLS[calls:]


def prepare(project: Project, checks: list[type] | None = None) -> None:
    """What every render shares, read once here (Check.prepare); done again, it costs little."""
    for check in checks or REGISTRY:
        check.prepare(project)


def _workers(jobs: int) -> int:
    """Renders are checked in parallel, one process a core (CFMON_JOBS caps it; 1 runs them here)."""
    cap = int(os.environ.get("CFMON_JOBS") or os.cpu_count() or 1)
    return max(1, min(jobs, cap))


def check(
    project: Project,
    envs: list[str],
    *,
    only: list[str] | None = None,
    overlays: list[Path] | None = None,
    timings: dict[str, float] | None = None,
) -> list[Finding]:
    """Checks read what `cfmon render` wrote (what ships), rendered again first when it was made
    from other values; determinism re-renders with helm. Without overlays, every team overlay
    (values/teams/<team>/) is checked too, in every environment, in build/rendered/teams/.

    The renders are independent, so they are checked side by side in worker processes; findings
    come back in the same order (environments, then each team's) whatever finishes first."""
    checks = select_checks(only)
    timings = {} if timings is None else timings
    overlays = overlays or []
    owners = tuple(t for o in overlays if (t := teams.team_of(project, o)))
    jobs = [_Job(f"check {env}", env, tuple(overlays), None, owners, None) for env in envs]
    if not overlays:
        jobs += [
            _Job(
                f"check {env} + team {team.name}",
                env,
                (team.values,),
                project.path(RENDER_DIR) / "teams" / team.name / env,
                (team,),
                f"{env}+{team.name}",
            )
            for team in teams.discover(project)
            for env in envs
        ]
    prepare(project, checks)
    workers = _workers(len(jobs))
    findings: list[Finding] = []
    if workers == 1:
        for job in jobs:
            with step(job.name, timings):
                findings += _run_job(project, job, checks)[0]
        return findings
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(_run_job, project, job, checks) for job in jobs]
        for job, future in zip(jobs, futures, strict=True):
            found, took, delta, calls = future.result()
            log(f"{job.name} done in {took:.2f}s")
            timings[job.name] = took
            findings += found
            for k, v in delta.items():
                cache.STATS[k] += v
            binaries.CALLS.extend(calls)
    return findings


@dataclass
class VerifyResult:
    stale: list[str] = field(default_factory=list)
    docs: docs.DocsResult = field(default_factory=docs.DocsResult)
    findings: list[Finding] = field(default_factory=list)
    drift: dict[str, list[ResourceDiff]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (
            not self.stale
            and not self.docs.stale
            and not self.docs.undocumented
            and not any(f.severity == "error" for f in self.findings)
            and not any(self.drift.values())
        )


def verify(project: Project, envs: list[str]) -> VerifyResult:
    """Everything CI needs: generate --check, render, docs --check, check, golden, for every environment.

    A passing verify is a pure function of the repository's files and the tools that read them, so
    its result is cached (when the cache is on) under a key over every one of those bytes: run
    again with nothing changed, it replays the findings instead of redoing the work. A failing
    verify is never replayed: it runs again, so a fix shows at once."""
    inputs = inputs_digest(project, envs) if cache.enabled() else None
    key = _verify_key(project, envs, inputs) if inputs else None
    if key is not None and (stored := key.get()) is not None:
        log("verify: nothing changed since the last passing verify (same files and tools); replaying it")
        return VerifyResult(findings=[Finding(**f) for f in stored["findings"]], timings={"replayed": 0.0})
    result = VerifyResult()
    t = result.timings

    def timed(name: str, work: Callable[[], Any]) -> Any:
        with step(name, t):
            return work()

    # generate --check (go-jsonnet, which lets go of the GIL) and the renders (helm) read different
    # files and write nothing the other reads: they run side by side, one a core.
    with ThreadPoolExecutor(max_workers=_workers(1 + len(envs))) as pool:
        generated = pool.submit(timed, "generate --check", lambda: generate.generate(project, check=True))
        rendering = {env: pool.submit(timed, f"render {env}", partial(render, project, env)) for env in envs}
        prepared = pool.submit(prepare, project)  # for check() below, while helm renders
        result.stale = generated.result().stale
        renders = {env: future.result() for env, future in rendering.items()}
        prepared.result()
    with step("docs --check", t):
        result.docs = docs.write_docs(project, renders, check=True)
    result.findings = check(project, envs, timings=t)
    with step("golden", t):
        for env in envs:
            result.drift[env] = golden.compare(project, env)
    # Stored under the renders just made (a fresh clone has none before), and only when no input
    # changed while it ran: the findings must be those of the bytes the key names.
    if inputs and result.ok and inputs_digest(project, envs) == inputs:
        after = _verify_key(project, envs, inputs)
        if after is not None:
            after.put({"findings": [f.as_dict() for f in result.findings]})
    return result


# Never inputs: what the repository's .gitignore leaves out (the tools are keyed separately).
_NOT_INPUTS = {".git", ".venv", ".tools", "build", "__pycache__", ".pytest_cache", ".ruff_cache"}


def input_files(root: Path) -> list[Path]:
    """Every file a verify may read: in a git checkout what git tracks plus what it does not ignore
    (a new, uncommitted values file counts); elsewhere every file outside the ignored folders."""
    if (root / ".git").exists():
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root,
            capture_output=True,
            check=True,
        ).stdout
        paths = [root / name for name in out.decode().split("\0") if name]
        return sorted(p for p in paths if p.is_file())  # a deleted but still tracked file is gone
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in _NOT_INPUTS and not d.endswith(".egg-info")]
        found += [Path(dirpath) / f for f in filenames]
    return sorted(found)


def inputs_digest(project: Project, envs: list[str]) -> str:
    """What a whole verify reads: every input file's path and bytes, each tool binary it may run
    (path, size and modification time: an upgrade or reinstall differs), the Python packages."""
    key = cache.Key("verify-inputs").add("envs", " ".join(envs)).add("python", sys.version)
    for path in input_files(project.root):
        key.add(f"file {path.relative_to(project.root)}", path.read_bytes())
    for name in [*sorted(binaries.TOOLS), "victoria-metrics"]:
        local = binaries._tools_bin() / name
        found = str(local) if local.exists() else shutil.which(name)
        if found:
            st = os.stat(found)
            key.add(f"tool {name}", f"{found} {st.st_size} {st.st_mtime_ns}")
    packages = sorted(f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions())
    return key.add("packages", "\n".join(packages)).digest


def _verify_key(project: Project, envs: list[str], inputs: str) -> cache.Key | None:
    """The key of a whole verify: its inputs and the environments' render stamps. None when there
    are no renders a replay could leave behind."""
    stamps = [project.render_dir(env) / STAMP for env in envs]
    if not all(stamp.is_file() for stamp in stamps):
        return None
    key = cache.Key("verify").add("inputs", inputs)
    # What the renders left behind were made from: another render in between (with an overlay, say)
    # rewrites a stamp and misses, so a replay never leaves a render that is not this verify's.
    for stamp in stamps:
        key.add(f"stamp {project.rel(stamp)}", stamp.read_bytes())
    return key

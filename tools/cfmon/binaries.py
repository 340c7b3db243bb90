"""The one module that runs external tools: helm, promtool, amtool, jsonnetfmt, go-jsonnet.

Each tool is looked up in .tools/bin (installed by tools/install-deps), then on PATH, and used only
at a supported version; otherwise the error names the command that installs it.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cfmon import cache
from cfmon.errors import ToolMissing, UserError

INSTALL_HINT = "run tools/install-deps (it installs every pinned tool into .tools/bin)"


@dataclass(frozen=True)
class ToolSpec:
    name: str
    version_args: tuple[str, ...]
    version_re: str  # first group is the version
    supported: str  # version prefix we accept
    pinned: str


TOOLS: dict[str, ToolSpec] = {
    spec.name: spec
    for spec in (
        ToolSpec("helm", ("version", "--template", "{{.Version}}"), r"v?(\d+\.\d+\.\d+)", "3.18.", "3.18.0"),
        ToolSpec("helm4", ("version", "--template", "{{.Version}}"), r"v?(\d+\.\d+\.\d+)", "4.1.", "4.1.x"),
        ToolSpec("promtool", ("--version",), r"version (\d+\.\d+\.\d+)", "3.5.", "3.5.3"),
        ToolSpec("prometheus", ("--version",), r"version (\d+\.\d+\.\d+)", "3.5.", "3.5.3"),
        ToolSpec("amtool", ("--version",), r"version (\d+\.\d+\.\d+)", "0.33.", "0.33.1"),
        ToolSpec("alertmanager", ("--version",), r"version (\d+\.\d+\.\d+)", "0.33.", "0.33.1"),
        ToolSpec("jsonnetfmt", ("--version",), r"v(\d+\.\d+\.\d+)", "0.", "0.18+"),
        # The real exporters and servers of the conformance tier (cfmon conformance, pytest -m
        # conformance). The servers come from the machine's own Debian release, not pinned.
        ToolSpec("prometheus-node-exporter", ("--version",), r"version (\d+\.\d+\.\d+)", "1.11.", "1.11.1"),
        ToolSpec(
            "prometheus-postgres-exporter", ("--version",), r"version (\d+\.\d+\.\d+)", "0.19.", "0.19.1"
        ),
        ToolSpec(
            "prometheus-redis-exporter", ("--version",), r"Exporter v?(\d+\.\d+\.\d+)", "1.86.", "1.86.0"
        ),
        ToolSpec("prometheus-nginx-exporter", ("--version",), r"version (\d+\.\d+\.\d+)", "1.5.", "1.5.1"),
        ToolSpec("redis-server", ("--version",), r"v=(\d+\.\d+\.\d+)", "7.", "7.x"),
        ToolSpec("nginx", ("-v",), r"nginx/(\d+\.\d+\.\d+)", "1.", "1.x with stub_status"),
    )
}


@dataclass(frozen=True)
class ToolInfo:
    name: str
    path: str | None
    version: str | None
    ok: bool
    problem: str | None


def _tools_bin() -> Path:
    # tools/cfmon/binaries.py -> repository root / .tools / bin; CFMON_TOOLS_BIN overrides it.
    override = os.environ.get("CFMON_TOOLS_BIN")
    return Path(override) if override else Path(__file__).resolve().parents[2] / ".tools" / "bin"


def _version_of(spec: ToolSpec, path: str) -> str | None:
    try:
        proc = subprocess.run([path, *spec.version_args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(spec.version_re, proc.stdout + proc.stderr)
    return m.group(1) if m else None


@functools.cache
def probe(name: str) -> ToolInfo:
    spec = TOOLS[name]
    candidates = []
    local = _tools_bin() / name
    if local.exists():
        candidates.append(str(local))
    on_path = shutil.which(name)
    if on_path and on_path not in candidates:
        candidates.append(on_path)
    seen = []
    for cand in candidates:
        version = _version_of(spec, cand)
        if version and version.startswith(spec.supported):
            return ToolInfo(name, cand, version, True, None)
        seen.append(f"{cand} is version {version or 'unknown'}")
    problem = "; ".join(seen) + f" (need {spec.pinned})" if seen else "not found"
    return ToolInfo(name, None, None, False, problem)


def require(name: str) -> str:
    info = probe(name)
    if not info.ok:
        raise ToolMissing(f"{name} {TOOLS[name].pinned} is needed: {info.problem}", hint=INSTALL_HINT)
    assert info.path
    return info.path


@dataclass(frozen=True)
class ToolCall:
    """One finished run(): the exact argv (to replay it bare), its cwd and env overrides, its time."""

    tool: str
    argv: tuple[str, ...]
    cwd: str | None
    env: tuple[tuple[str, str], ...]
    seconds: float


# Go's garbage collector for what cfmon runs itself: the short-lived tools (run()) and the
# sandbox's servers, whose clock runs up to 100x real time. Unless the caller's environment sets
# GOGC, 400 instead of Go's 100: a render, a rule test or a fast-clock Prometheus otherwise spends
# about a fifth of its CPU collecting garbage (measured on 2 cores: one environment's rule tests
# 51 -> 40 s of CPU, a sandbox run's servers 11.2 -> 8.7 s), for a few tens of MB more memory
# while it runs. What the tools print does not depend on it. Servers started for a benchmark keep
# their own default: their memory is what some benchmarks measure.
GOGC_ENV = {} if "GOGC" in os.environ else {"GOGC": "400"}

# Every run() and Jsonnet evaluation of this process, in order. Cheap and always on: verify reports
# the total (what the tools cost, against what the toolkit adds) and benchmarks/ replays them bare.
CALLS: list[ToolCall] = []


def run(
    name: str,
    args: list[str],
    *,
    cwd: Path | None = None,
    timeout: int = 300,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a pinned tool; returns the completed process (callers decide what a non-zero exit means)."""
    path = require(name)
    full_env = {**os.environ, **GOGC_ENV, **(env or {})}
    began = time.perf_counter()
    try:
        proc = subprocess.run(
            [path, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=full_env
        )
    except subprocess.TimeoutExpired as exc:
        raise UserError(f"{name} {' '.join(args[:3])} did not finish in {timeout}s") from exc
    seconds = time.perf_counter() - began
    CALLS.append(
        ToolCall(name, (path, *args), str(cwd) if cwd else None, tuple(sorted((env or {}).items())), seconds)
    )
    return proc


def run_cached(
    name: str, args: list[str], key: cache.Key, *, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    """run(), unless the cache holds the result for this tool version, these arguments and the
    inputs already added to `key` (the caller adds every file the tool reads)."""
    key.add("tool", f"{name} {probe(name).version}").add("args", "\0".join(args))
    hit = key.get()
    if hit is not None:
        return subprocess.CompletedProcess([name, *args], hit["returncode"], hit["stdout"], hit["stderr"])
    proc = run(name, args, timeout=timeout)
    key.put({"returncode": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr})
    return proc


def start(
    name: str,
    args: list[str],
    *,
    log: Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start a pinned tool in the background (a server); its output goes to `log`. The caller
    must stop() it, in a `finally`, so no process outlives the command. It runs in its own process
    group (a Ctrl-C reaches cfmon, which cleans up) and gets SIGTERM if cfmon itself dies."""
    return spawn(server_argv(name, args), log=log, cwd=cwd, env=env)


def spawn(
    argv: list[str], *, log: Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """start() for any command line (a system server run through setpriv, say): same process
    group, log and parent-death handling."""
    with log.open("ab") as out:
        return subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
            preexec_fn=_die_with_parent,  # only a prctl call between fork and exec
        )


def _die_with_parent() -> None:
    # PR_SET_PDEATHSIG: a server outliving a killed cfmon (kill -9, CI timeout) would hold its ports.
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, 15)
    except (OSError, AttributeError):
        pass


DEBIAN_AM_TEMPLATES = Path("/usr/share/prometheus/alertmanager/default.tmpl")


def server_argv(name: str, args: list[str]) -> list[str]:
    """The command line that runs a pinned server. Debian's alertmanager (what tools/install-deps
    unpacks) reads its default templates from /usr/share/prometheus/alertmanager; they are unpacked
    under .tools/root/usr/share, so it runs in a private mount namespace where that directory is
    overlaid on /usr/share (nothing changes on the machine; needs root and unshare)."""
    path = require(name)
    if name != "alertmanager":
        return [path, *args]
    real = Path(os.path.realpath(path))
    share = real.parents[1] / "share"
    if DEBIAN_AM_TEMPLATES.exists() or not (share / "prometheus/alertmanager/default.tmpl").exists():
        return [path, *args]
    if os.geteuid() != 0 or not shutil.which("unshare"):
        raise ToolMissing(
            f"Debian's alertmanager needs {DEBIAN_AM_TEMPLATES}",
            hint=f"run as root with unshare available (it overlays {share} privately), "
            "or install an upstream alertmanager 0.33 on PATH",
        )
    script = (
        "mount --make-rprivate / && "
        f"mount -t overlay overlay -o lowerdir={share}:/usr/share /usr/share && "
        'exec "$0" "$@"'
    )
    return ["unshare", "--mount", "sh", "-c", script, str(real), *args]


def stop(proc: subprocess.Popen[bytes], timeout: float = 15, sig: int = signal.SIGTERM) -> None:
    """Stop a process from start(): `sig` (SIGTERM), then SIGKILL if it has not exited within
    `timeout`."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def helm_template(
    chart: Path, *, release: str, namespace: str, kube_version: str, values: list[Path], helm: str = "helm"
) -> subprocess.CompletedProcess[str]:
    return run(
        helm,
        helm_template_args(
            chart, release=release, namespace=namespace, kube_version=kube_version, values=values
        ),
    )


def helm_template_args(
    chart: Path, *, release: str, namespace: str, kube_version: str, values: list[Path]
) -> list[str]:
    """`helm template`'s arguments for one render (benchmarks/helm_cpu.py times exactly these)."""
    args = [
        "template",
        release,
        str(chart),
        "--namespace",
        namespace,
        "--kube-version",
        kube_version,
        "--include-crds",
    ]
    for v in values:
        args += ["-f", str(v)]
    return args


def jsonnet_evaluate(path: Path) -> str:
    """Evaluate a Jsonnet file with go-jsonnet (the C++ binding is ~40x slower here)."""
    return _jsonnet(f"entry {path}", lambda vm: vm.evaluate_file(str(path)), path)


def jsonnet_evaluate_all(paths: list[Path]) -> dict[Path, Any]:
    """Several entry points evaluated in one go-jsonnet run, {entry: its value}. A run caches
    what each imported file evaluates to, so the mixins every entry point imports are evaluated
    once instead of once per entry point (about half the time of separate runs)."""
    fields = ", ".join(f"{json.dumps(str(i))}: import {json.dumps(str(p))}" for i, p in enumerate(paths))
    snippet = "{" + fields + "}\n"
    where = paths[0].parent / "(entry points)"
    text = _jsonnet(
        "entries " + "\n".join(map(str, paths)),
        lambda vm: vm.evaluate_snippet(str(where), snippet),
        paths[0],
    )
    data = json.loads(text)
    return {path: data[str(i)] for i, path in enumerate(paths)}


def _jsonnet(what: str, evaluate: Callable[[Any], str], path: Path) -> str:
    try:
        import _gojsonnet  # the gojsonnet wheel's module
    except ImportError as exc:
        raise ToolMissing(
            "go-jsonnet (Python package gojsonnet) is not installed", hint=INSTALL_HINT
        ) from exc
    # Every import stays inside the entry's jsonnet/ folder, so that tree's bytes and go-jsonnet's
    # version decide the result. Its own path is scrubbed: a copy of the tree elsewhere (another
    # checkout) is the same work.
    tree = _jsonnet_tree(path)
    key = cache.Key("jsonnet", scrub=tree).add("gojsonnet", _gojsonnet_version()).add("what", what)
    if cache.enabled():
        key.add_tree(tree)
        hit = key.get()
        if hit is not None:
            return hit
    began = time.perf_counter()
    try:
        out = evaluate(_gojsonnet)
        key.put(out)
        return out
    except RuntimeError as exc:
        raise _jsonnet_error(path, str(exc)) from None
    finally:
        # In-process (the Go library), recorded like a tool run; replayed with the same call.
        CALLS.append(ToolCall("go-jsonnet", ("go-jsonnet", what), None, (), time.perf_counter() - began))


JSONNET_ROOT = Path(__file__).resolve().parents[2] / "jsonnet"


def _jsonnet_tree(entry: Path) -> Path:
    """The jsonnet/ folder an entry point is in: the project's own, which is not this package's
    when cfmon runs on another checkout (a copy of the repository, say)."""
    for parent in entry.absolute().parents:
        if parent.name == "jsonnet":
            return parent
    return JSONNET_ROOT


def _gojsonnet_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gojsonnet")
    except PackageNotFoundError:
        return "unknown"


def _jsonnet_error(path: Path, text: str) -> UserError:
    """go-jsonnet's error at the line a user edits: the first frame in a mixin (else in a library,
    else anywhere), repository-relative. An assertion about an alert names the alert, not a frame
    in the mixin (lib/rules.libsonnet asserts, jsonnet/main.libsonnet calls it): then the mixin
    line that defines the alert."""
    root = Path(__file__).resolve().parents[2]
    first = text.strip().splitlines()[0] if text.strip() else "evaluation failed"
    message = re.sub(r"^(STATIC ERROR|RUNTIME ERROR):\s*", "", first)
    message = re.sub(r"^[\w./-]+\.(?:jsonnet|libsonnet):[\d:()-]+\s*", "", message)
    # "file:12:5-9", "file:(74:7)-(75:100)" and "STATIC ERROR: file:12:5: msg"
    frames = [
        (_repo_relative(m.group(1), root), int(m.group(2) or m.group(3)))
        for m in re.finditer(r"([\w./-]+\.(?:jsonnet|libsonnet)):(?:(\d+):\d+|\((\d+):\d+\))", text)
    ]
    where: tuple[str, int | None] = (_repo_relative(str(path), root), None)
    alert = re.search(r"\balert (\w+):", message)
    located = _alert_definition(root, alert.group(1)) if alert else None
    for prefix in ("jsonnet/mixins/", "jsonnet/lib/", ""):
        hit = next((f for f in frames if f[0].startswith(prefix)), None)
        if hit:
            where = hit
            break
    if located and not where[0].startswith("jsonnet/mixins/"):
        where = located
    return UserError(
        f"Jsonnet error: {message}",
        file=where[0],
        line=where[1],
        hint="fix the Jsonnet at that line, then run `cfmon generate`",
    )


def _repo_relative(name: str, root: Path) -> str:
    path = Path(name)
    if not path.is_absolute():
        path = (root / path) if (root / path).exists() else path.resolve()
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return name


def _alert_definition(root: Path, alert: str) -> tuple[str, int] | None:
    """The mixin file and line that names this alert (`name: 'Alert'`)."""
    pattern = re.compile(rf"""name:\s*['"]{re.escape(alert)}['"]""")
    for path in sorted((root / "jsonnet/mixins").rglob("*.libsonnet")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line):
                return path.relative_to(root).as_posix(), number
    return None

"""cfmon render: helm template with pinned flags, split per `# Source:` into build/rendered/<env>/."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from cfmon import binaries, valuesfile
from cfmon.errors import UserError
from cfmon.manifests import Resource, load_dir, split_by_source
from cfmon.project import NAMESPACE, RELEASE, Project, kube_versions
from cfmon.rendered.model import Render

# What a render was made from (values files, overlays, chart): `check` re-renders when it differs.
STAMP = ".cfmon-render.json"


@dataclass
class Rendered:
    env: str
    directory: Path
    text: str  # every rendered file in path order (see canonical), for determinism checks
    values_files: list[Path]
    resources: list[Resource]
    loaded: list[valuesfile.ValuesFile] = field(default_factory=list)  # values_files, parsed

    @cached_property
    def model(self) -> Render:
        """What the objects configure (rules, dashboards, configs), each parsed once on first use."""
        return Render(self.resources)


def chart_values_files(project: Project) -> list[Path]:
    """The chart's own values.yaml files: the umbrella's and every subchart's."""
    return [project.chart / "values.yaml", *sorted(project.chart.glob("charts/*/values.yaml"))]


def values_files(project: Project, env: str, overlays: list[Path]) -> list[Path]:
    files = [project.chart / "values.yaml", project.env_values(env)]
    for overlay in overlays:
        if not overlay.is_file():
            raise UserError(
                "values overlay not found", file=str(overlay), hint="pass an existing file with -f/--values"
            )
        files.append(overlay.resolve())
    load_values(project, files)
    return files


def load_values(project: Project, files: list[Path]) -> list[valuesfile.ValuesFile]:
    """Every values file parsed (no duplicate key, lines kept) and validated; the chart's
    subchart values.yaml files are read too, since helm merges them just as silently."""
    for path in chart_values_files(project)[1:]:
        valuesfile.load(path, project.rel(path))
    loaded = [valuesfile.load(p, project.rel(p)) for p in files]
    valuesfile.validate(loaded[1:])
    return loaded


def digest(project: Project, files: list[Path]) -> str:
    """The identity of a render: the values files (in order) and every file of the chart."""
    h = hashlib.sha256()
    for path in files:
        h.update(f"values {project.rel(path)}\n".encode() + path.read_bytes() + b"\0")
    for path in sorted(p for p in project.chart.rglob("*") if p.is_file()):
        h.update(f"chart {path.relative_to(project.chart).as_posix()}\n".encode() + path.read_bytes() + b"\0")
    return h.hexdigest()


def helm_output(
    project: Project, env: str, overlays: list[Path] | None = None, *, helm: str = "helm"
) -> tuple[str, list[Path]]:
    files = values_files(project, env, overlays or [])
    # The chart's own values.yaml is read by helm itself; pass only the environment and overlays.
    proc = binaries.helm_template(
        project.chart,
        release=RELEASE,
        namespace=NAMESPACE,
        kube_version=kube_versions(project)[0],
        values=files[1:],
        helm=helm,
    )
    if proc.returncode != 0:
        raise helm_error(project, proc.stderr, files)
    return proc.stdout, files


def canonical(files: dict[str, str]) -> str:
    """The rendered files of one environment as one text, in path order."""
    return "".join(files[rel] for rel in sorted(files))


def render_text(project: Project, env: str, overlays: list[Path] | None = None) -> str:
    """A fresh render in canonical form (what build/rendered/<env>/ would hold)."""
    return canonical(split_by_source(helm_output(project, env, overlays)[0]))


def render(
    project: Project, env: str, overlays: list[Path] | None = None, *, out: Path | None = None
) -> Rendered:
    text, files = helm_output(project, env, overlays)
    out = out or project.render_dir(env)
    split = split_by_source(text)
    # Written beside the old render, then swapped in: a failed or concurrent run never leaves a
    # half-written directory (or one whose stamp does not match its files).
    out.parent.mkdir(parents=True, exist_ok=True)
    new = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        for rel, body in split.items():
            path = new / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body)
        stamp = {"values": [project.rel(f) for f in files], "digest": digest(project, files)}
        (new / STAMP).write_text(json.dumps(stamp, indent=2) + "\n")
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=out.parent))
        if out.exists():
            out.rename(old / "render")
        new.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(new, ignore_errors=True)
    return Rendered(env, out, canonical(split), files, load_dir(out), load_values(project, files))


def stale_reason(project: Project, out: Path, files: list[Path]) -> str | None:
    """Why build/rendered/<env> is not the render of these values files and this chart, if so."""
    try:
        stamp = json.loads((out / STAMP).read_text())
    except (OSError, ValueError):
        return "it has no render stamp"
    want = [project.rel(f) for f in files]
    if stamp.get("values") != want:
        return f"it was rendered from {', '.join(stamp.get('values') or [])}, not {', '.join(want)}"
    if stamp.get("digest") != digest(project, files):
        return "a values file or the chart changed since"
    return None


def require_rendered(project: Project, env: str) -> Path:
    """build/rendered/<env>/, or the error that says to render it first."""
    out = project.render_dir(env)
    if not out.is_dir():
        raise UserError(
            f"environment {env} is not rendered",
            file=project.rel(out),
            hint=f"run `cfmon render --env {env}` first",
        )
    return out


def load_rendered(
    project: Project, env: str, overlays: list[Path] | None = None, *, out: Path | None = None, log=None
) -> Rendered:
    """What `cfmon render` left in build/rendered/<env>/ (checks read what ships), rendered again
    first when it is not the render of these values files and overlays and this chart: a check
    never reads a render made from other inputs."""
    files = values_files(project, env, overlays or [])
    out = out or project.render_dir(env)
    reason = stale_reason(project, out, files) if out.is_dir() else "it was never rendered"
    if reason:
        if log:
            log(f"rendering {project.rel(out)} again: {reason}")
        return render(project, env, overlays, out=out)
    files_text = {p.relative_to(out).as_posix(): p.read_text() for p in out.rglob("*.yaml")}
    text = canonical(files_text)
    return Rendered(env, out, text, files, load_dir(out), load_values(project, files))


# ---- helm's errors, made to say which file and key ---------------------------------------------

# helm 4 (jsonschema v6): "- at '/alerts': additional properties 'X' not allowed"
# helm 3 (gojsonschema):   "- alerts: Additional property X is not allowed", "- (root): ..."
_SCHEMA_LINE_V4 = re.compile(r"^- at '([^']*)': (.+)$")
_SCHEMA_LINE_V3 = re.compile(r"^- ([^:]+): (.+)$")
_EXTRA_KEY = re.compile(r"[Aa]dditional propert(?:y|ies) '?([\w.-]+)'?")


def helm_error(project: Project, stderr: str, files: list[Path]) -> UserError:
    text = stderr.strip().removeprefix("Error: ").strip()
    rel_files = [project.rel(f) for f in files]
    if "don't meet the specifications of the schema" in text:
        return _schema_error(project, text, files)
    m = re.search(r"execution error at \(([^)]+)\): (.+)", text, re.S)
    if m:
        where = m.group(1)
        msg = re.sub(r"\s*Use --debug flag to render out invalid YAML\s*$", "", m.group(2)).strip()
        key = msg.split(":", 1)[0] if re.match(r"^[\w.-]+:", msg) else None
        file, line = _file_setting(files, key.split(".")) if key else (None, None)
        return UserError(
            msg.split(":", 1)[1].strip() if key else msg,
            key=key,
            line=line,
            file=project.rel(file) if file else f"charts/{where}",
            hint="check the value against the chart's values.yaml and docs",
        )
    m = re.search(r"failed to parse (\S+): (.+)", text)
    if m:
        return UserError(
            f"not valid YAML: {m.group(2)}", file=m.group(1).rstrip(":"), hint="fix the YAML syntax"
        )
    return UserError(
        f"helm template failed: {text}", file=", ".join(rel_files), hint="see helm's message above"
    )


def _schema_error(project: Project, text: str, files: list[Path]) -> UserError:
    chart = "creativeflow-monitoring"
    problems = []
    for line in text.splitlines():
        line = line.strip()
        if re.match(r"^[\w.-]+:$", line):
            chart = line[:-1]
            continue
        m4, m3 = _SCHEMA_LINE_V4.match(line), _SCHEMA_LINE_V3.match(line)
        if m4:
            parts, msg = [p for p in m4.group(1).split("/") if p], m4.group(2)
        elif m3:
            path, msg = m3.group(1), m3.group(2)
            parts = [] if path == "(root)" else path.split(".")
        else:
            continue
        extra = _EXTRA_KEY.search(msg)
        if extra:
            parts.append(extra.group(1))
        keypath = ([] if chart == "creativeflow-monitoring" else [chart]) + parts
        file, line = _file_setting(files, keypath)
        problems.append((".".join(keypath), msg, file, line))
    if not problems:
        return UserError(f"values do not match the chart's schema: {text}")
    key, msg, file, line = problems[0]
    more = (
        f" (and {len(problems) - 1} more: {'; '.join(k + ': ' + m for k, m, _, _ in problems[1:])})"
        if len(problems) > 1
        else ""
    )
    unknown = "additional propert" in msg.lower()
    hint = (
        "remove or rename the key"
        if unknown
        else "use a value the schema allows (its type, pattern or listed values)"
    )
    return UserError(f"{msg}{more}", file=project.rel(file) if file else None, line=line, key=key, hint=hint)


def _file_setting(files: list[Path], keypath: list[str]) -> tuple[Path | None, int | None]:
    """The last values file that sets keypath (the one whose value helm used), and its line."""
    found: tuple[Path | None, int | None] = (None, None)
    for path in files:
        try:
            vf = valuesfile.load(path)
        except UserError:
            continue
        if vf.has(keypath):
            found = (path, vf.line(keypath))
    return found

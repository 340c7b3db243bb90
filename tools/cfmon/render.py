"""cfmon render: helm template with pinned flags, split per `# Source:` into build/rendered/<env>/."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from cfmon import tools
from cfmon.errors import UserError
from cfmon.manifests import Resource, load_dir, split_by_source
from cfmon.project import NAMESPACE, RELEASE, Project, kube_versions


@dataclass
class Rendered:
    env: str
    directory: Path
    text: str  # every rendered file in path order (see canonical), for determinism checks
    values_files: list[Path]
    resources: list[Resource]


def values_files(project: Project, env: str, overlays: list[Path]) -> list[Path]:
    files = [project.chart / "values.yaml", project.env_values(env)]
    for overlay in overlays:
        if not overlay.is_file():
            raise UserError(
                "values overlay not found", file=str(overlay), hint="pass an existing file with -f/--values"
            )
        files.append(overlay.resolve())
    for path in files:
        _check_yaml(project, path)
    return files


def _check_yaml(project: Project, path: Path) -> None:
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise UserError(
            f"not valid YAML: {getattr(exc, 'problem', exc)}",
            file=project.rel(path),
            line=mark.line + 1 if mark else None,
            hint="fix the YAML syntax",
        ) from None
    if data is not None and not isinstance(data, dict):
        raise UserError("a values file must be a mapping of keys", file=project.rel(path))


def helm_output(
    project: Project, env: str, overlays: list[Path] | None = None, *, helm: str = "helm"
) -> tuple[str, list[Path]]:
    files = values_files(project, env, overlays or [])
    # The chart's own values.yaml is read by helm itself; pass only the environment and overlays.
    proc = tools.helm_template(
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


def render(project: Project, env: str, overlays: list[Path] | None = None) -> Rendered:
    text, files = helm_output(project, env, overlays)
    out = project.render_dir(env)
    if out.exists():
        shutil.rmtree(out)
    split = split_by_source(text)
    for rel, body in split.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    return Rendered(env, out, canonical(split), files, load_dir(out))


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


def load_rendered(project: Project, env: str, overlays: list[Path] | None = None) -> Rendered:
    """What `cfmon render` left in build/rendered/<env>/ (checks read what ships)."""
    files = values_files(project, env, overlays or [])
    out = require_rendered(project, env)
    files_text = {p.relative_to(out).as_posix(): p.read_text() for p in out.rglob("*.yaml")}
    text = canonical(files_text)
    return Rendered(env, out, text, files, load_dir(out))


# ---- helm's errors, made to say which file and key ---------------------------------------------

# helm 4 (jsonschema v6): "- at '/alerts': additional properties 'X' not allowed"
# helm 3 (gojsonschema):   "- alerts: Additional property X is not allowed", "- (root): ..."
ALERT_LIST = "charts/creativeflow-monitoring/charts/prometheus/files/alert-params.yaml"
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
        file = _file_setting(files, key.split(".")) if key else None
        return UserError(
            msg.split(":", 1)[1].strip() if key else msg,
            key=key,
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
        file = _file_setting(files, keypath)
        problems.append((".".join(keypath), msg, file))
    if not problems:
        return UserError(f"values do not match the chart's schema: {text}")
    key, msg, file = problems[0]
    more = (
        f" (and {len(problems) - 1} more: {'; '.join(k + ': ' + m for k, m, _ in problems[1:])})"
        if len(problems) > 1
        else ""
    )
    unknown = "additional propert" in msg.lower()
    hint = (
        "remove or rename the key"
        if unknown
        else "use a value the schema allows (its type, pattern or listed values)"
    )
    if ".alerts." in f".{key}." and unknown:
        hint = f"use an alert name (exact, CamelCase) listed in {ALERT_LIST}"
    return UserError(f"{msg}{more}", file=project.rel(file) if file else None, key=key, hint=hint)


def _file_setting(files: list[Path], keypath: list[str]) -> Path | None:
    """The last values file that sets keypath (the one whose value helm used)."""
    found = None
    for path in files:
        try:
            node = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError):
            continue
        for part in keypath:
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                break
        else:
            found = path
    return found

"""Values files (the chart's, values/<env>.yaml, team overlays) loaded with the line of every key.

Every values file cfmon reads goes through `load`: a duplicate key is refused (YAML keeps the last
one silently, which is how `time: 30d` then `time: 7d` cuts a retention without anyone noticing),
and every key path keeps its line so an error can name the line the user edits. `validate` then
refuses what helm and the chart's schema let through but the API server or Prometheus would not:
resource quantities (`memory: 2 GB`) and team scrape jobs (prometheus.scrapeConfigs.extraJobs).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from cfmon.errors import UserError

KeyPath = tuple[str, ...]


@dataclass
class ValuesFile:
    path: Path
    rel: str  # repository-relative (or as given) for messages
    data: dict[str, Any]
    lines: dict[KeyPath, int] = field(default_factory=dict)  # key path -> 1-based line of the key

    def line(self, keypath: KeyPath | list[str]) -> int | None:
        """The line of keypath, or of its deepest ancestor this file sets."""
        keypath = tuple(keypath)
        while keypath:
            if keypath in self.lines:
                return self.lines[keypath]
            keypath = keypath[:-1]
        return None

    def has(self, keypath: KeyPath | list[str]) -> bool:
        return tuple(keypath) in self.lines

    def get(self, keypath: KeyPath | list[str], default: Any = None) -> Any:
        node: Any = self.data
        for part in keypath:
            if isinstance(node, dict) and part in node:
                node = node[part]
            else:
                return default
        return node


def _walk(node: yaml.Node, prefix: KeyPath, rel: str, lines: dict[KeyPath, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key == "<<":  # a merge key: its keys are checked where the anchor is defined
                continue
            if key in seen:
                where = ".".join((*prefix, key))
                raise UserError(
                    f"duplicate key {key!r}: set on line {seen[key]} and again on line {line} "
                    "(YAML keeps only the last one)",
                    file=rel,
                    line=line,
                    key=where,
                    hint=f"keep one `{key}:` (delete line {seen[key]} or line {line})",
                )
            seen[key] = line
            lines[(*prefix, key)] = line
            _walk(value_node, (*prefix, key), rel, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines.setdefault((*prefix, str(i)), item.start_mark.line + 1)
            _walk(item, (*prefix, str(i)), rel, lines)


def load(path: Path, rel: str | None = None) -> ValuesFile:
    """A values file: a mapping (or empty), no duplicate key, with the line of every key."""
    rel = rel or str(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise UserError(f"cannot read values file: {exc.strerror}", file=rel) from None
    data, lines = _parse(text, rel)
    # The parse is shared by every render that reads this file; each caller gets its own data.
    return ValuesFile(path, rel, copy.deepcopy(data), dict(lines))


@lru_cache(maxsize=512)
def _parse(text: str, rel: str) -> tuple[dict, dict[KeyPath, int]]:
    """The data and key lines of a values file's text (a check run reads each file once per
    render, with line marks: the pure-Python loader, slow enough to be worth parsing once)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise UserError(
            f"not valid YAML: {getattr(exc, 'problem', None) or exc}",
            file=rel,
            line=mark.line + 1 if mark else None,
            hint="fix the YAML syntax",
        ) from None
    if data is None:
        return {}, {}
    if not isinstance(data, dict):
        raise UserError(
            f"a values file must be a mapping of keys, not a {type(data).__name__}",
            file=rel,
            line=1,
            hint="start with a top-level key such as `prometheus:`",
        )
    lines: dict[KeyPath, int] = {}
    _walk(node, (), rel, lines)
    return data, lines


def setter(files: list[ValuesFile], keypath: KeyPath | list[str]) -> ValuesFile | None:
    """The last file that sets keypath (the value helm uses)."""
    found = None
    for f in files:
        if f.has(keypath):
            found = f
    return found


# ---- Kubernetes value formats -------------------------------------------------------------------

# resource.Quantity as the API server parses it: a signed decimal number, then a binary suffix
# (Ki..Ei), a decimal one (n, u, m, k, M, G, T, P, E) or a decimal exponent (e3, E6); no space.
QUANTITY = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$")


def _quantity_problems(vf: ValuesFile) -> list[UserError]:
    found = []
    for keypath in vf.lines:
        if len(keypath) < 2 or keypath[-2] not in ("requests", "limits"):
            continue
        if "resources" not in keypath[:-2]:
            continue
        value = vf.get(keypath)
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            continue
        if isinstance(value, (int, float)) or QUANTITY.match(value):
            continue
        found.append(
            UserError(
                f"{value!r} is not a Kubernetes quantity (the API server refuses the object)",
                file=vf.rel,
                line=vf.line(keypath),
                key=".".join(keypath),
                hint='write a number with a suffix and no space: 2Gi, 512Mi, 500m, "2"',
            )
        )
    return found


# ---- team scrape jobs ---------------------------------------------------------------------------

EXTRA_JOBS: KeyPath = ("prometheus", "scrapeConfigs", "extraJobs")
DURATION = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")
DURATION_FIELDS = ("scrape_interval", "scrape_timeout", "refresh_interval")
REGEX_FIELDS = ("regex",)
SD_KEYS = ("static_configs", "file_sd_configs")
# Go's RE2 has no backreferences or lookaround; Python has them: refuse them explicitly.
_NOT_RE2 = re.compile(r"\(\?[=!<]|\\[1-9]|\(\?P=")


def _regex_problem(value: str) -> str | None:
    if _NOT_RE2.search(value):
        return "uses lookaround or a backreference, which Prometheus' RE2 regexes do not support"
    try:
        re.compile(value)
    except re.error as exc:
        return f"is not a valid regex: {exc}"
    return None


def _job_problems(vf: ValuesFile) -> list[UserError]:
    jobs = vf.get(EXTRA_JOBS)
    if not isinstance(jobs, dict):
        return []
    found: list[UserError] = []

    def problem(keypath: KeyPath, message: str, hint: str) -> None:
        found.append(UserError(message, file=vf.rel, line=vf.line(keypath), key=".".join(keypath), hint=hint))

    for name, job in jobs.items():
        base = (*EXTRA_JOBS, str(name))
        where = f"scrape job {name!r}"
        if not isinstance(job, dict):
            problem(base, f"{where} must be a mapping (a Prometheus scrape_config)", "see the example team")
            continue
        if "job_name" in job:
            problem(
                (*base, "job_name"),
                f"{where}: `job_name` is not allowed here: the key of the job ({name!r}) is its job_name",
                f"delete `job_name:`; to rename the job, rename the key {name!r}",
            )
        if not any(k in job for k in SD_KEYS) and not any(k.endswith("_sd_configs") for k in job):
            problem(
                base,
                f"{where} has no targets: it needs static_configs or a *_sd_configs block",
                "add e.g. kubernetes_sd_configs: [{role: pod}] or static_configs: [{targets: [host:port]}]",
            )
        _walk_job(job, base, where, problem)
    return found


def _walk_job(node: Any, keypath: KeyPath, where: str, problem) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            sub = (*keypath, str(key))
            if key in DURATION_FIELDS and not (isinstance(value, str) and DURATION.match(value)):
                problem(
                    sub,
                    f"{where}: {key} {value!r} is not a Prometheus duration",
                    "write a number and a unit with no space: 30s, 1m, 1h30m",
                )
            elif key in REGEX_FIELDS and isinstance(value, str):
                why = _regex_problem(value)
                if why:
                    problem(sub, f"{where}: {key} {value!r} {why}", "fix the regex (RE2 syntax, anchored)")
            else:
                _walk_job(value, sub, where, problem)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            _walk_job(item, (*keypath, str(i)), where, problem)


def validate(files: list[ValuesFile]) -> None:
    """Refuse, before helm runs, the values helm would let through but the cluster would not.
    Raises the first problem (file, key, line) and counts the others."""
    problems: list[UserError] = []
    for vf in files:
        problems += _quantity_problems(vf) + _job_problems(vf)
    if problems:
        first = problems[0]
        if len(problems) > 1:
            first.message += (
                f" (and {len(problems) - 1} more: "
                + "; ".join(f"{p.file}:{p.line} {p.key}" for p in problems[1:])
                + ")"
            )
        raise first

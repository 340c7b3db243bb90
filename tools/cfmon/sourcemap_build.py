"""Build jsonnet/generated/source-map.json at `cfmon generate` time: where in the Jsonnet each
generated rule and dashboard is written, so findings name the file and line a user edits while no
check reads the Jsonnet sources (cfmon/sourcemap.py reads the map).

It reads the generated rule files and dashboards (from the same generate run) and scans the mixins:
- a rule file `<area>.yaml` comes from the file main.libsonnet imports for that area; each rule is
  at the first line of that file, then of the other files of its directory, then of jsonnet/lib/,
  that defines it by name (see _rule_line); a name built by a format string is at that string;
- a dashboard is at the first line naming its uid (`uid: 'x'` first, then 'x.json', then any quoted
  'x'), and each panel title, variable and annotation name at the first line naming it in that
  file, then in the directory named like the file (a large dashboard, nodes.libsonnet, keeps its
  queries and panels in nodes/). Names found nowhere are left out: findings then name the
  dashboard's line, a rule's file, or the generated file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from cfmon.rendered.grafana import DASHBOARDS_DIR
from cfmon.rendered.rules import RULES_DIR
from cfmon.serialize import parse_yaml
from cfmon.sourcemap import MAP

MAP_PATH = MAP.as_posix()
MAIN = "jsonnet/main.libsonnet"
MIXINS_DIR = "jsonnet/mixins"
LIB_DIR = "jsonnet/lib"  # shared rule builders (SLOs, edge adapters) define rules too
# An area of main.libsonnet's `mixins` table: `name: import 'mixins/<dir>/<file>.libsonnet',`.
AREA_IMPORT = re.compile(r"""^\s*'?([\w-]+)'?\s*:\s*import\s+'(mixins/[^']+\.libsonnet)'""", re.M)


@dataclass
class Source:
    """One Jsonnet file: its text (to skip it fast when a name is not in it) and its lines."""

    text: str
    lines: tuple[str, ...]

    def first(self, pattern: re.Pattern | _Quoted, literal: str) -> int | None:
        """The first line matching `pattern`, which only matches lines holding `literal`."""
        if literal not in self.text:
            return None
        return next((n for n, line in enumerate(self.lines, 1) if pattern.search(line)), None)

    @cached_property
    def templates(self) -> list[tuple[int, re.Pattern]]:
        return _templates(self.lines)


Texts = dict[str, Source]  # repository path -> file


class _Quoted:
    """Matches a line naming `text` in single or double quotes (the regex (['"])text\\1, without
    compiling one per name)."""

    def __init__(self, text: str) -> None:
        self.forms = (f"'{text}'", f'"{text}"')

    def search(self, line: str) -> bool:
        return any(form in line for form in self.forms)


def _find(texts: Texts, files: list[str], text: str) -> dict[str, Any] | None:
    """The first of `files` (in order) with a line naming `text`, quoted, and that line."""
    wanted = _Quoted(text)
    for rel in files:
        line = texts[rel].first(wanted, text)
        if line:
            return {"file": rel, "line": line}
    return None


# A rule's name where it is defined: after `name:`, `alert:`, `record:` or `record(`, or alone as
# an argument on its own line (`httpErrorAlert(\n  'ApiGatewayErrorRatioHigh',`), not in a list of
# names a panel links (`alerts=['A', 'B']`).
def _defining(name: str) -> re.Pattern:
    return re.compile(r"""(?:\b(?:name|alert|record)\s*[:(]\s*|^\s*)(['"])""" + re.escape(name) + r"\1")


# A quoted format string that builds names (`'edge:request_duration_seconds:p%s'`): each
# placeholder stands for a part of a recording rule's name. A panel's query
# (`d.target('x:y:z%s' % sel)`) reads a rule and does not define it.
_TEMPLATE = re.compile(r"""(?<!target\()'([\w:%()]*%[sd(][\w:%()]*)'""")
_PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[sd]")


def _templates(lines: tuple[str, ...]) -> list[tuple[int, re.Pattern]]:
    out = []
    for n, line in enumerate(lines, 1):
        for template in _TEMPLATE.findall(line):
            literal = _PLACEHOLDER.split(template)
            if ":" in "".join(literal):  # a rule name's level:metric:operations, not any string
                out.append((n, re.compile(r"[\w:]+".join(re.escape(part) for part in literal))))
    return out


def _rule_line(texts: Texts, files: list[str], name: str) -> dict[str, Any] | None:
    """Where rule `name` is defined: the first line defining it by name, else naming it, else the
    first format string that builds it."""
    for wanted in (_defining(name), _Quoted(name)):
        for rel in files:
            line = texts[rel].first(wanted, name)
            if line:
                return {"file": rel, "line": line}
    for rel in files:
        line = next((n for n, pattern in texts[rel].templates if pattern.fullmatch(name)), None)
        if line:
            return {"file": rel, "line": line}
    return None


def _texts(root: Path, directory: str) -> Texts:
    base = root / directory
    files = sorted(base.rglob("*sonnet")) if base.is_dir() else []
    out = {}
    for path in files:
        text = path.read_text(errors="replace")
        out[path.relative_to(root).as_posix()] = Source(text, tuple(text.splitlines()))
    return out


def _area_files(root: Path) -> dict[str, str]:
    """Rule file name -> the mixin file main.libsonnet imports for that area."""
    main = root / MAIN
    text = main.read_text() if main.is_file() else ""
    return {f"{area}.yaml": f"jsonnet/{path}" for area, path in AREA_IMPORT.findall(text)}


def _rules(root: Path, texts: Texts, lib: Texts, generated: dict[str, str]) -> tuple[dict, dict]:
    areas = _area_files(root)
    everything = {**texts, **lib}
    rule_files: dict[str, str] = {}
    rules: dict[str, dict[str, Any]] = {}
    for path, text in sorted(generated.items()):
        if not (path.startswith(RULES_DIR + "/") and path.endswith(".yaml")):
            continue
        name = path.removeprefix(RULES_DIR + "/")
        entry = areas.get(name)
        if entry is None:
            continue
        rule_files[name] = entry
        directory = entry.rsplit("/", 1)[0] + "/"
        files = [entry, *(rel for rel in texts if rel.startswith(directory) and rel != entry), *lib]
        found: dict[str, Any] = {}
        for group in (parse_yaml(text) or {}).get("groups") or []:
            for rule in group.get("rules") or []:
                rule_name = str(rule.get("alert") or rule.get("record"))
                if rule_name not in found:
                    found[rule_name] = _rule_line(everything, files, rule_name) or {
                        "file": entry,
                        "line": None,
                    }
        rules[name] = dict(sorted(found.items()))
    return rule_files, rules


def _needles(model: dict[str, Any]) -> dict[str, list[str]]:
    """The names findings look up in a dashboard: panel titles (rows and nested panels included),
    template variable names and annotation names."""
    panels = []
    for obj in model.get("panels") or []:
        if isinstance(obj, dict):
            panels.append(obj)
            panels += [p for p in obj.get("panels") or [] if isinstance(p, dict)]
    variables = [v for v in (model.get("templating") or {}).get("list") or [] if isinstance(v, dict)]
    annotations = [a for a in (model.get("annotations") or {}).get("list") or [] if isinstance(a, dict)]
    return {
        "panels": sorted({str(p.get("title") or "") for p in panels} - {""}),
        "variables": sorted({str(v.get("name") or "") for v in variables} - {""}),
        "annotations": sorted({str(a.get("name") or "") for a in annotations} - {""}),
    }


def _dashboard(texts: Texts, uid: str, model: dict[str, Any]) -> dict[str, Any] | None:
    patterns = (
        re.compile(r"""\buid\s*[:=]+\s*(['"])""" + re.escape(uid) + r"\1"),
        _Quoted(f"{uid}.json"),
        _Quoted(uid),
    )
    for pattern in patterns:
        for rel, source in texts.items():
            uid_line = source.first(pattern, uid)
            if uid_line is None:
                continue
            parts = rel.removesuffix(".libsonnet") + "/"
            files = [rel, *(other for other in texts if other.startswith(parts))]
            entry: dict[str, Any] = {"file": rel, "line": uid_line}
            for kind, names in _needles(model).items():
                entry[kind] = {n: hit for n in names if (hit := _find(texts, files, n))}
            return entry
    return None


def _dashboards(texts: Texts, generated: dict[str, str]) -> dict[str, Any]:
    out = {}
    for path, text in sorted(generated.items()):
        if not (path.startswith(DASHBOARDS_DIR + "/") and path.endswith(".json")):
            continue
        model = json.loads(text)
        uid = str(model.get("uid") or Path(path).stem)
        entry = _dashboard(texts, uid, model)
        if entry is not None:
            out[uid] = entry
    return dict(sorted(out.items()))


def build(root: Path, generated: dict[str, str]) -> dict[str, Any]:
    """The source map of the generated files `generated` (repository path -> text)."""
    texts = _texts(root, MIXINS_DIR)
    rule_files, rules = _rules(root, texts, _texts(root, LIB_DIR), generated)
    return {"ruleFiles": rule_files, "rules": rules, "dashboards": _dashboards(texts, generated)}

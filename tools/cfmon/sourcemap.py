"""Where a user edits what ships, read from jsonnet/generated/source-map.json (which `cfmon generate`
builds, cfmon/sourcemap_build.py): the mixin file of each rule file and the file and line of each
rule, dashboard, panel title, variable and annotation name. Checks read only this map, never the
Jsonnet, so a finding's file and line are those of the last `cfmon generate` (which `cfmon generate
--check` keeps current).

Without a map (a project that was never generated) nothing is known: callers fall back to the
generated file.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

MAP = Path("jsonnet/generated/source-map.json")
NEEDLE_KINDS = ("panels", "variables", "annotations")


@lru_cache(maxsize=8)
def _load(path: Path, mtime_ns: int) -> dict[str, Any]:
    return json.loads(path.read_text())


def source_map(root: Path) -> dict[str, Any]:
    """The map of the project at `root` ({} when it has none); read once per version of the file."""
    path = (root / MAP).resolve()
    try:
        return _load(path, path.stat().st_mtime_ns)
    except FileNotFoundError:
        return {}


def rule_file(root: Path, name: str) -> str | None:
    """The mixin file a rule file (`applications.yaml`) is generated from."""
    return source_map(root).get("ruleFiles", {}).get(name)


def rule(root: Path, file: str, name: str) -> tuple[str, int | None] | None:
    """The file and line that define rule `name` of rule file `file` (line None when the name is
    built where no line names it)."""
    entry = source_map(root).get("rules", {}).get(file, {}).get(name)
    return (entry["file"], entry["line"]) if entry else None


def dashboard(root: Path, uid: str, needle: str | None = None) -> tuple[str, int | None] | None:
    """The file and line of the dashboard `uid`, or of `needle` (a panel title, variable or
    annotation name) in it when the map knows where that is written."""
    entry = source_map(root).get("dashboards", {}).get(uid)
    if entry is None:
        return None
    if needle:
        for kind in NEEDLE_KINDS:
            hit = entry.get(kind, {}).get(needle)
            if hit:
                return hit["file"], hit["line"]
    return entry["file"], entry["line"]

"""Semantic, per-resource diff of two renders: added, removed and changed objects with field paths."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from deepdiff import DeepDiff

from cfmon.manifests import Resource


@dataclass
class Change:
    path: str
    old: Any
    new: Any


@dataclass
class ResourceDiff:
    key: str  # Kind/namespace/name
    status: str  # added | removed | changed
    source: str
    changes: list[Change] = field(default_factory=list)


# Lists of named things are compared by name, so a diff says which alert, group, container or
# scrape job changed (and a reordering is not a change).
IDENTITY_KEYS = ("alert", "record", "job_name", "name")


def _keyed(items: list[Any]) -> dict[str, Any] | None:
    for key in IDENTITY_KEYS:
        if items and all(isinstance(i, dict) and isinstance(i.get(key), str) for i in items):
            names = [i[key] for i in items]
            if len(set(names)) == len(names):
                return {n: i for n, i in zip(names, items, strict=True)}
    return None


def expand(node: Any) -> Any:
    """Parse string payloads that are YAML documents (ConfigMap data) so diffs name the inner field."""
    if isinstance(node, dict):
        return {k: expand(v) for k, v in node.items()}
    if isinstance(node, list):
        keyed = _keyed(node)
        return {k: expand(v) for k, v in keyed.items()} if keyed else [expand(v) for v in node]
    if isinstance(node, str) and "\n" in node:
        try:
            inner = yaml.safe_load(node)
        except yaml.YAMLError:
            return node
        if isinstance(inner, dict | list):
            return expand(inner)
    return node


def _path(deepdiff_path: str) -> str:
    """root['data']['prometheus.yml']['global'][0] -> data["prometheus.yml"].global[0]"""
    out = ""
    for key, index in re.findall(r"\['((?:[^'\\]|\\.)*)'\]|\[(\d+)\]", deepdiff_path):
        if index:
            out += f"[{index}]"
        elif re.fullmatch(r"[A-Za-z_][\w-]*", key):
            out += f".{key}" if out else key
        else:
            out += f'["{key}"]'
    return out or "(object)"


def diff_objects(old: dict, new: dict) -> list[Change]:
    dd = DeepDiff(expand(old), expand(new), verbose_level=2, ignore_order=False)
    changes: list[Change] = []
    for kind, items in dd.items():
        if not isinstance(items, dict):
            items = {p: None for p in items}
        for path, detail in items.items():
            if kind in ("values_changed", "type_changes"):
                changes.append(Change(_path(path), detail["old_value"], detail["new_value"]))
            elif kind.endswith("_added"):
                changes.append(Change(_path(path), None, detail))
            elif kind.endswith("_removed"):
                changes.append(Change(_path(path), detail, None))
    return sorted(changes, key=lambda c: c.path)


def diff_resources(old: list[Resource], new: list[Resource]) -> list[ResourceDiff]:
    before = {r.key: r for r in old}
    after = {r.key: r for r in new}
    out = []
    for key in sorted(before.keys() | after.keys()):
        if key not in before:
            out.append(ResourceDiff(key, "added", after[key].source))
        elif key not in after:
            out.append(ResourceDiff(key, "removed", before[key].source))
        elif before[key].obj != after[key].obj:
            # Equal objects need no diff: expanding their payloads (dashboards are large JSON
            # strings, parsed as YAML) is what a golden run would otherwise spend its time on.
            changes = diff_objects(before[key].obj, after[key].obj)
            if changes:
                out.append(ResourceDiff(key, "changed", after[key].source, changes))
    return out


def _short(value: Any) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, dict | list):
        text = json.dumps(value, sort_keys=True, default=str)
    else:
        text = json.dumps(value, default=str)  # 2, 0.5, true, null
    text = text.replace("\n", "\\n")
    return text if len(text) <= 120 else text[:117] + "..."


def _changed_part(old: str, new: str, context: int = 40) -> str:
    """`old -> new` for long strings: from a little before the first difference on."""
    if len(old) <= 120 and len(new) <= 120:
        return f"{_short(old)} -> {_short(new)}"
    same = (i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b)
    start = next(same, min(len(old), len(new)))
    cut = max(0, start - context)
    lead = "..." if cut else ""
    return f"{_short(lead + old[cut:])} -> {_short(lead + new[cut:])}"


def format_text(env: str, diffs: list[ResourceDiff]) -> str:
    if not diffs:
        return f"{env}: no changes\n"
    counts = {s: sum(d.status == s for d in diffs) for s in ("added", "removed", "changed")}
    lines = [f"{env}: {counts['added']} added, {counts['removed']} removed, {counts['changed']} changed"]
    for d in diffs:
        mark = {"added": "+", "removed": "-", "changed": "~"}[d.status]
        lines.append(f"  {mark} {d.key}  ({d.source})")
        for c in d.changes:
            if c.old is None:
                lines.append(f"      {c.path}: added {_short(c.new)}")
            elif c.new is None:
                lines.append(f"      {c.path}: removed {_short(c.old)}")
            elif isinstance(c.old, str) and isinstance(c.new, str):
                lines.append(f"      {c.path}: {_changed_part(c.old, c.new)}")
            else:
                lines.append(f"      {c.path}: {_short(c.old)} -> {_short(c.new)}")
    return "\n".join(lines) + "\n"


def as_json(env: str, diffs: list[ResourceDiff]) -> dict[str, Any]:
    return {
        "environment": env,
        "resources": [
            {
                "resource": d.key,
                "status": d.status,
                "source": d.source,
                "changes": [{"path": c.path, "old": c.old, "new": c.new} for c in d.changes],
            }
            for d in diffs
        ],
    }

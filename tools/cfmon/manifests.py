"""Rendered Kubernetes objects: split helm output per `# Source:` and load it back."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cfmon.errors import UserError
from cfmon.project import CHART
from cfmon.serialize import parse_yaml_all

_SOURCE = re.compile(r"^# Source: (\S+)\s*$", re.M)


@dataclass(frozen=True)
class Resource:
    kind: str
    namespace: str
    name: str
    source: str  # repository-relative template path (charts/creativeflow-monitoring/...)
    obj: dict[str, Any]

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.namespace or '-'}/{self.name}"


def split_by_source(text: str) -> dict[str, str]:
    """helm template output -> {source path inside the chart: its documents}, in a stable order."""
    files: dict[str, list[str]] = {}
    for doc in re.split(r"^---\s*$", text, flags=re.M):
        if not doc.strip():
            continue
        m = _SOURCE.search(doc)
        source = m.group(1) if m else "unknown-source.yaml"
        rel = source.split("/", 1)[1] if "/" in source else source  # drop the chart name
        files.setdefault(rel, []).append(doc.strip("\n") + "\n")
    return {rel: "---\n" + "---\n".join(docs) for rel, docs in sorted(files.items())}


def load_dir(directory: Path) -> list[Resource]:
    resources = []
    for path in sorted(directory.rglob("*.yaml")):
        rel = path.relative_to(directory).as_posix()
        resources += parse_documents(path.read_text(), source=str(CHART / rel), origin=str(path))
    return resources


def parse_documents(text: str, *, source: str, origin: str) -> list[Resource]:
    out = []
    try:
        docs = parse_yaml_all(text)
    except yaml.YAMLError as exc:
        raise UserError(
            f"rendered output is not valid YAML: {exc}", file=origin, hint="fix the template that produced it"
        ) from None
    for obj in docs:
        if not isinstance(obj, dict):
            continue
        meta = obj.get("metadata") or {}
        out.append(
            Resource(
                str(obj.get("kind", "")),
                str(meta.get("namespace", "") or ""),
                str(meta.get("name", "")),
                source,
                obj,
            )
        )
    return out

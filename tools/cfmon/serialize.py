"""Deterministic serialisation of generated and rendered data (sorted keys, block strings, final
newline), and the one YAML reader for text the pipeline reads many times."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import yaml


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Block style for multi-line strings (readable rules and configs in diffs). libyaml's emitter
    writes the same bytes as the pure-Python one for every generated file, about six times faster."""


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str)


def to_yaml(obj: Any) -> str:
    return yaml.dump(
        obj, Dumper=_Dumper, sort_keys=True, default_flow_style=False, allow_unicode=True, width=100000
    )


def to_json(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# libyaml's loader parses about ten times faster than the pure-Python one and gives the same data;
# its error messages are terser, so a text it rejects is parsed again by the pure-Python loader,
# whose error (with the offending line quoted) is the one the user sees.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """One YAML document, parsed afresh (the caller may change it). Raises yaml.YAMLError like
    safe_load, with the pure-Python loader's message."""
    try:
        return yaml.load(text, Loader=_FAST_LOADER)
    except yaml.YAMLError:
        return yaml.safe_load(text)


@lru_cache(maxsize=16384)
def parse_yaml(text: str) -> Any:
    """One YAML document, parsed once per distinct text: a render's rule files, dashboards and
    configs are read by many checks and every environment shares most of them. The result is shared
    by every caller: read it, never change it (load_yaml gives a copy of one's own)."""
    return load_yaml(text)


def parse_yaml_all(text: str) -> list[Any]:
    """Every document of a multi-document text (helm's output), parsed like parse_yaml."""
    try:
        return list(yaml.load_all(text, Loader=_FAST_LOADER))
    except yaml.YAMLError:
        return list(yaml.safe_load_all(text))


# go-yaml's line width: toYaml folds a plain string at the first space past this column.
HELM_YAML_WIDTH = 80


def to_helm_yaml(obj: Any) -> str:
    """The bytes helm's `toYaml` gives for the same data, final newline kept (toYaml trims it).
    go-yaml is a port of libyaml's emitter and folds plain strings at 80 columns: with that width,
    sorted keys and block style they write the same text (the chart tests compare the two on every
    rule file)."""
    return yaml.dump(
        obj,
        Dumper=_Dumper,
        sort_keys=True,
        default_flow_style=False,
        allow_unicode=True,
        width=HELM_YAML_WIDTH,
    )

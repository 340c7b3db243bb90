"""The rendered Loki: loki.yaml of every ConfigMap of the loki subchart, parsed, or the reason it
does not parse."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from cfmon.manifests import Resource
from cfmon.serialize import parse_yaml

CONFIG_KEY = "loki.yaml"


@dataclass(frozen=True)
class LokiConfig:
    resource: Resource  # the ConfigMap that ships it
    config: dict[str, Any] | None  # None when it does not parse
    error: str | None = None

    @property
    def name(self) -> str:
        return f"{self.resource.name}/{CONFIG_KEY}"


def _plain(node: Any) -> Any:
    """YAML dates as the text Loki reads (`from: 2025-01-01` unquoted is the same day to Loki)."""
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, dt.date):
        return node.isoformat()
    return node


def loki_configs(resources: Iterable[Resource]) -> list[LokiConfig]:
    """loki.yaml of every ConfigMap of the loki subchart (label app.kubernetes.io/name: loki)."""
    out = []
    for res in resources:
        if res.kind != "ConfigMap":
            continue
        labels = (res.obj.get("metadata") or {}).get("labels") or {}
        data = res.obj.get("data") or {}
        if labels.get("app.kubernetes.io/name") != "loki" or CONFIG_KEY not in data:
            continue
        try:
            doc = parse_yaml(data[CONFIG_KEY])
        except yaml.YAMLError as exc:
            out.append(LokiConfig(res, None, f"not valid YAML: {exc}"))
            continue
        if not isinstance(doc, dict):
            out.append(LokiConfig(res, None, f"the top level is a {type(doc).__name__}, not a mapping"))
            continue
        out.append(LokiConfig(res, _plain(doc)))
    return out


def parsed(configs: Iterable[LokiConfig]) -> list[tuple[LokiConfig, dict[str, Any]]]:
    """The configs that parse, with their content."""
    return [(c, c.config) for c in configs if c.config is not None]

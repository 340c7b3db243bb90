"""Prometheus rule groups and rules as rendered in the rule ConfigMaps, the Grafana their alerts'
dashboard_url links point at, and the mixin each rule file comes from (from the source map
`cfmon generate` writes)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import yaml

from cfmon import sourcemap
from cfmon.manifests import Resource
from cfmon.serialize import parse_yaml

# <Grafana URL>/d/<uid>[/<slug>][?<query>]; the query may hold Prometheus templates ({{ ... }}).
DASHBOARD_URL = re.compile(
    r"^(?P<base>https?://[^?#]*?)/d/(?P<uid>[^/?#]+)(?:/[^?#]*)?(?:\?(?P<query>.*))?$", re.S
)

RULES_DIR = "charts/creativeflow-monitoring/charts/prometheus/files/rules"
# Every alert with its default threshold parameters (generated beside the rule files).
ALERT_PARAMS = "charts/creativeflow-monitoring/charts/prometheus/files/alert-params.yaml"


def rendered_groups(resources: Iterable[Resource]) -> Iterator[tuple[str, dict]]:
    """(rule file name, group) for every group of the rendered Prometheus rule ConfigMaps."""
    for res in resources:
        labels = res.obj.get("metadata", {}).get("labels", {})
        if res.kind != "ConfigMap" or labels.get("app.kubernetes.io/name") != "prometheus":
            continue
        for name, payload in sorted((res.obj.get("data") or {}).items()):
            try:
                doc = parse_yaml(payload)
            except yaml.YAMLError:
                continue
            if not isinstance(doc, dict) or not isinstance(doc.get("groups"), list):
                continue
            for group in doc["groups"]:
                if isinstance(group, dict):
                    yield name, group


def linked_grafana_urls(alerts: Iterable[dict]) -> set[str]:
    """The Grafana URLs the alerts' dashboard_url links start with (one, when all is well)."""
    urls = set()
    for rule in alerts:
        m = DASHBOARD_URL.match(str((rule.get("annotations") or {}).get("dashboard_url") or ""))
        if m:
            urls.add(m.group("base").rstrip("/"))
    return urls


def rule_name(rule: dict) -> str:
    return str(rule.get("alert") or rule.get("record"))


def rules_source(root: Path, name: str) -> str:
    """The file a user edits for rule file `name`: the mixin it is generated from (the generated file
    itself when the source map does not know it)."""
    return sourcemap.rule_file(root, name) or f"{RULES_DIR}/{name}"


def rule_source(root: Path, file: str, name: str) -> tuple[str, int | None]:
    """The file and line a user edits for rule `name` of rule file `file` (the mixin line that
    defines it; the mixin, or the generated file, without a line when the map does not know it)."""
    return sourcemap.rule(root, file, name) or (rules_source(root, file), None)

"""The rendered Prometheus: its pod's mounted files laid out as the pod reads them, and the rule files
its config loads."""

from __future__ import annotations

from pathlib import Path

from cfmon.manifests import Resource
from cfmon.mounts import Mounts, materialize
from cfmon.serialize import parse_yaml

CONTAINER = "prometheus"
# The start of every dashboard_url in the generated rules, which the chart fills per environment
# (global.grafanaUrl); rule tests write that part the same way, so one test serves every environment.
GRAFANA_URL_TOKEN = "${grafanaUrl}"


def prometheus_mounts(resources: list[Resource], root: Path) -> Mounts:
    """The Prometheus pod's files under root, as mounted."""
    return materialize(resources, CONTAINER, root)


def rule_files(layout: Mounts) -> dict[str, Path]:
    """basename -> re-rooted path of every file the config's rule_files globs match."""
    config = parse_yaml(layout.config.read_text()) or {}
    found: dict[str, Path] = {}
    for pattern in config.get("rule_files") or []:
        for path in sorted(Path("/").glob(pattern.lstrip("/"))):
            found[path.name] = path
    return found

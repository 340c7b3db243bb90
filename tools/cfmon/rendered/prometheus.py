"""The rendered Prometheus: its pod's mounted files laid out as the pod reads them, the rule files
its config loads, and the Grafana URL its rule ConfigMaps declare."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from cfmon.manifests import Resource
from cfmon.mounts import Mounts, materialize
from cfmon.serialize import parse_yaml

CONTAINER = "prometheus"
# The rule ConfigMaps say which Grafana their dashboard_url links start with (global.grafanaUrl);
# rule tests write that part as GRAFANA_URL_TOKEN, the same for every environment.
GRAFANA_URL_ANNOTATION = "creativeflow.ai/grafana-url"
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


def rendered_grafana_urls(resources: Iterable[Resource]) -> set[str]:
    """The Grafana URLs the rendered Prometheus rule ConfigMaps declare (one, when all is well)."""
    urls = set()
    for res in resources:
        meta = res.obj.get("metadata") or {}
        if (
            res.kind != "ConfigMap"
            or (meta.get("labels") or {}).get("app.kubernetes.io/name") != "prometheus"
        ):
            continue
        url = (meta.get("annotations") or {}).get(GRAFANA_URL_ANNOTATION)
        if url is not None:
            urls.add(str(url))
    return urls

"""The metrics catalog: every metric name the rules and dashboards may read (the metrics contract
and the exporters' lists), evaluated from jsonnet/metrics-catalog.jsonnet."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from cfmon import binaries

CATALOG = Path("jsonnet/metrics-catalog.jsonnet")
CONTRACT = "jsonnet/lib/metrics.libsonnet"


@lru_cache(maxsize=4)
def catalog(root: Path) -> frozenset[str]:
    return frozenset(json.loads(binaries.jsonnet_evaluate(root / CATALOG)))

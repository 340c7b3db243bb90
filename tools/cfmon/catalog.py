"""What the checks know from Jsonnet, read from the files `cfmon generate` writes under
jsonnet/generated/ (no check evaluates Jsonnet): the metrics catalog (every series name rules and
panels may read: the metrics contract and the exporters' lists), the exporter counters without a
counter suffix, and the application metrics contract. Findings name the Jsonnet file a user edits,
not the generated one."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from cfmon.errors import UserError

GENERATED_DIR = Path("jsonnet/generated")
CATALOG = Path("jsonnet/metrics-catalog.jsonnet")  # its source, which users edit
COUNTERS = Path("jsonnet/metrics-counters.jsonnet")
CONTRACT = "jsonnet/lib/metrics.libsonnet"
CONTRACT_SAMPLE = Path("jsonnet/metrics-contract.jsonnet")


def _generated(root: Path, name: str, key: str, source: Path):
    path = root / GENERATED_DIR / name
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(
            f"{GENERATED_DIR / name} is missing",
            file=str(source),
            hint="run `cfmon generate` (it writes the checks' facts from the Jsonnet)",
        ) from None
    return doc[key]


@lru_cache(maxsize=4)
def catalog(root: Path) -> frozenset[str]:
    """Every series name the rules and dashboards may read (recording rules aside)."""
    return frozenset(_generated(root, "metrics-catalog.json", "metrics", CATALOG))


@lru_cache(maxsize=4)
def declared_counters(root: Path) -> frozenset[str]:
    """Exporter counters without a counter suffix, declared in jsonnet/metrics-counters.jsonnet."""
    return frozenset(_generated(root, "metrics-counters.json", "counters", COUNTERS))


def contract(root: Path) -> dict:
    """The application metrics contract: name -> type, unit, labels (the platform's services
    expose what it declares, so it stands as their exporter sample)."""
    return _generated(root, "metrics-contract.json", "contract", CONTRACT_SAMPLE)

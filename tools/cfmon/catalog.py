"""What the checks know from Jsonnet, read from the files `cfmon generate` writes under
jsonnet/generated/ (no check evaluates Jsonnet): the metrics catalog (every series name rules and
panels may read: the metrics contract and the exporters' lists), the exporter counters without a
counter suffix, the application metrics contract, and the conventions the Jsonnet owns (aggregation
labels, runbook base URL and link title, grid width, dashboard tag, relabel actions). Findings name
the Jsonnet file a user edits, not the generated one. (Where each rule and panel is written:
cfmon/sourcemap.py.)"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cfmon.errors import UserError

GENERATED_DIR = Path("jsonnet/generated")
CATALOG = Path("jsonnet/metrics-catalog.jsonnet")  # its source, which users edit
COUNTERS = Path("jsonnet/metrics-counters.jsonnet")
CONTRACT = "jsonnet/lib/metrics.libsonnet"
CONTRACT_SAMPLE = Path("jsonnet/metrics-contract.jsonnet")
CONVENTIONS = Path("jsonnet/build/check-facts.jsonnet")  # names the lib/ files each one lives in
# The repository this package belongs to: conventions are read at module level (tables, layout
# constants) where no project root is at hand, and the Jsonnet they come from lives beside the code.
REPO = Path(__file__).resolve().parents[2]


def _generated(root: Path, name: str, key: str | None, source: Path):
    """A generated facts file of the project (its `key`, or all of it), or a clear error saying how
    to make it."""
    path = root / GENERATED_DIR / name
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(
            f"{GENERATED_DIR / name} is missing",
            file=str(source),
            hint="run `cfmon generate` (it writes the checks' facts from the Jsonnet)",
        ) from None
    return doc if key is None else doc[key]


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


@dataclass(frozen=True)
class Conventions:
    aggregation_labels: tuple[str, ...]  # every aggregation keeps them (lib/config.libsonnet)
    runbook_base_url: str  # alerts link <base>/<Alert>.md (lib/config.libsonnet)
    grid_columns: int  # Grafana's dashboard grid width (lib/dashboards.libsonnet)
    dashboard_tag: str  # every dashboard has it; their link menu lists them by it (same)
    runbook_link_prefix: str  # a panel's runbook link is titled <prefix><Alert> (same)
    dashboard_variables: tuple[str, ...]  # every dashboard's first variables, in order (same)
    datasource_types: tuple[str, ...]  # what a dashboard's `datasource` variable may select (same)
    relabel_actions: tuple[str, ...]  # Prometheus relabel actions (lib/relabel.libsonnet)


@lru_cache(maxsize=1)
def conventions() -> Conventions:
    """The conventions the Jsonnet owns and the checks verify, read when first needed (so a missing
    file is a clear error of the command that needs it, and `cfmon generate` still runs)."""
    doc = _generated(REPO, "conventions.json", None, CONVENTIONS)
    return Conventions(
        aggregation_labels=tuple(doc["aggregationLabels"]),
        runbook_base_url=str(doc["runbookBaseUrl"]),
        grid_columns=int(doc["gridColumns"]),
        dashboard_tag=str(doc["dashboardTag"]),
        runbook_link_prefix=str(doc["runbookLinkPrefix"]),
        dashboard_variables=tuple(doc["dashboardVariables"]),
        datasource_types=tuple(doc["datasourceTypes"]),
        relabel_actions=tuple(doc["relabelActions"]),
    )

"""Dashboard conventions read from the rendered dashboard ConfigMaps: queries that parse and read
known metrics, datasources Grafana can resolve, a sound grid, and the house layout and metadata.

No Grafana runs on the build machines: PromQL is parsed with promql-parser (cfmon.promql) after
Grafana's variables are replaced (cfmon.rendered.grafana.substitute), LogQL with cfmon.logql.
"""

from __future__ import annotations

from cfmon.checks.dashboards.common import (
    DashboardCheck,
    Query,
    dashboards,
    promql_queries,
    provisioned,
    queries,
    recording_rules,
    valid_dashboards,
)
from cfmon.checks.dashboards.datasource import DashboardDatasource
from cfmon.checks.dashboards.grid import PanelGrid
from cfmon.checks.dashboards.logql import DashboardLogql
from cfmon.checks.dashboards.metadata import DashboardMetadata
from cfmon.checks.dashboards.metrics_known import DashboardMetricsKnown
from cfmon.checks.dashboards.panel_docs import PanelDocs
from cfmon.checks.dashboards.panel_ids import PanelIds
from cfmon.checks.dashboards.promql import DashboardPromql
from cfmon.checks.dashboards.quantile import RecordedQuantileUsed
from cfmon.checks.dashboards.rate_interval import RateInterval
from cfmon.checks.dashboards.ref_ids import PanelRefIds
from cfmon.checks.dashboards.runbook_links import RunbookLinks
from cfmon.checks.dashboards.variables import DashboardVariables

__all__ = [
    "DashboardCheck",
    "DashboardDatasource",
    "DashboardLogql",
    "DashboardMetadata",
    "DashboardMetricsKnown",
    "DashboardPromql",
    "DashboardVariables",
    "PanelDocs",
    "PanelGrid",
    "PanelIds",
    "PanelRefIds",
    "Query",
    "RateInterval",
    "RecordedQuantileUsed",
    "RunbookLinks",
    "dashboards",
    "promql_queries",
    "provisioned",
    "queries",
    "recording_rules",
    "valid_dashboards",
]

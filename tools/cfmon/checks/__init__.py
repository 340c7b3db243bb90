"""The one registry of checks. A check is a class with an id, a severity and a docstring."""

from __future__ import annotations

from cfmon.checks.alertmanager import AlertmanagerConfig, AlertmanagerRouting
from cfmon.checks.alerts import AlertAnnotations, AlertDashboardUrl, AlertLabels, AlertRunbook
from cfmon.checks.base import Check, Context, Finding
from cfmon.checks.conformance import SelectorConformance
from cfmon.checks.dashboards import (
    DashboardDatasource,
    DashboardLogql,
    DashboardMetadata,
    DashboardMetricsKnown,
    DashboardPromql,
    DashboardVariables,
    PanelDocs,
    PanelGrid,
    PanelIds,
    PanelRefIds,
    RateInterval,
    RecordedQuantileUsed,
    RunbookLinks,
)
from cfmon.checks.determinism import ForbiddenFunctions, RenderTwice
from cfmon.checks.kubernetes import KubernetesSchema
from cfmon.checks.logagent import AgentLabels, AgentPushUrl, AgentSchema
from cfmon.checks.loki import (
    LokiAuditRetention,
    LokiConfigSchema,
    LokiObjectStorage,
    LokiRetention,
    LokiRetentionSelectors,
    LokiSchemaPeriods,
)
from cfmon.checks.longterm import LongTermStore
from cfmon.checks.prometheus import PrometheusConfig, PrometheusRules, PrometheusRuleTests
from cfmon.checks.rules import (
    AggregationLabels,
    JoinLabels,
    MetricsKnown,
    RecordWindows,
    RuleGroupSize,
    RuleNaming,
)
from cfmon.checks.secrets import SecretLiterals
from cfmon.checks.size import AnnotationSize, ConfigMapSize
from cfmon.checks.thresholds import PanelThresholds

REGISTRY: tuple[type[Check], ...] = (
    KubernetesSchema,
    PrometheusConfig,
    PrometheusRules,
    PrometheusRuleTests,
    AlertRunbook,
    AlertLabels,
    AlertAnnotations,
    AlertDashboardUrl,
    RuleNaming,
    RuleGroupSize,
    AggregationLabels,
    JoinLabels,
    RecordWindows,
    MetricsKnown,
    AlertmanagerConfig,
    AlertmanagerRouting,
    DashboardMetadata,
    PanelDocs,
    PanelIds,
    PanelRefIds,
    PanelGrid,
    DashboardDatasource,
    DashboardPromql,
    DashboardVariables,
    DashboardMetricsKnown,
    RateInterval,
    RecordedQuantileUsed,
    PanelThresholds,
    RunbookLinks,
    DashboardLogql,
    SelectorConformance,
    LokiConfigSchema,
    LokiRetention,
    LokiObjectStorage,
    LokiSchemaPeriods,
    LokiRetentionSelectors,
    LokiAuditRetention,
    AgentSchema,
    AgentLabels,
    AgentPushUrl,
    LongTermStore,
    RenderTwice,
    ForbiddenFunctions,
    SecretLiterals,
    ConfigMapSize,
    AnnotationSize,
)

__all__ = ["REGISTRY", "Check", "Context", "Finding"]

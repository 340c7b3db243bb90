"""Rule-file conventions read from the rules as rendered: names, group sizes, aggregations that
keep the cluster/environment labels, and metrics that exist in the contract or an exporter list."""

from __future__ import annotations

from cfmon.checks.rules.aggregation_labels import AggregationLabels
from cfmon.checks.rules.group_size import RuleGroupSize
from cfmon.checks.rules.join_labels import JoinLabels
from cfmon.checks.rules.metrics_known import MetricsKnown
from cfmon.checks.rules.naming import RuleNaming

__all__ = ["AggregationLabels", "JoinLabels", "MetricsKnown", "RuleGroupSize", "RuleNaming"]

"""Rule-file conventions read from the rules as rendered: names, group sizes, aggregations that
keep the cluster/environment labels, metrics that exist in the contract or an exporter list, and
windows over recorded series wide enough for their groups' intervals."""

from __future__ import annotations

from cfmon.checks.rules.aggregation_labels import AggregationLabels
from cfmon.checks.rules.group_size import RuleGroupSize
from cfmon.checks.rules.join_labels import JoinLabels
from cfmon.checks.rules.metrics_known import MetricsKnown
from cfmon.checks.rules.naming import RuleNaming
from cfmon.checks.rules.record_windows import RecordWindows

__all__ = ["AggregationLabels", "JoinLabels", "MetricsKnown", "RecordWindows", "RuleGroupSize", "RuleNaming"]

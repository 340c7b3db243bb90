"""Prometheus: the rendered config, rule files and rule unit tests, through the real promtool."""

from __future__ import annotations

from cfmon.checks.prometheus.common import prometheus_layout, rules_valid, tool_output
from cfmon.checks.prometheus.config import PrometheusConfig
from cfmon.checks.prometheus.rule_tests import PrometheusRuleTests
from cfmon.checks.prometheus.rules import PrometheusRules

__all__ = [
    "PrometheusConfig",
    "PrometheusRuleTests",
    "PrometheusRules",
    "prometheus_layout",
    "rules_valid",
    "tool_output",
]

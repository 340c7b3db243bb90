"""The rule-convention checks (rules/*, alerts/labels, alerts/annotations, runbook sections) on small
rendered rule ConfigMaps: each passes a conforming rule and fails the broken variants."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cfmon.checks.alerts import AlertAnnotations, AlertLabels, AlertRunbook
from cfmon.checks.base import Context
from cfmon.checks.rules import (
    AggregationLabels,
    JoinLabels,
    MetricsKnown,
    RecordWindows,
    RuleGroupSize,
    RuleNaming,
)
from cfmon.manifests import Resource
from cfmon.project import Project
from cfmon.render import Rendered

REPO = Project(Path(__file__).resolve().parents[1])
RUNBOOKS = "https://github.com/creativeflow-ai/creativeflow-monitoring/blob/main/docs/runbooks"

GOOD_ALERT = {
    "alert": "ApiGatewayErrorRatioHigh",
    "expr": 'service:http_requests:rate5m{service="api-gateway"} > 100',
    "for": "5m",
    "labels": {"severity": "critical", "priority": "P1", "service": "api-gateway"},
    "annotations": {
        "summary": "The API gateway answers too many requests with a server error.",
        "description": "{{ $value | humanizePercentage }} of requests failed.",
        "runbook_url": f"{RUNBOOKS}/ApiGatewayErrorRatioHigh.md",
    },
}
GOOD_RECORD = {
    "record": "service:http_requests:rate5m",
    "expr": "sum by (cluster, environment, service) (rate(http_requests_total[5m]))",
}


def rendered_with(*rules: dict, group: str = "applications-alerts") -> Rendered:
    doc = {"groups": [{"name": group, "rules": list(rules)}]}
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "creativeflow-prometheus-rules",
            "labels": {"app.kubernetes.io/name": "prometheus"},
        },
        "data": {"applications.yaml": yaml.safe_dump(doc)},
    }
    res = Resource("ConfigMap", "monitoring", cm["metadata"]["name"], "charts/x/rules.yaml", cm)
    return Rendered("prod", Path("/nonexistent"), "", [], [res])


def run(check, rendered: Rendered, project: Project = REPO):
    return check().run(Context(project, "prod", rendered))


def messages(findings) -> list[str]:
    return [f.message for f in findings]


def with_(base: dict, **changes) -> dict:
    rule = yaml.safe_load(yaml.safe_dump(base))
    for key, value in changes.items():
        section, _, field = key.partition("__")
        if field:
            if value is None:
                rule[section].pop(field, None)
            else:
                rule[section][field] = value
        else:
            rule[section] = value
    return rule


# ---- every check passes a conforming rule file ----------------------------------------------------


@pytest.mark.parametrize(
    "check",
    [RuleNaming, RuleGroupSize, AggregationLabels, JoinLabels, MetricsKnown, AlertLabels, AlertAnnotations],
)
def test_conforming_rules_pass(check):
    assert run(check, rendered_with(GOOD_RECORD, GOOD_ALERT)) == []


# ---- rules/naming ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            with_(GOOD_ALERT, alert="api_gateway_errors"),
            "alert 'api_gateway_errors' (group g) is not CamelCase",
        ),
        (with_(GOOD_ALERT, alert="apiGatewayErrors"), "alert 'apiGatewayErrors' (group g) is not CamelCase"),
        (
            with_(GOOD_RECORD, record="gateway_error_ratio"),
            "recording rule 'gateway_error_ratio' (group g) is not level:metric:operations",
        ),
        (
            with_(GOOD_RECORD, record="a:b"),
            "recording rule 'a:b' (group g) is not level:metric:operations",
        ),
    ],
)
def test_naming_rejects(rule, expected):
    findings = run(RuleNaming, rendered_with(rule, group="g"))
    assert messages(findings) == [expected]
    assert findings[0].file == "jsonnet/mixins/applications/mixin.libsonnet"


# ---- rules/group-size -----------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "reported"), [(20, False), (21, True)])
def test_group_size_limit(count, reported):
    rules = [with_(GOOD_RECORD, record=f"service:x{i}:rate5m") for i in range(count)]
    findings = run(RuleGroupSize, rendered_with(*rules, group="big"))
    assert messages(findings) == (["group big has 21 rules (at most 20)"] if reported else [])


# ---- rules/join-labels ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (
            "up * on (instance, job) group_left (node) node_info",
            "`on (instance, job)` matches across cluster, environment",
        ),
        (
            "up * on (cluster, instance) group_left (node) node_info",
            "`on (cluster, instance)` matches across environment",
        ),
        ("a_total / ignoring (cluster) b_total", "`ignoring (cluster)` matches across cluster"),
        ("(a_total > 0) unless on (job) b_total", "`on (job)` matches across cluster, environment"),
    ],
)
def test_join_labels_rejects(expr, expected):
    findings = run(JoinLabels, rendered_with(with_(GOOD_RECORD, expr=expr)))
    assert messages(findings) == [f"service:http_requests:rate5m: {expected}"]


@pytest.mark.parametrize(
    "expr",
    [
        "up * on (cluster, environment, instance, job) group_left (node) node_info",
        "a_total / ignoring (code) b_total",
        "a_total / b_total",  # every label matched
        "rate(http_requests_total[5m]) > 0",
    ],
)
def test_join_labels_accepts(expr):
    assert run(JoinLabels, rendered_with(with_(GOOD_RECORD, expr=expr))) == []


# ---- rules/record-windows -------------------------------------------------------------------------


def rendered_groups(*groups: dict, evaluation_interval: str | None = None) -> Rendered:
    """Rule groups in one rule ConfigMap and, given an interval, a Prometheus configuration."""
    rules = rendered_with().resources[0]
    rules.obj["data"]["applications.yaml"] = yaml.safe_dump({"groups": list(groups)})
    resources = [rules]
    if evaluation_interval:
        cm = {
            "kind": "ConfigMap",
            "metadata": {"name": "creativeflow-prometheus-config"},
            "data": {
                "prometheus.yml": yaml.safe_dump({"global": {"evaluation_interval": evaluation_interval}})
            },
        }
        resources.append(Resource("ConfigMap", "monitoring", cm["metadata"]["name"], "charts/x/cm.yaml", cm))
    return Rendered("prod", Path("/nonexistent"), "", [], resources)


RECORDING_30S = {"name": "applications-recording", "interval": "30s", "rules": [GOOD_RECORD]}


def reading(expr: str) -> dict:
    return {"name": "applications-alerts", "rules": [with_(GOOD_ALERT, expr=expr)]}


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("rate(service:http_requests:rate5m[30s]) > 0", "`service:http_requests:rate5m[30s]`"),
        ("max_over_time(service:http_requests:rate5m[45s]) > 1", "`service:http_requests:rate5m[45s]`"),
    ],
)
def test_record_windows_rejects(expr, expected):
    findings = run(RecordWindows, rendered_groups(RECORDING_30S, reading(expr)))
    assert messages(findings) == [
        f"ApiGatewayErrorRatioHigh: {expected} spans fewer than two evaluations of its recording group"
        " (every 30s)"
    ]
    assert findings[0].hint == "widen the window to at least 1m"


@pytest.mark.parametrize(
    "expr",
    [
        "max_over_time(service:http_requests:rate5m[1m]) > 1",  # two evaluations exactly
        "avg_over_time(service:http_requests:rate5m[1h]) > 1",
        "rate(http_requests_total[30s]) > 0",  # a raw series: the scrape interval's business
        "max_over_time(service:http_requests:rate5m[10m:15s]) > 1",  # a subquery sets its own step
    ],
)
def test_record_windows_accepts(expr):
    assert run(RecordWindows, rendered_groups(RECORDING_30S, reading(expr))) == []


def test_record_windows_leaves_a_bad_interval_to_promtool():
    recording = {"name": "applications-recording", "interval": "30 seconds", "rules": [GOOD_RECORD]}
    alert = reading("rate(service:http_requests:rate5m[30s]) > 0")
    assert run(RecordWindows, rendered_groups(recording, alert)) == []
    assert (
        run(RecordWindows, rendered_groups(dict(recording, interval="30s"), alert, evaluation_interval="x"))
        != []
    )


def test_record_windows_reads_a_group_without_interval_at_the_global_one():
    recording = {"name": "applications-recording", "rules": [GOOD_RECORD]}
    alert = reading("max_over_time(service:http_requests:rate5m[1m]) > 1")
    assert run(RecordWindows, rendered_groups(recording, alert, evaluation_interval="15s")) == []
    # With no configuration Prometheus evaluates every minute: [1m] holds one evaluation.
    findings = run(RecordWindows, rendered_groups(recording, alert))
    assert messages(findings) == [
        "ApiGatewayErrorRatioHigh: `service:http_requests:rate5m[1m]` spans fewer than two evaluations"
        " of its recording group (every 1m)"
    ]


# ---- rules/aggregation-labels ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("sum(rate(http_requests_total[5m]))", "drops cluster, environment"),
        ("sum by (service) (rate(http_requests_total[5m]))", "drops cluster, environment"),
        ("sum by (cluster, service) (rate(http_requests_total[5m]))", "drops environment"),
        ("avg without (cluster) (rate(http_requests_total[5m]))", "drops cluster"),
        # Nested: the outer aggregation keeps them, the inner one inside histogram_quantile does not.
        (
            "max by (cluster, environment) (histogram_quantile(0.9, sum by (le) "
            "(rate(http_request_duration_seconds_bucket[5m]))))",
            "drops cluster, environment",
        ),
        ("count(up) > 0", "drops cluster, environment"),
    ],
)
def test_aggregation_labels_rejects(expr, expected):
    findings = run(AggregationLabels, rendered_with(with_(GOOD_RECORD, expr=expr)))
    assert len(findings) == 1, messages(findings)
    assert findings[0].message.startswith("service:http_requests:rate5m: `")
    assert findings[0].message.endswith(expected)


@pytest.mark.parametrize(
    "expr",
    [
        "sum by (cluster, environment, service) (rate(http_requests_total[5m]))",
        "sum without (pod, instance) (rate(http_requests_total[5m]))",
        "topk(3, service:http_requests:rate5m)",  # keeps every label of the series it selects
        "rate(http_requests_total[5m])",
        'absent(up{job="prometheus"})',
    ],
)
def test_aggregation_labels_accepts(expr):
    assert run(AggregationLabels, rendered_with(with_(GOOD_RECORD, expr=expr))) == []


def test_aggregation_labels_ignores_unparseable_expressions():
    # prometheus/rules reports those (once).
    assert run(AggregationLabels, rendered_with(with_(GOOD_RECORD, expr="sum by (cluster) (x"))) == []


# ---- rules/metrics-known --------------------------------------------------------------------------


def test_metrics_known_rejects_a_misspelt_metric():
    rule = with_(GOOD_RECORD, expr="sum by (cluster, environment) (rate(http_request_total[5m]))")
    findings = run(MetricsKnown, rendered_with(rule))
    assert messages(findings) == [
        "service:http_requests:rate5m reads http_request_total, which is not in the metrics contract, "
        "an exporter list or a recording rule"
    ]
    assert "jsonnet/lib/metrics.libsonnet" in findings[0].hint


def test_metrics_known_accepts_histogram_series_and_recording_rules():
    rule = with_(
        GOOD_RECORD,
        record="service_le:x:rate5m",
        expr="sum by (cluster, environment, le) (rate(http_request_duration_seconds_bucket[5m]))"
        " / on() group_left sum by (cluster, environment) (service:http_requests:rate5m)",
    )
    assert run(MetricsKnown, rendered_with(GOOD_RECORD, rule)) == []


def test_metrics_known_reads_name_matchers():
    rule = with_(GOOD_RECORD, expr='{__name__="no_such_metric"}')
    assert [
        m.split(" reads ")[1].split(",")[0] for m in messages(run(MetricsKnown, rendered_with(rule)))
    ] == ["no_such_metric"]


# ---- alerts/labels --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"labels__severity": "high"}, "severity 'high' is not one of critical, warning, info"),
        ({"labels__severity": None}, "severity None is not one of critical, warning, info"),
        ({"labels__priority": "P0"}, "priority 'P0' is not one of P1, P2, P3, P4"),
        ({"labels__service": None}, "it has neither a service nor a component label"),
    ],
)
def test_alert_labels_rejects(change, expected):
    findings = run(AlertLabels, rendered_with(with_(GOOD_ALERT, **change)))
    assert messages(findings) == [f"alert ApiGatewayErrorRatioHigh: {expected}"]


def test_alert_labels_accepts_component_instead_of_service():
    rule = with_(GOOD_ALERT, labels__service=None, labels__component="node")
    assert run(AlertLabels, rendered_with(rule)) == []


# ---- alerts/annotations ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"annotations__summary": None}, "no summary"),
        (
            {"annotations__summary": "High errors on {{ $labels.service }}."},
            "summary 'High errors on {{ $labels.service }}.' must be static text ending with a period",
        ),
        (
            {"annotations__summary": "High errors"},
            "summary 'High errors' must be static text ending with a period",
        ),
        (
            {"annotations__description": "Errors are high."},
            "description must be templated ({{ $labels.x }}, {{ $value }})",
        ),
    ],
)
def test_alert_annotations_rejects(change, expected):
    findings = run(AlertAnnotations, rendered_with(with_(GOOD_ALERT, **change)))
    assert messages(findings) == [f"alert ApiGatewayErrorRatioHigh: {expected}"]


# ---- alerts/runbook-url: the runbook's sections ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("# X\n## What it means\n## Diagnose\n## Mitigate\n", None),
        ("# X\n## What it means\n## Mitigate\n", "## Diagnose"),
        ("# X\nnothing yet\n", "## What it means, ## Diagnose, ## Mitigate"),
    ],
)
def test_runbook_needs_its_sections(tmp_path, text, missing):
    runbook = tmp_path / "docs/runbooks/ApiGatewayErrorRatioHigh.md"
    runbook.parent.mkdir(parents=True)
    runbook.write_text(text)
    findings = run(AlertRunbook, rendered_with(GOOD_ALERT), project=Project(tmp_path))
    if missing is None:
        assert findings == []
    else:
        assert messages(findings) == [
            "alert ApiGatewayErrorRatioHigh: docs/runbooks/ApiGatewayErrorRatioHigh.md "
            f"lacks the section(s) {missing}"
        ]

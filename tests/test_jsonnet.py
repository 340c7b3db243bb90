"""The Jsonnet helpers refuse alerts that break the naming conventions, at `cfmon generate` time."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT

from cfmon import binaries
from cfmon.errors import UserError

GOOD = {
    "name": "ExampleThingBroken",
    "expr": "up == ${threshold}",
    "for": "5m",
    "severity": "warning",
    "priority": "P3",
    "labels": {"service": "example"},
    "summary": "Example thing is broken.",
    "description": "{{ $labels.instance }} is broken (threshold ${threshold}).",
    "params": {"threshold": 0},
}


def evaluate_alert(tmp_path, **changes):
    spec = {**GOOD, **changes}
    src = tmp_path / "t.jsonnet"
    src.write_text(
        f"local r = (import '{ROOT}/jsonnet/lib/rules.libsonnet')"
        "({ runbookBaseUrl: 'https://x/docs/runbooks' });\n"
        f"r.alert({json.dumps(spec)})\n"
    )
    return json.loads(binaries.jsonnet_evaluate(src))


def test_a_good_alert_gets_labels_annotations_and_no_params(tmp_path):
    rule = evaluate_alert(tmp_path)
    assert rule["labels"] == {"service": "example", "severity": "warning", "priority": "P3"}
    assert rule["annotations"]["runbook_url"] == "https://x/docs/runbooks/ExampleThingBroken.md"
    assert "params" not in rule  # hidden: collected into alert-params.yaml, not a Prometheus field


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "example_thing"}, "name must be CamelCase"),
        ({"severity": "high"}, "severity must be one of"),
        ({"priority": "P9"}, "priority must be one of"),
        ({"labels": {"team": "x"}}, "labels must include service or component"),
        ({"labels": {"service": "x", "symptom": "Node_CPU"}}, "the symptom label must be kebab-case"),
        ({"summary": "No period"}, "summary must be static text ending with a period"),
        ({"summary": "Broken on {{ $labels.instance }}."}, "summary must be static text"),
        ({"params": {}}, "parameters used"),
        ({"params": {"threshold": "1"}}, "parameter defaults must be numbers"),
    ],
)
def test_convention_violations_fail_generate(tmp_path, changes, message):
    with pytest.raises(UserError) as err:
        evaluate_alert(tmp_path, **changes)
    assert message in err.value.message


def test_a_mixins_config_reaches_its_rules_and_dashboards(tmp_path):
    """Aggregation labels and the runbook base URL flow from a mixin's `_config` into every helper
    built from it (rules.libsonnet, dashboards.libsonnet), not from a file the helpers import."""
    src = tmp_path / "t.jsonnet"
    src.write_text(
        f"local m = (import '{ROOT}/jsonnet/mixins/redis/mixin.libsonnet')"
        " + { _config+:: { runbookBaseUrl: 'https://x/rb', aggregationLabels: ['region'] } };\n"
        "{ rules: m.prometheusRules.groups + m.prometheusAlerts.groups,"
        " dashboards: m.grafanaDashboards }\n"
    )
    out = json.loads(binaries.jsonnet_evaluate(src))
    rules = [r for g in out["rules"] for r in g["rules"]]
    alerts = [r for r in rules if "alert" in r]
    assert alerts and all(a["annotations"]["runbook_url"].startswith("https://x/rb/") for a in alerts)
    grouped = [r["expr"] for r in rules if " by (" in r["expr"]]
    assert grouped and all(
        "by (region" in e and "cluster" not in e.split("by (")[1].split(")")[0] for e in grouped
    )
    links = [
        link["url"]
        for dashboard in out["dashboards"].values()
        for panel in dashboard["panels"]
        for link in panel.get("links", [])
    ]
    assert links and all(u.startswith("https://x/rb/") for u in links)

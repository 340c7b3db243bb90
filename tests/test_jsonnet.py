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
        f"local r = import '{ROOT}/jsonnet/lib/rules.libsonnet';\n"
        f"r.alert({{ runbookBaseUrl: 'https://x/docs/runbooks' }}, {json.dumps(spec)})\n"
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

"""Rule tests run each test group against only the rules it can observe (cfmon.ruledeps), one group
a test file (cfmon.ruletests): the cut keeps everything an assertion depends on, a test fails on
the cut rules exactly when it fails on the whole files, and a changed rule reruns only the groups
that see it."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from cfmon import cache, ruledeps, ruletests

RULES = {
    "groups": [
        {
            "name": "records",
            "rules": [
                {"record": "job:errors:rate5m", "expr": "sum by (job) (rate(errors_total[5m]))"},
                {"record": "job:errors:ratio", "expr": "job:errors:rate5m / on (job) job:requests:rate5m"},
                {"record": "job:requests:rate5m", "expr": "sum by (job) (rate(requests_total[5m]))"},
                {"record": "node:cpu:ratio", "expr": "avg by (node) (rate(cpu_seconds_total[5m]))"},
            ],
        },
        {
            "name": "alerts",
            "rules": [
                {"alert": "ErrorsHigh", "expr": "job:errors:ratio > 0.05", "for": "5m"},
                {"alert": "ErrorsHigh", "expr": "job:errors:ratio > 0.2", "labels": {"severity": "critical"}},
                {"alert": "CpuHigh", "expr": "node:cpu:ratio > 0.9"},
            ],
        },
    ]
}


def kept(cut: dict | None) -> dict[str, list[str]]:
    assert cut is not None
    return {
        g["name"]: [r.get("record") or r.get("alert") for r in g["rules"]] for g in cut["r.yaml"]["groups"]
    }


def test_an_alert_keeps_the_records_it_reads_transitively_and_nothing_else():
    files = {"r.yaml": RULES}
    before = copy.deepcopy(files)
    cut = ruledeps.needed(files, {"ErrorsHigh"}, [])
    assert kept(cut) == {
        "records": ["job:errors:rate5m", "job:errors:ratio", "job:requests:rate5m"],
        "alerts": ["ErrorsHigh", "ErrorsHigh"],  # every rule of the name
    }
    assert files == before  # the shared parse is never changed


def test_groups_stay_in_place_even_when_emptied():
    cut = ruledeps.needed({"r.yaml": RULES}, {"CpuHigh"}, [])
    assert kept(cut) == {"records": ["node:cpu:ratio"], "alerts": ["CpuHigh"]}
    assert ruledeps.needed({"r.yaml": RULES}, set(), []) == {
        "r.yaml": {"groups": [{"name": "records", "rules": []}, {"name": "alerts", "rules": []}]}
    }


def test_an_expression_test_keeps_the_records_it_reads():
    cut = ruledeps.needed({"r.yaml": RULES}, set(), ["job:errors:rate5m * 2"])
    assert kept(cut) == {"records": ["job:errors:rate5m"], "alerts": []}


def test_reading_alerts_keeps_every_alerting_rule():
    rules = copy.deepcopy(RULES)
    rules["groups"][1]["rules"].append({"alert": "Meta", "expr": 'count(ALERTS{alertstate="firing"}) > 3'})
    cut = ruledeps.needed({"r.yaml": rules}, {"Meta"}, [])
    assert kept(cut)["alerts"] == ["ErrorsHigh", "ErrorsHigh", "CpuHigh", "Meta"]
    assert "node:cpu:ratio" in kept(cut)["records"]  # and what those alerts read


@pytest.mark.parametrize(
    "expr",
    ['{job="api"} > 1', '{__name__=~"job:.*"} > 1', "sum(rate(x[5m]) >"],
    ids=["no-name", "name-regex", "unparsable"],
)
def test_what_may_read_any_series_keeps_everything(expr):
    rules = copy.deepcopy(RULES)
    rules["groups"][1]["rules"].append({"alert": "Open", "expr": expr})
    assert ruledeps.needed({"r.yaml": rules}, {"Open"}, []) is None
    assert ruledeps.needed({"r.yaml": RULES}, set(), [expr]) is None


def test_a_template_query_keeps_everything_but_urlquery_does_not():
    rules = copy.deepcopy(RULES)
    alert = rules["groups"][1]["rules"][2]
    alert["annotations"] = {"url": "https://g/d/x?var-node={{ $labels.node | urlquery }}"}
    assert ruledeps.needed({"r.yaml": rules}, {"CpuHigh"}, []) is not None
    alert["annotations"]["description"] = '{{ with query "up" }}{{ . | first | value }}{{ end }}'
    assert ruledeps.needed({"r.yaml": rules}, {"CpuHigh"}, []) is None


# ---- the same verdicts as the whole files, with the real promtool --------------------------------

SERIES = [
    {"series": 'errors_total{job="api"}', "values": "0+30x30"},
    {"series": 'requests_total{job="api"}', "values": "0+100x30"},
    {"series": 'cpu_seconds_total{node="a"}', "values": "0+60x30"},
]


def group(alert: str, fires: bool) -> dict:
    labels = {"job": "api"} if alert == "ErrorsHigh" else {"node": "a"}
    expected = [{"exp_labels": {**labels, **extra}} for extra in ({}, {"severity": "critical"})]
    if alert == "CpuHigh":
        expected = [{"exp_labels": labels}]
    return {
        "interval": "1m",
        "input_series": SERIES,
        "alert_rule_test": [
            {"alertname": alert, "eval_time": "20m", "exp_alerts": expected if fires else []}
        ],
    }


def run_groups(tmp_path: Path, tests: list[dict], rules: dict) -> list[ruletests.Result]:
    body = yaml.safe_dump(rules).encode()
    groups = []
    for test in tests:
        alerts = {c["alertname"] for c in test.get("alert_rule_test", [])}
        cut = ruledeps.needed({"r.yaml": rules}, alerts, [])
        assert cut is not None
        groups.append(
            ruletests.Group(
                {"rule_files": ["r.yaml"], "tests": [test]},
                {"r.yaml": yaml.safe_dump(cut["r.yaml"]).encode()},
            )
        )
        groups.append(ruletests.Group({"rule_files": ["r.yaml"], "tests": [test]}, {"r.yaml": body}))
    scratch = tmp_path / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    return ruletests.run(groups, scratch)


def test_cut_rules_pass_and_fail_exactly_like_the_whole_files(tmp_path):
    tests = [
        group("ErrorsHigh", True),
        group("ErrorsHigh", False),
        group("CpuHigh", True),
        group("CpuHigh", False),
    ]
    results = run_groups(tmp_path, tests, RULES)
    cut, whole = results[0::2], results[1::2]
    assert [r.ok for r in cut] == [r.ok for r in whole] == [True, False, True, False]
    assert "alertname: ErrorsHigh" in cut[1].output and "got:[" in cut[1].output


def test_a_changed_rule_reruns_only_the_groups_that_see_it(tmp_path):
    cache.configure(tmp_path / "cache")
    try:
        tests = [group("ErrorsHigh", True), group("CpuHigh", True)]
        run_groups(tmp_path, tests, RULES)
        changed = copy.deepcopy(RULES)
        changed["groups"][1]["rules"][2]["expr"] = "node:cpu:ratio > 2"  # CpuHigh no longer fires
        misses = cache.STATS["misses"]
        results = run_groups(tmp_path, tests, changed)
        # The ErrorsHigh group's cut rules are the same bytes: a hit. The CpuHigh group's cut, and
        # both whole files, changed: they run again, and CpuHigh now fails.
        assert cache.STATS["misses"] - misses == 3
        assert [r.ok for r in results] == [True, True, False, False]
    finally:
        cache.configure(None)


def test_a_group_answered_from_the_cache_writes_no_file(tmp_path, monkeypatch):
    """The key is the group's data, not its files: another scratch directory hits the same entry,
    and a group answered from the cache never has its YAML written."""
    cache.configure(tmp_path / "cache")
    monkeypatch.setattr(ruletests, "_RESULTS", {})  # what earlier tests ran in this process
    try:
        tests = [group("ErrorsHigh", True), group("CpuHigh", False)]
        first = run_groups(tmp_path / "a", tests, RULES)
        assert list((tmp_path / "a/scratch/rule-tests").glob("group-*.yaml"))
        monkeypatch.setattr(ruletests, "_RESULTS", {})  # a new process: only the cache is left
        hits = cache.STATS["hits"]
        again = run_groups(tmp_path / "b", tests, RULES)
        assert cache.STATS["hits"] - hits == 4
        assert again == first and [r.ok for r in again] == [True, True, False, False]
        assert not (tmp_path / "b/scratch/rule-tests").exists()
    finally:
        cache.configure(None)

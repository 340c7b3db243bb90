"""Every alert the mixins generate has unit tests in tests/rules/: at least one case where it fires
and one where it stays silent. (promtool proves the cases right; this proves they exist.)"""

from __future__ import annotations

from collections import defaultdict

import yaml
from conftest import ROOT

RULES = ROOT / "charts/creativeflow-monitoring/charts/prometheus/files/rules"
# The heartbeat alert fires by design (vector(1)); it has no silent case to test.
ALWAYS_FIRING = {"Watchdog"}


def generated_alerts() -> set[str]:
    return {
        rule["alert"]
        for path in RULES.glob("*.yaml")
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }


def cases_by_alert() -> dict[str, set[str]]:
    """alert -> {"fires", "silent"} over every tests/rules file."""
    seen: dict[str, set[str]] = defaultdict(set)
    for path in (ROOT / "tests/rules").glob("*.yaml"):
        for test in yaml.safe_load(path.read_text()).get("tests") or []:
            for case in test.get("alert_rule_test") or []:
                seen[case["alertname"]].add("fires" if case.get("exp_alerts") else "silent")
    return seen


def test_every_alert_fires_and_stays_silent_in_some_test():
    seen = cases_by_alert()
    missing = {
        alert: sorted({"fires", "silent"} - seen.get(alert, set()))
        for alert in sorted(generated_alerts())
        if seen.get(alert, set()) != {"fires", "silent"}
    }
    for alert in ALWAYS_FIRING:
        assert missing.pop(alert, None) == ["silent"], f"{alert} must have a firing case"
    assert missing == {}, f"alerts without a firing and a silent case: {missing}"


def test_tests_only_name_alerts_that_exist():
    assert set(cases_by_alert()) - generated_alerts() == set()

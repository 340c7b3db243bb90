"""cfmon/rulefill.py: the rule files written ahead with their default parameters, as the chart
prints them (the chart tests compare the copy with what helm builds; these test the parts)."""

from __future__ import annotations

import pytest

from cfmon.errors import UserError
from cfmon.rulefill import NEVER, URL_LINE, filled_text, go_string


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.98, "0.98"),
        (120, "120"),
        (0, "0"),
        (14.4, "14.4"),
        (-0.25, "-0.25"),
        (100000, "100000"),
        (1000000, "1e+06"),  # what Go's %v prints for a float64, as helm parses numbers
        (2500000, "2.5e+06"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (True, "true"),
        ("5m", "5m"),
    ],
)
def test_parameters_print_as_sprig_to_string_prints_them(value, text):
    assert go_string(value) == text


RULES = """\
# generated
groups:
- name: g
  rules:
  - alert: Slow
    annotations:
      dashboard_url: ${grafanaUrl}/d/x?var-a={{ $labels.a }}&viewPanel=2
      summary: Above ${threshold} seconds.
    expr: latency > ${threshold}
    labels:
      severity: warning
  - expr: sum(x)
    record: y
"""


def test_defaults_are_filled_and_grafana_links_are_folded_after_the_url():
    text = filled_text("rules/x.yaml", RULES, {"Slow": {"threshold": 1000000}}, "HEADER")
    assert text.splitlines()[0] == "# HEADER"
    assert "expr: latency > 1e+06\n" in text and "summary: Above 1e+06 seconds.\n" in text
    # The link keeps its token and its place (first of the sorted annotations): a marker line with
    # the whole text, then the link folded as toYaml folds it once the URL ends past column 80.
    # That takes a URL of 81 - len("      dashboard_url: ") - len("/d/x?var-a={{") = 47 bytes.
    link = "${grafanaUrl}/d/x?var-a={{ $labels.a }}&viewPanel=2"
    assert (
        f"    annotations:\n{URL_LINE}47 2 dashboard_url {link}\n"
        "      dashboard_url: ${grafanaUrl}/d/x?var-a={{\n"
        "        $labels.a }}&viewPanel=2\n"
        "      summary: Above 1e+06 seconds.\n"
    ) in text


@pytest.mark.parametrize(
    ("link", "marker"),
    [
        # no space: one line, whatever the URL
        ("${grafanaUrl}/d/x?viewPanel=2", "0 1"),
        # toYaml would quote these (": " and " #") or keep a double space: always built with toYaml
        ("${grafanaUrl}/d/x?a=b: c", f"{NEVER} 0"),
        ("${grafanaUrl}/d/x #c", f"{NEVER} 0"),
        ("${grafanaUrl}/d/x  two", f"{NEVER} 0"),
        ("${grafanaUrl}/d/x é", f"{NEVER} 0"),
        ("see ${grafanaUrl}/d/x", f"{NEVER} 0"),
    ],
)
def test_links_the_chart_cannot_fold_ahead_are_left_to_toyaml(link, marker):
    rules = RULES.replace("${grafanaUrl}/d/x?var-a={{ $labels.a }}&viewPanel=2", repr(link))
    text = filled_text("rules/x.yaml", rules, {"Slow": {"threshold": 1}}, "HEADER")
    lines = text.splitlines()
    at = lines.index(f"{URL_LINE}{marker} dashboard_url {link}")
    count = int(marker.split()[1])
    assert lines[at + 1 : at + 1 + count] == [f"      dashboard_url: {link}"] * count
    assert lines[at + 1 + count] == "      summary: Above 1 seconds."


def test_a_token_without_a_default_is_an_error_naming_the_alert():
    with pytest.raises(UserError, match=r"rules/x.yaml: alert Slow: \$\{threshold\} has no default"):
        filled_text("rules/x.yaml", RULES, {}, "HEADER")

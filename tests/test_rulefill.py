"""cfmon/rulefill.py: the rule files written ahead with their default parameters, as the chart
prints them (the chart tests compare the copy with what helm builds; these test the parts)."""

from __future__ import annotations

import pytest

from cfmon.errors import UserError
from cfmon.rulefill import URL_LINE, filled_text, go_string


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


def test_defaults_are_filled_and_grafana_links_get_a_line_of_their_own():
    text = filled_text("rules/x.yaml", RULES, {"Slow": {"threshold": 1000000}}, "HEADER")
    assert text.splitlines()[0] == "# HEADER"
    assert "expr: latency > 1e+06\n" in text and "summary: Above 1e+06 seconds.\n" in text
    # The link keeps its token and its place (first of the sorted annotations), whole on one line.
    link = "${grafanaUrl}/d/x?var-a={{ $labels.a }}&viewPanel=2"
    assert f"    annotations:\n{URL_LINE}dashboard_url {link}\n" in text


def test_a_token_without_a_default_is_an_error_naming_the_alert():
    with pytest.raises(UserError, match=r"rules/x.yaml: alert Slow: \$\{threshold\} has no default"):
        filled_text("rules/x.yaml", RULES, {}, "HEADER")

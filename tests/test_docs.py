"""cfmon docs: the alert catalog, the routing diagrams and the values tables, and their drift check."""

from __future__ import annotations

import copy
import dataclasses

import pytest
import yaml
from conftest import ROOT

from cfmon import docs
from cfmon.project import find_root
from cfmon.render import render

PROJECT = find_root(ROOT)


@pytest.fixture(scope="module")
def renders():
    return {env: render(PROJECT, env) for env in PROJECT.environments()}


# ---- thresholds read back from the rendered expression -------------------------------------------


@pytest.mark.parametrize(
    ("template", "rendered", "expected"),
    [
        ("x > ${threshold}", "x > 0.05", {"threshold": "0.05"}),
        ("a > ${lo} and a < ${hi}", "a > 1 and a < 2.5", {"lo": "1", "hi": "2.5"}),
        ("a > ${t} or b > ${t}", "a > 3 or b > 3", {"t": "3"}),
        ("a > ${t}", "b > 3", {}),  # not the same rule: nothing is claimed
    ],
)
def test_thresholds(template, rendered, expected):
    assert docs.thresholds(template, rendered) == expected


# ---- values documentation ---------------------------------------------------------------------------


def test_documented_keys_reads_comments_and_finds_undocumented_leaves():
    text = """\
# -- Deploy it.
enabled: true
image:
  # -- Image repository.
  repository: quay.io/x
  tag: v1
# -- Receivers keyed by name (children need no comment of their own).
receivers:
  a:
    email_configs:
      - to: x@example.com
# -- Continues
# over two lines.
replicas: 1
"""
    documented, undocumented = docs.documented_keys(text)
    assert documented == {
        "enabled": "Deploy it.",
        "image.repository": "Image repository.",
        "receivers": "Receivers keyed by name (children need no comment of their own).",
        "replicas": "Continues over two lines.",
    }
    assert undocumented == ["image.tag"]


def test_every_values_key_of_the_chart_is_documented():
    _, undocumented = docs.values_readme(PROJECT)
    assert undocumented == []


# ---- pages from the renders -------------------------------------------------------------------------


def test_alert_catalog_shows_per_environment_overrides(renders):
    page = docs.alerts_page(PROJECT, renders)
    row = next(line for line in page.splitlines() if line.startswith("| [ApiGatewayErrorRatioHigh]"))
    # values/dev.yaml lowers the severity and priority; staging and prod keep the defaults.
    assert "dev: warning<br>prod: critical<br>staging: critical" in row
    assert "threshold = 0.05" in row
    latency = next(line for line in page.splitlines() if line.startswith("| [ApiGatewayLatencyP99High]"))
    assert "dev: thresholdSeconds = 1<br>prod: thresholdSeconds = 0.5" in latency


def test_alert_catalog_marks_an_alert_disabled_in_one_environment(renders):
    prod = renders["prod"]
    resources = copy.deepcopy(prod.resources)
    for res in resources:
        for key, payload in (res.obj.get("data") or {}).items():
            if "ApiGatewayLatencyP99High" in payload and key.endswith(".yaml"):
                doc = yaml.safe_load(payload)
                for group in doc["groups"]:
                    group["rules"] = [
                        r for r in group["rules"] if r.get("alert") != "ApiGatewayLatencyP99High"
                    ]
                res.obj["data"][key] = yaml.safe_dump(doc)
    without = dataclasses.replace(prod, resources=resources)
    page = docs.alerts_page(PROJECT, {"dev": renders["dev"], "prod": without})
    row = next(line for line in page.splitlines() if line.startswith("| [ApiGatewayLatencyP99High]"))
    assert "dev: warning<br>prod: disabled" in row


def test_routing_page_is_a_mermaid_tree_of_the_rendered_routes(renders):
    page = docs.routing_page("prod", renders["prod"])
    assert "```mermaid\nflowchart LR\n" in page
    assert '  root["root (everything)' in page
    # Quotes of matchers are escaped for Mermaid; every receiver of the config is a node.
    assert 'root_1["alertname=#quot;Watchdog#quot;' in page
    config = yaml.safe_load(
        renders["prod"]
        .resources[[r.name for r in renders["prod"].resources].index("creativeflow-alertmanager-config")]
        .obj["data"]["alertmanager.yml"]
    )
    for receiver in config["receivers"]:
        routed = f'("{receiver["name"]}")' in page
        assert routed or receiver["name"] not in page
    assert "## Routes in order" in page and "## Inhibition rules" in page


def test_routing_page_without_alertmanager(renders):
    prod = renders["prod"]
    without = dataclasses.replace(
        prod, resources=[r for r in prod.resources if r.name != "creativeflow-alertmanager-config"]
    )
    assert "Alertmanager is not enabled in prod." in docs.routing_page("prod", without)


def test_docs_check_reports_a_stale_page(repo, cfmon):
    page = repo / "docs/alerts.md"
    page.write_text(page.read_text() + "\nhand edit\n")
    # A runbook whose facts block was edited by hand, and one whose block is gone (a new runbook
    # written by hand looks like this): both are stale, and `cfmon docs` puts the block under the title.
    edited = repo / "docs/runbooks/ApiGatewayErrorRatioHigh.md"
    edited.write_text(edited.read_text().replace("> 0.05\n```", "> 0.5\n```", 1))
    stripped = repo / "docs/runbooks/RedisDown.md"
    original = stripped.read_text()
    begin, end = original.index(docs.RUNBOOK_BEGIN), original.index(docs.RUNBOOK_END)
    stripped.write_text(original[:begin] + original[end + len(docs.RUNBOOK_END) + 2 :])
    result = cfmon(repo, "docs", "--check")
    assert result.code == 1
    assert (
        "stale docs (run `cfmon docs`):\n  docs/alerts.md\n"
        "  docs/runbooks/ApiGatewayErrorRatioHigh.md\n  docs/runbooks/RedisDown.md\n"
    ) in result.out
    assert cfmon(repo, "docs").code == 0
    assert stripped.read_text() == original
    assert cfmon(repo, "docs", "--check").code == 0


# ---- runbook facts blocks ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runbooks(renders):
    return docs.runbook_pages(PROJECT, renders)


def test_runbook_facts_show_each_environment_when_they_differ(runbooks):
    page = runbooks["docs/runbooks/ApiGatewayErrorRatioHigh.md"]
    assert page.startswith(f"# ApiGatewayErrorRatioHigh\n\n{docs.RUNBOOK_BEGIN}\n")
    block = page[: page.index(docs.RUNBOOK_END)]
    # values/dev.yaml lowers severity and priority: one row per environment, with its receivers.
    assert "| dev | warning | P3 | 5m | `threshold = 0.05` | `dev-slack` |" in block
    assert "| prod | critical | P1 | 5m | `threshold = 0.05` | `critical-pagerduty` |" in block
    expr = 'service:http_requests_errors:ratio_rate5m{service="api-gateway"} > 0.05'
    assert f"```promql\n{expr}\n```" in block
    assert "[application-performance](../dashboards/application-performance.svg) panel 11" in block
    # The prose people wrote stays below the block.
    assert "## What it means" in page[page.index(docs.RUNBOOK_END) :]


def test_runbook_facts_collapse_when_every_environment_agrees(runbooks):
    page = runbooks["docs/runbooks/AiGenerationSuccessRatioLow.md"]
    block = page[: page.index(docs.RUNBOOK_END)]
    assert "| Severity / priority | `warning` / `P2` |" in block
    assert "| For | `15m` |" in block
    assert "| Thresholds | `threshold = 0.98` |" in block
    assert '| Labels | `priority="P2"`, `service="ai-orchestration"`, `severity="warning"` |' in block
    assert "prod: `warning-slack`" in block
    assert "| environment |" not in block


def test_with_facts_inserts_under_the_title_and_replaces_in_place():
    block = f"{docs.RUNBOOK_BEGIN}\nfacts\n{docs.RUNBOOK_END}\n"
    hand = "# NewAlert\n\n## What it means\n\nProse.\n"
    inserted = docs.with_facts(hand, block, "docs/runbooks/NewAlert.md")
    assert inserted == f"# NewAlert\n\n{block}\n## What it means\n\nProse.\n"
    # Running again replaces the block and leaves everything else as it was.
    newer = block.replace("facts", "newer facts")
    assert docs.with_facts(inserted, newer, "x") == inserted.replace("\nfacts\n", "\nnewer facts\n")
    assert docs.with_facts(inserted, block, "x") == inserted


def test_with_facts_refuses_a_broken_block():
    from cfmon.errors import UserError

    text = f"# A\n\n{docs.RUNBOOK_BEGIN}\nfacts\n\n## What it means\n"
    with pytest.raises(UserError) as err:
        docs.with_facts(text, "block", "docs/runbooks/A.md")
    assert err.value.file == "docs/runbooks/A.md"

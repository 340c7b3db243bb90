"""checkov, an independent IaC scanner (pinned in pyproject.toml), over every environment's render
(and prod with the other log agent, so promtail and alloy are both scanned).

Every failure must be an explicit, per-object exception with its reason in
tests/security/checkov-exceptions.yaml; an unexplained failure fails, and so does an exception
that no longer fails anywhere (stale). Marked `checkov` (about a minute): it runs with the suite,
`-m "not checkov"` leaves it out.
"""

from __future__ import annotations

import json
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from cfmon.manifests import split_by_source
from cfmon.project import find_root
from cfmon.render import helm_output

pytestmark = pytest.mark.checkov

ENVS = ("dev", "staging", "prod")
# prod with the log agent the environments do not deploy (promtail or alloy): both agents' DaemonSets
# are scanned whichever is the default.
OTHER_AGENT = "prod-other-log-agent"
SCENARIOS = (*ENVS, OTHER_AGENT)
EXCEPTIONS = ROOT / "tests/security/checkov-exceptions.yaml"
# Its own virtualenv (tools/install-deps): checkov's dependency pins conflict with pytest's.
CHECKOV = ROOT / ".tools/checkov/bin/checkov"


def _render(dest: Path) -> None:
    """Each scenario's render under dest/<scenario>/, one file per template (as `cfmon render` writes)."""
    project = find_root(ROOT)
    for scenario in SCENARIOS:
        overlays = []
        if scenario == OTHER_AGENT:
            chart = yaml.safe_load((ROOT / "charts/creativeflow-monitoring/values.yaml").read_text())
            prod = yaml.safe_load((ROOT / "values/prod.yaml").read_text())
            agent = prod.get("global", {}).get("logs", {}).get("agent") or chart["global"]["logs"]["agent"]
            overlay = dest.parent / "other-log-agent.yaml"
            other = {"promtail": "alloy", "alloy": "promtail"}[agent]
            overlay.write_text(yaml.safe_dump({"global": {"logs": {"agent": other}}}))
            overlays.append(overlay)
        text, _ = helm_output(project, "prod" if scenario == OTHER_AGENT else scenario, overlays)
        for rel, body in split_by_source(text).items():
            path = dest / scenario / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body)


def _scan(dest: Path) -> tuple[dict[str, list[tuple[str, str]]], dict[str, dict[str, int]]]:
    """checkov over dest: env -> [(check id, Kind/name)] failed, and env -> {passed, failed} counts."""
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV} is missing: run tools/install-deps (checkov, pinned in pyproject.toml)")
    proc = subprocess.run(
        [str(CHECKOV), "-d", str(dest), "--framework", "kubernetes", "-o", "json", "--compact"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    report = report[0] if isinstance(report, list) else report
    failed: dict[str, list[tuple[str, str]]] = defaultdict(list)
    counts = {env: {"passed": 0, "failed": 0} for env in SCENARIOS}
    for outcome in ("passed", "failed"):
        for res in report["results"][f"{outcome}_checks"]:
            env = Path(res["file_abs_path"]).resolve().relative_to(dest.resolve()).parts[0]
            counts[env][outcome] += 1
            if outcome == "failed":
                kind, _namespace, name = res["resource"].split(".", 2)
                failed[env].append((res["check_id"], f"{kind}/{name}"))
    return failed, counts


def test_checkov_exceptions_file_is_well_formed():
    doc = yaml.safe_load(EXCEPTIONS.read_text())
    seen = set()
    for i, entry in enumerate(doc["exceptions"]):
        where = f"{EXCEPTIONS.relative_to(ROOT)}: exceptions[{i}]"
        assert set(entry) <= {"check", "object", "reason", "environments"}, f"{where}: unknown key"
        assert entry["check"].startswith("CKV_"), where
        assert "/" in entry["object"], f"{where}: object is Kind/name"
        assert len(str(entry.get("reason", ""))) > 40, f"{where}: say why in a sentence"
        assert set(entry.get("environments", SCENARIOS)) <= set(SCENARIOS), where
        key = (entry["check"], entry["object"])
        assert key not in seen, f"{where}: {key} listed twice"
        seen.add(key)


def test_checkov_findings_are_all_explained(tmp_path):
    _render(tmp_path / "rendered")
    failed, counts = _scan(tmp_path / "rendered")
    for env in SCENARIOS:
        print(f"checkov {env}: {counts[env]['passed']} passed, {counts[env]['failed']} failed")
    exceptions = yaml.safe_load(EXCEPTIONS.read_text())["exceptions"]
    allowed = {(env, e["check"], e["object"]) for e in exceptions for env in e.get("environments", SCENARIOS)}
    unexplained = sorted(
        f"{env}: {check} on {obj}"
        for env in SCENARIOS
        for check, obj in set(failed[env])
        if (env, check, obj) not in allowed
    )
    failing = {(env, check, obj) for env in SCENARIOS for check, obj in failed[env]}
    stale = sorted(
        f"{e['check']} on {e['object']}"
        for e in exceptions
        if not any((env, e["check"], e["object"]) in failing for env in e.get("environments", SCENARIOS))
    )
    assert not unexplained, (
        "checkov failures without an exception (fix them, or add an entry with its reason to "
        f"{EXCEPTIONS.relative_to(ROOT)}):\n  " + "\n  ".join(unexplained)
    )
    assert not stale, (
        f"exceptions in {EXCEPTIONS.relative_to(ROOT)} that no longer fail anywhere (remove them):\n  "
        + "\n  ".join(stale)
    )

"""cfmon.catalog: the checks read what `cfmon generate` wrote from Jsonnet under jsonnet/generated/
(up to date in the repository), and a missing generated file is a user error naming the fix."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import ROOT

from cfmon import binaries, catalog, generate
from cfmon.errors import UserError

ENTRY = "jsonnet/build/check-facts.jsonnet"


def test_generated_facts_are_what_the_jsonnet_says():
    for rel, content in json.loads(binaries.jsonnet_evaluate(ROOT / ENTRY)).items():
        assert rel.startswith("jsonnet/generated/")
        assert (ROOT / rel).read_text() == generate.serialize(rel, content, ENTRY), f"{rel} is stale"


def test_the_checks_read_the_generated_facts():
    names = catalog.catalog(ROOT)
    assert "up" in names or "node_vmstat_oom_kill" in names
    assert catalog.declared_counters(ROOT) <= names
    assert catalog.contract(ROOT)


def test_a_missing_generated_file_says_to_run_generate(tmp_path):
    shutil.copytree(ROOT / "jsonnet", tmp_path / "jsonnet")
    (tmp_path / "jsonnet/generated/metrics-counters.json").unlink()
    with pytest.raises(UserError, match=r"metrics-counters\.json is missing") as err:
        catalog.declared_counters(tmp_path)
    assert err.value.file == "jsonnet/metrics-counters.jsonnet"
    assert "cfmon generate" in (err.value.hint or "")

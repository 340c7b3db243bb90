"""The tool-result cache: a hit only for the same tool version, arguments and input bytes."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from conftest import run_cfmon

from cfmon import binaries, cache

RULES = """groups:
  - name: g
    rules:
      - alert: Up
        expr: up == 0
"""


@pytest.fixture
def cfmon():
    """The CLI with the copy's own cache (build/cache/): cold and warm here mean this test's runs,
    not whatever the session's shared cache already holds."""
    return run_cfmon


@pytest.fixture
def store(tmp_path):
    cache.configure(tmp_path / "cache")
    cache.STATS.update(hits=0, misses=0)
    yield tmp_path / "cache"
    cache.configure(None)


def _check_rules(scratch: Path, text: str):
    rules = scratch / "rules.yaml"
    rules.write_text(text)
    key = cache.Key("promtool", scrub=scratch).add_files([rules])
    return binaries.run_cached("promtool", ["check", "rules", str(rules)], key)


def test_a_claimed_key_is_waited_for_and_a_dead_claim_taken_over(store):
    """Renders checked side by side claim what they compute: a second process waits for the
    value instead of computing it again, and a claim whose process died does not block."""
    import subprocess
    import sys

    key = cache.Key("test").add("input", "x")
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        key._claim_path().parent.mkdir(parents=True)
        key._claim_path().write_text(str(other.pid))
        assert not key.claim()  # a live process computes it
        key.put({"v": 1})
        assert key.wait(timeout=5) == {"v": 1}
    finally:
        other.kill()
        other.wait()
    fresh = cache.Key("test").add("input", "y")
    fresh._claim_path().parent.mkdir(parents=True, exist_ok=True)
    fresh._claim_path().write_text(str(other.pid))  # its owner is gone
    assert fresh.wait(timeout=5) is None  # nothing stored: the waiter computes it itself
    assert fresh.claim() and fresh._claim_path().read_text() == str(os.getpid())
    fresh.release()
    assert not fresh._claim_path().exists()


def test_same_inputs_hit_and_any_changed_byte_misses(store, tmp_path):
    scratch = tmp_path / "run1"
    scratch.mkdir()
    cold = _check_rules(scratch, RULES)
    assert cold.returncode == 0 and cache.STATS == {"hits": 0, "misses": 1}
    calls = len(binaries.CALLS)

    warm = _check_rules(scratch, RULES)
    assert (warm.returncode, warm.stdout, warm.stderr) == (cold.returncode, cold.stdout, cold.stderr)
    assert cache.STATS["hits"] == 1 and len(binaries.CALLS) == calls  # promtool did not run

    broken = _check_rules(scratch, RULES.replace("up == 0", "up == "))  # one byte less
    assert broken.returncode != 0, "a changed input must run the tool again, not reuse the result"
    assert len(binaries.CALLS) == calls + 1


def test_results_are_shared_across_scratch_directories_with_paths_restored(store, tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    bad = RULES.replace("up == 0", "up ==")
    cold = _check_rules(first, bad)
    warm = _check_rules(second, bad)
    assert cache.STATS["hits"] == 1
    # promtool names the file it read: the replayed output names this run's file, not the old one.
    assert str(first) in cold.stdout + cold.stderr
    assert str(second) in warm.stdout + warm.stderr and str(first) not in warm.stdout + warm.stderr


def test_off_by_default_and_with_no_cache(tmp_path, monkeypatch):
    cache.configure(None)
    assert not cache.enabled()
    monkeypatch.setenv("CFMON_NO_CACHE", "1")
    cache.configure(tmp_path)
    assert not cache.enabled()


def test_jsonnet_evaluation_is_keyed_on_the_whole_tree(store, tmp_path):
    """The key is the entry's own jsonnet/ tree (not this package's: cfmon also runs on copies of
    the repository), named relative to it: a copy elsewhere hits, a changed import misses."""
    root = tmp_path / "a" / "jsonnet"
    (root / "lib").mkdir(parents=True)
    (root / "lib" / "x.libsonnet").write_text("{ a: 1 }")
    entry = root / "main.jsonnet"
    entry.write_text("(import 'lib/x.libsonnet') { b: 2 }")
    assert '"a": 1' in binaries.jsonnet_evaluate(entry)
    assert '"a": 1' in binaries.jsonnet_evaluate(entry) and cache.STATS["hits"] == 1
    (root / "lib" / "x.libsonnet").write_text("{ a: 3 }")  # an imported file, not the entry
    assert '"a": 3' in binaries.jsonnet_evaluate(entry)
    copy = tmp_path / "b" / "jsonnet"
    (copy / "lib").mkdir(parents=True)
    (copy / "lib" / "x.libsonnet").write_text("{ a: 3 }")
    (copy / "main.jsonnet").write_text(entry.read_text())
    assert '"a": 3' in binaries.jsonnet_evaluate(copy / "main.jsonnet") and cache.STATS["hits"] == 2
    (copy / "lib" / "x.libsonnet").write_text("{ a: 4 }")
    assert '"a": 4' in binaries.jsonnet_evaluate(copy / "main.jsonnet")


def test_the_cache_directory_can_be_chosen(tmp_path, monkeypatch):
    monkeypatch.setenv("CFMON_CACHE_DIR", str(tmp_path / "shared"))
    cache.configure(tmp_path / "default")
    try:
        assert _check_rules(tmp_path, RULES).returncode == 0
    finally:
        cache.configure(None)
    assert list((tmp_path / "shared" / "promtool").rglob("*.json"))
    assert not (tmp_path / "default").exists()


def _misses(err: str) -> int:
    return int(re.search(r"cache: \d+ hits, (\d+) misses", err).group(1))


def test_warm_check_gives_exactly_the_cold_findings(repo, cfmon):
    """Through the CLI on a copy of the repository: a failing rule test is reported the same way
    cold and warm, and editing the test file (one byte) runs promtool again."""
    for other in (repo / "tests/rules").glob("*.yaml"):  # the others pass and would only cost time
        if other.name != "redis.yaml":
            other.unlink()
    test = repo / "tests/rules/redis.yaml"
    test.write_text(test.read_text().replace("exp_alerts: []", "exp_alerts: [{exp_labels: {}}]", 1))
    assert cfmon(repo, "render", "--env", "dev").code == 0
    args = ("check", "--env", "dev", "--only", "prometheus/rule-tests", "--format", "json")
    # One worker: renders checked side by side may each run a test they share once (both miss).
    one = {"CFMON_JOBS": "1"}
    cold = cfmon(repo, *args, env=one)
    warm = cfmon(repo, *args, env=one)
    assert cold.code == warm.code == 1
    assert cold.out == warm.out and "redis.yaml" in cold.out
    # Cold, every distinct promtool run misses (renders with the same rules share one); warm, none.
    assert _misses(cold.err) > 0 and _misses(warm.err) == 0, (cold.err, warm.err)
    test.write_text(test.read_text().replace("exp_alerts: [{exp_labels: {}}]", "exp_alerts: []", 1))
    fixed = cfmon(repo, *args, env=one)
    assert fixed.code == 0 and _misses(fixed.err) == 1, fixed.err
    uncached = cfmon(repo, *args, "--no-cache")
    assert uncached.code == 0 and "cache" not in uncached.err


def test_renders_checked_side_by_side_give_the_serial_findings(repo, cfmon):
    """Worker processes (one a render) report exactly what one process does, in the same order,
    and their tool accounting reaches the parent's summary."""
    for other in (repo / "tests/rules").glob("*.yaml"):
        if other.name != "redis.yaml":
            other.unlink()
    test = repo / "tests/rules/redis.yaml"
    test.write_text(test.read_text().replace("exp_alerts: []", "exp_alerts: [{exp_labels: {}}]", 1))
    only = ("--only", "prometheus/rule-tests", "--only", "rules/naming")
    args = ("check", "--env", "dev", *only, "--format", "json")
    serial = cfmon(repo, *args, env={"CFMON_JOBS": "1"})
    parallel = cfmon(repo, *args, env={"CFMON_JOBS": "2"})
    assert serial.code == parallel.code == 1
    assert serial.out == parallel.out and "redis.yaml" in serial.out
    assert "check dev + team gateway done in" in parallel.err
    assert re.search(r"cache: [1-9]\d* hits", parallel.err), parallel.err


def _verify_digest(repo: Path) -> str:
    from cfmon import runner
    from cfmon.project import find_root

    project = find_root(repo)
    key = runner._verify_key(project, ["dev", "prod"], runner.inputs_digest(project, ["dev", "prod"]))
    assert key is not None
    return key.digest


def test_a_verify_replay_is_keyed_on_every_input_byte(repo, store):
    """The whole-verify key: any byte of any input file, a new file, or another render in between
    misses; what is not an input (build output, caches) does not."""
    for env in ("dev", "prod"):
        stamp = repo / "build/rendered" / env / ".cfmon-render.json"
        stamp.parent.mkdir(parents=True)
        stamp.write_text(json.dumps({"values": [f"values/{env}.yaml"]}))
    base = _verify_digest(repo)
    assert _verify_digest(repo) == base  # stable

    values = repo / "values/dev.yaml"
    original = values.read_bytes()
    values.write_bytes(original + b" ")
    assert _verify_digest(repo) != base
    values.write_bytes(original)
    assert _verify_digest(repo) == base

    new = repo / "values/teams/ai-models/rules/extra.yaml"
    new.write_text("rule_files: []\n")
    assert _verify_digest(repo) != base
    new.unlink()

    stamp = repo / "build/rendered/dev/.cfmon-render.json"
    stamp.write_text('{"values": ["values/dev.yaml", "overlay.yaml"]}')
    assert _verify_digest(repo) != base
    stamp.write_text('{"values": ["values/dev.yaml"]}')

    (repo / "build/rendered/dev/other.yaml").write_text("kind: x\n")  # output, not input
    (repo / "tools/cfmon/__pycache__").mkdir(exist_ok=True)
    (repo / "tools/cfmon/__pycache__/x.pyc").write_bytes(b"\0")
    assert _verify_digest(repo) == base

    (repo / "build/rendered/prod/.cfmon-render.json").unlink()
    from cfmon import runner
    from cfmon.project import find_root

    assert runner._verify_key(find_root(repo), ["dev", "prod"], base) is None  # nothing to leave behind

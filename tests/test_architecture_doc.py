"""docs/architecture.md stays true: every repository path it names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs/architecture.md"
# Backticked paths into the repository's own trees (placeholders like <area> are left out).
PATH = re.compile(r"`((?:tools|jsonnet|charts|values|tests|docs|deploy|benchmarks)/[^`<>*\s]*)`")


def test_every_path_named_exists():
    named = sorted(set(PATH.findall(DOC.read_text())))
    assert len(named) > 15, "the document names the modules it describes"
    missing = [p for p in named if not (ROOT / p.rstrip("/")).exists()]
    assert not missing, f"docs/architecture.md names paths that do not exist: {missing}"


def test_every_check_module_is_in_the_registry():
    """The document says every check is in one registry, one check a module: each checks/ module
    (and each module of a checks/ package, but for what its checks share) contributes to it."""
    from cfmon.checks import REGISTRY

    checks = ROOT / "tools/cfmon/checks"
    modules = {c.__module__.removeprefix("cfmon.checks.") for c in REGISTRY}
    shared = ("__init__", "base", "common")
    on_disk = {
        p.relative_to(checks).with_suffix("").as_posix().replace("/", ".")
        for p in checks.rglob("*.py")
        if p.stem not in shared
    }
    assert on_disk <= modules, f"check modules with no registered check: {sorted(on_disk - modules)}"

"""tools/install-deps is idempotent: a second run fetches nothing and leaves every tool in place."""

from __future__ import annotations

import subprocess

from conftest import ROOT


def test_install_deps_is_idempotent():
    before = {p.name: p.stat().st_mtime_ns for p in (ROOT / ".tools/bin").iterdir()}
    proc = subprocess.run([str(ROOT / "tools/install-deps")], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "fetching" not in proc.stderr and "installing Python" not in proc.stderr
    assert {p.name: p.stat().st_mtime_ns for p in (ROOT / ".tools/bin").iterdir()} == before
    for tool in ("helm", "helm4", "promtool", "prometheus", "amtool", "alertmanager", "jsonnetfmt"):
        assert f"ok       {tool}" in proc.stderr

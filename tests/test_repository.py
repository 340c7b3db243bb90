"""What CI and Argo CD get is what is committed: no source or generated file may be git-ignored."""

from __future__ import annotations

import subprocess

from conftest import ROOT

SOURCES = ("charts", "jsonnet", "values", "tools", "tests", "docs", ".ci", "Makefile", "pyproject.toml")


def test_no_source_file_is_ignored_by_git():
    files = [
        str(p.relative_to(ROOT))
        for top in SOURCES
        for p in ([ROOT / top] if (ROOT / top).is_file() else (ROOT / top).rglob("*"))
        if p.is_file()
        and not ({"__pycache__", ".pytest_cache"} & set(p.parts) or p.parts[-2].endswith(".egg-info"))
    ]
    proc = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin"],
        cwd=ROOT,
        input="\n".join(files),
        capture_output=True,
        text=True,
    )
    assert proc.stdout.strip() == "", f"ignored by .gitignore but needed: {proc.stdout}"

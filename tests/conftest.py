"""Shared fixtures: a throwaway copy of the repository and a way to run the real CLI in it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Only what renders and verifies; never the virtualenv, the tools, git or old renders.
_SKIP_TOP = {".venv", ".tools", "build", ".git"}
_SKIP_ANY = shutil.ignore_patterns("__pycache__", ".pytest_cache", ".ruff_cache", "*.egg-info")


def _ignore(directory: str, names: list[str]) -> set[str]:
    skipped = set(_SKIP_ANY(directory, names))
    if Path(directory) == ROOT:
        skipped |= _SKIP_TOP & set(names)
    return skipped


@dataclass
class Result:
    code: int
    out: str
    err: str


def copy_repo(dest: Path) -> Path:
    shutil.copytree(ROOT, dest, ignore=_ignore)
    return dest


def run_cfmon(cwd: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    proc = subprocess.run(
        [sys.executable, "-m", "cfmon", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A fresh copy of the repository (sources, generated files, goldens) to break at will."""
    return copy_repo(tmp_path / "repo")


@pytest.fixture
def cfmon():
    return run_cfmon

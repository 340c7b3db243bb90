"""How cfmon runs the pinned Go tools: their garbage collector setting (binaries.GOGC_ENV)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# A stand-in promtool that passes cfmon's version probe and then prints the GOGC it was given.
FAKE_PROMTOOL = """#!/bin/sh
case "$1" in --version) echo "promtool, version 3.5.3"; exit 0;; esac
echo "GOGC=${GOGC-unset}"
"""
PRINT_IT = "from cfmon import binaries; print(binaries.run('promtool', ['x']).stdout, end='')"


@pytest.mark.parametrize(("outer", "seen"), [(None, "GOGC=400"), ("75", "GOGC=75"), ("off", "GOGC=off")])
def test_a_tool_runs_with_gogc_400_unless_the_caller_set_one(tmp_path: Path, outer, seen):
    tool = tmp_path / "promtool"
    tool.write_text(FAKE_PROMTOOL)
    tool.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "GOGC"}
    env["CFMON_TOOLS_BIN"] = str(tmp_path)
    if outer is not None:
        env["GOGC"] = outer
    out = subprocess.run([sys.executable, "-c", PRINT_IT], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout == seen + "\n"

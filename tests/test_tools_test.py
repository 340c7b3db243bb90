"""tools/test, what `make test` runs: three pytest lanes at once, each reported, any failure fails
the run. Run on a copy of the repository (with this checkout's virtualenv), so the lanes' logs never
touch the running suite's own."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from conftest import ROOT, copy_repo

LANES = ("checks", "sandbox", "servers")


def run_lanes(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, int]]:
    repo = copy_repo(tmp_path / "repo")
    (repo / ".venv").symlink_to(ROOT / ".venv")
    proc = subprocess.run(["tools/test", *args], cwd=repo, capture_output=True, text=True, timeout=300)
    exits = {m[0]: int(m[1]) for m in re.findall(r"^===== lane (\w+): exit (\d+) after", proc.stdout, re.M)}
    for lane in LANES:
        assert (repo / f"build/test/{lane}.log").is_file()
    return proc, exits


def test_a_lane_that_fails_fails_the_run_and_every_lane_reports(tmp_path):
    proc, exits = run_lanes(tmp_path, "--no-such-option")
    assert exits == dict.fromkeys(LANES, 4), proc.stdout  # pytest's usage error, in every lane
    assert proc.returncode == 1
    assert "unrecognized arguments: --no-such-option" in proc.stdout

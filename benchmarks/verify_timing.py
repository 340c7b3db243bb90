"""Wall time of `tools/verify` and of each of its steps: median (and min/max) over N warm runs.

Usage: .venv/bin/python benchmarks/verify_timing.py [N]   (default 5; numbers go to stdout)
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    subprocess.run([str(ROOT / "tools/verify")], cwd=ROOT, capture_output=True)  # warm-up
    walls: list[float] = []
    steps: dict[str, list[float]] = defaultdict(list)
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run([str(ROOT / "tools/verify")], cwd=ROOT, capture_output=True, text=True)
        walls.append(time.perf_counter() - start)
        if proc.returncode != 0:
            sys.exit(f"tools/verify failed:\n{proc.stdout}{proc.stderr}")
        line = next(x for x in proc.stderr.splitlines() if "timings:" in x)
        for name, secs in re.findall(r"([\w -]+?) ([\d.]+)s", line.split("timings:", 1)[1].split(";")[0]):
            steps[name.strip(" ,")].append(float(secs))
    print(f"tools/verify, {runs} warm runs: median {statistics.median(walls):.2f}s "
          f"(min {min(walls):.2f}s, max {max(walls):.2f}s)")
    for name, values in steps.items():
        print(f"  {name:18} median {statistics.median(values):.3f}s")


if __name__ == "__main__":
    main()

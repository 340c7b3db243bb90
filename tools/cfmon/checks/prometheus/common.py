"""What the prometheus checks share: the Prometheus pod's files laid out as mounted (built once per
environment), promtool's verdict without its noise, and `promtool check rules` memoised per file.
"""

from __future__ import annotations

from pathlib import Path

from cfmon import binaries, cache, ruletests
from cfmon.checks.base import Context
from cfmon.mounts import Mounts


def prometheus_layout(ctx: Context) -> Mounts:
    """The Prometheus pod's files in a temporary root (built once per environment)."""
    assert ctx.scratch is not None
    return ctx.rendered.model.prometheus(ctx.scratch / "prometheus")


def tool_output(proc, layout: Mounts) -> str:
    """promtool's verdict without the noise: paths as mounted, no banners, no repeats."""
    return ruletests.verdict((proc.stdout + proc.stderr).replace(str(layout.root), ""))


def rules_valid(ctx: Context, path: Path) -> tuple[bool, str]:
    """`promtool check rules` on one rendered file, once per environment."""
    memo = f"rules-valid:{path}"
    if memo not in ctx.cache:
        key = cache.Key("promtool", scrub=ctx.scratch).add_files([path])
        proc = binaries.run_cached("promtool", ["check", "rules", str(path)], key)
        ctx.cache[memo] = (proc.returncode == 0, tool_output(proc, prometheus_layout(ctx)))
    return ctx.cache[memo]

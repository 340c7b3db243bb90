"""`render/deterministic`: rendering the same inputs twice is byte-identical.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

import difflib

from cfmon.checks.base import Check, Context, Finding


class RenderTwice(Check):
    """Rendering the same inputs twice is byte-identical.

    Why: a diff on every sync hides real changes and restarts pods. Bad: a random password or a
    timestamp annotation. Good: output that depends only on the chart and the values.
    """

    id = "render/deterministic"

    def run(self, ctx: Context) -> list[Finding]:
        if ctx.rerender is None:
            return []
        again = ctx.rerender()
        if again == ctx.rendered.text:
            return []
        diff = list(
            difflib.unified_diff(ctx.rendered.text.splitlines(), again.splitlines(), lineterm="", n=0)
        )
        sample = "; ".join(line for line in diff[2:8] if line[:1] in "+-")
        return [
            self.finding(
                ctx,
                f"two renders differ: {sample}",
                hint="remove random, time- or cluster-dependent functions from templates",
            )
        ]

"""`alertmanager/config`: `amtool check-config` on alertmanager.yml with its notification templates, as
mounted.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

from cfmon import binaries, cache
from cfmon.checks.alertmanager.common import VALUES_HINT, alertmanager_layout, amtool_output
from cfmon.checks.base import Check, Context, Finding


class AlertmanagerConfig(Check):
    """`amtool check-config` on alertmanager.yml with its notification templates, as mounted.

    Why: Alertmanager refuses an invalid config and keeps the old routes.
    Bad: a route to a receiver that does not exist. Good: a config amtool accepts.
    """

    id = "alertmanager/config"

    def run(self, ctx: Context) -> list[Finding]:
        layout = alertmanager_layout(ctx)
        if layout is None:
            return []
        key = cache.Key("amtool", scrub=ctx.scratch).add_tree(layout.root)
        proc = binaries.run_cached("amtool", ["check-config", str(layout.config)], key)
        if proc.returncode == 0:
            return []
        cm = layout.files.get(str(layout.config))
        return [
            self.finding(
                ctx,
                f"amtool rejects alertmanager.yml: {amtool_output(proc.stdout + proc.stderr, layout)}",
                file=cm.source if cm else None,
                hint=VALUES_HINT
                + ", or the notification templates in charts/.../alertmanager/files/templates",
            )
        ]

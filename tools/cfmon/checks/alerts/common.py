"""What the per-alert convention checks share: a base class that lists one alert's problems."""

from __future__ import annotations

from cfmon.checks.base import Check, Context, Finding
from cfmon.rendered.rules import rules_source


class AlertConvention(Check):
    """Base of the per-alert convention checks: `problems(rule)` lists what is wrong with one alert."""

    hint: str

    def problems(self, rule: dict) -> list[str]:
        raise NotImplementedError

    def run(self, ctx: Context) -> list[Finding]:
        return [
            self.finding(
                ctx,
                f"alert {rule['alert']}: {p}",
                file=rules_source(ctx.project.root, file),
                hint=self.hint % rule["alert"],
            )
            for file, rule in ctx.rendered.model.alerts
            for p in self.problems(rule)
        ]

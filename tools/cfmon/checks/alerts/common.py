"""What the per-alert convention checks share: a base class that lists one alert's problems."""

from __future__ import annotations

from cfmon.checks.base import Check, Context, Finding


class AlertConvention(Check):
    """Base of the per-alert convention checks: `problems(rule)` lists what is wrong with one alert."""

    hint: str

    def problems(self, rule: dict) -> list[str]:
        raise NotImplementedError

    def run(self, ctx: Context) -> list[Finding]:
        return [
            self.rule_finding(
                ctx,
                f"alert {rule['alert']}: {p}",
                rule_file=file,
                rule=rule,
                hint=self.hint % rule["alert"],
            )
            for file, rule in ctx.rendered.model.alerts
            for p in self.problems(rule)
        ]

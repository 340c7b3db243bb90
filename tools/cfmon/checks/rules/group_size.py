"""`rules/group-size`: a rule group holds at most 20 rules.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

from cfmon.checks.base import Check, Context, Finding
from cfmon.rendered.rules import rules_source

MAX_GROUP_RULES = 20


class RuleGroupSize(Check):
    """A rule group holds at most 20 rules.

    Why: a group is evaluated sequentially in one goroutine; a huge group misses its interval and
    one slow rule delays every alert in it. Bad: 40 rules in `kubernetes-alerts`. Good: split by topic.
    """

    id = "rules/group-size"

    def run(self, ctx: Context) -> list[Finding]:
        return [
            self.finding(
                ctx,
                f"group {group.get('name')} has {len(group.get('rules') or [])} rules "
                f"(at most {MAX_GROUP_RULES})",
                file=rules_source(ctx.project.root, file),
                hint="split the group by topic in the mixin",
            )
            for file, group in ctx.rendered.model.rule_groups
            if len(group.get("rules") or []) > MAX_GROUP_RULES
        ]

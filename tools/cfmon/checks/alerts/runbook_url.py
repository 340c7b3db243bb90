"""`alerts/runbook-url`: every alert links a runbook `docs/runbooks/<AlertName>.md` that exists in
this repository and has the sections What it means, Diagnose and Mitigate.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

import re

from cfmon.catalog import conventions
from cfmon.checks.base import Check, Context, Finding

RUNBOOK_SECTIONS = ("## What it means", "## Diagnose", "## Mitigate")


class AlertRunbook(Check):
    """Every alert links a runbook `docs/runbooks/<AlertName>.md` that exists in this repository
    and has the sections What it means, Diagnose and Mitigate.

    Why: the page at 3 a.m. must say what the alert means and what to do.
    Bad: no `runbook_url`, or one naming a file that is not there. Good: a runbook per alert.
    """

    id = "alerts/runbook-url"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        # Runbooks live in this repository, under the base URL the Jsonnet alert helper writes.
        base = conventions().runbook_base_url + "/"
        for file, rule in ctx.rendered.model.alerts:
            name = rule["alert"]
            url = (rule.get("annotations") or {}).get("runbook_url", "")
            m = re.search(re.escape(base) + r"([A-Za-z0-9]+)\.md$", url)
            if not m or m.group(1) != name:
                findings.append(
                    self.rule_finding(
                        ctx,
                        f"alert {name}: runbook_url {url or '(none)'} is not {base}{name}.md",
                        rule_file=file,
                        rule=rule,
                        hint="build alerts with the rules.libsonnet alert() helper",
                    )
                )
                continue
            runbook = ctx.project.path(f"docs/runbooks/{name}.md")
            if not runbook.is_file():
                findings.append(
                    self.finding(
                        ctx,
                        f"alert {name}: docs/runbooks/{name}.md does not exist",
                        file=f"docs/runbooks/{name}.md",
                        hint="write it: what the alert means, how to diagnose, how to mitigate",
                    )
                )
                continue
            lines = {line.strip() for line in runbook.read_text().splitlines()}
            missing = [s for s in RUNBOOK_SECTIONS if s not in lines]
            if missing:
                findings.append(
                    self.finding(
                        ctx,
                        f"alert {name}: docs/runbooks/{name}.md lacks the section(s) {', '.join(missing)}",
                        file=f"docs/runbooks/{name}.md",
                        hint="a runbook says what the alert means, how to diagnose and how to mitigate",
                    )
                )
        return findings

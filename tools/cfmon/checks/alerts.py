"""Alert conventions that routing and on-call rely on, read from the rules as rendered."""

from __future__ import annotations

import re

from cfmon.checks.base import Check, Context, Finding
from cfmon.checks.prometheus import rules_source
from cfmon.checks.rules import rendered_rules

# Runbooks live in this repository; the URL the Jsonnet helper builds (mixin _config.runbookBaseUrl).
RUNBOOK_BASE = "https://github.com/creativeflow-ai/creativeflow-monitoring/blob/main/docs/runbooks/"
RUNBOOK_URL = re.compile(re.escape(RUNBOOK_BASE) + r"([A-Za-z0-9]+)\.md$")


RUNBOOK_SECTIONS = ("## What it means", "## Diagnose", "## Mitigate")
SEVERITIES = ("critical", "warning", "info")
PRIORITIES = ("P1", "P2", "P3", "P4")


def rendered_alerts(ctx: Context):
    """(rule file name, alert rule) for every alert in the rendered rule ConfigMaps."""
    for file, _, rule in rendered_rules(ctx.rendered.resources):
        if "alert" in rule:
            yield file, rule


class AlertConvention(Check):
    """Base of the per-alert convention checks: `problems(rule)` lists what is wrong with one alert."""

    hint: str

    def problems(self, rule: dict) -> list[str]:
        raise NotImplementedError

    def run(self, ctx: Context) -> list[Finding]:
        return [
            self.finding(
                ctx, f"alert {rule['alert']}: {p}", file=rules_source(file), hint=self.hint % rule["alert"]
            )
            for file, rule in rendered_alerts(ctx)
            for p in self.problems(rule)
        ]


class AlertLabels(AlertConvention):
    """Every alert has `severity`, `priority` and a `service` or `component` label.

    Why: Alertmanager routes on severity and team, on-call sorts by priority (MON-012), and the
    notification says which service is hurt. Bad: severity `high`, no priority, no service.
    Good: severity critical|warning|info, priority P1..P4, service or component.
    """

    id = "alerts/labels"
    hint = "set it in the mixin's rules.alert() call, or fix the values override prometheus.alerts.%s"

    def problems(self, rule: dict) -> list[str]:
        labels = rule.get("labels") or {}
        problems = []
        if labels.get("severity") not in SEVERITIES:
            problems.append(f"severity {labels.get('severity')!r} is not one of {', '.join(SEVERITIES)}")
        if labels.get("priority") not in PRIORITIES:
            problems.append(f"priority {labels.get('priority')!r} is not one of {', '.join(PRIORITIES)}")
        if not (labels.get("service") or labels.get("component")):
            problems.append("it has neither a service nor a component label")
        return problems


class AlertAnnotations(AlertConvention):
    """Every alert has a static `summary` ending with a period and a templated `description`.

    Why: the summary is the notification title (grouped alerts share it, so it must not vary);
    the description says which instance and how bad ({{ $labels.x }}, {{ $value }}).
    Bad: summary `High CPU on {{ $labels.instance }}`; a description with no template.
    Good: summary `Node CPU usage is high.`, description `CPU of {{ $labels.instance }} is {{ $value }}`.
    """

    id = "alerts/annotations"
    hint = "fix the summary/description in the mixin (or the values override prometheus.alerts.%s)"

    def problems(self, rule: dict) -> list[str]:
        ann = rule.get("annotations") or {}
        summary, description = str(ann.get("summary", "")), str(ann.get("description", ""))
        problems = []
        if not summary:
            problems.append("no summary")
        elif "{{" in summary or not summary.endswith("."):
            problems.append(f"summary {summary!r} must be static text ending with a period")
        if "{{" not in description:
            problems.append("description must be templated ({{ $labels.x }}, {{ $value }})")
        return problems


class AlertRunbook(Check):
    """Every alert links a runbook `docs/runbooks/<AlertName>.md` that exists in this repository
    and has the sections What it means, Diagnose and Mitigate.

    Why: the page at 3 a.m. must say what the alert means and what to do.
    Bad: no `runbook_url`, or one naming a file that is not there. Good: a runbook per alert.
    """

    id = "alerts/runbook-url"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        for file, rule in rendered_alerts(ctx):
            name = rule["alert"]
            url = (rule.get("annotations") or {}).get("runbook_url", "")
            m = RUNBOOK_URL.search(url)
            if not m or m.group(1) != name:
                findings.append(
                    self.finding(
                        ctx,
                        f"alert {name}: runbook_url {url or '(none)'} is not {RUNBOOK_BASE}{name}.md",
                        file=rules_source(file),
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

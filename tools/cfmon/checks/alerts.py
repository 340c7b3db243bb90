"""Alert conventions that routing and on-call rely on, read from the rules as rendered."""

from __future__ import annotations

import re

import yaml

from cfmon.checks.base import Check, Context, Finding
from cfmon.checks.prometheus import rules_source

# Runbooks live in this repository; the URL the Jsonnet helper builds (mixin _config.runbookBaseUrl).
RUNBOOK_BASE = "https://github.com/creativeflow-ai/creativeflow-monitoring/blob/main/docs/runbooks/"
RUNBOOK_URL = re.compile(re.escape(RUNBOOK_BASE) + r"([A-Za-z0-9]+)\.md$")


def rendered_alerts(ctx: Context):
    """(rule file name, alert rule) for every alert in the rendered rule ConfigMaps."""
    for res in ctx.objects("ConfigMap"):
        if res.obj.get("metadata", {}).get("labels", {}).get("app.kubernetes.io/name") != "prometheus":
            continue
        for name, payload in (res.obj.get("data") or {}).items():
            try:
                doc = yaml.safe_load(payload)
            except yaml.YAMLError:
                continue
            if not isinstance(doc, dict) or not isinstance(doc.get("groups"), list):
                continue
            for group in doc["groups"]:
                for rule in group.get("rules") or []:
                    if "alert" in rule:
                        yield name, rule


class AlertRunbook(Check):
    """Every alert links a runbook `docs/runbooks/<AlertName>.md` that exists in this repository.

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
            elif not ctx.project.path(f"docs/runbooks/{name}.md").is_file():
                findings.append(
                    self.finding(
                        ctx,
                        f"alert {name}: docs/runbooks/{name}.md does not exist",
                        file=f"docs/runbooks/{name}.md",
                        hint="write it: what the alert means, how to diagnose, how to mitigate",
                    )
                )
        return findings

"""Alertmanager: the rendered config and templates, and the routing tables, through the real amtool."""

from __future__ import annotations

import re

import yaml

from cfmon import tools
from cfmon.checks.base import Check, Context, Finding
from cfmon.layout import Layout, materialize
from cfmon.project import ROUTING_TESTS_DIR

CONTAINER = "alertmanager"
VALUES_HINT = "fix alertmanager.routes / receivers / inhibitRules in the values files"


def alertmanager_layout(ctx: Context) -> Layout | None:
    if "alertmanager" not in ctx.cache:
        present = any(
            c.get("name") == CONTAINER
            for r in ctx.objects()
            if r.kind in ("StatefulSet", "Deployment")
            for c in r.obj["spec"]["template"]["spec"].get("containers", [])
        )
        assert ctx.scratch is not None
        ctx.cache["alertmanager"] = (
            materialize(ctx.rendered.resources, CONTAINER, ctx.scratch / "alertmanager") if present else None
        )
    return ctx.cache["alertmanager"]


def _clean(text: str) -> str:
    return re.sub(r"/tmp/[^\s:\"']*?/alertmanager(?=/)", "", text.strip())


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
        proc = tools.run("amtool", ["check-config", str(layout.config)])
        if proc.returncode == 0:
            return []
        cm = layout.files.get(str(layout.config))
        return [
            self.finding(
                ctx,
                f"amtool rejects alertmanager.yml: {_clean(proc.stdout + proc.stderr)}",
                file=cm.source if cm else None,
                hint=VALUES_HINT,
            )
        ]


class AlertmanagerRouting(Check):
    """Routing tables (tests/routing/*.yaml): each label set reaches exactly the expected receivers.

    Uses `amtool config routes test --verify.receivers`. A case may list `environments`.
    Bad: a critical PostgreSQL alert that lands in the default e-mail. Good: it pages the DB team.
    """

    id = "alertmanager/routing"

    def run(self, ctx: Context) -> list[Finding]:
        layout = alertmanager_layout(ctx)
        if layout is None:
            return []
        findings = []
        for table in sorted(ctx.project.path(ROUTING_TESTS_DIR).glob("*.yaml")):
            rel = ctx.project.rel(table)
            try:
                doc = yaml.safe_load(table.read_text()) or {}
            except yaml.YAMLError as exc:
                findings.append(self.finding(ctx, f"not valid YAML: {exc}", file=rel))
                continue
            for i, case in enumerate(doc.get("cases") or []):
                envs = case.get("environments")
                if envs is not None and ctx.env not in envs:
                    continue
                want = case.get("receivers") or []
                labels = [f"{k}={v}" for k, v in sorted((case.get("labels") or {}).items())]
                proc = tools.run(
                    "amtool",
                    [
                        "config",
                        "routes",
                        "test",
                        "--config.file",
                        str(layout.config),
                        "--verify.receivers",
                        ",".join(want),
                        *labels,
                    ],
                )
                if proc.returncode != 0:
                    got = proc.stdout.strip().splitlines()[0] if proc.stdout.strip() else _clean(proc.stderr)
                    name = case.get("name") or f"case {i + 1}"
                    findings.append(
                        self.finding(
                            ctx,
                            f"{name}: {{{', '.join(labels)}}} routes to {got}, expected {','.join(want)}",
                            file=rel,
                            hint=VALUES_HINT + " (or the expected receivers in the table)",
                        )
                    )
        return findings

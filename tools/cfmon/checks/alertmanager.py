"""Alertmanager: the rendered config and templates, and the routing tables, through the real amtool."""

from __future__ import annotations

import re

from cfmon import cache, tools
from cfmon.checks.base import Check, Context, Finding, read_mapping
from cfmon.layout import Layout, has_container, materialize
from cfmon.project import ROUTING_TESTS_DIR

CONTAINER = "alertmanager"
VALUES_HINT = "fix alertmanager.routes / receivers / inhibitRules in the values files"


def alertmanager_layout(ctx: Context) -> Layout | None:
    if "alertmanager" not in ctx.cache:
        present = has_container(ctx.rendered.resources, CONTAINER)
        assert ctx.scratch is not None
        ctx.cache["alertmanager"] = (
            materialize(ctx.rendered.resources, CONTAINER, ctx.scratch / "alertmanager") if present else None
        )
    return ctx.cache["alertmanager"]


def _clean(text: str, layout: Layout) -> str:
    """amtool's verdict without banners, with paths shown as mounted."""
    text = re.sub(r"Checking '[^']*'\s*", "", text.replace(str(layout.root), ""))
    noise = ("Warning: --config.file", "SUCCESS", "Found:", "amtool: error: failed to validate")
    keep = [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.startswith(noise) and not line.startswith(" - ")
    ]
    return "\n    ".join(keep)


def _matcher(key: str, value: object) -> str:
    """A label for amtool, double-quoted so spaces, commas and quotes survive its parser."""
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'{key}="{escaped}"'


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
        proc = tools.run_cached("amtool", ["check-config", str(layout.config)], key)
        if proc.returncode == 0:
            return []
        cm = layout.files.get(str(layout.config))
        return [
            self.finding(
                ctx,
                f"amtool rejects alertmanager.yml: {_clean(proc.stdout + proc.stderr, layout)}",
                file=cm.source if cm else None,
                hint=VALUES_HINT
                + ", or the notification templates in charts/.../alertmanager/files/templates",
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
            doc, problem = read_mapping(self, ctx, table)
            if problem:
                findings.append(problem)
                continue
            for i, case in enumerate(doc.get("cases") or []):
                name = (case.get("name") if isinstance(case, dict) else None) or f"case {i + 1}"
                if not isinstance(case, dict) or not case.get("receivers") or not case.get("labels"):
                    findings.append(
                        self.finding(
                            ctx,
                            f"{name}: a case needs `labels` and a non-empty `receivers` list",
                            file=rel,
                            hint="write: - {name: ..., labels: {severity: critical}, receivers: [x]}",
                        )
                    )
                    continue
                envs = case.get("environments")
                if envs is not None and ctx.env not in envs:
                    continue
                want = [str(r) for r in case["receivers"]]
                labels = [_matcher(k, v) for k, v in sorted(case["labels"].items())]
                proc = tools.run_cached(
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
                    cache.Key("amtool", scrub=ctx.scratch).add_tree(layout.root),
                )
                if proc.returncode == 0:
                    continue
                got = proc.stdout.strip().splitlines()[0] if proc.stdout.strip() else ""
                if got and sorted(got.split(",")) == sorted(want):
                    continue  # same receivers, listed in another order
                shown = ", ".join(f"{k}={v}" for k, v in sorted(case["labels"].items()))
                findings.append(
                    self.finding(
                        ctx,
                        f"{name}: {{{shown}}} routes to {got or _clean(proc.stderr, layout)}, "
                        f"expected {','.join(want)}",
                        file=rel,
                        hint=VALUES_HINT + " (or the expected receivers in the table)",
                    )
                )
        return findings

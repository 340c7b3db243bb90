"""`alertmanager/routing`: routing tables (tests/routing/*.yaml): each label set reaches exactly the expected
receivers, through `amtool config routes test`.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

from cfmon import binaries, cache
from cfmon.checks.alertmanager.common import VALUES_HINT, alertmanager_layout, amtool_output
from cfmon.checks.base import Check, Context, Finding, read_mapping
from cfmon.project import ROUTING_TESTS_DIR
from cfmon.teams import continue_receivers


def _matcher(key: str, value: object) -> str:
    """A label for amtool, double-quoted so spaces, commas and quotes survive its parser."""
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'{key}="{escaped}"'


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
        tables = [(t, False) for t in sorted(ctx.project.path(ROUTING_TESTS_DIR).glob("*.yaml"))]
        tables += [(t.routing, True) for t in ctx.teams if t.routing.is_file()]
        extra = set().union(*(continue_receivers(vf) for vf in ctx.overlays))
        # Repository case name -> the team case (file) that says the overlay changes it.
        replaced: dict[str, str] = {}
        for table in (t for t, is_team in tables if is_team):
            doc, _problem = read_mapping(self, ctx, table)
            for case in doc.get("cases") or []:
                if isinstance(case, dict) and case.get("replaces"):
                    replaced[str(case["replaces"])] = f"{ctx.project.rel(table)}: {case.get('name')}"
        repo_names = set()
        for table, is_team in tables:
            rel = ctx.project.rel(table)
            doc, problem = read_mapping(self, ctx, table)
            if problem:
                findings.append(problem)
                continue
            if not is_team:
                repo_names |= {str(c.get("name")) for c in doc.get("cases") or [] if isinstance(c, dict)}
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
                if is_team and case.get("replaces") and str(case["replaces"]) not in repo_names:
                    findings.append(
                        self.finding(
                            ctx,
                            f"{name}: replaces {case['replaces']!r}, which is no case of tests/routing/",
                            file=rel,
                            hint="copy the repository case's `name` exactly",
                        )
                    )
                want = [str(r) for r in case["receivers"]]
                labels = [_matcher(k, v) for k, v in sorted(case["labels"].items())]
                proc = binaries.run_cached(
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
                added = set(got.split(",")) - set(want) if got else set()
                if not is_team and got and set(want) <= set(got.split(",")) and added <= extra:
                    continue  # an overlay's `continue` route also notifies its team: nothing lost
                if not is_team and name in replaced:
                    findings.append(
                        self.finding(
                            ctx,
                            f"{name}: the overlay changes where it goes; replaced by {replaced[name]}",
                            file=rel,
                            severity="info",
                        )
                    )
                    continue
                shown = ", ".join(f"{k}={v}" for k, v in sorted(case["labels"].items()))
                findings.append(
                    self.finding(
                        ctx,
                        f"{name}: {{{shown}}} routes to {got or amtool_output(proc.stderr, layout)}, "
                        f"expected {','.join(want)}",
                        file=rel,
                        hint=VALUES_HINT
                        + " (or the expected receivers in the table"
                        + (
                            "; if the overlay means to change this, add a case with "
                            f"`replaces: {name!r}` to values/teams/<team>/routing.yaml)"
                            if ctx.overlays and not is_team
                            else ")"
                        ),
                    )
                )
        return findings

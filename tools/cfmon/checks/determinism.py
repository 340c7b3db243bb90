"""Determinism: the same inputs render the same bytes, so Argo CD settles at Synced."""

from __future__ import annotations

import difflib
import re

from cfmon.checks.base import Check, Context, Finding

# Sprig/Helm functions whose output changes from run to run or depends on the live cluster.
FORBIDDEN = (
    "lookup",
    "randAlphaNum",
    "randAlpha",
    "randNumeric",
    "randAscii",
    "randBytes",
    "randInt",
    "genCA",
    "genSelfSignedCert",
    "genSignedCert",
    "genPrivateKey",
    "uuidv4",
    "now",
    "date",
    "dateInZone",
    "unixEpoch",
)
_ACTION = re.compile(r"\{\{(?!-?\s*/\*)(.*?)\}\}", re.S)  # template actions, not {{/* comments */}}
_CALL = re.compile(r"(?<![\w.\"$])(" + "|".join(FORBIDDEN) + r")\b")


class RenderTwice(Check):
    """Rendering the same inputs twice is byte-identical.

    Why: a diff on every sync hides real changes and restarts pods. Bad: a random password or a
    timestamp annotation. Good: output that depends only on the chart and the values.
    """

    id = "render/deterministic"

    def run(self, ctx: Context) -> list[Finding]:
        if ctx.rerender is None:
            return []
        again = ctx.rerender()
        if again == ctx.rendered.text:
            return []
        diff = list(
            difflib.unified_diff(ctx.rendered.text.splitlines(), again.splitlines(), lineterm="", n=0)
        )
        sample = "; ".join(line for line in diff[2:8] if line[:1] in "+-")
        return [
            self.finding(
                ctx,
                f"two renders differ: {sample}",
                hint="remove random, time- or cluster-dependent functions from templates",
            )
        ]


class ForbiddenFunctions(Check):
    """No `lookup`, random, certificate-generating or time functions, and no Helm hooks.

    Why: they make renders differ run to run or depend on the live cluster, and hooks never settle
    in Argo CD. Bad: `{{ randAlphaNum 16 }}`. Good: read secrets from an existing Secret.
    """

    id = "chart/forbidden-functions"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        for path in sorted(ctx.project.chart.rglob("*")):
            if not path.is_file() or "templates" not in path.relative_to(ctx.project.chart).parts:
                continue
            text = path.read_text()
            for action in _ACTION.finditer(text):
                body = re.sub(r'"(?:[^"\\]|\\.)*"', '""', action.group(1))  # not inside strings
                m = _CALL.search(body)
                if m:
                    findings.append(
                        self.finding(
                            ctx,
                            f"template calls {m.group(1)}, which is not deterministic",
                            file=ctx.project.rel(path),
                            line=text.count("\n", 0, action.start()) + 1,
                            hint="take the value from values or an existing Secret instead",
                        )
                    )
        for res in ctx.objects():
            hooks = [
                k
                for k in (res.obj.get("metadata", {}).get("annotations") or {})
                if k.startswith("helm.sh/hook")
            ]
            if hooks:
                findings.append(
                    self.finding(
                        ctx,
                        f"{res.key} is a Helm hook ({hooks[0]})",
                        file=res.source,
                        hint="render it as a normal object; hooks never settle in Argo CD",
                    )
                )
        return findings

"""`chart/forbidden-functions`: no `lookup`, random, certificate-generating or time functions in the
chart's templates, and no Helm hooks.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

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

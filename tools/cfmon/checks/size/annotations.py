"""`size/annotations`: no object with more than 256 KiB of annotations.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

import json

from cfmon.checks.base import Check, Context, Finding

ANNOTATIONS_BUDGET = 256 * 1024  # the API server's limit on all annotations of an object


class AnnotationSize(Check):
    """No object with more than 256 KiB of annotations (the API server's hard limit).

    Bad: a rendered config stored in an annotation. Good: checksums only.
    """

    id = "size/annotations"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        for res in ctx.objects():
            template = ((res.obj.get("spec") or {}).get("template") or {}).get("metadata") or {}
            for where, meta in (("", res.obj.get("metadata") or {}), (" (pod template)", template)):
                size = len(json.dumps(meta.get("annotations") or {}).encode())
                if size > ANNOTATIONS_BUDGET:
                    findings.append(
                        self.finding(
                            ctx,
                            f"{res.key}{where} has {size // 1024} KiB of annotations",
                            file=res.source,
                            hint="move the payload into a ConfigMap",
                        )
                    )
        return findings

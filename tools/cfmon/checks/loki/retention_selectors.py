"""`loki/retention-selectors`: Every retention class selects streams with a LogQL stream selector Loki
can parse.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

from cfmon import logql
from cfmon.checks.base import Check, Context, Finding
from cfmon.checks.loki.common import (
    _stream_finding,
    rendered_configs,
    retention_streams,
)
from cfmon.rendered.loki import parsed


def selector_matchers(selector: str) -> tuple[logql.Matcher, ...]:
    """The matchers of a retention class's selector, or LogqlError. `$$` is a literal `$` once
    Loki has expanded its environment (-config.expand-env)."""
    expr = logql.parse(selector.replace("$$", "$"))
    if not isinstance(expr, logql.LogQuery) or expr.pipeline:
        raise logql.LogqlError('only a stream selector {label="value", ...} selects a retention class')
    return expr.matchers


class LokiRetentionSelectors(Check):
    """Every retention class selects streams with a LogQL stream selector Loki can parse.

    Why: Loki parses `retention_stream` selectors at start and refuses the whole config on a bad
    one; with -config.expand-env a lone `$` is eaten as an environment variable first.
    Bad: `retention="audit"` (no braces), `{retention=~".*"}` (matches every stream),
    `{app=~"api$"}` (write `$$`). Good: `{retention="audit"}`.
    """

    id = "loki/retention-selectors"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        hint = (
            'write a stream selector such as {retention="audit"} in loki.retention.streams.<class>.selector'
        )
        for cfg, config in parsed(rendered_configs(ctx)):
            for i, stream in enumerate(retention_streams(config)):
                selector = stream.get("selector")
                if not isinstance(selector, str):
                    findings.append(_stream_finding(self, ctx, cfg, i, stream, "has no selector", hint))
                    continue
                if "$" in selector.replace("$$", ""):
                    findings.append(
                        _stream_finding(
                            self,
                            ctx,
                            cfg,
                            i,
                            stream,
                            "has a lone `$`, which Loki expands as an environment variable "
                            "(-config.expand-env) before it reads the selector",
                            "write `$$` for a literal `$`",
                        )
                    )
                    continue
                try:
                    selector_matchers(selector)
                except logql.LogqlError as exc:
                    findings.append(
                        _stream_finding(
                            self, ctx, cfg, i, stream, f"is not a LogQL stream selector: {exc}", hint
                        )
                    )
        return findings

"""`loki/audit-retention`: The audit class keeps security audit logs at least 365 days, and no class
cuts that short.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

import re

from cfmon import logql
from cfmon.checks.base import Check, Context, Finding
from cfmon.checks.loki.common import (
    DAY,
    _stream_finding,
    prom_seconds,
    rendered_configs,
    retention_streams,
)
from cfmon.checks.loki.retention_selectors import selector_matchers
from cfmon.rendered.loki import parsed

AUDIT_MIN_DAYS = 365  # compliance: security audit logs stay queryable (active) 12+ months


def _holds(m: logql.Matcher, value: str) -> bool:
    if m.op == "=":
        return value == m.value
    if m.op == "!=":
        return value != m.value
    matched = re.fullmatch(m.value, value) is not None
    return matched if m.op == "=~" else not matched


def selects_audit(matchers: tuple[logql.Matcher, ...]) -> bool:
    """The class is the audit tier: it selects retention="audit" (the agents' label) exactly."""
    return any(
        m.name == "retention" and m.op in ("=", "=~") and m.value == "audit" for m in matchers
    ) and all(_holds(m, "audit") for m in matchers if m.name == "retention")


def may_match_audit(matchers: tuple[logql.Matcher, ...]) -> bool:
    """Whether some audit stream (retention="audit") could match these matchers."""
    return all(_holds(m, "audit") for m in matchers if m.name == "retention")


class LokiAuditRetention(Check):
    """The audit class keeps security audit logs at least 365 days, and no class cuts that short.

    Why: compliance needs security audit logs queryable for 12+ months. Loki applies the
    matching class with the highest priority (on a tie, the shortest period), so a class that may
    match audit streams with an equal or higher priority and a shorter period wins over the audit class.
    Bad: `{retention="audit"}` for 90d, or a team class `{namespace="payments"}` for 30d at the
    audit class's priority. Good: `{retention="audit"}` for 365d or more at the highest priority.
    """

    id = "loki/audit-retention"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        minimum = AUDIT_MIN_DAYS * DAY
        for cfg, config in parsed(rendered_configs(ctx)):
            classes = []
            for i, stream in enumerate(retention_streams(config)):
                try:
                    matchers = selector_matchers(str(stream.get("selector", "")))
                except logql.LogqlError:
                    continue  # loki/retention-selectors reports it
                classes.append(
                    (i, stream, matchers, prom_seconds(stream.get("period")), stream.get("priority", 0))
                )
            audits = [c for c in classes if selects_audit(c[2])]
            for i, stream, _, seconds, _ in audits:
                if seconds is not None and seconds < minimum:
                    findings.append(
                        _stream_finding(
                            self,
                            ctx,
                            cfg,
                            i,
                            stream,
                            f"the audit class keeps logs {stream.get('period')}: security audit logs "
                            f"stay at least {AUDIT_MIN_DAYS}d",
                            f"set loki.retention.streams.<audit class>.period to {AUDIT_MIN_DAYS}d or more",
                            "period",
                        )
                    )
            if not audits:
                continue
            top = max((c[4] for c in audits if isinstance(c[4], int)), default=0)
            for i, stream, matchers, seconds, priority in classes:
                if selects_audit(matchers) or not may_match_audit(matchers) or seconds is None:
                    continue
                if isinstance(priority, int) and priority >= top and seconds < minimum:
                    findings.append(
                        _stream_finding(
                            self,
                            ctx,
                            cfg,
                            i,
                            stream,
                            f'may match audit streams (it does not exclude retention="audit") at priority '
                            f"{priority}, not below the audit class's {top}, with a shorter period "
                            f"({stream.get('period')}): it would cut audit logs short",
                            'add retention!="audit" to its selector or give it a lower priority '
                            "than the audit class",
                        )
                    )
        return findings

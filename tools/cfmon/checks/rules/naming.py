"""`rules/naming`: alert names are CamelCase; recording rules are named level:metric:operations.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

import re

from cfmon.checks.base import Check, Context, Finding

ALERT_NAME = re.compile(r"[A-Z][A-Za-z0-9]*")
RECORD_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z0-9_]+:[a-zA-Z0-9_]+")


class RuleNaming(Check):
    """Alert names are CamelCase; recording rules are named level:metric:operations.

    Why: routing, silences, runbook file names and dashboards refer to these names.
    Bad: `api_gateway_errors` as an alert, `gateway_error_ratio` as a record.
    Good: `ApiGatewayErrorRatioHigh`, `service:http_requests_errors:ratio_rate5m`.
    """

    id = "rules/naming"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        for file, group, rule in ctx.rendered.model.rules:
            if "alert" in rule and not ALERT_NAME.fullmatch(str(rule["alert"])):
                findings.append(
                    self.rule_finding(
                        ctx,
                        f"alert {rule['alert']!r} (group {group}) is not CamelCase",
                        rule_file=file,
                        rule=rule,
                        hint="name alerts like PostgresReplicationLagHigh",
                    )
                )
            if "record" in rule and not RECORD_NAME.fullmatch(str(rule["record"])):
                findings.append(
                    self.rule_finding(
                        ctx,
                        f"recording rule {rule['record']!r} (group {group}) is not level:metric:operations",
                        rule_file=file,
                        rule=rule,
                        hint="e.g. service:http_requests:rate5m",
                    )
                )
        return findings

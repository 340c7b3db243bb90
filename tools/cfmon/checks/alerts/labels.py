"""`alerts/labels`: every alert has `severity`, `priority` and a `service` or `component` label.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

from cfmon.checks.alerts.common import AlertConvention

SEVERITIES = ("critical", "warning", "info")
PRIORITIES = ("P1", "P2", "P3", "P4")


class AlertLabels(AlertConvention):
    """Every alert has `severity`, `priority` and a `service` or `component` label.

    Why: Alertmanager routes on severity and team, on-call sorts by priority (MON-012), and the
    notification says which service is hurt. Bad: severity `high`, no priority, no service.
    Good: severity critical|warning|info, priority P1..P4, service or component.
    """

    id = "alerts/labels"
    hint = "set it in the mixin's rules.alert() call, or fix the values override prometheus.alerts.%s"

    def problems(self, rule: dict) -> list[str]:
        labels = rule.get("labels") or {}
        problems = []
        if labels.get("severity") not in SEVERITIES:
            problems.append(f"severity {labels.get('severity')!r} is not one of {', '.join(SEVERITIES)}")
        if labels.get("priority") not in PRIORITIES:
            problems.append(f"priority {labels.get('priority')!r} is not one of {', '.join(PRIORITIES)}")
        if not (labels.get("service") or labels.get("component")):
            problems.append("it has neither a service nor a component label")
        return problems

"""`alerts/annotations`: every alert has a static `summary` ending with a period and a templated
`description`.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

from cfmon.checks.alerts.common import AlertConvention


class AlertAnnotations(AlertConvention):
    """Every alert has a static `summary` ending with a period and a templated `description`.

    Why: the summary is the notification title (grouped alerts share it, so it must not vary);
    the description says which instance and how bad ({{ $labels.x }}, {{ $value }}).
    Bad: summary `High CPU on {{ $labels.instance }}`; a description with no template.
    Good: summary `Node CPU usage is high.`, description `CPU of {{ $labels.instance }} is {{ $value }}`.
    """

    id = "alerts/annotations"
    hint = "fix the summary/description in the mixin (or the values override prometheus.alerts.%s)"

    def problems(self, rule: dict) -> list[str]:
        ann = rule.get("annotations") or {}
        summary, description = str(ann.get("summary", "")), str(ann.get("description", ""))
        problems = []
        if not summary:
            problems.append("no summary")
        elif "{{" in summary or not summary.endswith("."):
            problems.append(f"summary {summary!r} must be static text ending with a period")
        if "{{" not in description:
            problems.append("description must be templated ({{ $labels.x }}, {{ $value }})")
        return problems

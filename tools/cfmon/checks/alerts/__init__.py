"""Alert conventions that routing and on-call rely on, read from the rules as rendered."""

from __future__ import annotations

from cfmon.checks.alerts.annotations import AlertAnnotations
from cfmon.checks.alerts.common import AlertConvention
from cfmon.checks.alerts.dashboard_url import AlertDashboardUrl
from cfmon.checks.alerts.labels import AlertLabels
from cfmon.checks.alerts.runbook_url import AlertRunbook

__all__ = ["AlertAnnotations", "AlertConvention", "AlertDashboardUrl", "AlertLabels", "AlertRunbook"]

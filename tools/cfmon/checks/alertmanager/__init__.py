"""Alertmanager: the rendered config and templates, and the routing tables, through the real amtool."""

from __future__ import annotations

from cfmon.checks.alertmanager.common import VALUES_HINT, alertmanager_layout, amtool_output
from cfmon.checks.alertmanager.config import AlertmanagerConfig
from cfmon.checks.alertmanager.routing import AlertmanagerRouting

__all__ = ["VALUES_HINT", "AlertmanagerConfig", "AlertmanagerRouting", "alertmanager_layout", "amtool_output"]

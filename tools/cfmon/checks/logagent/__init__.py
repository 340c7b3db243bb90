"""The log agents (Promtail, Alloy): their rendered configs checked offline, since neither can run here."""

from __future__ import annotations

from cfmon.checks.logagent.agent_labels import AgentLabels
from cfmon.checks.logagent.agent_push_url import AgentPushUrl
from cfmon.checks.logagent.agent_schema import AgentSchema
from cfmon.checks.logagent.common import PIPELINE, parse_error

__all__ = ["PIPELINE", "AgentLabels", "AgentPushUrl", "AgentSchema", "parse_error"]

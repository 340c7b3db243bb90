"""What the log agent checks share: where the pipeline is templated, and a config that does not
parse reported once (by logs/agent-schema) while the other checks stop there.
"""

from __future__ import annotations

import yaml

from cfmon import alloy
from cfmon.checks.base import Check, Context, Finding
from cfmon.rendered.logagents import AgentConfig
from cfmon.serialize import parse_yaml

PIPELINE = "charts/creativeflow-monitoring/templates/_logagent.tpl"


def parse_error(check: Check, ctx: Context, cfg: AgentConfig) -> Finding | None:
    """A config that does not parse is logs/agent-schema's finding; the other checks stop there."""
    try:
        if cfg.agent == "alloy":
            alloy.parse(cfg.text)
        else:
            parse_yaml(cfg.text)
    except (alloy.AlloySyntaxError, yaml.YAMLError):
        return check.finding(
            ctx,
            f"{cfg.where}: not checked, the config does not parse (see logs/agent-schema)",
            file=cfg.resource.source,
        )
    return None

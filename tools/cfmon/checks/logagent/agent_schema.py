"""`logs/agent-schema`: the agent config uses only keys and components we know, with the right
types.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

from cfmon.checks.base import Check, Context, Finding
from cfmon.checks.logagent.common import PIPELINE
from cfmon.logagents import alloy_problems, promtail_problems


class AgentSchema(Check):
    """The agent config uses only keys and components we know, with the right types.

    Promtail: promtail.yaml against a JSON schema of the keys the chart emits (unknown keys and
    wrong types are errors, with the key path). Alloy: config.alloy parsed (a syntax error names
    its line), then every component, block and attribute against the table in cfmon/alloy_components.py,
    and every reference to a component that exists.
    Why: an agent refuses a config it cannot load and ships no logs at all; nothing here can run it.
    Bad: `stage.jsn {}`, `batchwait: 1` (not a duration), `forward_to = [loki.write.typo.receiver]`.
    Good: the render of either agent.
    """

    id = "logs/agent-schema"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        for cfg in ctx.rendered.model.log_agents:
            problems = promtail_problems(cfg.text) if cfg.agent == "promtail" else alloy_problems(cfg.text)
            for p in problems:
                findings.append(
                    self.finding(
                        ctx,
                        f"{cfg.where}: {p.where}: {p.message}",
                        file=cfg.resource.source,
                        hint=f"fix the template that writes it (the pipeline: {PIPELINE}; the agent's "
                        f"_helpers.tpl) or the {cfg.agent} values it reads",
                    )
                )
        return findings

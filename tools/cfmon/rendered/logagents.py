"""The rendered log agents (Promtail, Alloy): each agent's config, found in its ConfigMap as text
(none when global.logs.agent is `none`). cfmon.logagents reads what the configs say."""

from __future__ import annotations

from dataclasses import dataclass

from cfmon.manifests import Resource

# Agent (its pods' app.kubernetes.io/name) -> the ConfigMap key holding its config.
AGENTS = {"promtail": "promtail.yaml", "alloy": "config.alloy"}


@dataclass(frozen=True)
class AgentConfig:
    agent: str
    resource: Resource  # the ConfigMap
    key: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.resource.kind}/{self.resource.name} {self.key}"


def agent_configs(resources: list[Resource]) -> list[AgentConfig]:
    """The rendered agent configs (none when global.logs.agent is `none`)."""
    out = []
    for res in resources:
        agent = ((res.obj.get("metadata") or {}).get("labels") or {}).get("app.kubernetes.io/name")
        if res.kind == "ConfigMap" and agent in AGENTS:
            text = (res.obj.get("data") or {}).get(AGENTS[agent])
            if isinstance(text, str):
                out.append(AgentConfig(agent, res, AGENTS[agent], text))
    return out

"""One render, as every reader sees it: the rendered objects and, parsed once on first use, each part
of the stack they configure. Checks reach it as `ctx.rendered.model`; docs, preview, the sandbox,
conformance and the benchmarks build one from the objects they rendered.

Every part is computed once per render and shared by every reader: read it, never change it.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from cfmon.manifests import Resource
from cfmon.mounts import Mounts
from cfmon.rendered.alertmanager import alertmanager_mounts
from cfmon.rendered.grafana import (
    Dashboard,
    provisioned_datasources,
    rendered_dashboards,
    rendered_grafana_root_url,
)
from cfmon.rendered.logagents import AgentConfig, agent_configs
from cfmon.rendered.loki import LokiConfig, loki_configs
from cfmon.rendered.prometheus import prometheus_mounts
from cfmon.rendered.rules import linked_grafana_urls, rendered_groups


class Render:
    def __init__(self, resources: list[Resource]) -> None:
        self.resources = resources
        self._mounts: dict[tuple[str, Path], Mounts | None] = {}

    # ---- Prometheus rules ------------------------------------------------------------------------

    @cached_property
    def rule_groups(self) -> list[tuple[str, dict]]:
        """(rule file name, group) of every group of the rule ConfigMaps, in file order."""
        return list(rendered_groups(self.resources))

    @cached_property
    def rules(self) -> list[tuple[str, str, dict]]:
        """(rule file name, group name, rule) of every rule."""
        return [
            (file, str(group.get("name")), rule)
            for file, group in self.rule_groups
            for rule in group.get("rules") or []
            if isinstance(rule, dict)
        ]

    @cached_property
    def alerts(self) -> list[tuple[str, dict]]:
        """(rule file name, alert rule) of every alert."""
        return [(file, rule) for file, _, rule in self.rules if "alert" in rule]

    @cached_property
    def linked_grafana_urls(self) -> set[str]:
        """The Grafana URLs the alerts' dashboard_url links start with (one, when all is well)."""
        return linked_grafana_urls(rule for _, rule in self.alerts)

    # ---- Grafana -----------------------------------------------------------------------------------

    @cached_property
    def dashboards(self) -> list[Dashboard]:
        """Every dashboard of the dashboard ConfigMaps, in (folder, file) order."""
        return rendered_dashboards(self.resources)

    @cached_property
    def datasources(self) -> dict[str, str]:
        """uid -> type of every provisioned datasource."""
        return provisioned_datasources(self.resources)

    @cached_property
    def grafana_root_url(self) -> str | None:
        """The URL Grafana serves at (its grafana.ini root_url); None without Grafana."""
        return rendered_grafana_root_url(self.resources)

    # ---- Loki and the log agents ---------------------------------------------------------------------

    @cached_property
    def loki(self) -> list[LokiConfig]:
        """loki.yaml of every Loki ConfigMap, parsed (or why not)."""
        return loki_configs(self.resources)

    @cached_property
    def log_agents(self) -> list[AgentConfig]:
        """The log agents' configs (none when global.logs.agent is `none`)."""
        return agent_configs(self.resources)

    # ---- the pods' mounted files ----------------------------------------------------------------------

    def prometheus(self, root: Path) -> Mounts:
        """The Prometheus pod's files laid out under root as it mounts them (written once per root)."""
        key = ("prometheus", root)
        if key not in self._mounts:
            self._mounts[key] = prometheus_mounts(self.resources, root)
        mounts = self._mounts[key]
        assert mounts is not None
        return mounts

    def alertmanager(self, root: Path) -> Mounts | None:
        """The Alertmanager pod's files under root; None when the render has no Alertmanager."""
        key = ("alertmanager", root)
        if key not in self._mounts:
            self._mounts[key] = alertmanager_mounts(self.resources, root)
        return self._mounts[key]

"""Team overlays: values/teams/<team>/ holds a team's values and the tests that prove them.

    values/teams/<team>/values.yaml    the overlay (helm -f values/<env>.yaml -f this file)
    values/teams/<team>/routing.yaml   routing cases, as tests/routing/*.yaml; a case may say
                                       `replaces: <name of a repository case>` when the overlay
                                       legitimately changes where that label set goes
    values/teams/<team>/rules/*.yaml   promtool rule tests, as tests/rules/*.yaml

`cfmon check` checks every team's overlay in every environment on top of values/<env>.yaml;
`cfmon check -f values/teams/<team>/values.yaml` checks one. An overlay that overrides an alert's
`params`, `for` or `severity` replaces the repository's tests of that alert (they assert the
defaults) with the team's own, which must exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cfmon.project import VALUES_DIR, Project
from cfmon.valuesfile import ValuesFile

TEAMS_DIR = VALUES_DIR / "teams"
# The overrides that change what an alert's tests assert (labels/annotations/priority do not
# change when or whether it fires).
BEHAVIOUR_KEYS = ("params", "for", "severity", "enabled")


@dataclass(frozen=True)
class Team:
    name: str
    directory: Path

    @property
    def values(self) -> Path:
        return self.directory / "values.yaml"

    @property
    def routing(self) -> Path:
        return self.directory / "routing.yaml"

    @property
    def rule_tests(self) -> list[Path]:
        return sorted((self.directory / "rules").glob("*.yaml"))


def discover(project: Project) -> list[Team]:
    root = project.path(TEAMS_DIR)
    if not root.is_dir():
        return []
    return [Team(d.name, d) for d in sorted(root.iterdir()) if d.is_dir() and (d / "values.yaml").is_file()]


def team_of(project: Project, overlay: Path) -> Team | None:
    """The team whose values.yaml this overlay is, if any."""
    path = overlay.resolve()
    for team in discover(project):
        if team.values.resolve() == path:
            return team
    return None


def overridden_alerts(vf: ValuesFile) -> dict[str, list[str]]:
    """Alert -> the behaviour keys this file overrides (prometheus.alerts.<Alert>.<key>)."""
    alerts = vf.get(("prometheus", "alerts")) or {}
    out = {}
    if isinstance(alerts, dict):
        for name, spec in alerts.items():
            keys = [k for k in BEHAVIOUR_KEYS if isinstance(spec, dict) and k in spec]
            if keys:
                out[str(name)] = keys
    return out


def continue_receivers(vf: ValuesFile) -> set[str]:
    """Receivers of the routes this file adds with `continue: true` (they add a receiver to a
    label set, and take none away)."""
    routes = vf.get(("alertmanager", "routes")) or {}
    found = set()
    if isinstance(routes, dict):
        for spec in routes.values():
            if isinstance(spec, dict) and spec.get("continue") is True and spec.get("receiver"):
                found.add(str(spec["receiver"]))
    return found

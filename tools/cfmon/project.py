"""Where things are in the repository, and the fixed parameters of every render."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cfmon.errors import UserError

CHART = Path("charts/creativeflow-monitoring")
VALUES_DIR = Path("values")
GOLDEN_DIR = Path("tests/golden")
RULE_TESTS_DIR = Path("tests/rules")
ROUTING_TESTS_DIR = Path("tests/routing")
JSONNET_BUILD_DIR = Path("jsonnet/build")
RENDER_DIR = Path("build/rendered")

# Pinned render parameters: the same output on every machine and in Argo CD.
RELEASE = "creativeflow"
NAMESPACE = "monitoring"
# Oldest and newest Kubernetes the chart supports (Chart.yaml kubeVersion); renders use the oldest,
# schema checks run against both.
KUBE_VERSIONS = ("1.30.0", "1.37.0")


@dataclass(frozen=True)
class Project:
    root: Path

    def path(self, rel: str | Path) -> Path:
        return self.root / rel

    def rel(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(path)

    @property
    def chart(self) -> Path:
        return self.root / CHART

    def environments(self) -> list[str]:
        return sorted(p.stem for p in (self.root / VALUES_DIR).glob("*.yaml"))

    def env_values(self, env: str) -> Path:
        path = self.root / VALUES_DIR / f"{env}.yaml"
        if not path.is_file():
            known = ", ".join(self.environments()) or "none"
            raise UserError(
                f"no values file for environment {env!r}",
                file=str(VALUES_DIR / f"{env}.yaml"),
                hint=f"use one of: {known} (or 'all'), or create values/{env}.yaml",
            )
        return path

    def select_envs(self, env: str) -> list[str]:
        if env == "all":
            envs = self.environments()
            if not envs:
                raise UserError(
                    "no environments found", file=str(VALUES_DIR), hint="add values/<env>.yaml files"
                )
            return envs
        self.env_values(env)
        return [env]

    def render_dir(self, env: str) -> Path:
        return self.root / RENDER_DIR / env

    def golden_dir(self, env: str) -> Path:
        return self.root / GOLDEN_DIR / env


def find_root(start: Path | None = None) -> Project:
    here = (start or Path.cwd()).resolve()
    for cand in (here, *here.parents):
        if (cand / CHART / "Chart.yaml").is_file() and (cand / "pyproject.toml").is_file():
            return Project(cand)
    raise UserError(
        "not inside the creativeflow-monitoring repository",
        file=str(here),
        hint="run cfmon from the repository (or a subfolder of it)",
    )

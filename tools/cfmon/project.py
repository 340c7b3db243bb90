"""Where things are in the repository, and the fixed parameters of every render."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cfmon.errors import UserError

CHART = Path("charts/creativeflow-monitoring")
VALUES_DIR = Path("values")
GOLDEN_DIR = Path("tests/golden")
RULE_TESTS_DIR = Path("tests/rules")
ROUTING_TESTS_DIR = Path("tests/routing")
JSONNET_BUILD_DIR = Path("jsonnet/build")
RENDER_DIR = Path("build/rendered")
CACHE_DIR = Path("build/cache")

# Pinned render parameters: the same output on every machine and in Argo CD.
RELEASE = "creativeflow"
NAMESPACE = "monitoring"


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


@lru_cache(maxsize=1)
def _schema_versions() -> tuple[tuple[int, int], ...]:
    """The Kubernetes versions kubernetes-validate has schemas for (a directory listing, read once)."""
    import kubernetes_validate.utils as kv

    found = (re.match(r"v?(\d+)\.(\d+)", v) for v in kv.all_versions())
    return tuple(sorted({(int(m.group(1)), int(m.group(2))) for m in found if m}))


def kube_versions(project: Project) -> tuple[str, str]:
    """Oldest and newest Kubernetes the chart supports: Chart.yaml `kubeVersion` (">=A <B"), the
    newest being the last version below B that kubernetes-validate has schemas for. Renders use
    the oldest; schema checks run against both."""
    from cfmon.serialize import parse_yaml

    chart_yaml = project.chart / "Chart.yaml"
    constraint = str((parse_yaml(chart_yaml.read_text()) or {}).get("kubeVersion", ""))
    low = re.search(r">=\s*v?(\d+)\.(\d+)", constraint)
    high = re.search(r"<\s*v?(\d+)\.(\d+)", constraint)
    if not low or not high:
        raise UserError(
            f"kubeVersion {constraint!r} needs a lower and an upper bound",
            file=project.rel(chart_yaml),
            key="kubeVersion",
            hint='write ">=1.30.0-0 <1.38.0-0"',
        )
    lo, hi = (int(low.group(1)), int(low.group(2))), (int(high.group(1)), int(high.group(2)))
    known = _schema_versions()
    supported = [v for v in known if lo <= v < hi]
    if not supported or supported[0] != lo:
        raise UserError(
            f"kubernetes-validate has no schemas for Kubernetes {lo[0]}.{lo[1]}",
            file=project.rel(chart_yaml),
            key="kubeVersion",
            hint="raise the lower bound or upgrade kubernetes-validate",
        )
    newest = supported[-1]
    return f"{lo[0]}.{lo[1]}.0", f"{newest[0]}.{newest[1]}.0"

"""cfmon golden: the rendered output against the reviewed goldens in tests/golden/<env>/."""

from __future__ import annotations

import shutil

from cfmon.diffing import ResourceDiff, diff_resources
from cfmon.errors import UserError
from cfmon.manifests import load_dir
from cfmon.project import Project
from cfmon.render import STAMP, require_rendered


def compare(project: Project, env: str) -> list[ResourceDiff]:
    rendered, golden = require_rendered(project, env), project.golden_dir(env)
    if not golden.is_dir():
        raise UserError(
            f"no golden files for {env}",
            file=project.rel(golden),
            hint=f"review the render, then `cfmon golden --env {env} --update`",
        )
    return diff_resources(load_dir(golden), load_dir(rendered))


def update(project: Project, env: str) -> None:
    rendered, golden = require_rendered(project, env), project.golden_dir(env)
    if golden.exists():
        shutil.rmtree(golden)
    shutil.copytree(rendered, golden, ignore=shutil.ignore_patterns(STAMP))

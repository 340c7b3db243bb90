"""cfmon golden: the rendered output against the reviewed goldens in tests/golden/<env>/."""

from __future__ import annotations

import shutil

from cfmon.diffing import ResourceDiff, diff_resources
from cfmon.errors import UserError
from cfmon.manifests import load_dir
from cfmon.project import Project


def compare(project: Project, env: str) -> list[ResourceDiff]:
    rendered, golden = project.render_dir(env), project.golden_dir(env)
    if not rendered.is_dir():
        raise UserError(
            f"environment {env} is not rendered",
            file=project.rel(rendered),
            hint=f"run `cfmon render --env {env}` first",
        )
    if not golden.is_dir():
        raise UserError(
            f"no golden files for {env}",
            file=project.rel(golden),
            hint=f"review the render, then `cfmon golden --env {env} --update`",
        )
    return diff_resources(load_dir(golden), load_dir(rendered))


def update(project: Project, env: str) -> None:
    rendered, golden = project.render_dir(env), project.golden_dir(env)
    if not rendered.is_dir():
        raise UserError(
            f"environment {env} is not rendered",
            file=project.rel(rendered),
            hint=f"run `cfmon render --env {env}` first",
        )
    if golden.exists():
        shutil.rmtree(golden)
    shutil.copytree(rendered, golden)

"""cfmon diff --from REF: what a change does to each environment, per resource."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from cfmon.diffing import ResourceDiff, diff_resources
from cfmon.errors import UserError
from cfmon.manifests import parse_documents, split_by_source
from cfmon.project import CHART, Project
from cfmon.render import helm_output


def _git(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=project.root, capture_output=True, text=True)


def _resources(text: str) -> list:
    out = []
    for rel, body in split_by_source(text).items():
        out += parse_documents(body, source=str(CHART / rel), origin=rel)
    return out


def diff_from(
    project: Project, ref: str, envs: list[str], overlays: list[Path]
) -> dict[str, list[ResourceDiff]]:
    if _git(project, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode != 0:
        raise UserError(f"git does not know {ref!r}", hint="pass a commit, branch or tag (e.g. HEAD~1, main)")
    results: dict[str, list[ResourceDiff]] = {}
    with tempfile.TemporaryDirectory(prefix="cfmon-diff-") as tmp:
        tree = Path(tmp) / "tree"
        proc = _git(project, "worktree", "add", "--detach", "--quiet", str(tree), ref)
        if proc.returncode != 0:
            raise UserError(f"git worktree add failed: {proc.stderr.strip()}")
        try:
            old_project = Project(tree)
            for env in envs:
                if not (tree / "values" / f"{env}.yaml").is_file():
                    old = []  # the environment is new since REF
                else:
                    old = _resources(helm_output(old_project, env, overlays)[0])
                new = _resources(helm_output(project, env, overlays)[0])
                results[env] = diff_resources(old, new)
        finally:
            _git(project, "worktree", "remove", "--force", str(tree))
    return results

"""Shared fixtures: a throwaway copy of the repository and a way to run the real CLI in it."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Only what renders and verifies; never the virtualenv, the tools, git or old renders.
_SKIP_TOP = {".venv", ".tools", "build", ".git"}
_SKIP_ANY = shutil.ignore_patterns("__pycache__", ".pytest_cache", ".ruff_cache", "*.egg-info")


def _ignore(directory: str, names: list[str]) -> set[str]:
    skipped = set(_SKIP_ANY(directory, names))
    if Path(directory) == ROOT:
        skipped |= _SKIP_TOP & set(names)
    return skipped


@dataclass
class Result:
    code: int
    out: str
    err: str


def copy_repo(dest: Path) -> Path:
    shutil.copytree(ROOT, dest, ignore=_ignore)
    return dest


def run_cfmon(cwd: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    proc = subprocess.run(
        [sys.executable, "-m", "cfmon", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


# (env, overlay text, helm) -> the render's objects: `render` is a pure function of these and of
# the repository's files, which no test changes (tests break copies), so each is run once.
_RENDERS: dict[tuple[str, str | None, str], dict] = {}


def render(
    env: str, overlay: dict | None = None, tmp_path: Path | None = None, helm: str = "helm", root: Path = ROOT
) -> dict:
    """`helm template` of the umbrella chart for one environment (plus an optional values overlay),
    as {"Kind/name": object}. For chart unit tests: what a values switch does to the objects.
    Rendered once per session for the same arguments; every caller gets a copy of its own to change.
    A render that fails is not kept: it fails again, with its own message, for every caller.
    `root`: a copy of the repository (the `repo` fixture) to render instead; a copy may change
    between renders, so its renders are never kept."""
    import yaml

    assert overlay is None or tmp_path is not None, "an overlay needs tmp_path"
    text = None if overlay is None else yaml.safe_dump(overlay)
    if root != ROOT:
        return _render(env, text, tmp_path, helm, root)
    key = (env, text, helm)
    if key not in _RENDERS:
        _RENDERS[key] = _render(env, text, tmp_path, helm, root)
    return copy.deepcopy(_RENDERS[key])


def _render(env: str, overlay: str | None, tmp_path: Path | None, helm: str, root: Path) -> dict:
    from cfmon.manifests import parse_documents, split_by_source
    from cfmon.project import CHART, find_root
    from cfmon.render import helm_output

    overlays = []
    if overlay is not None:
        assert tmp_path is not None
        path = tmp_path / f"overlay-{len(list(tmp_path.glob('overlay-*.yaml')))}.yaml"
        path.write_text(overlay)
        overlays.append(path)
    text, _ = helm_output(find_root(root), env, overlays, helm=helm)
    objs = {}
    for rel, body in split_by_source(text).items():
        for res in parse_documents(body, source=str(CHART / rel), origin=rel):
            objs[f"{res.kind}/{res.name}"] = res.obj
    return objs


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A fresh copy of the repository (sources, generated files, goldens) to break at will."""
    return copy_repo(tmp_path / "repo")


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory) -> Path:
    """One cfmon cache for every CLI run on a copy of the repository in this session (all xdist
    workers: they share the parent of their base temporary directories). Its keys cover every
    input byte, relative to the copy, so a copy left as it is reuses what another copy already
    ran, and a changed byte misses as it would in a cache of its own."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    return base / "cfmon-cache"


@pytest.fixture
def cfmon(shared_cache: Path):
    """run_cfmon with the session's shared cache (tests of the cache itself use run_cfmon)."""

    def run(cwd: Path, *args: str, env: dict[str, str] | None = None) -> Result:
        return run_cfmon(cwd, *args, env={"CFMON_CACHE_DIR": str(shared_cache), **(env or {})})

    return run


def promtool_expr_test(
    tmp_path: Path,
    series: list[tuple[str, str]],
    cases: list[tuple[str, list[tuple[str, float]]]],
    eval_time: str = "10m",
    groups: list[dict] | None = None,
):
    """Run real `promtool test rules` on PromQL expressions (a dashboard's queries, say) over input
    series: cases are (expr, [(labels, value)]) evaluated at `eval_time`, with the rule `groups`
    (recording rules the queries read) evaluated too; returns the process."""
    import json

    from cfmon import binaries

    if groups:
        (tmp_path / "records.yaml").write_text(json.dumps({"groups": groups}))
    test = {
        "rule_files": ["records.yaml"] if groups else [],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": s, "values": v} for s, v in series],
                "promql_expr_test": [
                    {
                        "expr": expr,
                        "eval_time": eval_time,
                        "exp_samples": [{"labels": labels, "value": value} for labels, value in samples],
                    }
                    for expr, samples in cases
                ],
            }
        ],
    }
    path = tmp_path / "expr-test.yaml"
    path.write_text(json.dumps(test))  # JSON is YAML
    return binaries.run("promtool", ["test", "rules", str(path)], cwd=tmp_path)

"""The example team overlay (values/examples/team-ai-models.yaml) does what it says in every
environment: its receiver and route are in the config amtool accepts, its alerts reach its channel
(and still the AI infrastructure one), and its scrape job carries the environment's labels."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from cfmon.checks.alertmanager import AlertmanagerConfig, AlertmanagerRouting
from cfmon.checks.base import Context
from cfmon.checks.prometheus import PrometheusConfig
from cfmon.project import Project, find_root
from cfmon.render import render

OVERLAY = ROOT / "values/examples/team-ai-models.yaml"
ENVS = ("dev", "staging", "prod")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    # Render into a scratch copy's build/ so the overlay never lands in the real build/rendered.
    root = tmp_path_factory.mktemp("repo")
    for rel in ("charts", "values", "jsonnet", "docs/runbooks", "pyproject.toml"):
        src, dst = ROOT / rel, root / rel
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            dst.write_bytes(src.read_bytes())
    return find_root(root)


def routing_table(tmp_path: Path, cases: list[dict]) -> Project:
    path = tmp_path / "tables/tests/routing/team.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump({"cases": cases}))
    return Project(tmp_path / "tables")


@pytest.mark.parametrize("env", ENVS)
def test_overlay_routes_the_team_alerts_to_its_channel(project, env, tmp_path):
    rendered = render(project, env, [OVERLAY])
    ctx = Context(project, env, rendered, scratch=tmp_path)
    assert AlertmanagerConfig().run(ctx) == []
    assert PrometheusConfig().run(ctx) == []
    model = {"service": "custom-ai-models", "team": "ai-infrastructure", "model_name": "style-transfer"}
    cases = [
        {
            "name": "the team's model, warning: its channel and the AI infrastructure channel",
            "labels": {"alertname": "CustomAIModelHighInferenceLatency", "severity": "warning", **model},
            "receivers": ["ai-models-team-slack", "ai-infra-slack", "warning-slack"],
        },
        {
            "name": "another model: not the team's channel",
            "labels": {
                "alertname": "CustomAIModelHighInferenceLatency",
                "severity": "warning",
                **model,
                "model_name": "ranker",
            },
            "receivers": ["ai-infra-slack", "warning-slack"],
        },
    ]
    if env == "dev":
        # dev switches the team routes off and sends everything else to its one channel
        # (values/dev.yaml); the team's own route still comes first.
        cases[0]["receivers"] = ["ai-models-team-slack", "dev-slack"]
        cases[1]["receivers"] = ["dev-slack"]
    findings = AlertmanagerRouting().run(
        Context(routing_table(tmp_path, cases), env, rendered, scratch=tmp_path / "s")
    )
    assert findings == [], "\n".join(f.message for f in findings)


def test_overlay_adds_the_scrape_job_with_the_environment_labels(project):
    rendered = render(project, "prod", [OVERLAY])
    cm = next(r for r in rendered.resources if r.name == "creativeflow-prometheus-scrape-configs")
    jobs = {
        job["job_name"]: job
        for payload in cm.obj["data"].values()
        for job in (yaml.safe_load(payload) or {}).get("scrape_configs") or []
    }
    job = jobs["ai-models-batch-workers"]
    assert job["kubernetes_sd_configs"] == [{"role": "pod", "namespaces": {"names": ["ai-models"]}}]
    labels = {r.get("target_label"): r.get("replacement") for r in job["relabel_configs"]}
    assert labels["cluster"] == "creativeflow-prod" and labels["environment"] == "prod"


def test_overlay_without_it_the_chart_has_neither(project):
    rendered = render(project, "prod")
    text = rendered.text
    assert "ai-models-team-slack" not in text and "ai-models-batch-workers" not in text

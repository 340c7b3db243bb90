"""The control-plane rule file and scrape jobs follow their switch (off by default, for managed
clusters), and its promtool tests pass where the switch is on."""

from __future__ import annotations

import yaml
from conftest import render

SWITCH = {"prometheus": {"scrapeConfigs": {"kubernetes": {"controlPlane": {"enabled": True}}}}}
JOBS = {"kube-scheduler", "kube-controller-manager", "etcd"}


def rule_files(objs: dict) -> set[str]:
    return {
        f
        for key, o in objs.items()
        if key.startswith("ConfigMap/")
        for f in (o.get("data") or {})
        if f.endswith(".yaml") and "-rules-" in key
    }


def scrape_jobs(objs: dict) -> set[str]:
    jobs = set()
    for key, o in objs.items():
        if key.startswith("ConfigMap/") and "kubernetes_targets.yml" in (o.get("data") or {}):
            jobs |= {
                j["job_name"] for j in yaml.safe_load(o["data"]["kubernetes_targets.yml"])["scrape_configs"]
            }
    return jobs


def test_off_by_default_on_with_the_switch(tmp_path):
    off = render("prod")
    assert "kubernetes-control-plane.yaml" not in rule_files(off)
    assert not scrape_jobs(off) & JOBS
    on = render("prod", SWITCH, tmp_path)
    assert "kubernetes-control-plane.yaml" in rule_files(on)
    assert scrape_jobs(on) >= JOBS


def test_control_plane_rule_tests_pass_with_the_switch(repo, cfmon, tmp_path):
    # Only the control-plane tests in the copy (kubernetes-control-plane*.yaml): the others run in
    # the repository's own check.
    for other in (repo / "tests/rules").glob("*.yaml"):
        if not other.name.startswith("kubernetes-control-plane"):
            other.unlink()
    overlay = tmp_path / "control-plane.yaml"
    overlay.write_text(yaml.safe_dump(SWITCH))
    assert cfmon(repo, "render", "--env", "prod", "-f", str(overlay)).code == 0
    args = (
        "check",
        "--env",
        "prod",
        "-f",
        str(overlay),
        "--only",
        "prometheus/rule-tests",
        "--format",
        "json",
    )
    res = cfmon(repo, *args)
    assert res.code == 0 and yaml.safe_load(res.out) == [], res.out + res.err
    # It ran: a broken expectation is reported.
    test = repo / "tests/rules/kubernetes-control-plane.yaml"
    test.write_text(
        test.read_text().replace(
            "alertname: EtcdWalFsyncSlow\n        exp_alerts: []",
            "alertname: EtcdWalFsyncSlow\n        exp_alerts: [{exp_labels: {}}]",
            1,
        )
    )
    res = cfmon(repo, *args)
    assert [
        f for f in yaml.safe_load(res.out) if f.get("file") == "tests/rules/kubernetes-control-plane.yaml"
    ]

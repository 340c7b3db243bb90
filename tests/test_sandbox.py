"""cfmon sandbox: time scaling, scenario files, config rewriting (fast), and the live end-to-end runs
(marked e2e: real Prometheus 3.5 and an Alertmanager 0.33 cluster on loopback, for dev and prod).

The e2e runs: the eight area scenarios run together on one stack per environment (one test per
area reads that run); `healthy` and every fault scenario run on a stack of their own, each
fault-prometheus-restart run (at its own speed, 10) in a lane of its own and the speed-100 runs one
after another in one more lane. Each run has a hard time limit and is followed by a check that no
process it started is left. A run starved of CPU (scrapes missed on targets nothing stopped, and
expectations failed) runs once more at half its speed (live_run). Budget: about 5 minutes for the
e2e tests on 2 cores (see docs/sandbox.md).
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import promql_parser as pp
import pytest
import yaml
from conftest import ROOT

from cfmon import binaries, sandbox, scenario, timescale
from cfmon.errors import UserError
from cfmon.project import find_root
from cfmon.rendered.model import Render

SCENARIOS = ROOT / "scenarios"
AREAS = (
    "api-5xx-burst",
    "node-disk-filling",
    "postgres-replication-lag",
    "rabbitmq-backlog",
    "gpu-overheating",
    "ai-model-latency-regression",
    "payment-failures",
    "business-slo-burn-fast",
)
ENVS = ("dev", "prod")
SPEED = 100  # what most scenarios run at (their default); CI budget: see the module docstring


@pytest.fixture(scope="module")
def project():
    return find_root(ROOT)


@pytest.fixture(scope="module")
def resources(project):
    """One in-memory render per environment for the whole module (helm takes ~1 s each)."""
    return {env: sandbox.render_resources(project, env) for env in ENVS}


def load(name: str) -> scenario.Scenario:
    return scenario.load(SCENARIOS / f"{name}.yaml", f"scenarios/{name}.yaml")


# ---- PromQL time scaling ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "scaled"),
    [
        ("x > 1", "x{} > 1"),
        ("rate(x[5m])", "(rate(x{}[3s]) / 100)"),
        ("sum by (a) (irate(x[1m] offset 1h))", "sum by (a) ((irate(x{}[600ms] offset 36s) / 100))"),
        ("increase(x[10m]) > 5", "increase(x{}[6s]) > 5"),
        ("x offset -5m", "x{} offset -3s"),
        ("max_over_time(deriv(g[5m])[30m:1m])", "max_over_time((deriv(g{}[3s]) / 100)[18s:600ms])"),
        ("max_over_time(g[30m:])", "max_over_time(g{}[18s:])"),
        ("predict_linear(g[6h], 24 * 3600) < 0", "predict_linear(g{}[3m36s], (24 * 3600) / 100) < 0"),
        (
            'a{l=~"x\\\\.y", m!="q\\"r"} / on (c) group_left (d) b',
            'a{l=~"x\\\\.y",m!="q\\"r"} / on (c) group_left (d) b{}',
        ),
        ("topk(3, x) > bool 1 unless ignoring (i) y", "topk (3, x{}) > bool 1 unless ignoring (i) y{}"),
        ("-rate(x[5m]) ^ 2", "-(rate(x{}[3s]) / 100) ^ 2"),
    ],
)
def test_scale_expr(expr, scaled):
    assert timescale.scale_expr(expr, 100) == scaled


def test_speed_1_changes_nothing():
    assert timescale.scale_expr("rate(x[5m]) + time()", 1) == "rate(x[5m]) + time()"


@pytest.mark.parametrize(
    ("expr", "says"),
    [
        ("time() - x > 3600", "time() reads the wall clock"),
        ("hour() > 8", "hour() reads the wall clock"),
        ("x @ 1700000000", "@ modifier"),
        ("rate(x[1s50ms])", "not a whole number of milliseconds"),
        ("rate(x[", "does not parse"),
    ],
)
def test_unscalable_expressions_fail_loudly(expr, says):
    with pytest.raises(timescale.ScaleError) as err:
        timescale.scale_expr(expr, 100, "rules[0].expr")
    assert says in str(err.value)
    assert err.value.key == "rules[0].expr"


def test_a_rewrite_that_changes_more_than_time_is_caught(monkeypatch):
    """The scaled text is parsed again and compared with the original node by node: a printer bug
    (here: a forgotten division of rate()) is an error, not a silently different alert."""
    real = timescale.to_promql

    def broken(node, speed, where):
        text = real(node, speed, where)
        return text.replace(" / 100)", ")")

    monkeypatch.setattr(timescale, "to_promql", broken)
    with pytest.raises(timescale.ScaleError, match="rate\\(\\) is not divided by 100"):
        timescale.scale_expr("rate(x[5m])", 100)


@pytest.mark.parametrize("env", ENVS)
def test_every_rendered_rule_prints_back_and_scales(resources, env):
    """Our printer reproduces every rendered expression (same AST), and scaling each one is
    verified; only the wall-clock rules are refused (the sandbox leaves those out)."""
    count = refused = 0
    for _, _, rule in Render(resources[env]).rules:
        expr = str(rule["expr"])
        tree = pp.parse(expr)
        assert timescale._compare(tree, pp.parse(timescale.to_promql(tree)), 1) is None, expr
        if timescale.unscalable(expr):
            refused += 1
            continue
        timescale.scale_expr(expr, SPEED)
        count += 1
    assert count > 300 and refused <= 3


def test_scaled_expressions_give_the_same_values_in_promtool(tmp_path):
    """Semantics, checked by the real promtool: each expression over data sampled every minute
    equals its scaled form over the same values sampled every 600 ms (speed 100)."""
    cases = [
        ("rate(c_total[5m])", 1),
        ("irate(c_total[5m])", 1),
        # extrapolated from 9 of 10 intervals: 599.9999999999999 at 600 ms
        ("round(increase(c_total[10m]), 0.001)", 600),
        ("round(deriv(g[10m]), 0.001)", 1),  # least squares: 1.0000000000000002
        ("predict_linear(g[10m], 600)", 2400),
        ("avg_over_time(g[2m])", 1770),  # left-open window (Prometheus 3): the samples of 29m and 30m
        ("g offset 10m + 0", 1200),
        ("changes(g[5m])", 4),  # 5 samples in the left-open window, 4 changes
        ("max_over_time(rate(c_total[5m])[30m:1m])", 1),
    ]
    series = [
        {"series": 'c_total{a="1"}', "values": "0+60x60"},
        {"series": 'g{a="1"}', "values": "0+60x60"},
    ]

    def group(interval, eval_time, exprs):
        return {
            "interval": interval,
            "input_series": series,
            "promql_expr_test": [
                {"expr": e, "eval_time": eval_time, "exp_samples": [{"labels": '{a="1"}', "value": v}]}
                for e, v in exprs
            ],
        }

    doc = {
        "rule_files": [],
        "evaluation_interval": "600ms",
        "tests": [
            group("1m", "30m", cases),
            group("600ms", "18s", [(timescale.scale_expr(e, 100), v) for e, v in cases]),
        ],
    }
    path = tmp_path / "equivalence.yaml"
    path.write_text(yaml.safe_dump(doc))
    proc = binaries.run("promtool", ["test", "rules", str(path)])
    assert proc.returncode == 0, proc.stdout + proc.stderr


# ---- scenario files ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("1 2 3", (1, 2, 3)),
        ("-2+4x3", (-2, 2, 6, 10)),
        ("1-2x4", (1, -1, -3, -5, -7)),
        ("1x4", (1, 1, 1, 1, 1)),
        ("1 _x3 stale", (1, None, None, None, None)),
        ("_ 5e9x1 Inf", (None, 5e9, 5e9, float("inf"))),
    ],
)
def test_values_notation_is_promtools(text, values):
    assert scenario.parse_values(text) == values


def test_series_labels():
    assert scenario.parse_series('m{job="a", b="c d"}') == ("m", {"job": "a", "b": "c d"})
    assert scenario.parse_series('{__name__="m", job="a"}') == ("m", {"job": "a"})
    with pytest.raises(ValueError, match="only `=`"):
        scenario.parse_series('m{job=~"a"}')


BASE = {"duration": "10m", "series": [{"series": 'm{job="node-exporter"}', "values": "1x10"}]}


@pytest.mark.parametrize(
    ("change", "key", "says"),
    [
        ({"duration": None}, "duration", "missing"),
        ({"duration": "ten minutes"}, "duration", "is not a duration"),
        ({"speed": 0}, "speed", "not a whole number >= 1"),
        ({"colour": "red"}, "colour", "unknown key"),
        ({"series": [{"series": "m", "values": "1"}]}, "series[0].series", "has no job label"),
        ({"series": [{"series": 'up{job="x"}', "values": "1"}]}, "series[0].series", "written by Prometheus"),
        ({"series": [{"series": 'm{job="x"', "values": "1"}]}, "series[0].series", "does not parse"),
        (
            {"series": [{"series": 'm{job="x"}', "values": "1 two"}]},
            "series[0].values",
            "'two' is not a value",
        ),
        ({"events": [{"at": "5m", "action": "explode"}]}, "events[0].action", "is not an action"),
        ({"events": [{"at": "20m", "action": "restart_prometheus"}]}, "events[0].at", "after the end"),
        ({"events": [{"at": "1m", "action": "stop_target", "job": "x"}]}, "events[0].instance", "needs"),
        (
            {"events": [{"at": "1m", "action": "stop_target", "job": "x", "instance": "y"}]},
            "events[0]",
            "no target x/y",
        ),
        ({"expect": {"fired": [{"labels": {}}]}}, "expect.fired[0].alertname", "missing"),
        ({"expect": {"notifications": [{"alertname": "A"}]}}, "expect.notifications[0].receiver", "missing"),
        (
            {"expect": {"notifications": [{"alertname": "A", "receiver": "r", "status": "sent"}]}},
            "expect.notifications[0].status",
            "is not a status",
        ),
        ({"expect": {"fired": [{"alertname": "A", "count": 1}]}}, "expect.fired[0].count", "unknown key"),
    ],
)
def test_scenario_errors_name_the_file_and_key(tmp_path, change, key, says):
    doc = {**BASE, **change}
    doc = {k: v for k, v in doc.items() if v is not None}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(UserError) as err:
        scenario.load(path, "scenarios/bad.yaml")
    assert (err.value.file, err.value.key) == ("scenarios/bad.yaml", key)
    assert says in err.value.message


def test_invalid_yaml_says_where(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("duration: 10m\nseries: [\n")
    with pytest.raises(UserError) as err:
        scenario.load(path)
    assert "not valid YAML" in str(err.value) and err.value.line


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_scenarios_load_and_fill_their_duration(path):
    sc = scenario.load(path)
    steps = sc.duration_ms // sc.interval_ms + 1
    assert all(len(s.values) == steps for s in sc.series), "every series has one value per step"
    assert sc.expect.fired or sc.expect.notifications


def test_exposition_stamps_each_sample_with_its_step():
    series = [
        scenario.Series("m", {"job": "j", "instance": "i", "a": 'x"y'}, (1.0, 2.5, None), 60_000),
        scenario.Series("n", {"job": "j", "instance": "i"}, (float("nan"),), 60_000),
    ]
    # step 1 at speed 100 starts 600 ms after t0
    assert scenario.exposition(series, 61_000, 1_000_000, 100) == b'm{a="x\\"y"} 2.5 1000600\n'
    assert scenario.exposition(series, 0, 1_000_000, 100) == b'm{a="x\\"y"} 1.0 1000000\nn{} NaN 1000000\n'
    assert scenario.exposition(series, 120_000, 1_000_000, 100) == b""  # `_`: no sample


def _observed() -> scenario.Observed:
    crit = {"alertname": "A", "severity": "critical", "cluster": "c1"}
    warn = {"alertname": "W", "severity": "warning", "cluster": "c1"}
    note = scenario.Notification
    return scenario.Observed(
        alerts=[scenario.AlertSeen(crit, 0, [[300_000, 900_000]]), scenario.AlertSeen(warn, 0, [])],
        notifications=[
            note(
                310_000,
                "pager",
                "pagerduty",
                "firing",
                "alertmanager-1",
                [{"status": "firing", "labels": crit}],
            ),
            note(
                960_000,
                "pager",
                "pagerduty",
                "resolved",
                "alertmanager-1",
                [{"status": "resolved", "labels": crit}],
            ),
            note(
                970_000, "chat", "slack", "firing", "alertmanager-0", [{"status": "firing", "labels": crit}]
            ),
        ],
        inhibited=[{"at_ms": 400_000, "labels": warn}],
    )


def _verdicts(tmp_path, expect: dict) -> list[tuple[bool, str]]:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"duration": "20m", "expect": expect}))
    sc = scenario.load(path)
    return [(v.ok, v.text) for v in scenario.evaluate(sc, "prod", "c1", _observed())]


def test_expectations_pass_on_what_happened(tmp_path):
    verdicts = _verdicts(
        tmp_path,
        {
            "fired": [{"alertname": "A", "labels": {"cluster": "${cluster}"}, "after": "4m", "before": "6m"}],
            "not_fired": ["W"],
            "notifications": [
                {"receiver": "pager", "alertname": "A", "count": 1},
                {"receiver": "pager", "alertname": "A", "status": "resolved"},
                {"receiver": "chat", "alertname": "A", "after": "15m"},
                {"receiver": "chat", "alertname": "A", "before": "15m", "count": 0},
                {"receiver": "nobody", "alertname": "A", "envs": ["dev"]},  # not for prod: skipped
            ],
            "inhibited": ["W"],
            "exclusive": True,
        },
    )
    assert all(ok for ok, _ in verdicts), verdicts
    assert len(verdicts) == 8


def test_expectations_fail_on_what_did_not_happen(tmp_path):
    verdicts = _verdicts(
        tmp_path,
        {
            "fired": [{"alertname": "W"}, {"alertname": "A", "after": "6m"}],
            "not_fired": ["A"],
            "notifications": [
                {"receiver": "pager", "alertname": "A", "count": 2},
                {"receiver": "pager", "alertname": "A", "labels": {"severity": "warning"}},
            ],
            "inhibited": ["A"],
            "exclusive": True,
        },
    )
    assert not any(ok for ok, _ in verdicts), verdicts
    text = "\n".join(t for _, t in verdicts)
    assert "never fired" in text and "fired at 5m" in text and "(got 1)" in text
    assert "never seen inhibited" in text and "yet notified to chat, pager" in text
    assert "unexpected: 16m pager <- resolved A; 16m10s chat <- firing A" in text


def test_an_inhibited_window_ignores_what_came_before_it(tmp_path):
    """A warning that notified before its critical fired, then was inhibited: `after` bounds both
    when it must be seen inhibited and when it must not notify."""
    crit = {"alertname": "C", "severity": "critical"}
    warn = {"alertname": "W", "severity": "warning"}
    note = scenario.Notification
    seen = scenario.Observed(
        alerts=[
            scenario.AlertSeen(warn, 0, [[60_000, None]]),
            scenario.AlertSeen(crit, 0, [[300_000, None]]),
        ],
        notifications=[
            note(120_000, "chat", "slack", "firing", "am-0", [{"status": "firing", "labels": warn}]),
            note(310_000, "pager", "pagerduty", "firing", "am-0", [{"status": "firing", "labels": crit}]),
        ],
        inhibited=[{"at_ms": 320_000, "labels": warn}],
    )

    def verdicts(item):
        path = tmp_path / "s.yaml"
        path.write_text(yaml.safe_dump({"duration": "20m", "expect": {"inhibited": [item]}}))
        return [(v.ok, v.text) for v in scenario.evaluate(scenario.load(path), "prod", "c", seen)]

    assert verdicts({"alertname": "W", "after": "4m"}) == [(True, "inhibited: W between 4m and end")]
    # Without the window the earlier notification counts; a window after the inhibition sees none.
    assert verdicts({"alertname": "W"}) == [(False, "inhibited: W (yet notified to chat)")]
    assert verdicts({"alertname": "W", "after": "6m"}) == [
        (False, "inhibited: W between 6m and end (never seen inhibited)")
    ]


# ---- rewriting the rendered configs -------------------------------------------------------------------


def test_a_scrape_job_keeps_what_rules_rely_on_and_drops_discovery():
    job = {
        "job_name": "node-exporter",
        "kubernetes_sd_configs": [{"role": "endpointslice"}],
        "scrape_interval": "30s",
        "scheme": "https",
        "tls_config": {"ca_file": "/x"},
        "authorization": {"credentials_file": "/t"},
        "metric_relabel_configs": [{"action": "drop", "regex": "go_.*", "source_labels": ["__name__"]}],
        "relabel_configs": [
            {"action": "keep", "regex": "x;y", "source_labels": ["__meta_kubernetes_service_name", "b"]},
            {"source_labels": ["__address__"], "target_label": "__address__", "replacement": "$1:9100"},
            {"target_label": "__metrics_path__", "replacement": "/m"},
            {"replacement": "creativeflow-prod", "target_label": "cluster"},
            {"replacement": "prod", "target_label": "environment"},
        ],
        "sample_limit": 1000,
    }
    groups = [{"targets": ["127.0.0.1:1"], "labels": {"instance": "node-1"}}]
    new, dropped = sandbox.rewrite_scrape_job(job, groups, 100, "150ms", synthetic=True)
    assert dropped == 3
    assert new["relabel_configs"] == job["relabel_configs"][3:]
    assert new["metric_relabel_configs"] == job["metric_relabel_configs"]
    assert new["static_configs"] == groups and new["sample_limit"] == 1000
    assert (new["scrape_interval"], new["scrape_timeout"]) == ("300ms", "300ms")
    assert new["honor_labels"] is True and new["honor_timestamps"] is True
    for gone in ("kubernetes_sd_configs", "scheme", "tls_config", "authorization"):
        assert gone not in new


def test_prometheus_config_points_at_the_sandbox_peers():
    config = {
        "global": {"scrape_interval": "15s", "external_labels": {"cluster": "c"}},
        "remote_write": [{"url": "https://remote"}],
        "alerting": {
            "alert_relabel_configs": [{"action": "labeldrop", "regex": "replica"}],
            "alertmanagers": [{"api_version": "v2", "dns_sd_configs": [{"names": ["am"]}]}],
        },
    }
    new, notes = sandbox.rewrite_prometheus(config, 100, ["127.0.0.1:1", "127.0.0.1:2"])
    assert new["global"] == {
        "scrape_interval": "150ms",
        "scrape_timeout": "150ms",
        "evaluation_interval": "600ms",  # the 1m default, scaled
        "external_labels": {"cluster": "c"},
    }
    assert new["alerting"]["alertmanagers"] == [
        {"api_version": "v2", "static_configs": [{"targets": ["127.0.0.1:1", "127.0.0.1:2"]}]}
    ]
    assert new["alerting"]["alert_relabel_configs"] == config["alerting"]["alert_relabel_configs"]
    assert "remote_write" not in new and "remote_write removed" in notes[0]


def test_rules_are_scaled_and_wall_clock_rules_left_out():
    doc = {
        "groups": [
            {
                "name": "g",
                "interval": "1m",
                "rules": [
                    {"record": "r:x:rate5m", "expr": "rate(x[5m])"},
                    {"alert": "Old", "expr": "time() - y > 3600", "for": "5m"},
                    {"alert": "A", "expr": "r:x:rate5m > 1", "for": "10m", "keep_firing_for": "1m"},
                ],
            },
            {"name": "only-clock", "rules": [{"alert": "B", "expr": "hour() > 1"}]},
        ]
    }
    new, skipped = sandbox.rewrite_rules(doc, 100)
    assert skipped == ["Old (time())", "B (hour())"]
    assert [g["name"] for g in new["groups"]] == ["g"]
    group = new["groups"][0]
    assert group["interval"] == "600ms"
    assert group["rules"][0]["expr"] == "(rate(x{}[3s]) / 100)"
    assert (group["rules"][1]["for"], group["rules"][1]["keep_firing_for"]) == ("6s", "600ms")


def test_alertmanager_receivers_become_webhooks_and_routes_keep_their_shape(tmp_path):
    config = {
        "global": {"slack_api_url_file": "/etc/alertmanager/secrets/slack"},
        "route": {
            "receiver": "mail",
            "group_wait": "30s",
            "routes": [{"receiver": "page", "matchers": ['severity="critical"'], "group_wait": "10s"}],
        },
        "receivers": [
            {"name": "mail", "email_configs": [{"to": "a@b"}]},
            {"name": "page", "pagerduty_configs": [{"routing_key_file": "/k"}], "slack_configs": [{}, {}]},
            {"name": "void"},
        ],
        "inhibit_rules": [{"source_matchers": ['severity="critical"'], "equal": ["alertname"]}],
    }
    new, names = sandbox.rewrite_alertmanager(config, 100, "http://127.0.0.1:9", tmp_path)
    assert names == ["mail", "page", "void"]
    assert new["route"] == {
        "receiver": "mail",
        "group_wait": "300ms",
        "group_interval": "3s",
        "repeat_interval": "2m24s",
        "routes": [{"receiver": "page", "matchers": ['severity="critical"'], "group_wait": "100ms"}],
    }
    assert new["global"]["resolve_timeout"] == "3s"
    assert new["inhibit_rules"] == config["inhibit_rules"]
    mail, page, void = new["receivers"]
    assert mail["webhook_configs"] == [
        {"url_file": str(tmp_path / "mail-email-0.url"), "send_resolved": False}
    ]
    assert [h["send_resolved"] for h in page["webhook_configs"]] == [True, False, False]
    assert (tmp_path / "page-pagerduty-0.url").read_text() == "http://127.0.0.1:9/page/pagerduty"
    assert void == {"name": "void"}  # a receiver without integrations stays silent


@pytest.mark.parametrize("env", ENVS)
def test_route_walk_agrees_with_amtool(tmp_path, project, resources, env):
    """routes_for (what the report and the latency floor use) finds the receivers amtool finds."""
    workdir = tmp_path / "w"
    plan = sandbox.plan(project, env, [load("healthy")], workdir, resources=resources[env])
    config = yaml.safe_load(plan.alertmanager_config.read_text())
    table = yaml.safe_load((ROOT / "tests/routing/routes.yaml").read_text())
    checked = 0
    for case in table["cases"]:
        if case.get("environments") and env not in case["environments"]:
            continue
        labels = {k: str(v) for k, v in case["labels"].items()}
        proc = binaries.run(
            "amtool",
            ["config", "routes", "test", "--config.file", str(plan.alertmanager_config)]
            + [f"{k}={v}" for k, v in sorted(labels.items())],
        )
        assert proc.returncode == 0, proc.stderr
        mine = [r["receiver"] for r in sandbox.routes_for(config["route"], labels)]
        assert mine == proc.stdout.strip().split(","), (case.get("name"), labels)
        checked += 1
    assert checked >= 5


@pytest.mark.parametrize("env", ENVS)
def test_the_rewritten_configs_pass_promtool_and_amtool(tmp_path, project, resources, env):
    scenarios = [load(n) for n in AREAS if env == "prod" or n != "gpu-overheating"]
    plan = sandbox.plan(project, env, scenarios, tmp_path / "w", resources=resources[env])
    proc = binaries.run("promtool", ["check", "config", str(plan.prometheus_config)])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = binaries.run("amtool", ["check-config", str(plan.alertmanager_config)])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(plan.peers) == {"dev": 1, "prod": 3}[env]
    jobs = {t.job for t, _ in plan.targets.values()}
    assert {"node-exporter", "postgres-exporter", "application-services"} <= jobs
    config = yaml.safe_load(plan.prometheus_config.read_text())
    assert config["global"]["external_labels"]["environment"] == env


def test_prometheus_runs_with_the_rendered_grace_period_scaled(tmp_path, project, resources):
    """The flags the sandbox passes: the StatefulSet's for-grace-period (1m) scaled like every other
    duration, Prometheus' defaults for what the chart leaves out."""
    plan = sandbox.plan(project, "dev", [load("healthy")], tmp_path / "w", resources=resources["dev"])
    assert "--rules.alert.for-grace-period=600ms" in plan.prometheus_args  # 1m / 100
    assert "--rules.alert.for-outage-tolerance=36s" in plan.prometheus_args  # the 1h default / 100
    changed = sandbox.render_resources(project, "dev", [write_overlay(tmp_path, "2m")])
    plan = sandbox.plan(project, "dev", [load("healthy")], tmp_path / "w2", resources=changed)
    assert "--rules.alert.for-grace-period=1s200ms" in plan.prometheus_args


def write_overlay(tmp_path: Path, grace: str) -> Path:
    path = tmp_path / f"grace-{grace}.yaml"
    path.write_text(yaml.safe_dump({"prometheus": {"rules": {"alertForGracePeriod": grace}}}))
    return path


def test_a_scenario_for_another_environment_or_job_is_refused(tmp_path, project, resources):
    with pytest.raises(UserError) as err:
        sandbox.plan(project, "dev", [load("gpu-overheating")], tmp_path / "a", resources=resources["dev"])
    assert err.value.key == "envs" and "written for staging, prod, not dev" in str(err.value)
    path = tmp_path / "s.yaml"
    path.write_text(
        yaml.safe_dump({"duration": "5m", "series": [{"series": 'm{job="dcgm-exporter"}', "values": "1"}]})
    )
    with pytest.raises(UserError) as err:
        sandbox.plan(project, "dev", [scenario.load(path)], tmp_path / "b", resources=resources["dev"])
    assert err.value.key == "series[0].series" and "not a scrape job of the dev render" in str(err.value)
    path.write_text(yaml.safe_dump({"duration": "5m", "expect": {"fired": ["ApiGatewayErrorRatioHgh"]}}))
    with pytest.raises(UserError) as err:
        sandbox.plan(project, "dev", [scenario.load(path)], tmp_path / "c", resources=resources["dev"])
    assert err.value.key == "expect.fired[0].alertname"


def test_a_missing_binary_is_a_clear_error(tmp_path, monkeypatch, cfmon):
    empty = tmp_path / "bin"
    empty.mkdir()
    result = cfmon(
        ROOT,
        "sandbox",
        "--env",
        "dev",
        "scenarios/fault-watchdog.yaml",
        env={"CFMON_TOOLS_BIN": str(empty), "PATH": os.path.dirname(sys.executable) + ":/usr/bin:/bin"},
    )
    assert result.code == 2, result.err
    assert "prometheus 3.5.3 is needed" in result.err and "tools/install-deps" in result.err
    assert "Traceback" not in result.err


# ---- end to end: real Prometheus and Alertmanager -----------------------------------------------------

# Runs of one environment that each need a stack of their own. fault-prometheus-restart runs at
# speed 10 (about 80 s, mostly waiting: its stacks scrape and evaluate ten times less often), so
# each slow run takes a lane of its own at once, while the speed-100 runs go one after another in
# one more lane beside them (two speed-100 stacks at once miss scrapes on a busy 2-core machine).
SINGLES = {
    "dev": ["fault-prometheus-restart", "healthy", "inhibition-cluster-outage", "fault-target-down"],
    "prod": [
        "fault-prometheus-restart",
        "fault-alertmanager-peer-killed",
        "healthy",
        "inhibition-cluster-outage",
        "fault-target-down",
    ],
}
# dev's restart again with Prometheus' default for-grace-period (10m), through a values overlay.
DEFAULT_GRACE = "fault-prometheus-restart with the default grace period"
DEFAULT_GRACE_VALUES = {"prometheus": {"rules": {"alertForGracePeriod": "10m"}}}


def leftovers(workdir: Path) -> list[str]:
    """Processes whose command line names the run's directory (every server the run started does)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(workdir) in cmdline and "pytest" not in cmdline:
            found.append(f"{entry.name}: {cmdline[:200]}")
    return found


def live_run(project, resources, env: str, names: list[str], workdir: Path, rendered=None, retry=True):
    """One sandbox run at the scenarios' speed (fault-prometheus-restart runs slower) with a hard
    time limit (scenario time at that speed, plus a minute for start-up and the waits); afterwards
    no process it started may be left. `rendered`: another render of `env` (an overlay).

    A run whose expectations failed while scrapes failed on targets no event stopped proves
    nothing either way: the machine was too busy for the speed (the run says so), and alerts on
    `up` may have fired for that alone. It runs once more at half the speed, in a directory of
    its own, and that run is the result (its report shows the speed). A rule that is wrong fails
    at any speed. `retry=False` for a run whose expectations are meant to fail."""
    sc = [load(n) for n in names]
    result = _live_run_at(project, resources, env, sc, sc[0].speed, workdir, rendered)
    starved = result.failed_scrapes and not all(scenario_ok(result, s.name) for s in sc)
    if retry and starved and sc[0].speed > 1:
        slower = workdir.with_name(workdir.name + "-slower")
        result = _live_run_at(project, resources, env, sc, sc[0].speed // 2, slower, rendered)
    return result


def _live_run_at(project, resources, env: str, sc: list, speed: int, workdir: Path, rendered):
    limit = max(s.duration_ms for s in sc) / speed / 1000 + 60
    try:
        return sandbox.run(
            project,
            env,
            sc,
            speed=speed,
            keep_dir=workdir,
            resources=rendered or resources[env],
            timeout_s=limit,
        )
    finally:
        assert leftovers(workdir) == []


def report(result, name: str) -> str:
    """The run as text, then the scenario's verdicts (what pytest shows when a test fails)."""
    r = next(r for r in result.reports if r.name == name)
    lines = [("ok   " if v.ok else "FAIL ") + v.text for v in r.verdicts]
    return sandbox.format_text(result) + "\n".join(lines)


def scenario_ok(result, name: str) -> bool:
    r = next(r for r in result.reports if r.name == name)
    return all(v.ok for v in r.verdicts) and not result.rule_errors


@pytest.fixture(scope="module", params=ENVS)
def areas_run(request, project, resources, tmp_path_factory):
    """The eight area scenarios together on one stack (GPU only where the env has GPU nodes)."""
    env = request.param
    names = [n for n in AREAS if env != "dev" or n != "gpu-overheating"]
    return env, live_run(project, resources, env, names, tmp_path_factory.mktemp(f"areas-{env}") / "run")


@pytest.fixture(scope="module")
def singles(project, resources, tmp_path_factory):
    """Each fault scenario (and `healthy`, and on dev DEFAULT_GRACE) on a stack of its own, once
    per environment when first asked for; {(env, name): result or the exception it raised}."""
    done: dict[tuple[str, str], object] = {}

    def get(env: str, name: str):
        if (env, name) not in done:
            runs = {n: (n, resources[env]) for n in SINGLES[env]}
            if env == "dev":
                overlay = tmp_path_factory.mktemp("default-grace") / "values.yaml"
                overlay.write_text(yaml.safe_dump(DEFAULT_GRACE_VALUES))
                runs[DEFAULT_GRACE] = (
                    "fault-prometheus-restart",
                    sandbox.render_resources(project, env, [overlay]),
                )
            speed = {n: load(scenario_name).speed for n, (scenario_name, _) in runs.items()}
            order = sorted(runs, key=lambda n: speed[n])  # the slow runs first: each takes a lane at once
            lanes = sum(speed[n] < SPEED for n in order) + 1
            with ThreadPoolExecutor(max_workers=lanes) as pool:
                futures = {
                    n: pool.submit(
                        live_run,
                        project,
                        resources,
                        env,
                        [runs[n][0]],
                        tmp_path_factory.mktemp(f"{runs[n][0]}-{env}") / "run",
                        runs[n][1],
                        n != DEFAULT_GRACE,  # its expectations fail by design
                    )
                    for n in order
                }
                for n, future in futures.items():
                    try:
                        done[(env, n)] = future.result()
                    except Exception as exc:  # reported by the test that asks for it
                        done[(env, n)] = exc
        result = done[(env, name)]
        if isinstance(result, Exception):
            raise result
        return result

    return get


@pytest.mark.e2e
@pytest.mark.parametrize("area", AREAS)
def test_area_scenario(areas_run, area):
    env, result = areas_run
    if area == "gpu-overheating" and env == "dev":
        pytest.skip("dev has no GPU nodes (no dcgm-exporter scrape job)")
    assert scenario_ok(result, area), report(result, area)


@pytest.mark.e2e
@pytest.mark.parametrize("env", ENVS)
def test_healthy_data_notifies_only_the_heartbeat(singles, env):
    result = singles(env, "healthy")
    assert scenario_ok(result, "healthy"), report(result, "healthy")
    assert {n.receiver for n in result.notifications} == {"heartbeat"}
    # One heartbeat per repeat_interval (1m), not one per peer: the cluster deduplicates.
    beats = sorted(n.at_ms for n in result.notifications)
    assert len(beats) >= 10 and min(b - a for a, b in itertools.pairwise(beats)) > 30_000, beats


@pytest.mark.e2e
@pytest.mark.parametrize("env", ENVS)
def test_inhibition_a_warning_is_silenced_while_the_critical_outage_fires(singles, env):
    result = singles(env, "inhibition-cluster-outage")
    assert scenario_ok(result, "inhibition-cluster-outage"), report(result, "inhibition-cluster-outage")


@pytest.mark.e2e
@pytest.mark.parametrize("env", ENVS)
def test_fault_an_alertmanager_peer_killed_notification_delivered_once(singles, env):
    if env == "dev":
        pytest.skip("dev runs one Alertmanager peer: there is no cluster to lose a peer from")
    result = singles(env, "fault-alertmanager-peer-killed")
    assert scenario_ok(result, "fault-alertmanager-peer-killed"), report(
        result, "fault-alertmanager-peer-killed"
    )
    killed = result.events[0].split()[2]
    pages = [n for n in result.notifications if n.receiver == "db-team-pagerduty"]
    assert pages and all(n.peer != killed for n in pages), (killed, [n.peer for n in pages])


@pytest.mark.e2e
@pytest.mark.parametrize("env", ENVS)
def test_fault_prometheus_restart_rules_resume_and_a_firing_alert_pages_once(singles, env):
    result = singles(env, "fault-prometheus-restart")
    assert scenario_ok(result, "fault-prometheus-restart"), report(result, "fault-prometheus-restart")


@pytest.mark.e2e
@pytest.mark.parametrize("env", ["dev"])  # one run proves it; the id names the environment it runs in
def test_fault_prometheus_restart_with_the_default_grace_period_pages_again(singles, env):
    """The same restart with Prometheus' default --rules.alert.for-grace-period (10m): the 5m
    alerts are not restored. The firing one pends anew (a new firing episode), Alertmanager
    resolves it meanwhile (a resolution in the middle of the incident) and pages it a second time
    when it fires again (Alertmanager 0.33 sent the resolution and dropped the group, so the new
    firing starts a new group and waits group_wait only), and the pending one starts its 5 minutes
    over: the expectations the chart's 1m grace period meets fail here."""
    result = singles(env, DEFAULT_GRACE)
    name = "fault-prometheus-restart"
    verdicts = {
        v.text.split(" (")[0]: v.ok for v in next(r for r in result.reports if r.name == name).verdicts
    }
    failed = {text for text, ok in verdicts.items() if not ok}
    assert failed == {
        "fired: RabbitmqQueueReadyMessagesCritical between 7m and 10m30s",
        "not fired: PostgresReplicationLagHigh between 6m and end",
        "notified: dev-slack <- firing PostgresReplicationLagHigh exactly 1x",
        "notified: dev-slack <- resolved PostgresReplicationLagHigh exactly 0x",
    }, report(result, name)


@pytest.mark.e2e
@pytest.mark.parametrize("env", ENVS)
def test_fault_target_down_raises_the_target_down_alerts(singles, env):
    result = singles(env, "fault-target-down")
    assert scenario_ok(result, "fault-target-down"), report(result, "fault-target-down")


@pytest.mark.e2e
@pytest.mark.parametrize("env", ENVS)
def test_fault_watchdog_through_the_cli(tmp_path, env):
    """The CLI end to end: the Watchdog reaches the heartbeat and stops with Prometheus; JSON
    output; exit 0; nothing left running."""
    workdir = tmp_path / "run"
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "cfmon", "sandbox", "--env", env, "scenarios/fault-watchdog.yaml"),
            *("--keep-dir", str(workdir), "--format", "json"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert leftovers(workdir) == []
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = json.loads(proc.stdout)
    assert out["ok"] and out["env"] == env and out["speed"] == SPEED
    beats = [n for n in out["notifications"] if n["receiver"] == "heartbeat"]
    assert beats and max(n["at_ms"] for n in beats) < 9 * 60_000
    assert "sandbox: starting Prometheus" in proc.stderr


@pytest.mark.e2e
def test_cli_exit_1_when_an_expectation_fails(tmp_path):
    path = tmp_path / "impossible.yaml"
    path.write_text(
        yaml.safe_dump({"duration": "3m", "expect": {"fired": [{"alertname": "NodeExporterDown"}]}})
    )
    workdir = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "cfmon", "sandbox", "--env", "dev", str(path), "--keep-dir", str(workdir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert leftovers(workdir) == []
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAIL  fired: NodeExporterDown (never fired)" in proc.stdout


@pytest.mark.e2e
def test_a_run_past_its_time_limit_stops_everything(project, resources, tmp_path):
    workdir = tmp_path / "run"
    with pytest.raises(UserError, match="exceeded its time limit"):
        sandbox.run(
            project, "dev", [load("healthy")], keep_dir=workdir, resources=resources["dev"], timeout_s=3
        )
    assert leftovers(workdir) == []

"""The alertmanager subchart: config built from values, receivers, templates, HA, security, schema.

Unit tests render the umbrella chart (`render(env, overlay)`) and look at the objects; the config
and templates are also fed to the real amtool, and one test runs the real Alertmanager binary
against local HTTP endpoints to see routing, inhibition and the notification texts end to end.
"""

from __future__ import annotations

import email
import email.policy
import html
import json
import re
import socket
import socketserver
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
import yaml
from conftest import ROOT, render

from cfmon import binaries
from cfmon.errors import UserError
from cfmon.sandbox.routing import matcher_ok

ENVS = ("dev", "staging", "prod")
CHART = ROOT / "charts/creativeflow-monitoring/charts/alertmanager"
TEMPLATES = CHART / "files/templates/default_notification.tmpl"
SECRETS = "/etc/alertmanager/secrets/"
STS = "StatefulSet/creativeflow-alertmanager"
WATCHDOG = {"alertname": "Watchdog", "severity": "info", "priority": "P4", "component": "prometheus"}

# Literal credential fields Alertmanager accepts and this chart never renders (their *_file twins only).
LITERAL_SECRETS = {
    "smtp_auth_password",
    "smtp_auth_secret",
    "slack_api_url",
    "pagerduty_url_key",
    "opsgenie_api_key",
    "auth_password",
    "auth_secret",
    "api_url",
    "routing_key",
    "service_key",
    "api_key",
    "webhook_url",
    "url",
    "password",
    "bearer_token",
    "credentials",
    "client_secret",
}


def am_config(objs: dict) -> dict:
    return yaml.safe_load(objs["ConfigMap/creativeflow-alertmanager-config"]["data"]["alertmanager.yml"])


def pod(objs: dict) -> dict:
    return objs[STS]["spec"]["template"]["spec"]


def container(objs: dict) -> dict:
    return pod(objs)["containers"][0]


def receiver(cfg: dict, name: str) -> dict:
    return next(r for r in cfg["receivers"] if r["name"] == name)


def write_layout(objs: dict, root: Path, secrets: dict[str, str] | None = None) -> Path:
    """alertmanager.yml and the templates as the pod mounts them, re-rooted under `root`; the
    Secret's files hold `secrets` (or placeholders). Returns the config path."""
    (root / "templates").mkdir(parents=True, exist_ok=True)
    (root / "secrets").mkdir(exist_ok=True)
    for name, text in objs["ConfigMap/creativeflow-alertmanager-templates"]["data"].items():
        (root / "templates" / name).write_text(text)
    text = objs["ConfigMap/creativeflow-alertmanager-config"]["data"]["alertmanager.yml"]
    for path in set(re.findall(rf"{SECRETS}[\w.-]+", text)):
        key = path.removeprefix(SECRETS)
        (root / "secrets" / key).write_text((secrets or {}).get(key, "placeholder"))
    text = text.replace("/etc/alertmanager/", f"{root}/")
    config = root / "alertmanager.yml"
    config.write_text(text)
    return config


def amtool_check(objs: dict, root: Path) -> subprocess.CompletedProcess[str]:
    return binaries.run("amtool", ["check-config", str(write_layout(objs, root))])


def routes_to(config: Path, labels: dict[str, str]) -> list[str]:
    proc = binaries.run(
        "amtool",
        ["config", "routes", "test", "--config.file", str(config), *(f"{k}={v}" for k, v in labels.items())],
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().split(",")


def schema_error(tmp_path: Path, values: dict) -> UserError:
    with pytest.raises(UserError) as err:
        render("prod", {"alertmanager": values}, tmp_path)
    return err.value


# ---- the config: routes --------------------------------------------------------------------------


def test_route_tree_order_in_prod():
    route = am_config(render("prod"))["route"]
    assert route["receiver"] == "default-email"
    assert route["group_by"] == ["alertname", "service", "component", "severity"]
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == ("30s", "5m", "4h")
    assert [r["receiver"] for r in route["routes"]] == [
        "heartbeat",
        "db-team-slack",
        "ai-infra-slack",
        "critical-pagerduty",
        "warning-slack",
        "info-email",
    ]
    db = route["routes"][1]
    assert db["matchers"] == ['team="database"'] and "continue" not in db
    assert [(r["receiver"], r["matchers"]) for r in db["routes"]] == [
        ("db-team-pagerduty", ['severity="critical"']),
        ("db-team-slack", ['severity="warning"']),
    ]
    ai = route["routes"][2]
    assert ai["matchers"] == ['team="ai-infrastructure"'] and ai["continue"] is True
    # `order` and `enabled` are values-only keys: Alertmanager would refuse them.
    assert "order" not in json.dumps(route) and "enabled" not in json.dumps(route)


def test_dev_drops_team_routes_and_paging_receivers():
    cfg = am_config(render("dev"))
    assert [r["receiver"] for r in cfg["route"]["routes"]] == [
        "heartbeat",
        "dev-slack",
        "dev-slack",
        "info-email",
    ]
    names = {r["name"] for r in cfg["receivers"]}
    assert names == {"default-email", "dev-slack", "heartbeat", "info-email", "warning-slack"}
    assert not any("pagerduty_configs" in r for r in cfg["receivers"])


def test_an_overlay_adds_one_route_and_receiver_without_restating_the_list(tmp_path):
    team = {
        "alertmanager": {
            "receivers": {
                "team-x": {"slack_configs": [{"channel": "#team-x", "api_url_file": SECRETS + "x"}]}
            },
            "routes": {
                "team-x": {"order": 5, "receiver": "team-x", "matchers": ['team="x"'], "continue": True}
            },
        }
    }
    cfg = am_config(render("prod", team, tmp_path))
    routes = cfg["route"]["routes"]
    assert routes[1] == {"receiver": "team-x", "matchers": ['team="x"'], "continue": True}
    assert routes[0]["receiver"] == "heartbeat" and len(routes) == 7
    assert receiver(cfg, "team-x")["slack_configs"][0]["channel"] == "#team-x"
    assert amtool_check(render("prod", team, tmp_path), tmp_path / "am").returncode == 0


def test_an_overlay_adds_a_nested_route_and_changes_one_receiver(tmp_path):
    overlay = {
        "alertmanager": {
            "routes": {
                "db-team": {
                    "routes": {
                        "replication": {
                            "order": 5,
                            "receiver": "db-team-pagerduty",
                            "matchers": ['alertname="PgLag"'],
                        },
                        "warning": {"receiver": "warning-slack"},
                    }
                }
            }
        }
    }
    db = am_config(render("prod", overlay, tmp_path))["route"]["routes"][1]
    assert [(r["receiver"], r["matchers"]) for r in db["routes"]] == [
        ("db-team-pagerduty", ['alertname="PgLag"']),
        ("db-team-pagerduty", ['severity="critical"']),
        ("warning-slack", ['severity="warning"']),
    ]


@pytest.mark.parametrize(
    ("overlay", "says"),
    [
        ({"routes": {"x": {"receiver": "nobody"}}}, 'alertmanager.routes.x.receiver: no receiver "nobody"'),
        # a disabled receiver is no receiver
        (
            {"routes": {"x": {"receiver": "opsgenie"}}},
            'alertmanager.routes.x.receiver: no receiver "opsgenie"',
        ),
        (
            {"routes": {"db-team": {"routes": {"critical": {"receiver": "nobody"}}}}},
            'alertmanager.routes.db-team.routes.critical.receiver: no receiver "nobody"',
        ),
        (
            {"receivers": {"heartbeat": {"enabled": False}}},
            'alertmanager.routes.watchdog.receiver: no receiver "heartbeat"',
        ),
        ({"route": {"receiver": "nobody"}}, 'alertmanager.route.receiver: no receiver "nobody"'),
    ],
)
def test_a_route_to_a_missing_or_disabled_receiver_fails_the_render(tmp_path, overlay, says):
    with pytest.raises(UserError) as err:
        render("prod", {"alertmanager": overlay}, tmp_path)
    assert says in f"{err.value.key}: {err.value}"


# ---- Watchdog --------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_watchdog_goes_only_to_the_heartbeat(env, tmp_path):
    objs = render(env)
    cfg = am_config(objs)
    first = cfg["route"]["routes"][0]
    assert first["matchers"] == ['alertname="Watchdog"'] and first["receiver"] == "heartbeat"
    assert not first.get("continue") and "routes" not in first
    assert first["group_wait"] == "0s" and first["repeat_interval"] in ("1m", "2m", "3m", "4m", "5m")
    heartbeat = receiver(cfg, "heartbeat")
    assert set(heartbeat) == {"name", "webhook_configs"}  # no e-mail, no chat, no pager
    assert heartbeat["webhook_configs"] == [
        {"url_file": SECRETS + "heartbeat-url", "send_resolved": False, "max_alerts": 1, "timeout": "10s"}
    ]
    assert routes_to(write_layout(objs, tmp_path), WATCHDOG) == ["heartbeat"]


def test_no_inhibition_rule_can_silence_the_watchdog():
    for env in ENVS:
        for rule in am_config(render(env))["inhibit_rules"]:
            assert not all(matcher_ok(m, WATCHDOG) for m in rule["target_matchers"]), rule


def test_inhibition_rules():
    rules = {tuple(r["source_matchers"]): r for r in am_config(render("prod"))["inhibit_rules"]}
    crit = rules[('severity="critical"',)]
    assert crit["target_matchers"][0] == 'severity="warning"'
    assert crit["equal"] == ["alertname", "service", "component", "cluster"]
    # Pairs under two names: both sides must carry the symptom (a label both lack counts as equal).
    symptom = rules[('severity="critical"', 'symptom=~".+"')]
    assert symptom["target_matchers"][:2] == ['severity="warning"', 'symptom=~".+"']
    assert {"symptom", "cluster", "instance", "mountpoint", "queue", "slo"} <= set(symptom["equal"])
    node = rules[('alertname="KubeNodeNotReady"', 'node=~".+"')]
    assert node["equal"] == ["cluster", "node"] and 'pod=~".+"' in node["target_matchers"]
    outage = rules[('alertname="KubeApiServerDown"', 'severity="critical"')]
    assert outage["equal"] == ["cluster"] and 'severity=~"warning|info"' in outage["target_matchers"]
    loki = rules[('alertname="LokiDown"',)]
    assert loki["equal"] == ["cluster"] and 'component="log-agent"' in loki["target_matchers"]
    shipping = next(m for m in loki["target_matchers"] if m.startswith("alertname=~"))
    # Every alert it names exists and is a log-agent alert; LogAgentDown is not silenced.
    names = shipping.split('"')[1].split("|")
    logs = yaml.safe_load(render("prod")["ConfigMap/creativeflow-prometheus-rules-logs"]["data"]["logs.yaml"])
    rendered = {r["alert"]: r for g in logs["groups"] for r in g["rules"] if "alert" in r}
    assert "LogAgentDown" not in names
    for name in names:
        assert rendered[name]["labels"]["component"] == "log-agent", name


def rendered_alerts(objs: dict) -> dict[str, dict]:
    """Every rendered alert rule by name."""
    return {
        rule["alert"]: rule
        for key, obj in objs.items()
        if key.startswith("ConfigMap/creativeflow-prometheus-rules-")
        for text in obj["data"].values()
        for group in yaml.safe_load(text)["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }


def inhibits(rule: dict, source: dict[str, str], target: dict[str, str]) -> bool:
    """Alertmanager's semantics: both matcher lists hold, and every `equal` label has the same value
    on both sides (a label missing on both sides counts as equal)."""
    return (
        all(matcher_ok(m, source) for m in rule["source_matchers"])
        and all(matcher_ok(m, target) for m in rule["target_matchers"])
        and all(source.get(k, "") == target.get(k, "") for k in rule.get("equal") or [])
    )


def silenced(rules: list[dict], source: dict[str, str], target: dict[str, str]) -> bool:
    return any(inhibits(r, source, target) for r in rules)


def test_every_symptom_joins_a_critical_and_its_warning():
    """A `symptom` shared by fewer than two severities silences nothing (a typo, or half a pair)."""
    by_symptom: dict[str, dict[str, list[str]]] = {}
    for name, rule in rendered_alerts(render("prod")).items():
        if "symptom" in rule["labels"]:
            by_symptom.setdefault(rule["labels"]["symptom"], {}).setdefault(
                rule["labels"]["severity"], []
            ).append(name)
    assert len(by_symptom) >= 10, sorted(by_symptom)
    for symptom, severities in by_symptom.items():
        assert set(severities) == {"critical", "warning"}, (symptom, severities)


def test_the_symptom_inhibition_covers_every_target_label_of_the_pairs():
    """The labels a pair's expression keeps (read from the promtool tests' exact label sets) name
    its target; each must be in `equal`, or a critical on one queue, mountpoint or SLO would
    silence the warning of another. `environment` goes with `cluster` (one cluster, one env)."""
    objs = render("prod")
    alerts = rendered_alerts(objs)
    rule = next(r for r in am_config(objs)["inhibit_rules"] if 'symptom=~".+"' in r["source_matchers"])
    seen: dict[str, set[str]] = {}
    for path in sorted((ROOT / "tests/rules").glob("*.yaml")):
        for case in yaml.safe_load(path.read_text())["tests"]:
            for test in case.get("alert_rule_test") or []:
                name = test["alertname"]
                if "symptom" not in alerts.get(name, {}).get("labels", {}):
                    continue
                for exp in test.get("exp_alerts") or []:
                    target = set(exp["exp_labels"]) - set(alerts[name]["labels"]) - {"environment"}
                    seen.setdefault(name, set()).update(target)
    symptomatic = {n for n, r in alerts.items() if "symptom" in r["labels"]}
    assert set(seen) == symptomatic, symptomatic - set(seen)  # every pair alert has a firing test
    for name, labels in sorted(seen.items()):
        assert labels <= set(rule["equal"]), (name, sorted(labels - set(rule["equal"])))
    # The alerts of one symptom name their target with the same labels (else `equal` never holds).
    for name, labels in seen.items():
        same = [n for n in seen if alerts[n]["labels"]["symptom"] == alerts[name]["labels"]["symptom"]]
        assert all(seen[n] == labels for n in same), {n: sorted(seen[n]) for n in same}


def test_a_critical_silences_the_warning_of_its_symptom_on_its_target_only():
    objs = render("prod")
    alerts = rendered_alerts(objs)
    rules = am_config(objs)["inhibit_rules"]
    where = {"cluster": "creativeflow-prod", "environment": "prod"}

    def labels(name: str, **target: str) -> dict[str, str]:
        return {"alertname": name, **alerts[name]["labels"], **where, **target}

    root = {"instance": "node-1", "device": "/dev/sda1", "mountpoint": "/"}
    disk = labels("NodeFilesystemSpaceCritical", **root)
    assert silenced(rules, disk, labels("NodeFilesystemSpaceLow", **root))
    assert silenced(rules, disk, labels("NodeFilesystemFillingUp", **root))
    assert not silenced(rules, disk, labels("NodeFilesystemSpaceLow", **{**root, "mountpoint": "/data"}))
    assert not silenced(rules, disk, labels("NodeFilesystemSpaceLow", **{**root, "instance": "node-2"}))
    assert not silenced(
        rules, disk, labels("NodeFilesystemSpaceLow", **{**root, "cluster": "creativeflow-staging"})
    )
    # Another symptom on the same node is another problem.
    assert not silenced(
        rules,
        labels("NodeCpuUsageCritical", instance="node-1"),
        labels("NodeMemoryUsageHigh", instance="node-1"),
    )
    assert silenced(
        rules,
        labels("NodeCpuUsageCritical", instance="node-1"),
        labels("NodeCpuUsageHigh", instance="node-1"),
    )
    queue = {"vhost": "/", "queue": "ai_generation_jobs"}
    backlog = labels("RabbitmqQueueReadyMessagesCritical", **queue)
    assert silenced(rules, backlog, labels("RabbitmqQueueReadyMessagesHigh", **queue))
    assert not silenced(
        rules,
        backlog,
        labels("RabbitmqQueueReadyMessagesHigh", **{**queue, "queue": "ai_generation_priority"}),
    )
    route = {"edge_adapter": "envoy-gateway", "route": "http-10443"}
    route_errors = labels("EdgeErrorRatioCritical", **route)
    assert silenced(rules, route_errors, labels("EdgeErrorRatioHigh", **route))
    assert not silenced(rules, route_errors, labels("EdgeErrorRatioHigh", **{**route, "route": "http-10080"}))
    # Every gateway instance down: the critical (raised per instance) silences each instance's warning.
    proxy = {"edge_adapter": "nginx", "job": "nginx-exporter", "instance": "web-nginx-0:9113"}
    assert silenced(rules, labels("EdgeGatewayDown", **proxy), labels("EdgeGatewayInstanceDown", **proxy))
    assert not silenced(
        rules,
        labels("EdgeGatewayDown", **proxy),
        labels("EdgeGatewayInstanceDown", **{**proxy, "instance": "web-nginx-1:9113"}),
    )
    # The same queue name in another RabbitMQ cluster is another target.
    assert not silenced(
        rules,
        labels("RabbitmqQueueReadyMessagesCritical", **queue, rabbitmq_cluster="a"),
        labels("RabbitmqQueueReadyMessagesHigh", **queue, rabbitmq_cluster="b"),
    )
    api, ai = {"slo": "api-availability"}, {"slo": "ai-generation-success"}
    assert silenced(
        rules,
        labels("SloApiAvailabilityBudgetBurnFast", **api),
        labels("SloApiAvailabilityBudgetBurnSlow", **api),
    )
    assert not silenced(
        rules,
        labels("SloApiAvailabilityBudgetBurnFast", **api),
        labels("SloAiGenerationSuccessBudgetBurnSlow", **ai),
    )
    # Without the symptom on both sides nothing is joined: two cluster-wide alerts of one component
    # that watch different things both notify. Without the `symptom=~".+"` matchers they would not
    # (every `equal` label is missing on both sides, so equal).
    errors, overcommit = labels("KubeApiServerErrorsHigh"), labels("KubeCpuOvercommitted")
    assert not silenced(rules, errors, overcommit)
    rule = next(r for r in rules if 'symptom=~".+"' in r["source_matchers"])
    naive = {**rule, "source_matchers": ['severity="critical"'], "target_matchers": ['severity="warning"']}
    assert inhibits(naive, errors, overcommit)
    assert not silenced(
        rules, labels("PostgresDown", instance="pg-0"), labels("PostgresConnectionsHigh", instance="pg-0")
    )
    # A warning never silences its critical.
    assert not silenced(
        rules,
        labels("NodeCpuUsageHigh", instance="node-1"),
        labels("NodeCpuUsageCritical", instance="node-1"),
    )


# ---- receivers and secrets -------------------------------------------------------------------------

ALL_RECEIVERS = {
    "alertmanager": {
        "receivers": {
            "opsgenie": {"enabled": True},
            "teams": {"enabled": True},
            "incident-webhook": {"enabled": True},
            "teams-v2": {"msteamsv2_configs": [{"webhook_url_file": SECRETS + "teams-v2-url"}]},
        },
        "routes": {
            name: {"order": 50 + i, "receiver": name, "matchers": [f'team="{name}"']}
            for i, name in enumerate(["opsgenie", "teams", "incident-webhook", "teams-v2"])
        },
    }
}

SECRET_FIELD = {
    "email_configs": None,  # the SMTP password is global (smtp_auth_password_file)
    "slack_configs": "api_url_file",
    "pagerduty_configs": "routing_key_file",
    "opsgenie_configs": "api_key_file",
    "msteams_configs": "webhook_url_file",
    "msteamsv2_configs": "webhook_url_file",
    "webhook_configs": "url_file",
}


def test_every_receiver_type_reads_its_secret_from_the_mounted_secret(tmp_path):
    objs = render("prod", ALL_RECEIVERS, tmp_path)
    cfg = am_config(objs)
    seen = set()
    for rcv in cfg["receivers"]:
        for kind, configs in rcv.items():
            if kind == "name":
                continue
            seen.add(kind)
            for c in configs:
                field = SECRET_FIELD[kind]
                if field and not (kind == "slack_configs" and field not in c):  # slack may use the global URL
                    assert c[field].startswith(SECRETS), (rcv["name"], c)
    assert seen == set(SECRET_FIELD)
    assert cfg["global"]["smtp_auth_password_file"] == SECRETS + "smtp-password"
    assert cfg["global"]["slack_api_url_file"] == SECRETS + "slack-webhook-url"
    proc = amtool_check(objs, tmp_path / "am")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{len(cfg['receivers'])} receivers" in proc.stdout
    volumes = pod(objs)["volumes"]
    assert {"name": "secrets", "secret": {"secretName": "creativeflow-alertmanager-secrets"}} in volumes


def _leaves(node, key=""):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from _leaves(v, key)
    else:
        yield key, node


@pytest.mark.parametrize("env", ENVS)
def test_no_literal_secret_in_the_rendered_config(env, tmp_path):
    cfg = am_config(render(env, ALL_RECEIVERS, tmp_path))
    for key, value in _leaves(cfg):
        assert key not in LITERAL_SECRETS, (key, value)
        if key.endswith("_file"):
            assert str(value).startswith(SECRETS), (key, value)
        assert not re.search(r"hooks\.slack\.com|outlook\.office\.com|xox[abp]-", str(value)), (key, value)


@pytest.mark.parametrize(
    ("values", "key", "field"),
    [
        (
            {"globalConfig": {"slack_api_url": "https://example.invalid/x"}},
            "alertmanager.globalConfig.slack_api_url",
            "slack_api_url",
        ),
        (
            {"globalConfig": {"smtp_auth_password": "hunter2"}},
            "alertmanager.globalConfig.smtp_auth_password",
            "smtp_auth_password",
        ),
        (
            {"receivers": {"x": {"slack_configs": [{"api_url": "https://example.invalid"}]}}},
            "alertmanager.receivers.x.slack_configs.0.api_url",
            "api_url",
        ),
        (
            {"receivers": {"x": {"pagerduty_configs": [{"routing_key": "abc"}]}}},
            "alertmanager.receivers.x.pagerduty_configs.0",
            "routing_key",
        ),
        (
            {"receivers": {"x": {"opsgenie_configs": [{"api_key": "abc"}]}}},
            "alertmanager.receivers.x.opsgenie_configs.0.api_key",
            "api_key",
        ),
        (
            {"receivers": {"x": {"msteams_configs": [{"webhook_url": "https://example.invalid"}]}}},
            "alertmanager.receivers.x.msteams_configs.0",
            "webhook_url",
        ),
        (
            {"receivers": {"x": {"webhook_configs": [{"url": "https://example.invalid"}]}}},
            "alertmanager.receivers.x.webhook_configs.0",
            "url",
        ),
        (
            {"receivers": {"x": {"email_configs": [{"to": "a@b", "auth_password": "pw"}]}}},
            "alertmanager.receivers.x.email_configs.0.auth_password",
            "auth_password",
        ),
        (
            {
                "receivers": {
                    "x": {
                        "webhook_configs": [{"url_file": SECRETS + "u", "http_config": {"bearer_token": "t"}}]
                    }
                }
            },
            "alertmanager.receivers.x.webhook_configs.0.http_config.bearer_token",
            "bearer_token",
        ),
        # a *_file outside the mounted Secret (a file baked into a ConfigMap, or a typo) is refused too
        (
            {"receivers": {"x": {"pagerduty_configs": [{"routing_key_file": "/tmp/key"}]}}},
            "alertmanager.receivers.x.pagerduty_configs.0.routing_key_file",
            "/etc/alertmanager/secrets",
        ),
    ],
)
def test_schema_refuses_a_literal_secret(tmp_path, values, key, field):
    err = schema_error(tmp_path, values)
    assert err.key == key
    assert field in str(err)


# ---- notification templates ------------------------------------------------------------------------

TEMPLATE_NAMES = [
    "email.creativeflow.subject",
    "slack.creativeflow.title",
    "slack.creativeflow.text",
    "slack.creativeflow.color",
    "pagerduty.creativeflow.description",
    "pagerduty.creativeflow.severity",
    "opsgenie.creativeflow.message",
    "opsgenie.creativeflow.description",
    "opsgenie.creativeflow.priority",
    "opsgenie.creativeflow.tags",
    "msteams.creativeflow.title",
    "msteams.creativeflow.summary",
    "msteams.creativeflow.text",
]


def amtool_render(text: str, kind: str = "text") -> str:
    proc = binaries.run(
        "amtool",
        [
            "template",
            "render",
            f"--template.glob={TEMPLATES}",
            f"--template.text={text}",
            f"--template.type={kind}",
        ],
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_template_renders_with_amtool(name):
    # amtool's sample data has no alertname, summary or severity: every fallback is exercised.
    out = amtool_render(f'{{{{ template "{name}" . }}}}')
    assert out.strip()
    assert "<no value>" not in out


# The templates that list each alert with its links.
PER_ALERT_TEMPLATES = [
    ('{{ template "email.creativeflow.html" . }}', "html"),
    ('{{ template "slack.creativeflow.text" . }}', "text"),
    ('{{ template "pagerduty.creativeflow.instances" .Alerts.Firing }}', "text"),
    ('{{ template "opsgenie.creativeflow.description" . }}', "text"),
    ('{{ template "msteams.creativeflow.text" . }}', "text"),
]


@pytest.mark.parametrize(
    ("text", "kind"), PER_ALERT_TEMPLATES, ids=lambda v: v.split('"')[1] if '"' in v else v
)
def test_no_dashboard_link_without_the_annotation(text, kind):
    # amtool's sample alerts carry no dashboard_url: no empty "Dashboard" link may appear.
    out = amtool_render(text, kind)
    assert out.strip() and "dashboard" not in out.lower()


def test_email_html_renders_links_and_counts_with_amtool():
    out = amtool_render('{{ template "email.creativeflow.html" . }}', "html")
    assert "1 firing, 1 resolved" in out
    assert 'href="https://example.com/#/silences/new?filter=%7Bgrouplabelkey1%3D%22grouplabelvalue1%22' in out
    assert "<no value>" not in out and "Instance</strong></td><td>foo.bar:1234" in out


def test_every_template_a_receiver_names_is_defined():
    defined = set(re.findall(r'define "([^"]+)"', TEMPLATES.read_text()))
    assert set(TEMPLATE_NAMES) | {"email.creativeflow.html", "pagerduty.creativeflow.instances"} <= defined
    values = (CHART / "values.yaml").read_text() + "".join(
        (ROOT / f"values/{e}.yaml").read_text() for e in ENVS
    )
    used = set(re.findall(r'template "([^"]+)"', values))
    assert used and used <= defined, used - defined


@pytest.mark.parametrize("env", ENVS)
def test_amtool_accepts_the_config_and_templates(env, tmp_path):
    proc = amtool_check(render(env), tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 templates" in proc.stdout


# ---- end to end: the real Alertmanager ------------------------------------------------------------


class _SmtpSink(socketserver.StreamRequestHandler):
    """Just enough SMTP for Alertmanager's e-mail notifier (no TLS, no AUTH advertised): each
    message's DATA goes to `received`."""

    received: ClassVar[list[bytes]] = []

    def handle(self):
        self.wfile.write(b"220 sink ESMTP\r\n")
        while line := self.rfile.readline():
            verb = line.split(b" ", 1)[0].split(b":", 1)[0].strip().upper()
            if verb == b"DATA":
                self.wfile.write(b"354 go ahead\r\n")
                body = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    body.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                type(self).received.append(b"".join(body))
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:  # EHLO/HELO, MAIL, RCPT, RSET, NOOP
                self.wfile.write(b"250 ok\r\n")


def _html_part(raw: bytes) -> str:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return msg.get_body(("html",)).get_content()


class _Sink(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, dict]]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).received.append((self.path, json.loads(body or b"{}")))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"status":"success","ok":true}')

    def log_message(self, *args):
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str, alerts: list[dict]) -> None:
    req = urllib.request.Request(url, json.dumps(alerts).encode(), {"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=5).read()


def _alert(labels: dict, **annotations) -> dict:
    env = {"environment": "prod", "cluster": "creativeflow-prod"}
    return {
        "labels": {**env, **labels},
        "annotations": annotations,
        "generatorURL": "http://prometheus/graph",
    }


def alertmanager_command(args: list[str]) -> list[str]:
    """The pinned alertmanager's command line (binaries.server_argv: Debian's build runs with its
    templates overlaid on /usr/share); skipped where that needs root and unshare and has neither."""
    try:
        return binaries.server_argv("alertmanager", args)
    except binaries.ToolMissing as exc:
        pytest.skip(str(exc))


# Links as Prometheus fills them (dashboard_url: global.grafanaUrl, the panel, the alert's labels).
GATEWAY_DASHBOARD = (
    "https://grafana.creativeflow.ai/d/application-performance?var-environment=prod"
    "&var-cluster=creativeflow-prod&var-service=api-gateway&viewPanel=11"
)
GPU_DASHBOARD = (
    "https://grafana.creativeflow.ai/d/gpus?var-environment=prod&var-cluster=creativeflow-prod"
    "&var-node=gpu-node-1&viewPanel=13"
)
QUEUE_DASHBOARD = (
    "https://grafana.creativeflow.ai/d/rabbitmq?var-environment=prod&var-cluster=creativeflow-prod"
    "&var-vhost=%2F&var-queue=renders&viewPanel=13"
)


def test_real_alertmanager_routes_inhibits_and_formats(tmp_path):
    """Alertmanager 0.33 with the prod config (waits shortened, endpoints local): the Watchdog reaches
    only the heartbeat, a critical pages with its priority and links, the warning it covers is
    inhibited (the same alert name, or the same symptom on the same target: a warning of that
    symptom on another mountpoint or queue still notifies), and a team alert reaches the team
    channel and the warning channel (and Teams, switched on here). Every notification shows the
    dashboard link next to the runbook link, and no dashboard link for an alert without
    dashboard_url (the e-mail)."""
    sink = ThreadingHTTPServer(("127.0.0.1", 0), type("Sink", (_Sink,), {"received": []}))
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    smtp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), type("Smtp", (_SmtpSink,), {"received": []}))
    smtp.daemon_threads = True
    threading.Thread(target=smtp.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{sink.server_port}"
    # A group flushed with no wait can go out before the rest of the same POST has landed in it; the
    # late alert would then wait group_interval (5m). One second of each keeps the test fast and whole.
    fast = {"group_wait": "1s", "group_interval": "1s"}
    overlay = {
        "alertmanager": {
            "globalConfig": {
                "pagerduty_url": f"{base}/pagerduty",
                "smtp_smarthost": f"127.0.0.1:{smtp.server_address[1]}",
                "smtp_require_tls": False,
            },
            "route": fast,
            "routes": {
                "critical": fast,
                # A copy of the GPU warning for Teams (the receiver is off by default).
                "teams-copy": {
                    "order": 1,
                    "receiver": "teams",
                    "matchers": ['alertname="GpuTemperatureHigh"'],
                    "continue": True,
                },
            },
            "receivers": {"teams": {"enabled": True}},
        }
    }
    secrets = {
        "heartbeat-url": f"{base}/heartbeat",
        "slack-webhook-url": f"{base}/slack/warning",
        "slack-ai-webhook-url": f"{base}/slack/ai",
        "slack-db-webhook-url": f"{base}/slack/db",
        "pagerduty-routing-key": "oncall-key",
        "pagerduty-db-routing-key": "db-key",
        "teams-webhook-url": f"{base}/teams",
    }
    objs = render("prod", overlay, tmp_path)
    config = write_layout(objs, tmp_path / "am", secrets)
    rules = rendered_alerts(objs)

    def pair_alert(name: str, description: str, **target: str) -> dict:
        """An alert of a symptom pair with its rendered labels (severity, symptom, ...)."""
        return _alert(
            {"alertname": name, **rules[name]["labels"], **target}, summary=name, description=description
        )

    root = {"instance": "node-1", "device": "/dev/sda1", "mountpoint": "/"}
    jobs = {"vhost": "/", "queue": "ai_generation_jobs"}
    port = _free_port()
    log = (tmp_path / "alertmanager.log").open("w")
    am = subprocess.Popen(
        alertmanager_command(
            [
                f"--config.file={config}",
                f"--storage.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--web.external-url=https://alertmanager.example",
                "--cluster.listen-address=",
            ]
        ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    api = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{api}/-/ready", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("alertmanager did not start: " + (tmp_path / "alertmanager.log").read_text()[-2000:])
        _post(f"{api}/api/v2/alerts", [_alert(WATCHDOG, summary="The alerting pipeline works.")])
        critical = {"alertname": "ApiGatewayErrorRatioHigh", "service": "api-gateway", "priority": "P1"}
        _post(
            f"{api}/api/v2/alerts",
            [
                _alert(
                    {**critical, "severity": "critical"},
                    summary="The API gateway fails too many requests.",
                    description="12% of requests failed.",
                    runbook_url="https://runbooks.example/ApiGatewayErrorRatioHigh.md",
                    dashboard_url=GATEWAY_DASHBOARD,
                ),
                pair_alert("NodeFilesystemSpaceCritical", "Root of node-1 is full.", **root),
                pair_alert("RabbitmqQueueReadyMessagesCritical", "The jobs queue is far behind.", **jobs),
            ],
        )
        time.sleep(0.5)
        _post(
            f"{api}/api/v2/alerts",
            [
                _alert(
                    {**critical, "severity": "warning", "priority": "P2"}, summary="Covered by the critical."
                ),
                # Covered by the critical of their symptom on the same target...
                pair_alert("NodeFilesystemSpaceLow", "Covered: root of node-1.", **root),
                pair_alert("RabbitmqQueueReadyMessagesHigh", "Covered: the jobs queue.", **jobs),
                # ... and not on another one.
                pair_alert(
                    "NodeFilesystemSpaceLow", "Uncovered: /data of node-1.", **{**root, "mountpoint": "/data"}
                ),
                pair_alert(
                    "RabbitmqQueueReadyMessagesHigh",
                    "Uncovered: the priority queue.",
                    **{**jobs, "queue": "ai_generation_priority"},
                ),
                _alert(
                    {
                        "alertname": "GpuTemperatureHigh",
                        "severity": "warning",
                        "priority": "P2",
                        "component": "gpu",
                        "team": "ai-infrastructure",
                    },
                    summary="A GPU runs hot.",
                    description="GPU 3 is at 88 C.",
                    runbook_url="https://runbooks.example/GpuTemperatureHigh.md",
                    dashboard_url=GPU_DASHBOARD,
                ),
                # Two info alerts, one e-mail: only the first has a dashboard.
                *(
                    _alert(
                        {**queue, "severity": "info", "priority": "P4", "component": "rabbitmq"},
                        summary="A queue has no consumer.",
                        description=f"Queue {queue['queue']} has no consumer.",
                        runbook_url="https://runbooks.example/RabbitmqQueueNoConsumers.md",
                        **({"dashboard_url": QUEUE_DASHBOARD} if queue["queue"] == "renders" else {}),
                    )
                    for queue in (
                        {"alertname": "RabbitmqQueueNoConsumers", "queue": "renders"},
                        {"alertname": "RabbitmqQueueNoConsumers", "queue": "exports"},
                    )
                ),
            ],
        )
        want = {"/heartbeat", "/pagerduty", "/slack/ai", "/slack/warning", "/teams"}
        uncovered = ("Uncovered: /data of node-1.", "Uncovered: the priority queue.")
        deadline = time.time() + 30
        while time.time() < deadline and not (
            want <= {p for p, _ in sink.RequestHandlerClass.received}
            and smtp.RequestHandlerClass.received
            and all(u in json.dumps(sink.RequestHandlerClass.received) for u in uncovered)
        ):
            time.sleep(0.2)
        got = {}
        for path, body in sink.RequestHandlerClass.received:
            got.setdefault(path, []).append(body)
        assert want <= set(got), (set(got), (tmp_path / "alertmanager.log").read_text()[-3000:])
        assert "/slack/db" not in got  # no database alert was sent

        # Watchdog: the heartbeat, nothing else; nothing else on the heartbeat.
        assert [a["labels"]["alertname"] for b in got["/heartbeat"] for a in b["alerts"]] == ["Watchdog"]
        others = json.dumps({p: b for p, b in got.items() if p != "/heartbeat"})
        assert "Watchdog" not in others

        # The page: priority, summary, where, links; PagerDuty's own severity and our routing key.
        page = next(p for p in got["/pagerduty"] if "ApiGatewayErrorRatioHigh" in p["payload"]["summary"])
        assert page["routing_key"] == "oncall-key"
        assert page["payload"]["severity"] == "critical"
        assert page["payload"]["summary"] == (
            "[P1] ApiGatewayErrorRatioHigh: The API gateway fails too many requests. "
            "(api-gateway, prod / creativeflow-prod)"
        )
        details = page["payload"]["custom_details"]
        assert details["runbook"] == "https://runbooks.example/ApiGatewayErrorRatioHigh.md"
        assert details["dashboard"] == GATEWAY_DASHBOARD
        # Alertmanager 0.33 sends a detail whose rendered text is valid JSON as JSON: the count is a number.
        assert details["num_firing"] == 1 and "12% of requests failed." in details["firing"]
        assert (
            "Runbook: https://runbooks.example/ApiGatewayErrorRatioHigh.md Dashboard: " + GATEWAY_DASHBOARD
            in details["firing"]
        )

        # The covered warnings were inhibited: no Slack message mentions them; the uncovered ones notify.
        slack = json.dumps(got["/slack/warning"] + got["/slack/ai"])
        assert "Covered by the critical." not in slack
        assert "Covered: " not in slack
        assert all(u in slack for u in uncovered)
        alerts = json.loads(urllib.request.urlopen(f"{api}/api/v2/alerts?inhibited=true&active=false").read())
        inhibited = sorted(
            (a["labels"]["alertname"], a["labels"].get("mountpoint") or a["labels"].get("queue") or "")
            for a in alerts
            if a["status"]["inhibitedBy"]
        )
        assert inhibited == [
            ("ApiGatewayErrorRatioHigh", ""),
            ("NodeFilesystemSpaceLow", "/"),
            ("RabbitmqQueueReadyMessagesHigh", "ai_generation_jobs"),
        ]
        assert {a["labels"]["severity"] for a in alerts if a["status"]["inhibitedBy"]} == {"warning"}

        # The GPU warning: the AI channel and the warning channel, with the full text.
        for path, channel in (("/slack/ai", "#alerts-ai-infra"), ("/slack/warning", "#alerts-warning")):
            msg = next(m for m in got[path] if "GpuTemperatureHigh" in m["attachments"][0]["title"])
            assert msg["channel"] == channel
            att = msg["attachments"][0]
            assert att["title"] == "[FIRING:1] GpuTemperatureHigh (gpu, prod)"
            assert att["color"] == "warning"
            text = att["text"]
            assert "*A GPU runs hot.*" in text and "GPU 3 is at 88 C." in text
            assert (
                "`warning` `P2`" in text and "*Service:* `gpu`" in text and "`prod/creativeflow-prod`" in text
            )
            assert "<https://runbooks.example/GpuTemperatureHigh.md|runbook>" in text
            # The dashboard next to the runbook, the URL exactly as Prometheus filled it.
            assert (
                f"<https://runbooks.example/GpuTemperatureHigh.md|runbook> · <{GPU_DASHBOARD}|dashboard> · "
                in text
            )
            assert "1 firing, 0 resolved" in text
            assert "https://alertmanager.example/#/silences/new?filter=%7B" in text

        # Teams (a MessageCard): the same links as Markdown.
        card = got["/teams"][0]
        assert (
            f"[Runbook](https://runbooks.example/GpuTemperatureHigh.md) [Dashboard]({GPU_DASHBOARD}) [Query]("
            in card["text"]
        )

        # E-mail (HTML): a Dashboard row for the alert that has the annotation, none for the other.
        assert len(smtp.RequestHandlerClass.received) == 1
        page = _html_part(smtp.RequestHandlerClass.received[0])
        escaped = html.escape(QUEUE_DASHBOARD, quote=True)
        assert f'<td><strong>Dashboard</strong></td><td><a href="{escaped}">{escaped}</a></td>' in page
        assert page.count("<strong>Dashboard</strong>") == 1
        assert page.count("<strong>Runbook</strong>") == 2
    finally:
        am.terminate()
        am.wait(timeout=10)
        log.close()
        sink.shutdown()
        smtp.shutdown()


# ---- the StatefulSet: clustering, URL, web config -------------------------------------------------


@pytest.mark.parametrize(("env", "replicas"), [("dev", 1), ("staging", 2), ("prod", 3)])
def test_peers_gossip_over_the_headless_service(env, replicas):
    objs = render(env)
    assert objs[STS]["spec"]["replicas"] == replicas
    assert objs[STS]["spec"]["serviceName"] == "creativeflow-alertmanager-headless"
    args = container(objs)["args"]
    peers = [a for a in args if a.startswith("--cluster.peer=")]
    gossip = [
        a for a in args if a.startswith(("--cluster.gossip", "--cluster.pushpull", "--cluster.peer-timeout"))
    ]
    if replicas == 1:
        assert "--cluster.listen-address=" in args and peers == [] and gossip == []
    else:
        assert "--cluster.listen-address=0.0.0.0:9094" in args
        assert "--cluster.advertise-address=$(POD_IP):9094" in args
        # The full-state exchange every 5s, not Alertmanager's 1m: what keeps a burst of new groups
        # from being notified by every peer (benchmarks/alertmanager_load.py).
        assert gossip == [
            "--cluster.gossip-interval=200ms",
            "--cluster.pushpull-interval=5s",
            "--cluster.peer-timeout=15s",
        ]
        assert peers == [
            f"--cluster.peer=creativeflow-alertmanager-{i}.creativeflow-alertmanager-headless.monitoring.svc:9094"
            for i in range(replicas)
        ]
    headless = objs["Service/creativeflow-alertmanager-headless"]["spec"]
    assert headless["clusterIP"] == "None" and headless["publishNotReadyAddresses"] is True
    assert {(p["port"], p.get("protocol", "TCP")) for p in headless["ports"]} >= {
        (9094, "TCP"),
        (9094, "UDP"),
    }


def test_external_url(tmp_path):
    assert "--web.external-url=https://alertmanager.creativeflow.ai" in container(render("prod"))["args"]
    args = container(render("prod", {"alertmanager": {"externalUrl": ""}}, tmp_path))["args"]
    assert "--web.external-url=http://creativeflow-alertmanager.monitoring.svc:9093" in args
    assert "--web.route-prefix=/" in args
    assert schema_error(tmp_path, {"externalUrl": "alertmanager.example"}).key == "alertmanager.externalUrl"


def test_web_config_off_in_dev_on_in_prod(tmp_path):
    off = render("dev")
    assert not any(a.startswith("--web.config.file") for a in container(off)["args"])
    assert container(off)["readinessProbe"]["httpGet"] == {"path": "/-/ready", "port": "http"}
    assert not any(v["name"] == "web-config" for v in pod(off)["volumes"])

    on = render("prod")
    c = container(on)
    assert "--web.config.file=/etc/alertmanager/web-config/web-config.yml" in c["args"]
    assert {"name": "web-config", "mountPath": "/etc/alertmanager/web-config", "readOnly": True} in c[
        "volumeMounts"
    ]
    vols = {v["name"]: v for v in pod(on)["volumes"]}
    assert vols["web-auth"]["secret"]["secretName"] == "creativeflow-alertmanager-web"
    assert vols["web-tls"]["secret"]["secretName"] == "creativeflow-alertmanager-tls"
    assert vols["web-config"]["emptyDir"] == {"medium": "Memory", "sizeLimit": "1Mi"}
    # basic auth guards /-/ready too: the probes only check the port
    assert c["readinessProbe"] == {"tcpSocket": {"port": "http"}, "periodSeconds": 10}
    assert c["livenessProbe"] == {"tcpSocket": {"port": "http"}, "periodSeconds": 30, "failureThreshold": 6}
    # The peers gossip over mutual TLS with the same certificate.
    assert "--cluster.tls-config=/etc/alertmanager/web-template/cluster-tls-config.yml" in c["args"]

    with pytest.raises(UserError) as err:
        render("prod", {"alertmanager": {"webConfig": {"enabled": True, "existingSecret": ""}}}, tmp_path)
    assert "alertmanager.webConfig" in f"{err.value.key}: {err.value}"


def test_persistence_per_environment():
    for env in ("staging", "prod"):
        spec = render(env)[STS]["spec"]
        assert spec["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
        assert spec["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "2Gi"
        assert not any(v["name"] == "data" for v in spec["template"]["spec"]["volumes"])
    dev = render("dev")[STS]["spec"]
    assert "volumeClaimTemplates" not in dev
    assert {"name": "data", "emptyDir": {}} in dev["template"]["spec"]["volumes"]


def test_config_or_template_change_rolls_the_pods(tmp_path):
    def checksum(objs):
        return objs[STS]["spec"]["template"]["metadata"]["annotations"]["checksum/config"]

    base = checksum(render("prod"))
    assert (
        checksum(render("prod", {"alertmanager": {"routes": {"info": {"repeat_interval": "12h"}}}}, tmp_path))
        != base
    )
    assert checksum(render("prod")) == base


# ---- availability: PDB and anti-affinity ----------------------------------------------------------


def test_pod_disruption_budget_per_environment():
    assert "PodDisruptionBudget/creativeflow-alertmanager" not in render("dev")
    staging = render("staging")["PodDisruptionBudget/creativeflow-alertmanager"]["spec"]
    assert staging["maxUnavailable"] == 1 and "minAvailable" not in staging
    prod = render("prod")
    spec = prod["PodDisruptionBudget/creativeflow-alertmanager"]["spec"]
    assert spec["minAvailable"] == 2 and "maxUnavailable" not in spec
    labels = prod[STS]["spec"]["template"]["metadata"]["labels"]
    assert spec["selector"]["matchLabels"].items() <= labels.items()


def test_anti_affinity_per_environment():
    assert "affinity" not in pod(render("dev"))
    soft = pod(render("staging"))["affinity"]["podAntiAffinity"][
        "preferredDuringSchedulingIgnoredDuringExecution"
    ]
    assert soft[0]["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    prod = render("prod")
    hard = pod(prod)["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert hard[0]["topologyKey"] == "kubernetes.io/hostname"
    assert hard[0]["labelSelector"]["matchLabels"] == prod[STS]["spec"]["selector"]["matchLabels"]


# ---- NetworkPolicy --------------------------------------------------------------------------------


def _pod_labels(objs: dict, name: str) -> dict | None:
    for key, obj in objs.items():
        if key.split("/")[0] in ("StatefulSet", "Deployment", "DaemonSet"):
            labels = obj["spec"]["template"]["metadata"]["labels"]
            if labels.get("app.kubernetes.io/name") == name:
                return labels
    return None


def test_network_policy_allows_exactly_what_alertmanager_needs():
    objs = render("prod")
    np = objs["NetworkPolicy/creativeflow-alertmanager"]["spec"]
    own = objs[STS]["spec"]["selector"]["matchLabels"]
    assert np["podSelector"]["matchLabels"] == own
    assert np["policyTypes"] == ["Ingress", "Egress"]
    api, gossip = np["ingress"]
    assert api["ports"] == [{"port": 9093, "protocol": "TCP"}]
    sources = [p["podSelector"]["matchLabels"] for p in api["from"]]
    assert sources == [
        {"app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": "creativeflow"},
        {"app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "creativeflow"},
    ]
    # The Prometheus pods really carry those labels (else alerts could not be delivered).
    prometheus = _pod_labels(objs, "prometheus")
    assert prometheus is not None and sources[0].items() <= prometheus.items()
    peers = [{"port": 9094, "protocol": "TCP"}, {"port": 9094, "protocol": "UDP"}]
    assert gossip == {"from": [{"podSelector": {"matchLabels": own}}], "ports": peers}
    to_peers, to_receivers = np["egress"]
    assert to_peers == {"to": [{"podSelector": {"matchLabels": own}}], "ports": peers}
    assert to_receivers["to"] == [{"ipBlock": {"cidr": "0.0.0.0/0"}}]
    assert [p["port"] for p in to_receivers["ports"]] == [443, 587, 25]


def test_network_policy_is_configurable_and_follows_the_global_switch(tmp_path):
    overlay = {
        "alertmanager": {
            "networkPolicy": {
                "clients": ["prometheus"],
                "extraIngressFrom": [{"namespaceSelector": {"matchLabels": {"name": "ingress-nginx"}}}],
                "receiverPorts": [443],
                "receiverCidrs": ["10.0.0.0/8"],
            }
        }
    }
    np = render("prod", overlay, tmp_path)["NetworkPolicy/creativeflow-alertmanager"]["spec"]
    assert np["ingress"][0]["from"][1] == {"namespaceSelector": {"matchLabels": {"name": "ingress-nginx"}}}
    assert len(np["ingress"][0]["from"]) == 2
    assert np["egress"][1] == {
        "to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}],
        "ports": [{"port": 443, "protocol": "TCP"}],
    }
    off = render("prod", {"global": {"networkPolicy": {"enabled": False}}}, tmp_path)
    assert "NetworkPolicy/creativeflow-alertmanager" not in off


# ---- schema ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"replicas": "three"}, "alertmanager.replicas"),
        ({"replica": 3}, "alertmanager.replica"),
        ({"podAntiAffinity": "always"}, "alertmanager.podAntiAffinity"),
        ({"podDisruptionBudget": {"minAvailable": "half"}}, "alertmanager.podDisruptionBudget.minAvailable"),
        ({"persistence": {"size": 2}}, "alertmanager.persistence.size"),
        ({"webConfig": {"enabled": "yes"}}, "alertmanager.webConfig.enabled"),
        ({"logLevel": "verbose"}, "alertmanager.logLevel"),
        # Go durations: the flag parser knows no days.
        ({"gossip": {"pushPullInterval": "1d"}}, "alertmanager.gossip.pushPullInterval"),
        ({"gossip": {"interval": "fast"}}, "alertmanager.gossip.interval"),
        ({"route": {"group_wait": "5 minutes"}}, "alertmanager.route.group_wait"),
        ({"routes": {"x": {"receiver": "heartbeat", "matcher": ['a="b"']}}}, "alertmanager.routes.x.matcher"),
        (
            {"routes": {"x": {"receiver": "heartbeat", "matchers": ["severity=critical"]}}},
            "alertmanager.routes.x.matchers.0",
        ),
        (
            {"routes": {"db-team": {"routes": {"critical": {"repeat_interval": "soon"}}}}},
            "alertmanager.routes.db-team.routes.critical.repeat_interval",
        ),
        ({"routes": {"Bad_Name": {"receiver": "heartbeat"}}}, "alertmanager.routes"),
        ({"receivers": {"x": {"slack_config": [{}]}}}, "alertmanager.receivers.x.slack_config"),
        (
            {"receivers": {"x": {"slack_configs": [{"chanel": "#x"}]}}},
            "alertmanager.receivers.x.slack_configs.0.chanel",
        ),
        ({"inhibitRules": {"x": {"source_matchers": ['a="b"']}}}, "alertmanager.inhibitRules.x"),
        ({"networkPolicy": {"receiverPorts": [70000]}}, "alertmanager.networkPolicy.receiverPorts.0"),
        ({"networkPolicy": {"receiverCidrs": []}}, "alertmanager.networkPolicy.receiverCidrs"),
        (
            {"timeIntervals": {"office": [{"times": [{"start_time": "8am", "end_time": "18:00"}]}]}},
            "alertmanager.timeIntervals.office.0.times.0.start_time",
        ),
    ],
)
def test_schema_rejects_a_wrong_type_or_unknown_key_with_its_path(tmp_path, values, key):
    assert schema_error(tmp_path, values).key == key


def test_time_intervals_render_and_mute_a_route(tmp_path):
    overlay = {
        "alertmanager": {
            "timeIntervals": {"outside-office": [{"weekdays": ["saturday", "sunday"]}]},
            "routes": {"info": {"mute_time_intervals": ["outside-office"]}},
        }
    }
    objs = render("prod", overlay, tmp_path)
    cfg = am_config(objs)
    assert cfg["time_intervals"] == [
        {"name": "outside-office", "time_intervals": [{"weekdays": ["saturday", "sunday"]}]}
    ]
    assert cfg["route"]["routes"][-1]["mute_time_intervals"] == ["outside-office"]
    assert amtool_check(objs, tmp_path / "am").returncode == 0
    assert "time_intervals" not in am_config(render("prod"))


# Values for string fields Alertmanager parses (URLs, host:port, durations, addresses).
SAMPLE_STRINGS = {
    "smarthost": "smtp.example:587",
    "smtp_smarthost": "smtp.example:587",
    "url": "https://x.example/",
    "api_url": "https://x.example/",
    "pagerduty_url": "https://x.example/",
    "opsgenie_api_url": "https://x.example/",
    "token_url": "https://x.example/token",
    "proxy_url": "http://proxy.example:3128",
    "type": "Bearer",
    "from": "a@x.example",
    "smtp_from": "a@x.example",
    "to": "b@x.example",
    "resolve_timeout": "5m",
    "timeout": "10s",
}


def _sample(schema: dict, definitions: dict, name: str = ""):
    """A value for every property a (sub)schema allows."""
    while "$ref" in schema:
        schema = definitions[schema["$ref"].rsplit("/", 1)[1]]
    if name in SAMPLE_STRINGS:
        return SAMPLE_STRINGS[name]
    if "enum" in schema:
        return schema["enum"][-1]
    kind = schema.get("type")
    if kind == "object":
        if "properties" not in schema:
            return {"key": "value"}
        return {k: _sample(v, definitions, k) for k, v in schema["properties"].items()}
    if kind == "array":
        special = {
            "actions": [{"type": "button", "text": "Runbook", "url": "https://x.example"}],
            "responders": [{"name": "ops", "type": "team"}],
        }
        return special.get(name) or [_sample(schema["items"], definitions, name)]
    if kind == "boolean":
        return True
    if kind == "integer":
        return 1
    return SECRETS + "key" if "secrets" in schema.get("pattern", "") else "text"


def test_every_field_the_schema_allows_is_one_alertmanager_accepts(tmp_path):
    """The schema lists receiver and global fields by hand: each must exist in Alertmanager 0.33."""
    schema = json.loads((CHART / "values.schema.json").read_text())
    defs = schema["definitions"]
    http = _sample(defs["httpConfig"], defs)
    basic = http["basic_auth"]
    assert set(basic) == {"username", "username_file", "password_file"}
    http["basic_auth"] = {"username": basic["username"], "password_file": basic["password_file"]}
    # Alertmanager takes one authentication method and one proxy setting per client.
    exclusive = [("basic_auth",), ("authorization",), ("bearer_token_file",), ("oauth2",)]
    proxies = [("proxy_url", "no_proxy"), ("proxy_from_environment",)]
    configs = []
    for auth in exclusive:
        for proxy in proxies:
            keep = set(auth) | set(proxy) | {"tls_config", "follow_redirects", "enable_http2"}
            configs.append({k: v for k, v in http.items() if k in keep})
    configs.append({"basic_auth": {"username_file": basic["username_file"], "password_file": SECRETS + "pw"}})
    receivers = []
    kinds = schema["properties"]["receivers"]["additionalProperties"]["properties"]
    for kind, spec in kinds.items():
        if kind == "enabled":
            continue
        item = _sample(spec["items"], defs, kind)
        item.pop("service_key_file", None)  # one of routing_key_file / service_key_file
        item.pop("tls_config", None) if kind == "email_configs" else None
        for i, http_config in enumerate(configs if "http_config" in item else [None]):
            if http_config is not None:
                item = {**item, "http_config": http_config}
            receivers.append({"name": f"{kind}-{i}", kind: [item]})
    email = _sample(kinds["email_configs"]["items"], defs, "email_configs")
    receivers.append(
        {"name": "email-tls", "email_configs": [{"to": email["to"], "tls_config": email["tls_config"]}]}
    )
    glob = _sample(schema["properties"]["globalConfig"], defs)
    glob["http_config"] = configs[0]
    config = tmp_path / "kitchen-sink.yml"
    config.write_text(
        yaml.safe_dump({"global": glob, "route": {"receiver": "email-tls"}, "receivers": receivers})
    )
    proc = binaries.run("amtool", ["check-config", str(config)])
    assert proc.returncode == 0, proc.stdout + proc.stderr

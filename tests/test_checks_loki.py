"""The loki/* checks on the rendered loki.yaml: each passes the real render of every environment and
fails on a broken variant, naming the key path and the file a user edits.

The chart is rendered with the real helm into a temporary copy of the repository (charts, values),
once per environment; a failing case edits a deep copy of the rendered ConfigMap.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from cfmon.checks import REGISTRY, Check, Context, Finding
from cfmon.checks.loki import (
    HELPERS,
    LokiAuditRetention,
    LokiConfigSchema,
    LokiObjectStorage,
    LokiRetention,
    LokiRetentionSelectors,
    LokiSchemaPeriods,
    prom_seconds,
)
from cfmon.project import Project
from cfmon.render import Rendered, render

REPO = Path(__file__).resolve().parents[1]
ENVS = ("dev", "staging", "prod")
CONFIGMAP = "creativeflow-loki-config"
CHART_VALUES = "charts/creativeflow-monitoring/charts/loki/values.yaml"
LOKI_CHECKS = (
    LokiConfigSchema,
    LokiRetention,
    LokiObjectStorage,
    LokiSchemaPeriods,
    LokiRetentionSelectors,
    LokiAuditRetention,
)


def copy_project(root: Path) -> Project:
    for rel in ("charts", "values"):
        shutil.copytree(REPO / rel, root / rel)
    shutil.copy2(REPO / "pyproject.toml", root / "pyproject.toml")
    return Project(root)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return copy_project(tmp_path_factory.mktemp("repo"))


@pytest.fixture(scope="module")
def renders(project: Project) -> dict[str, Rendered]:
    return {env: render(project, env) for env in ENVS}


def run(check: type[Check], rendered: Rendered, project: Project) -> list[Finding]:
    return check().run(Context(project, rendered.env, rendered))


def edited(rendered: Rendered, change: Callable[[dict[str, Any]], None]) -> Rendered:
    """A copy of the render whose loki.yaml went through `change` (the module's render stays)."""
    resources = copy.deepcopy(rendered.resources)
    (cm,) = [r for r in resources if r.kind == "ConfigMap" and r.name == CONFIGMAP]
    config = yaml.safe_load(cm.obj["data"]["loki.yaml"])
    change(config)
    cm.obj["data"]["loki.yaml"] = yaml.safe_dump(config, sort_keys=False)
    return dataclasses.replace(rendered, resources=resources)


def one(findings: list[Finding], check: type[Check]) -> Finding:
    assert len(findings) == 1, "\n".join(f"{f.file}: {f.message}" for f in findings) or "no findings"
    assert findings[0].check == check.id and findings[0].severity == "error"
    return findings[0]


def stream(config: dict, selector: str) -> dict:
    return next(s for s in config["limits_config"]["retention_stream"] if s["selector"] == selector)


# ---- the registry and the real renders -------------------------------------------------------------


def test_every_loki_check_is_registered():
    assert set(LOKI_CHECKS) <= set(REGISTRY)
    assert {c.id for c in LOKI_CHECKS} == {
        "loki/config-schema",
        "loki/retention",
        "loki/object-storage",
        "loki/schema-period",
        "loki/retention-selectors",
        "loki/audit-retention",
    }


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("check", LOKI_CHECKS, ids=lambda c: c.id)
def test_the_real_render_passes(renders, project, env, check):
    assert run(check, renders[env], project) == []


def test_a_render_without_loki_has_nothing_to_check(renders, project):
    rendered = renders["prod"]
    bare = dataclasses.replace(rendered, resources=[r for r in rendered.resources if r.name != CONFIGMAP])
    for check in LOKI_CHECKS:
        assert run(check, bare, project) == []


def test_prometheus_durations():
    assert prom_seconds("14d") == 14 * 86400
    assert prom_seconds("1w2d") == 9 * 86400
    assert prom_seconds("0") == 0
    assert prom_seconds("1.5h") is None and prom_seconds("two weeks") is None


# ---- loki/config-schema ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message", "file"),
    [
        pytest.param(
            lambda c: c["limits_config"].__setitem__("retention_periods", "14d"),
            "limits_config.retention_periods: unknown key",
            HELPERS,
            id="unknown-key",
        ),
        pytest.param(
            lambda c: c["common"]["storage"]["s3"].__setitem__("secret_key", "${X}"),
            "common.storage.s3.secret_key: unknown key",
            HELPERS,
            id="unknown-nested-key",
        ),
        pytest.param(
            lambda c: c.__setitem__("table_manager", {"retention_deletes_enabled": True}),
            "table_manager: unknown key",
            HELPERS,
            id="legacy-table-manager",
        ),
        pytest.param(
            lambda c: c["compactor"].__setitem__("compaction_interval", "1d"),
            'compactor.compaction_interval: "1d" is not a Go duration',
            CHART_VALUES,
            id="go-duration-with-days",
        ),
        pytest.param(
            lambda c: c["limits_config"].__setitem__("max_query_parallelism", "32"),
            'limits_config.max_query_parallelism: "32" is not an integer',
            CHART_VALUES,
            id="string-for-int",
        ),
        pytest.param(
            lambda c: c["limits_config"].__setitem__("max_global_streams_per_user", 50000.0),
            "limits_config.max_global_streams_per_user: 50000.0 is not an integer",
            "values/prod.yaml",
            id="float-for-int",
        ),
        pytest.param(
            lambda c: c["limits_config"]["retention_stream"][0].__setitem__("period", "two weeks"),
            'limits_config.retention_stream[0].period: "two weeks" is not a Prometheus duration',
            "values/prod.yaml",
            id="bad-stream-period",
        ),
        pytest.param(
            lambda c: c["server"].__setitem__("log_level", "verbose"),
            'server.log_level: "verbose" is not one of debug, info, warn, error',
            CHART_VALUES,
            id="bad-enum",
        ),
        pytest.param(
            lambda c: c["ingester"]["wal"].__setitem__("enabled", "yes please"),
            'ingester.wal.enabled: "yes please" is not true or false',
            HELPERS,
            id="string-for-bool",
        ),
        pytest.param(
            lambda c: c["common"]["storage"].__setitem__(
                "filesystem", {"chunks_directory": "/c", "rules_directory": "/r"}
            ),
            "common.storage: filesystem, s3 are set: one backend",
            "values/prod.yaml",
            id="two-storage-backends",
        ),
        pytest.param(
            lambda c: c.pop("schema_config"),
            "schema_config: missing",
            HELPERS,
            id="missing-section",
        ),
    ],
)
def test_config_schema_rejects(renders, project, change, message, file):
    finding = one(run(LokiConfigSchema, edited(renders["prod"], change), project), LokiConfigSchema)
    assert f"{CONFIGMAP}/loki.yaml: {message}" in finding.message, finding.message
    assert finding.file == file, finding
    assert finding.hint


def test_config_schema_points_at_the_values_key_and_line(renders, project):
    finding = one(
        run(
            LokiConfigSchema,
            edited(renders["prod"], lambda c: c["limits_config"].__setitem__("ingestion_rate_mb", "16")),
            project,
        ),
        LokiConfigSchema,
    )
    assert finding.file == "values/prod.yaml" and "loki.limits.ingestionRateMb" in finding.hint
    line = (project.root / "values/prod.yaml").read_text().splitlines()[finding.line - 1]
    assert line.strip().startswith("ingestionRateMb:")


def test_config_schema_reports_yaml_that_does_not_parse(renders, project):
    rendered = renders["dev"]
    resources = copy.deepcopy(rendered.resources)
    (cm,) = [r for r in resources if r.name == CONFIGMAP]
    cm.obj["data"]["loki.yaml"] = "server: [unclosed\n"
    finding = one(
        run(LokiConfigSchema, dataclasses.replace(rendered, resources=resources), project), LokiConfigSchema
    )
    assert "not valid YAML" in finding.message and finding.file == HELPERS
    # The other checks skip what does not parse instead of crashing.
    for check in LOKI_CHECKS[1:]:
        assert run(check, dataclasses.replace(rendered, resources=resources), project) == []


def test_config_schema_takes_an_unquoted_date_like_loki(renders, project):
    def unquoted(config):
        config["schema_config"]["configs"][0]["from"] = datetime.date(2025, 1, 1)

    assert run(LokiConfigSchema, edited(renders["prod"], unquoted), project) == []


# ---- loki/retention --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "change", "message"),
    [
        pytest.param(
            "prod",
            lambda c: c["compactor"].__setitem__("retention_enabled", False),
            "compactor.retention_enabled is not true",
            id="retention-off",
        ),
        pytest.param(
            "dev",
            lambda c: c["compactor"].pop("retention_enabled"),
            "compactor.retention_enabled is not true",
            id="retention-unset-in-dev",
        ),
        pytest.param(
            "prod",
            lambda c: c["compactor"].pop("delete_request_store"),
            "compactor.delete_request_store is not set",
            id="no-delete-request-store",
        ),
        pytest.param(
            "prod",
            lambda c: c["compactor"].__setitem__("delete_request_store", "filesystem"),
            "delete_request_store 'filesystem' is not the object store of the index (s3)",
            id="delete-requests-elsewhere",
        ),
        pytest.param(
            "staging",
            lambda c: c["limits_config"].__setitem__("retention_period", "0s"),
            "limits_config.retention_period is 0s: 0 turns retention off",
            id="default-retention-off",
        ),
        pytest.param(
            "staging",
            lambda c: c["limits_config"].__setitem__("retention_period", "12h"),
            "retention works on daily index tables",
            id="default-under-a-day",
        ),
        pytest.param(
            "prod",
            lambda c: stream(c, '{retention="debug"}').__setitem__("period", "12h"),
            "period 12h is under 24h",
            id="class-under-a-day",
        ),
    ],
)
def test_retention_fails(renders, project, env, change, message):
    finding = one(run(LokiRetention, edited(renders[env], change), project), LokiRetention)
    assert message in finding.message, finding.message


def test_retention_points_at_the_values_that_set_the_period(renders, project):
    finding = one(
        run(
            LokiRetention,
            edited(renders["dev"], lambda c: c["limits_config"].__setitem__("retention_period", "1h")),
            project,
        ),
        LokiRetention,
    )
    assert finding.file == "values/dev.yaml" and "loki.retention.defaultPeriod" in finding.hint
    assert "defaultPeriod:" in (project.root / "values/dev.yaml").read_text().splitlines()[finding.line - 1]


# ---- loki/object-storage ---------------------------------------------------------------------------


def filesystem(config: dict) -> None:
    config["schema_config"]["configs"][0]["object_store"] = "filesystem"


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_object_storage_refuses_the_filesystem_in_staging_and_prod(renders, project, env):
    finding = one(run(LokiObjectStorage, edited(renders[env], filesystem), project), LokiObjectStorage)
    assert "schema_config.configs[0].object_store is 'filesystem'" in finding.message
    assert finding.file == f"values/{env}.yaml" and "loki.storage.type" in finding.hint


def test_object_storage_allows_the_filesystem_in_dev(renders, project):
    config = yaml.safe_load(
        next(r for r in renders["dev"].resources if r.name == CONFIGMAP).obj["data"]["loki.yaml"]
    )
    assert config["schema_config"]["configs"][0]["object_store"] == "filesystem"
    assert run(LokiObjectStorage, renders["dev"], project) == []


def test_object_storage_needs_an_endpoint_and_bucket(renders, project):
    finding = one(
        run(
            LokiObjectStorage,
            edited(renders["prod"], lambda c: c["common"]["storage"]["s3"].pop("bucketnames")),
            project,
        ),
        LokiObjectStorage,
    )
    assert "no S3 endpoint and bucket" in finding.message


# ---- loki/schema-period ----------------------------------------------------------------------------


def legacy_period(config: dict) -> None:
    """The schema period of older Loki example configurations (boltdb-shipper, v11)."""
    config["schema_config"]["configs"] = [
        {
            "from": "2020-10-24",
            "store": "boltdb-shipper",
            "object_store": "s3",
            "schema": "v11",
            "index": {"prefix": "index_", "period": "24h"},
        }
    ]


def second_period(**fields: Any) -> Callable[[dict], None]:
    def change(config: dict) -> None:
        first = config["schema_config"]["configs"][0]
        config["schema_config"]["configs"].append({**copy.deepcopy(first), **fields})

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            legacy_period, "schema_config.configs[0]: uses boltdb-shipper with schema v11", id="legacy-v11"
        ),
        pytest.param(
            lambda c: c["schema_config"]["configs"][0].__setitem__("schema", "v12"),
            "uses tsdb with schema v12",
            id="tsdb-v12",
        ),
        pytest.param(
            lambda c: c["schema_config"]["configs"][0].pop("from"),
            "schema_config.configs[0].from: None is not a day",
            id="no-from",
        ),
        pytest.param(
            lambda c: c["schema_config"]["configs"][0].__setitem__("from", "2025-13-01"),
            "'2025-13-01' is not a day",
            id="impossible-date",
        ),
        pytest.param(
            second_period(**{"from": "2024-06-01"}),
            "schema_config.configs[1].from: 2024-06-01 does not follow the previous period's 2025-01-01",
            id="periods-out-of-order",
        ),
        pytest.param(
            lambda c: c["schema_config"]["configs"][0]["index"].__setitem__("period", "168h"),
            "index.period: 168h: the TSDB index needs a 24h period",
            id="weekly-index",
        ),
        pytest.param(
            lambda c: c["schema_config"].__setitem__("configs", []), "no index period at all", id="none"
        ),
    ],
)
def test_schema_period_fails(renders, project, change, message):
    finding = one(run(LokiSchemaPeriods, edited(renders["prod"], change), project), LokiSchemaPeriods)
    assert message in finding.message, finding.message


def test_schema_period_sends_a_bad_date_to_the_values_key(renders, project):
    change = lambda c: c["schema_config"]["configs"][0].__setitem__("from", "2025-02-30")  # noqa: E731
    finding = one(run(LokiSchemaPeriods, edited(renders["dev"], change), project), LokiSchemaPeriods)
    assert finding.file == CHART_VALUES and "loki.schemaConfig.from" in finding.hint


def test_schema_period_accepts_a_later_period(renders, project):
    assert (
        run(LokiSchemaPeriods, edited(renders["prod"], second_period(**{"from": "2026-06-01"})), project)
        == []
    )


# ---- loki/retention-selectors ----------------------------------------------------------------------


def selector(text: str) -> Callable[[dict], None]:
    return lambda c: stream(c, '{retention="debug"}').__setitem__("selector", text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('retention="debug"', "is not a LogQL stream selector"),
        ('{retention="debug"', "expected ',' or '}'"),
        ('{retention=~".*"}', "needs at least one = or =~ matcher that does not match the empty string"),
        ('{app=~"(api"}', "not a valid regular expression"),
        ('{retention="debug"} |= "x"', "only a stream selector"),
        ('{app=~"api$"}', "lone `$`"),
    ],
)
def test_retention_selectors_fail(renders, project, text, message):
    finding = one(
        run(LokiRetentionSelectors, edited(renders["prod"], selector(text)), project), LokiRetentionSelectors
    )
    assert message in finding.message, finding.message
    assert "limits_config.retention_stream[1]" in finding.message


@pytest.mark.parametrize(
    "text", ['{app=~"api$$"}', '{retention="debug", namespace!="kube-system"}', "{a=`b`}"]
)
def test_retention_selectors_pass(renders, project, text):
    assert run(LokiRetentionSelectors, edited(renders["prod"], selector(text)), project) == []


# ---- loki/audit-retention --------------------------------------------------------------------------


def add_class(selector: str, period: str, priority: int) -> Callable[[dict], None]:
    def change(config: dict) -> None:
        config["limits_config"]["retention_stream"].append(
            {"selector": selector, "period": period, "priority": priority}
        )

    return change


def test_audit_class_under_a_year_fails_and_points_at_the_env_that_set_it(renders, project):
    change = lambda c: stream(c, '{retention="audit"}').__setitem__("period", "90d")  # noqa: E731
    finding = one(run(LokiAuditRetention, edited(renders["dev"], change), project), LokiAuditRetention)
    assert "the audit class keeps logs 90d" in finding.message and "365d" in finding.message
    assert finding.file == CHART_VALUES  # dev keeps the chart's audit class
    lines = (project.root / CHART_VALUES).read_text().splitlines()
    # The line of the class's period (the value to change), right under its selector.
    assert lines[finding.line - 1].strip() == "period: 365d"
    assert "selector: '{retention=\"audit\"}'" in lines[finding.line - 2]


@pytest.mark.parametrize(
    ("change", "reported"),
    [
        pytest.param(
            add_class('{namespace="payments"}', "30d", 100), True, id="team-class-at-audit-priority"
        ),
        pytest.param(add_class('{namespace="payments"}', "30d", 200), True, id="team-class-above-audit"),
        pytest.param(add_class('{namespace="payments"}', "30d", 50), False, id="team-class-below-audit"),
        pytest.param(add_class('{namespace="payments"}', "400d", 200), False, id="team-class-keeps-longer"),
        pytest.param(
            add_class('{namespace="payments", retention!="audit"}', "30d", 200),
            False,
            id="team-class-excludes-audit",
        ),
        pytest.param(add_class('{retention=~"audit|debug"}', "30d", 500), True, id="regex-covers-audit"),
    ],
)
def test_a_class_that_would_cut_audit_logs_short(renders, project, change, reported):
    findings = run(LokiAuditRetention, edited(renders["prod"], change), project)
    if reported:
        finding = one(findings, LokiAuditRetention)
        assert "may match audit streams" in finding.message
    else:
        assert findings == []


def test_audit_check_on_a_real_team_overlay(project, tmp_path):
    overlay = tmp_path / "team-payments.yaml"
    overlay.write_text(
        "loki:\n  retention:\n    streams:\n      payments:\n"
        "        selector: '{namespace=\"payments\"}'\n        period: 30d\n        priority: 100\n"
    )
    local = copy_project(tmp_path / "repo")
    rendered = render(local, "prod", [overlay])
    finding = one(run(LokiAuditRetention, rendered, local), LokiAuditRetention)
    assert finding.file == str(overlay) and finding.line == 5, finding
    # Excluding audit streams from the team's class is the fix.
    overlay.write_text(
        "loki:\n  retention:\n    streams:\n      payments:\n"
        '        selector: \'{namespace="payments", retention!="audit"}\'\n'
        "        period: 30d\n        priority: 100\n"
    )
    assert run(LokiAuditRetention, render(local, "prod", [overlay]), local) == []

"""longterm/store on the real renders (dev: the single node, prod: the cluster), where it passes, and
on broken copies of them, where each fails saying where and why; plus the render-time refusals of
the victoria-metrics subchart."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from cfmon.checks.base import Context, Finding
from cfmon.checks.longterm import LongTermStore, documented_flags
from cfmon.errors import UserError
from cfmon.manifests import Resource, parse_documents, split_by_source
from cfmon.project import CHART, find_root
from cfmon.render import Rendered, helm_output

PROJECT = find_root(ROOT)


def _rendered(env: str, tmp: Path, overlay: dict | None = None) -> Rendered:
    overlays = []
    if overlay:
        path = tmp / f"{env}-overlay.yaml"
        path.write_text(yaml.safe_dump(overlay))
        overlays.append(path)
    text, files = helm_output(PROJECT, env, overlays)
    resources = []
    for rel, body in split_by_source(text).items():
        resources += parse_documents(body, source=str(CHART / rel), origin=rel)
    return Rendered(env, tmp, text, files, resources)


@pytest.fixture(scope="module")
def renders(tmp_path_factory) -> dict[str, Rendered]:
    tmp = tmp_path_factory.mktemp("longterm")
    return {env: _rendered(env, tmp) for env in ("dev", "prod")}


def run(rendered: Rendered) -> list[Finding]:
    return LongTermStore().run(Context(PROJECT, rendered.env, rendered))


def edited(rendered: Rendered, kind: str, name_end: str, change: Callable[[Resource], None]) -> Rendered:
    resources = copy.deepcopy(rendered.resources)
    (res,) = [r for r in resources if r.kind == kind and r.name.endswith(name_end)]
    change(res)
    return dataclasses.replace(rendered, resources=resources)


def set_arg(flag: str, value: str) -> Callable[[Resource], None]:
    def change(res: Resource) -> None:
        container = res.obj["spec"]["template"]["spec"]["containers"][0]
        args = [a for a in container["args"] if not a.startswith(f"-{flag}=")]
        container["args"] = [*args, f"-{flag}={value}"]

    return change


def edit_remote_write(change: Callable[[dict], None]) -> Callable[[Resource], None]:
    def apply(res: Resource) -> None:
        config = yaml.safe_load(res.obj["data"]["prometheus.yml"])
        change(config["remote_write"][0])
        res.obj["data"]["prometheus.yml"] = yaml.safe_dump(config)

    return apply


def messages(findings: list[Finding]) -> str:
    return "\n".join(f"{f.file}: {f.message} ({f.hint})" for f in findings)


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_shipped_store_and_remote_write_pass(renders, env):
    rendered = renders[env]
    assert any(r.kind == "StatefulSet" and "victoria-metrics" in r.name for r in rendered.resources)
    assert run(rendered) == []


def test_the_flag_lists_name_their_source_version():
    version, flags = documented_flags()
    assert version == "1.145.0"
    assert {"storageNode", "replicationFactor"} <= flags["vminsert"]
    assert "retentionPeriod" in flags["vmstorage"] and "retentionPeriod" not in flags["vminsert"]


def test_an_undocumented_cluster_flag_is_refused(renders):
    # -retentionFilter is an enterprise flag: the open-source vmstorage does not document it.
    bad = edited(renders["prod"], "StatefulSet", "-vmstorage", set_arg("retentionFilter", '{env="dev"}:30d'))
    (finding,) = run(bad)
    assert "-retentionFilter is not a flag vmstorage documents" in finding.message
    assert finding.file.endswith("victoria-metrics/values.yaml")
    assert "extraArgs.vmstorage" in finding.hint


def test_a_flag_of_another_component_is_refused(renders):
    bad = edited(renders["prod"], "Deployment", "-vminsert", set_arg("retentionPeriod", "3y"))
    assert "-retentionPeriod is not a flag vminsert documents" in messages(run(bad))


def test_the_single_node_flags_come_from_the_binary(renders):
    bad = edited(renders["dev"], "StatefulSet", "victoria-metrics", set_arg("storageNode", "x:8400"))
    assert "-storageNode is not a flag single documents (per `victoria-metrics -help`)" in messages(run(bad))


def test_a_retention_shorter_than_a_tier_is_refused(renders):
    bad = edited(renders["prod"], "StatefulSet", "-vmstorage", set_arg("retentionPeriod", "1y"))
    text = messages(run(bad))
    assert "-retentionPeriod=1y is shorter than the 1d tier's 3y" in text
    assert "victoria-metrics.retentionPeriod" in text


def test_dedup_and_replication_must_agree(renders):
    bad = edited(renders["prod"], "Deployment", "-vmselect", set_arg("dedup.minScrapeInterval", "1ms"))
    assert "vmselect and vmstorage disagree on -dedup.minScrapeInterval" in messages(run(bad))
    bad = edited(renders["prod"], "Deployment", "-vmselect", set_arg("replicationFactor", "3"))
    assert "vminsert and vmselect disagree on -replicationFactor" in messages(run(bad))
    bad = edited(renders["prod"], "Deployment", "-vminsert", set_arg("storageNode", "a:8400"))
    assert "-storageNode lists ['a:8400'], not the 3 vmstorage pods on port 8400" in messages(run(bad))


def test_a_remote_write_to_a_service_not_rendered_is_refused(renders):
    def to_cluster(rw):
        rw["url"] = (
            "http://creativeflow-victoria-metrics-vminsert.monitoring.svc:8480/insert/0/prometheus/api/v1/write"
        )

    bad = edited(renders["dev"], "ConfigMap", "-prometheus-config", edit_remote_write(to_cluster))
    (finding,) = run(bad)
    assert (
        "names Service monitoring/creativeflow-victoria-metrics-vminsert, which the release does not render"
        in finding.message
    )
    assert finding.file.endswith("prometheus/templates/configmap.yaml")


def test_the_cluster_is_written_through_vminsert(renders):
    def to_vmselect(rw):
        rw["url"] = (
            "http://creativeflow-victoria-metrics-vmselect.monitoring.svc:8481/insert/0/prometheus/api/v1/write"
        )

    bad = edited(renders["prod"], "ConfigMap", "-prometheus-config", edit_remote_write(to_vmselect))
    assert "does not write to the store's vminsert (the cluster topology)" in messages(run(bad))


def test_a_relabel_that_sends_raw_series_is_refused(renders):
    def keep_all(rw):
        rw["write_relabel_configs"][0]["regex"] = ".*:.*|up"

    bad = edited(renders["prod"], "ConfigMap", "-prometheus-config", edit_remote_write(keep_all))
    text = messages(run(bad))
    assert "the keep regex lets through series that are not tier records, e.g. ['up'," in text
    assert "service:http_requests:rate5m" in text or "rate5m" in text

    def no_keep(rw):
        rw["write_relabel_configs"] = rw["write_relabel_configs"][1:]

    bad = edited(renders["prod"], "ConfigMap", "-prometheus-config", edit_remote_write(no_keep))
    assert "no `keep` on __name__: every raw series would be written" in messages(run(bad))


def test_a_replica_label_kept_would_double_count(renders):
    def keep_replica(rw):
        rw["write_relabel_configs"] = rw["write_relabel_configs"][:1]

    bad = edited(renders["dev"], "ConfigMap", "-prometheus-config", edit_remote_write(keep_replica))
    (finding,) = run(bad)
    assert "the `replica` label is not dropped" in finding.message


@pytest.mark.parametrize(
    ("overlay", "expected"),
    [
        (
            {"victoria-metrics": {"retentionPeriod": "1y"}},
            "victoria-metrics.retentionPeriod: 1y is shorter than the 1d aggregate tier's retention (3y",
        ),
        (
            {"victoria-metrics": {"retentionPeriod": "3 years"}},
            'victoria-metrics.retentionPeriod: "3 years" is not a retention',
        ),
        (
            {
                "global": {"longTerm": {"topology": "cluster"}},
                "victoria-metrics": {"cluster": {"replicationFactor": 4}},
            },
            "victoria-metrics.cluster.replicationFactor: 4 is more than the 3 vmstorage replicas",
        ),
        (
            {
                "global": {"longTerm": {"topology": "cluster"}},
                "victoria-metrics": {
                    "cluster": {"vmstorage": {"podDisruptionBudget": {"maxUnavailable": 2}}}
                },
            },
            "maxUnavailable: 2 would let every copy of a sample go down at once",
        ),
    ],
)
def test_the_render_refuses_values_that_cannot_work(tmp_path, overlay, expected):
    with pytest.raises(UserError) as exc:
        _rendered("dev", tmp_path, overlay)
    assert expected in str(exc.value)


def _days(duration: str) -> float:
    value, unit = re.fullmatch(r"(\d+)([hdwy])", duration).groups()
    return int(value) * {"h": 1 / 24, "d": 1, "w": 7, "y": 365}[unit]


def test_dashboards_past_local_retention_say_which_datasource_they_read(renders):
    # The shortest raw retention of any environment (dev's): a dashboard whose default range (or a
    # panel's own) goes further must tell its reader where the data comes from.
    retentions = []
    for rendered in renders.values():
        for r in rendered.resources:
            if r.kind == "StatefulSet" and r.name.endswith("-prometheus"):
                args = r.obj["spec"]["template"]["spec"]["containers"][0]["args"]
                retentions += [
                    _days(a.split("=", 1)[1]) for a in args if a.startswith("--storage.tsdb.retention.time=")
                ]
    shortest = min(retentions)
    folder = ROOT / "charts/creativeflow-monitoring/charts/grafana/files/dashboards"
    long_ones = []
    for path in sorted(folder.glob("*/*.json")):
        dashboard = json.loads(path.read_text())
        ranges = [dashboard["time"]["from"].removeprefix("now-")] + [
            p["timeFrom"] for p in dashboard["panels"] if p.get("timeFrom")
        ]
        if max(_days(r) for r in ranges) > shortest:
            long_ones.append(path.name)
            assert re.search(r"Reads Prometheus|long-term store", dashboard["description"]), path.name
    assert "capacity-trends.json" in long_ones

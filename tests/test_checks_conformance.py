"""conformance/selectors and `cfmon conformance check`: every selector of the rules and dashboards
against the exporter samples (offline) or a live Prometheus's series.

The check's fixtures are small projects in a temporary directory: an exporter table, one sample,
the metrics contract, and rule/scrape/dashboard ConfigMaps built as helm would render them. The
live case runs the real Prometheus 3.5 on loopback, scraping a static exposition served from this
process, and points `cfmon conformance check --prometheus` at it.
"""

from __future__ import annotations

import http.server
import json
import shutil
import threading
import time
import urllib.request
from pathlib import Path
from typing import ClassVar

import pytest
import yaml
from conftest import copy_repo, run_cfmon

from cfmon import binaries
from cfmon.checks.base import Context
from cfmon.checks.conformance import SelectorConformance
from cfmon.conformance import selectors as sel
from cfmon.conformance import series as ser
from cfmon.errors import UserError
from cfmon.manifests import Resource
from cfmon.project import Project
from cfmon.render import Rendered
from cfmon.sandbox import free_port

REPO = Path(__file__).resolve().parents[1]

SAMPLE = """\
# A test exporter.
# HELP demo_queue_messages Messages in a queue.
# TYPE demo_queue_messages gauge
demo_queue_messages{vhost="/",queue="jobs",state="ready"} 3
demo_queue_messages{vhost="/",queue="jobs",state="unacked"} 1
# TYPE demo_requests_total counter
demo_requests_total{code="200",handler="/api",namespace="shop"} 10
demo_requests_total{code="503",handler="/api",namespace="shop"} 1
# TYPE demo_latency_seconds histogram
demo_latency_seconds_bucket{handler="/api",le="0.1"} 4
demo_latency_seconds_bucket{handler="/api",le="+Inf"} 11
demo_latency_seconds_sum{handler="/api"} 1.5
demo_latency_seconds_count{handler="/api"} 11
demo_dropped_total 0
"""

TABLE = {
    "exporters": {
        "demo": {"sample": ["demo"], "jobs": ["demo"], "prefixes": ["demo_"]},
        "applications": {"contract": True, "jobs": ["application-services"], "prefixes": ["http_"]},
    }
}

SCRAPE = {
    "scrape_configs": [
        {
            "job_name": "demo",
            "static_configs": [{"targets": ["demo:9100"]}],
            "relabel_configs": [
                {"target_label": "cluster", "replacement": "c1"},
                {"target_label": "environment", "replacement": "prod"},
                {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
            ],
            "metric_relabel_configs": [
                {"source_labels": ["__name__"], "regex": "demo_dropped_total", "action": "drop"}
            ],
        },
        {
            "job_name": "application-services",
            "static_configs": [{"targets": ["app:8080"], "labels": {"cluster": "c1", "environment": "prod"}}],
        },
    ]
}

# ---- a small project and its render ----------------------------------------------------------------


def make_project(root: Path, sample: str = SAMPLE) -> Project:
    conf = root / "tests/conformance"
    (conf / "samples").mkdir(parents=True)
    (conf / "exporters.yaml").write_text(yaml.safe_dump(TABLE))
    (conf / "samples/demo-1.2.3.prom").write_text(sample)
    # The contract as `cfmon generate` writes it from jsonnet/metrics-contract.jsonnet.
    (root / "jsonnet/generated").mkdir(parents=True)
    shutil.copy2(REPO / "jsonnet/generated/metrics-contract.json", root / "jsonnet/generated")
    # The source map `cfmon generate` writes: the demo rule file comes from the demo mixin.
    source_map = {"ruleFiles": {"demo.yaml": "jsonnet/mixins/demo/mixin.libsonnet"}}
    (root / "jsonnet/generated/source-map.json").write_text(json.dumps(source_map))
    return Project(root)


def configmap(name: str, data: dict[str, str], labels: dict[str, str]) -> Resource:
    obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "monitoring", "labels": labels},
        "data": data,
    }
    return Resource("ConfigMap", "monitoring", name, "charts/x/templates/configmap.yaml", obj)


def render_of(rules: list[dict], dashboards: dict[str, dict] | None = None) -> Rendered:
    prom = {"app.kubernetes.io/name": "prometheus"}
    resources = [
        configmap("scrape", {"demo_targets.yml": yaml.safe_dump(SCRAPE)}, prom),
        configmap(
            "rules-demo", {"demo.yaml": yaml.safe_dump({"groups": [{"name": "g", "rules": rules}]})}, prom
        ),
    ]
    if dashboards:
        labels = {"app.kubernetes.io/name": "grafana", "app.kubernetes.io/component": "dashboard"}
        data = {f"{uid}.json": json.dumps(model) for uid, model in dashboards.items()}
        resources.append(configmap("dashboards", data, labels))
    return Rendered("prod", Path("."), "", [], resources)


def findings_for(tmp_path: Path, rules: list[dict], dashboards=None, sample: str = SAMPLE):
    project = make_project(tmp_path / "repo", sample)
    ctx = Context(project, "prod", render_of(rules, dashboards))
    return SelectorConformance().run(ctx)


def alert(name: str, expr: str) -> dict:
    return {"alert": name, "expr": expr, "labels": {"severity": "warning"}}


# ---- the check: failing and passing fixtures -----------------------------------------------------------


def test_rule_reading_a_metric_no_sample_has(tmp_path):
    (f,) = findings_for(tmp_path, [alert("DemoDown", 'demo_up{job="demo"} == 0')])
    assert f.check == "conformance/selectors"
    assert "[demo] alert DemoDown reads demo_up" in f.message
    assert "metric-absent: no series named demo_up" in f.message
    assert "tests/conformance/samples/demo-1.2.3.prom" in f.message
    assert f.file == "jsonnet/mixins/demo/mixin.libsonnet"
    assert "exporter exposes" in f.hint


def test_grouping_by_a_label_the_series_lack(tmp_path):
    expr = 'sum by (cluster, environment, exchange) (demo_queue_messages{job="demo"}) > 10'
    (f,) = findings_for(tmp_path, [alert("DemoBacklog", expr)])
    assert "label-absent: demo_queue_messages has no label exchange" in f.message
    assert "queue" in f.message  # it says which labels the series do have


def test_matcher_no_series_satisfies(tmp_path):
    expr = 'demo_queue_messages{job="demo", state="delivered"} > 0'
    (f,) = findings_for(tmp_path, [alert("DemoDelivered", expr)])
    assert 'matcher-unmatched: no demo_queue_messages satisfies state="delivered"' in f.message
    assert '"ready", "unacked"' in f.message  # the values the exporter produces


def test_metric_dropped_by_the_jobs_metric_relabelling(tmp_path):
    (f,) = findings_for(tmp_path, [alert("DemoDropping", 'rate(demo_dropped_total{job="demo"}[5m]) > 0')])
    assert "metric-absent: no series named demo_dropped_total" in f.message


def test_job_that_no_scrape_config_has(tmp_path):
    (f,) = findings_for(tmp_path, [alert("DemoDown", 'up{job="demo-exporter"} == 0')])
    assert 'job-not-scraped: no scrape job of this environment has job="demo-exporter"' in f.message


def test_conforming_rules_pass(tmp_path):
    rules = [
        # Target labels (cluster, environment, namespace, job, instance) come from the scrape job.
        alert(
            "A", 'sum by (cluster, environment, namespace, queue) (demo_queue_messages{state="ready"}) > 1'
        ),
        alert(
            "B", 'sum by (cluster, environment) (rate(demo_requests_total{job="demo", code=~"5.."}[5m])) > 0'
        ),
        alert(
            "C", "histogram_quantile(0.99, sum by (le, handler) (rate(demo_latency_seconds_bucket[5m]))) > 1"
        ),
        alert("D", 'up{job="demo"} == 0'),
        # An application metric: the contract declares http_requests_total{method, route, status}.
        alert("E", 'sum by (cluster, environment, route) (rate(http_requests_total{status=~"5.."}[5m])) > 1'),
        # label_replace makes `kind`; only its source label must exist.
        alert("F", 'max by (kind) (label_replace(demo_queue_messages, "kind", "$1", "state", "(.*)")) > 1'),
    ]
    assert findings_for(tmp_path, rules) == []


def test_recorded_series_resolve_to_their_rules_selectors(tmp_path):
    rules = [
        {
            "record": "queue:demo_queue_messages:sum",
            "expr": 'sum by (cluster, environment, vhost, queue, state) (demo_queue_messages{job="demo"})',
        },
        # The record passes vhost/queue through; `exchange` is asked by the alert and exists nowhere.
        alert(
            "Ok", 'max by (cluster, environment, queue) (queue:demo_queue_messages:sum{state="ready"}) > 1'
        ),
        alert("Bad", "max by (cluster, environment, exchange) (queue:demo_queue_messages:sum) > 1"),
    ]
    (f,) = findings_for(tmp_path, rules)
    assert "alert Bad needs exchange" in f.message
    assert "label-dropped: `sum by (cluster, environment, vhost, queue, state) " in f.message
    assert "(in queue:demo_queue_messages:sum) drops exchange" in f.message


def test_a_label_the_record_passes_through_must_be_on_the_raw_series(tmp_path):
    rules = [
        {"record": "job:demo_queue_messages:sum", "expr": "sum without (state) (demo_queue_messages)"},
        alert("Bad", "max by (cluster, environment, exchange) (job:demo_queue_messages:sum) > 1"),
    ]
    (f,) = findings_for(tmp_path, rules)
    assert "alert Bad reads demo_queue_messages" in f.message
    assert "(through job:demo_queue_messages:sum)" in f.message
    assert "has no label exchange" in f.message


def test_a_broken_record_is_reported_once_by_the_record(tmp_path):
    rules = [
        {"record": "job:demo_up:max", "expr": 'max by (cluster, environment, job) (demo_up{job="demo"})'},
        alert("DemoDown", "job:demo_up:max == 0"),
    ]
    (f,) = findings_for(tmp_path, rules)
    assert "record job:demo_up:max reads demo_up" in f.message


def test_dashboard_targets_with_grafana_variables(tmp_path):
    model = {
        "uid": "demo",
        "templating": {
            "list": [
                {"name": "datasource", "type": "datasource", "query": "prometheus"},
                {
                    "name": "queue",
                    "type": "query",
                    "datasource": {"type": "prometheus", "uid": "${datasource}"},
                    "query": 'label_values(demo_queue_messages{job="demo"}, exchange)',
                },
            ]
        },
        "panels": [
            {
                "id": 1,
                "title": "Ready",
                "type": "timeseries",
                "datasource": {"type": "prometheus", "uid": "${datasource}"},
                "targets": [
                    # A variable's value is unknown: only the label must exist.
                    {"refId": "A", "expr": 'sum by (queue) (demo_queue_messages{queue=~"$queue"})'},
                    {"refId": "B", "expr": 'sum(demo_queue_messages{channel=~"$queue"})'},
                ],
            }
        ],
    }
    found = findings_for(tmp_path, [], {"demo": model})
    messages = sorted(f.message for f in found)
    assert len(messages) == 2, messages
    assert 'dashboard demo panel "Ready" (id 1) refId B reads demo_queue_messages' in messages[0]
    assert "has no label channel" in messages[0]
    assert 'dashboard demo variable "queue" reads demo_queue_messages' in messages[1]
    assert "has no label exchange" in messages[1]


def test_a_sample_that_is_not_exposition_is_a_finding_naming_its_line(tmp_path):
    (f,) = findings_for(
        tmp_path, [alert("A", 'demo_up{job="demo"} == 0')], sample="<html>\n<body>oops</body>\n"
    )
    assert f.file == "tests/conformance/samples/demo-1.2.3.prom"
    assert f.line == 1
    assert "not a sample line" in f.message


def test_a_missing_sample_says_how_to_get_one(tmp_path):
    project = make_project(tmp_path / "repo")
    (project.root / "tests/conformance/samples/demo-1.2.3.prom").unlink()
    ctx = Context(project, "prod", render_of([alert("A", 'demo_up{job="demo"} == 0')]))
    (f,) = SelectorConformance().run(ctx)
    assert "no-sample: no sample tests/conformance/samples/demo-<version>.prom" in f.message
    assert "cfmon conformance record" in f.hint


# ---- the pieces ---------------------------------------------------------------------------------------


def test_exposition_parser_reads_labels_escapes_and_comments():
    text = (
        "# HELP x a\n# TYPE x gauge\n"
        'x{a="1",b="q\\"uote",c="back\\\\slash"} 1\n'
        "y 2 1700000000000\n"
        'z{le="+Inf",} NaN\n'
        'w{a="b # c"} 1\n'  # a comment marker inside a label value
        'v_total{a="1"} 2 # {trace_id="x"} 1 1.7e9\n'  # an OpenMetrics exemplar
        "# EOF\n"
    )
    series = ser.parse_exposition(text, "s.prom")
    assert series == [
        {"__name__": "x", "a": "1", "b": 'q"uote', "c": "back\\slash"},
        {"__name__": "y"},
        {"__name__": "z", "le": "+Inf"},
        {"__name__": "w", "a": "b # c"},
        {"__name__": "v_total", "a": "1"},
    ]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("x{a=1} 1\n", "bad label set"),
        ("x 1 2 3\n", "not a sample line"),
        ('x{a="1"} one\n', "not a sample line"),
        ("# only comments\n", "has no samples"),
    ],
)
def test_exposition_parser_refuses_what_is_not_exposition(text, says):
    with pytest.raises(ser.SampleError) as err:
        ser.parse_exposition(text, "s.prom")
    assert says in str(err.value)
    assert str(err.value).startswith("s.prom")


def test_selector_labels_follow_the_promql_tree():
    ex = sel.Extractor({})

    def need(expr):
        return {s.metric: sorted(s.labels) for s in ex.selectors(expr)}

    assert need("sum by (a) (x) / on (a) group_left (b) y") == {"x": ["a"], "y": ["a", "b"]}
    assert need("sum without (pod) (x)") == {"x": ["pod"]}
    assert need("sum(x)") == {"x": []}
    assert need("topk by (a) (3, x)") == {"x": ["a"]}
    assert need("x and on (i) y") == {"x": ["i"], "y": ["i"]}
    assert need("x / ignoring (code) y") == {"x": [], "y": []}  # ignoring names what one side lacks
    assert need('max by (d) (label_replace(x, "d", "$1", "s", "(.*)"))') == {"x": ["s"]}
    assert need('max by (d) (label_join(x, "d", "-", "s", "t"))') == {"x": ["s", "t"]}
    assert need("histogram_quantile(0.9, sum by (le) (rate(h[5m])))") == {"h": ["le"]}
    assert need('count_values by (a) ("v", x)') == {"x": ["a"]}
    assert need('absent(x{job="j"})') == {"x": []}


def test_matching_honours_regex_anchors_and_absent_labels():
    assert ser.matches("503", "=~", "5..")
    assert not ser.matches("1503", "=~", "5..")  # anchored like Prometheus
    assert ser.matches(None, "=", "")  # an absent label matches ""
    assert ser.matches(None, "!~", ".+")
    assert ser.matches(ser.ANY, "=", "whatever")  # a target label: any value


def test_scrape_job_adds_target_labels_and_renames_clashes():
    job = ser.Job.from_config(SCRAPE["scrape_configs"][0])
    stored = job.store(
        [{"__name__": "demo_requests_total", "namespace": "shop"}, {"__name__": "demo_dropped_total"}]
    )
    (s,) = [x for x in stored if x["__name__"] == "demo_requests_total"]
    assert s["exported_namespace"] == "shop" and s["namespace"] == ser.ANY
    assert s["job"] == "demo" and s["cluster"] == ser.ANY
    assert not [x for x in stored if x["__name__"] == "demo_dropped_total"]  # metric_relabel_configs drop
    assert {x["__name__"] for x in stored} >= set(ser.SCRAPE_SERIES)


# ---- cfmon conformance check: bad input and a live Prometheus -------------------------------------------


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    return copy_repo(tmp_path_factory.mktemp("conformance") / "repo")


def assert_user_error(res, says: str):
    assert res.code == 2, (res.out, res.err)
    assert "Traceback" not in res.err
    assert says in res.err, res.err
    assert "fix:" in res.err, res.err


def test_cli_unreachable_prometheus_is_a_usage_error(repo):
    port = free_port()  # nothing listens there
    res = run_cfmon(repo, "conformance", "check", "--env", "dev", "--prometheus", f"http://127.0.0.1:{port}")
    assert_user_error(res, f"cannot reach Prometheus at http://127.0.0.1:{port}")


class _Html(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<html><body>a login page</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve(handler) -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    return server


def test_cli_non_json_answer_is_a_usage_error(repo):
    server = serve(_Html)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        res = run_cfmon(repo, "conformance", "check", "--env", "dev", "--prometheus", url)
    finally:
        server.shutdown()
    assert_user_error(res, "did not answer a Prometheus API JSON document")


def test_cli_bad_options_are_usage_errors(repo):
    assert_user_error(
        run_cfmon(repo, "conformance", "check", "--prometheus", "ftp://x"), "not an http(s) URL"
    )
    assert_user_error(run_cfmon(repo, "conformance", "check", "--window", "soon"), "is not a duration")
    assert_user_error(run_cfmon(repo, "conformance", "check", "--env", "all"), "runs one environment")


def test_cli_sample_that_is_not_exposition_is_a_usage_error(repo, tmp_path):
    sample = repo / "tests/conformance/samples/grafana-12.2.1.prom"
    saved = sample.read_text()
    sample.write_text("<html>not metrics</html>\n")
    try:
        res = run_cfmon(repo, "conformance", "check", "--env", "dev")
    finally:
        sample.write_text(saved)
    assert_user_error(res, "tests/conformance/samples/grafana-12.2.1.prom:1: line 1 is not a sample line")


# The live case: what the real Prometheus stores from a redis-exporter-shaped target.
LIVE_SAMPLE = """\
# TYPE redis_up gauge
redis_up 1
# TYPE redis_memory_used_bytes gauge
redis_memory_used_bytes 1048576
# TYPE redis_memory_max_bytes gauge
redis_memory_max_bytes 0
# TYPE redis_connected_clients gauge
redis_connected_clients 3
"""


class _Exporter(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = LIVE_SAMPLE.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.mark.conformance
def test_cli_against_the_real_prometheus(repo, tmp_path):
    exporter = serve(_Exporter)
    port = free_port()
    config = {
        "global": {"scrape_interval": "1s"},
        "scrape_configs": [
            {
                "job_name": "redis-exporter",  # the rendered job name, with its target labels
                "static_configs": [{"targets": [f"127.0.0.1:{exporter.server_address[1]}"]}],
                "relabel_configs": [
                    {"target_label": "cluster", "replacement": "creativeflow-prod"},
                    {"target_label": "environment", "replacement": "prod"},
                ],
            }
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    args = [
        f"--config.file={tmp_path / 'prometheus.yml'}",
        f"--web.listen-address=127.0.0.1:{port}",
        f"--storage.tsdb.path={tmp_path / 'data'}",
    ]
    proc = binaries.start("prometheus", args, log=tmp_path / "prometheus.log")
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until the first scrape is stored
            try:
                with urllib.request.urlopen(f"{url}/api/v1/series?match[]=redis_up", timeout=2) as resp:
                    if json.load(resp)["data"]:
                        break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail(
                "Prometheus never stored the target's series:\n" + (tmp_path / "prometheus.log").read_text()
            )
        res = run_cfmon(
            repo, "conformance", "check", "--env", "prod", "--prometheus", url, "--format", "json"
        )
    finally:
        binaries.stop(proc)
        exporter.shutdown()
    assert res.code == 1, res.err  # most of the stack reads nothing from this one target
    data = json.loads(res.out)
    assert data["source"] == url
    by_reader = {}
    for f in data["findings"]:
        by_reader.setdefault(f["reader"], []).append(f)
    # Served, with the labels the rules use: silent.
    assert "alert RedisDown" not in by_reader
    assert not [k for k in by_reader if k.startswith("record ") and "redis_memory" in k]
    # Not served: the alert reads nothing, and the report says so.
    (rejected,) = by_reader["alert RedisRejectedConnections"]
    assert rejected["problem"] == "metric-absent"
    assert rejected["selector"].startswith("redis_rejected_connections_total")
    assert rejected["exporter"] == "redis-exporter"
    assert rejected["file"] == "jsonnet/mixins/redis/mixin.libsonnet"
    assert (
        data["exporters"]["redis-exporter"]["reading_nothing"]
        < data["exporters"]["redis-exporter"]["selectors"]
    )


def test_a_supplement_adds_series_only_to_a_recorded_sample(tmp_path):
    project = make_project(tmp_path / "repo")
    table = yaml.safe_load((project.root / "tests/conformance/exporters.yaml").read_text())
    table["exporters"]["demo"]["supplements"] = ["demo-cluster"]
    (project.root / "tests/conformance/exporters.yaml").write_text(yaml.safe_dump(table))
    (project.root / "tests/conformance/samples/demo-cluster-1.2.3.prom").write_text(
        'demo_peer_up{peer="b"} 1\n'
    )
    rules = [alert("PeerDown", 'max by (cluster, environment, peer) (demo_peer_up{job="demo"}) == 0')]
    assert SelectorConformance().run(Context(project, "prod", render_of(rules))) == []
    (project.root / "tests/conformance/samples/demo-1.2.3.prom").unlink()
    (f,) = SelectorConformance().run(Context(project, "prod", render_of(rules)))
    assert "no-sample: no sample tests/conformance/samples/demo-<version>.prom" in f.message


def test_every_sample_parses_and_says_where_it_comes_from():
    samples = sorted((REPO / ser.SAMPLES).glob("*.prom"))
    written = [p for p in samples if p.read_text().startswith("# WRITTEN, NOT RECORDED")]
    assert len(written) >= 13  # the exporters that cannot run here, and the RabbitMQ cluster supplement
    for path in samples:
        text = path.read_text()
        assert text.startswith(("# WRITTEN, NOT RECORDED", "# Generated by `cfmon conformance record`")), path
        assert ser.parse_exposition(text, path.name)
        assert "://" not in "".join(line for line in text.splitlines() if line.startswith("#")), path


def test_every_exporter_of_the_table_that_cannot_run_here_has_its_sample():
    table = ser.load_table(REPO)
    recorded = {"node-exporter", "postgres-exporter", "redis-exporter", "nginx-exporter", "rabbitmq",
                "rabbitmq-detailed", "prometheus", "alertmanager"}  # fmt: skip
    for exporter in table:
        if exporter.name in recorded:
            continue
        for stem in (*exporter.samples, *exporter.supplements):
            path = ser.sample_file(REPO, stem)
            assert path is not None, f"{exporter.name}: no sample {stem}-<version>.prom"
            assert path.read_text().startswith("# WRITTEN, NOT RECORDED"), path


def test_a_broken_record_names_the_alerts_that_read_it(tmp_path):
    rules = [
        {"record": "job:demo_up:max", "expr": 'max by (cluster, environment, job) (demo_up{job="demo"})'},
        alert("DemoDown", "job:demo_up:max == 0"),
        alert("DemoFlapping", "changes(job:demo_up:max[10m]) > 3"),
    ]
    (f,) = findings_for(tmp_path, rules)
    assert f.message.endswith("; the record is read by alert DemoDown, alert DemoFlapping")


@pytest.mark.parametrize(
    ("value", "stored"),
    [("1", "1.0"), ("0.005", "0.005"), ("+Inf", "+Inf"), ("100000", "100000.0"), ("1e+06", "1e+06"),
     ("0.00001", "1e-05"), ("2.5", "2.5"), ("0", "0.0")],
)  # fmt: skip
def test_histogram_le_is_seen_as_prometheus_3_stores_it(value, stored):
    text = f'# TYPE h histogram\nh_bucket{{le="{value}"}} 1\n# TYPE g gauge\ng{{le="{value}"}} 1\n'
    bucket, gauge = ser.parse_exposition(text, "s.prom")
    assert bucket["le"] == stored
    assert gauge["le"] == value  # only a histogram's buckets are normalised


def test_a_rule_matching_le_as_prometheus_2_wrote_it_reads_nothing(tmp_path):
    # 0.1 is stored as written; 1 is stored as 1.0.
    assert (
        findings_for(tmp_path, [alert("Fast", 'demo_latency_seconds_bucket{job="demo", le="0.1"} > 0')]) == []
    )
    sample = SAMPLE.replace('le="0.1"', 'le="1"')
    (f,) = findings_for(
        tmp_path / "b", [alert("Slow", 'demo_latency_seconds_bucket{job="demo", le="1"} > 0')], sample=sample
    )
    assert (
        'matcher-unmatched: no demo_latency_seconds_bucket satisfies le="1" (le is "+Inf", "1.0")'
        in f.message
    )


class _Samples(http.server.BaseHTTPRequestHandler):
    """Serves one exporter's samples (the path names it), comments left out."""

    bodies: ClassVar[dict[str, bytes]] = {}

    def do_GET(self):
        body = self.bodies.get(self.path.strip("/"), b"")
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.mark.conformance
def test_the_sample_model_is_what_the_real_prometheus_stores(tmp_path):
    """Each sample scraped by the real Prometheus under its rendered prod job (relabelling, honour
    labels, metric relabelling; Kubernetes discovery replaced by static targets with the same target
    labels) stores exactly the label sets SampleSource models."""
    from cfmon.checks.conformance import SampleSource, scrape_jobs
    from cfmon.render import render

    project = Project(copy_repo(tmp_path / "repo"))
    ctx = Context(project, "prod", render(project, "prod"))
    source = SampleSource(project.root, scrape_jobs(ctx))
    rendered = {}  # job name -> its rendered scrape config
    for res in ctx.objects("ConfigMap"):
        if (res.obj["metadata"].get("labels") or {}).get("app.kubernetes.io/name") != "prometheus":
            continue
        for payload in (res.obj.get("data") or {}).values():
            if "scrape_configs:" in payload:
                rendered |= {c["job_name"]: c for c in yaml.safe_load(payload)["scrape_configs"]}
    server = serve(_Samples)
    scrape, expected = [], {}
    for exporter in source.table:
        raw = source.raw(exporter) if exporter.samples else None
        if not isinstance(raw, tuple):
            continue
        paths = [ser.sample_file(project.root, s) for s in (*exporter.samples, *exporter.supplements)]
        _Samples.bodies[exporter.name] = "".join(
            line + "\n" for p in paths if p for line in p.read_text().splitlines() if not line.startswith("#")
        ).encode()
        for job in exporter.jobs:
            if job not in rendered:
                continue
            cfg = rendered[job]
            labels = {name: f"t-{name}" for name in source.jobs[job].target_labels - {"job", "instance"}}
            scrape.append(
                {
                    "job_name": job,
                    "honor_labels": bool(cfg.get("honor_labels")),
                    "metrics_path": f"/{exporter.name}",
                    "static_configs": [
                        {"targets": [f"127.0.0.1:{server.server_address[1]}"], "labels": labels}
                    ],
                    "metric_relabel_configs": cfg.get("metric_relabel_configs") or [],
                }
            )
            expected[job] = {
                (s["__name__"], frozenset(s))
                for s in source.jobs[job].store(raw[1])
                if s["__name__"] not in ser.SCRAPE_SERIES
            }
    assert len(expected) >= 10, sorted(expected)  # the written samples of the jobs prod scrapes, at least
    (tmp_path / "prometheus.yml").write_text(
        yaml.safe_dump({"global": {"scrape_interval": "1s"}, "scrape_configs": scrape})
    )
    port = free_port()
    args = [f"--config.file={tmp_path / 'prometheus.yml'}", f"--web.listen-address=127.0.0.1:{port}",
            f"--storage.tsdb.path={tmp_path / 'data'}"]  # fmt: skip
    proc = binaries.start("prometheus", args, log=tmp_path / "prometheus.log")
    try:
        stored: dict[str, set] = {}
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and set(stored) != set(expected):
            time.sleep(1)
            live = ser.LivePrometheus(f"http://127.0.0.1:{port}", timeout=5)  # its window ends now
            for job in set(expected) - set(stored):
                try:
                    got = live.series(f'{{job="{job}"}}')
                except UserError:  # not listening yet
                    continue
                names = {s["__name__"] for s in got}
                if names - set(ser.SCRAPE_SERIES):
                    stored[job] = {
                        (s["__name__"], frozenset(s)) for s in got if s["__name__"] not in ser.SCRAPE_SERIES
                    }
    finally:
        binaries.stop(proc)
        server.shutdown()
    assert set(stored) == set(expected), (tmp_path / "prometheus.log").read_text()[-2000:]
    for job, label_sets in expected.items():
        assert stored[job] == label_sets, (
            job,
            sorted(label_sets - stored[job])[:3],
            sorted(stored[job] - label_sets)[:3],
        )

"""The pure parts of benchmarks/: the OpenMetrics generator (backfilled with the real promtool),
Grafana variable and interval expansion, rule levels, statistics, verify's timings line, and the
tool-call accounting in cfmon.binaries. Fast tests only; nothing here asserts a duration."""

from __future__ import annotations

import io
import math
import re
import sys
from pathlib import Path

import pytest

from cfmon import binaries

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from cfbench import grafana, openmetrics, stats  # noqa: E402
from cfbench import rules as rulelib  # noqa: E402

TINY = openmetrics.Shape(
    nodes=2,
    services=3,
    models=1,
    replicas=1,
    model_replicas=1,
    cpus=1,
    gpu_nodes=1,
    gpus_per_node=1,
    routes=1,
    workflows=1,
    queues=1,
    ingresses=1,
)
START = 1_700_006_400  # a fixed time: output must not depend on the clock


def _write(shape: openmetrics.Shape, start: int, end: int) -> tuple[str, int, list[openmetrics.Family]]:
    families = openmetrics.build(shape)
    buf = io.StringIO()
    samples = openmetrics.write(buf, families, openmetrics.timestamps(start, end, 15), start)
    return buf.getvalue(), samples, families


def _samples(text: str) -> dict[str, list[tuple[int, float]]]:
    series: dict[str, list[tuple[int, float]]] = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        name_labels, value, ts = line.rsplit(" ", 2)
        series.setdefault(name_labels, []).append((int(ts), float(value)))
    return series


# ---- OpenMetrics generator ----------------------------------------------------------------------


def test_generated_openmetrics_backfills_with_promtool(tmp_path: Path) -> None:
    text, samples, families = _write(TINY, START, START + 300)
    assert text.endswith("# EOF\n")
    path = tmp_path / "tiny.om"
    path.write_text(text)
    proc = binaries.run(
        "promtool", ["tsdb", "create-blocks-from", "openmetrics", str(path), str(tmp_path / "tsdb")]
    )
    assert proc.returncode == 0, proc.stderr
    listing = binaries.run("promtool", ["tsdb", "list", str(tmp_path / "tsdb")])
    assert listing.returncode == 0, listing.stderr
    # BLOCK ULID  MIN TIME  MAX TIME  DURATION  NUM SAMPLES  NUM CHUNKS  NUM SERIES  SIZE
    rows = [line.split() for line in listing.stdout.splitlines()[1:] if line.strip()]
    assert sum(int(r[4]) for r in rows) == samples == openmetrics.series_count(families) * 20
    assert max(int(r[6]) for r in rows) == openmetrics.series_count(families)


def test_generator_is_deterministic_and_labels_every_series() -> None:
    first, _, _ = _write(TINY, START, START + 120)
    second, _, _ = _write(TINY, START, START + 120)
    assert first == second
    for key in _samples(first):
        assert 'cluster="creativeflow-prod"' in key and 'environment="prod"' in key, key


def test_counters_grow_and_histograms_are_cumulative() -> None:
    text, _, families = _write(TINY, START, START + 900)
    series = _samples(text)
    counters = [s.prefix.strip() for f in families for s in f.series if s.kind == "counter"]
    assert len(counters) > 100
    for key in counters:
        values = [v for _, v in series[key]]
        assert values == sorted(values), f"{key} decreases"
    # Every bucket of one http_request_duration_seconds series: cumulative, +Inf == _count.
    buckets = {k: v for k, v in series.items() if k.startswith("http_request_duration_seconds_bucket{")}
    groups: dict[str, list[tuple[float, float]]] = {}
    for key, points in buckets.items():
        le = re.search(r'le="([^"]+)"', key).group(1)
        base = re.sub(r',le="[^"]+"', "", key.replace("_bucket{", "{"))
        groups.setdefault(base, []).append((math.inf if le == "+Inf" else float(le), points[-1][1]))
    assert groups
    for base, pairs in groups.items():
        counts = [c for _, c in sorted(pairs)]
        assert counts == sorted(counts), base
        count_key = base.replace("http_request_duration_seconds{", "http_request_duration_seconds_count{")
        assert counts[-1] == series[count_key][-1][1]


def test_windows_written_separately_join_up() -> None:
    whole, _, _ = _write(TINY, START, START + 600)
    a, _, families = _write(TINY, START, START + 300)
    buf = io.StringIO()
    openmetrics.write(buf, families, openmetrics.timestamps(START + 300, START + 600, 15), START)
    joined = _samples(a)
    for key, points in _samples(buf.getvalue()).items():
        joined[key] += points
    assert joined == _samples(whole)


def test_a_live_scrape_reads_what_the_backfill_writes_at_that_time() -> None:
    # prometheus_ingest.py serves scrape(); the dashboards' figures come from write(): one shape.
    families = openmetrics.build(TINY)
    at = START + 915
    buf = io.StringIO()
    openmetrics.write(buf, families, [at], START)
    written = [line.rsplit(" ", 1)[0] for line in buf.getvalue().splitlines() if not line.startswith("#")]
    series = [s for fam in families for s in fam.series]
    assert openmetrics.scrape(series, at, START).decode().splitlines() == written

    def values(when: int) -> dict[str, float]:
        return dict(
            line.rsplit(" ", 1) for line in openmetrics.scrape(series, when, START).decode().splitlines()
        )

    now, later = values(at), values(at + 60)
    counters = [s.prefix.strip() for s in series if s.kind == "counter" and s.base > 0]
    assert counters and all(float(later[c]) >= float(now[c]) for c in counters)
    assert any(float(later[c]) > float(now[c]) for c in counters)  # a rate is not 0


def test_timestamps_are_aligned_to_the_interval() -> None:
    assert openmetrics.timestamps(100, 160, 15) == [105, 120, 135, 150]
    assert openmetrics.timestamps(90, 90, 15) == []


# ---- Grafana --------------------------------------------------------------------------------------


def _dashboard(tmp_path: Path) -> Path:
    import json

    dash = {
        "uid": "demo",
        "title": "Demo / Board",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {"name": "datasource", "type": "datasource", "query": "prometheus"},
                {"name": "environment", "type": "query", "query": {"query": "label_values(up, environment)"}},
                {
                    "name": "cluster",
                    "type": "query",
                    "definition": 'label_values(up{environment="$environment"}, cluster)',
                    "query": 'label_values(up{environment="$environment"}, cluster)',
                },
                {
                    "name": "service",
                    "type": "query",
                    "multi": True,
                    "includeAll": True,
                    "allValue": ".*",
                    "query": "label_values(service:http_requests:rate5m, service)",
                },
                {
                    "name": "instance",
                    "type": "query",
                    "multi": True,
                    "query": "label_values(up, instance)",
                    "sort": 1,
                },
                {"name": "quantile", "type": "custom", "query": "0.99,0.95"},
            ]
        },
        "panels": [
            {
                "type": "timeseries",
                "title": "Requests",
                "gridPos": {"w": 12, "h": 8, "x": 0, "y": 0},
                "targets": [
                    {
                        "refId": "A",
                        "datasource": {"type": "prometheus", "uid": "${datasource}"},
                        "expr": 'sum(rate(http_requests_total{cluster="${cluster}", service=~"$service"}'
                        "[$__rate_interval]))",
                    },
                    {"refId": "B", "hide": True, "expr": "up"},
                ],
            },
            {
                "type": "row",
                "title": "Collapsed",
                "collapsed": True,
                "panels": [
                    {
                        "type": "stat",
                        "title": "Instance",
                        "gridPos": {"w": 6},
                        "interval": "1m",
                        "targets": [{"refId": "A", "expr": 'up{instance=~"[[instance]]"}', "instant": True}],
                    },
                    {
                        "type": "logs",
                        "title": "Logs",
                        "targets": [{"refId": "A", "datasource": {"type": "loki"}, "expr": '{app="x"}'}],
                    },
                ],
            },
        ],
    }
    path = tmp_path / "Demo" / "demo.json"
    path.parent.mkdir()
    path.write_text(json.dumps(dash))
    return path


def test_dashboard_queries_skip_loki_hidden_and_find_collapsed_panels(tmp_path: Path) -> None:
    _dashboard(tmp_path)
    (dash,) = grafana.load_all(tmp_path)
    assert dash.key == "Demo/demo" and dash.range_s == 6 * 3600 and dash.skipped == 1
    assert [(q.panel, q.ref, q.instant) for q in dash.queries] == [
        ("Requests", "A", False),
        ("Instance", "A", True),
    ]
    assert dash.queries[0].max_data_points == 900  # half of a 1800 px wide dashboard
    assert dash.queries[1].min_interval == 60


def test_variables_resolve_like_a_fresh_grafana_load(tmp_path: Path) -> None:
    _dashboard(tmp_path)
    (dash,) = grafana.load_all(tmp_path)
    asked = []

    def lookup(kind: str, expr: str, label: str) -> list[str]:
        asked.append((kind, expr, label))
        return {
            "environment": ["prod", "staging"],
            "cluster": ["creativeflow-prod"],
            "service": ["api-gateway", "auth"],
            "instance": ["node-b:9100", "node-a:9100"],
        }[label]

    values = grafana.resolve(dash.variables, lookup, grafana.builtins(dash.range_s, 15, 15))
    # A chained variable is asked with the value chosen for the one before it.
    assert ("label_values", 'up{environment="prod"}', "cluster") in asked
    assert values["environment"].render() == "prod"
    assert values["service"].render() == ".*"  # includeAll with allValue: All is the first option
    assert values["instance"].render() == "node-a:9100"  # sorted, first value, regex-escaped below
    assert values["quantile"].render() == "0.99"
    expr = grafana.expand(dash.queries[0].expr, values, grafana.builtins(dash.range_s, 15, 15))
    assert expr == 'sum(rate(http_requests_total{cluster="creativeflow-prod", service=~".*"}[1m]))'
    assert grafana.expand(dash.queries[1].expr, values, {}) == 'up{instance=~"node-a:9100"}'


def test_multi_values_are_regex_escaped_and_unknown_names_kept() -> None:
    value = grafana.Value(("a.b", "c"), True)
    assert value.render() == r"(a\\.b|c)"
    assert grafana.Value(("x",), False).render() == "x"
    assert (
        grafana.expand("$unknown + ${cluster}", {"cluster": grafana.Value(("c1",), False)}, {})
        == "$unknown + c1"
    )


@pytest.mark.parametrize(
    ("range_s", "mdp", "min_interval", "step", "rate"),
    [
        (6 * 3600, 1350, 15, 15, "1m"),  # 16 s rounds to 15 s; rate interval is 4 x scrape
        (6 * 3600, 900, 15, 20, "1m"),  # 24 s rounds to 20 s
        (24 * 3600, 1800, 15, 60, "1m15s"),  # step + scrape once that exceeds 4 x scrape
        (30 * 86400, 1800, 15, 1200, "20m15s"),  # 24 min rounds to 20 min
        (3600, 1800, 60, 60, "1m15s"),  # the panel's min interval wins
    ],
)
def test_step_and_rate_interval_follow_grafana(range_s, mdp, min_interval, step, rate) -> None:
    got = grafana.step_for(range_s, mdp, min_interval)
    assert got == step
    assert grafana.builtins(range_s, got, 15)["__rate_interval"] == rate


def test_durations_round_trip() -> None:
    assert grafana.seconds("1h30m") == 5400
    assert grafana.duration(5400) == "1h30m"
    assert grafana.duration(0) == "0s"
    with pytest.raises(ValueError):
        grafana.seconds("6 hours")


# ---- rules ------------------------------------------------------------------------------------------


def _groups() -> list[rulelib.Group]:
    return [
        rulelib.Group(
            "a.yaml",
            "a-recording",
            None,
            (
                {"record": "service:req:rate5m", "expr": "sum by (service) (rate(req_total[5m]))"},
                {
                    "record": "service:err:rate5m",
                    "expr": 'sum by (service) (rate(req_total{code="500"}[5m]))',
                },
                {"record": "service:err:ratio", "expr": "service:err:rate5m / service:req:rate5m"},
            ),
        ),
        rulelib.Group(
            "a.yaml",
            "a-slow",
            "1m",
            (
                {
                    "record": "service:err:ratio_avg1d",
                    "expr": "avg_over_time(service:err:ratio[1d] offset 1h)",
                },
            ),
        ),
        rulelib.Group(
            "a.yaml", "a-alerts", None, ({"alert": "ErrorsHigh", "expr": "service:err:ratio > 0.1"},)
        ),
    ]


def test_recording_rules_are_backfilled_in_dependency_order() -> None:
    groups = _groups()
    level = rulelib.levels(groups)
    assert level == {
        "service:req:rate5m": 1,
        "service:err:rate5m": 1,
        "service:err:ratio": 2,
        "service:err:ratio_avg1d": 3,
    }
    assert rulelib.groups_at_level(groups, level, 3) == [
        {"name": "a-slow", "interval": "1m", "rules": [groups[1].rules[0]]}
    ]


def test_recording_delay_adds_each_records_group_interval_on_the_longest_chain() -> None:
    groups = _groups()
    alerts = ("a-alerts", 0)
    # service:err:ratio is refreshed every 15 s (the global interval); the rates it reads are written
    # earlier in the same evaluation of its group, so they add nothing.
    assert rulelib.recording_delay(groups, "15s", alerts, "service:err:ratio > 0.1") == 15
    # Through the 1m group, whose record reads the 15 s one: both schedules.
    assert rulelib.recording_delay(groups, "15s", alerts, "service:err:ratio_avg1d > 0.1") == 75
    assert rulelib.recording_delay(groups, "30s", alerts, "service:err:ratio_avg1d > 0.1") == 90
    assert rulelib.recording_delay(groups, "15s", alerts, "rate(req_total[5m]) > 1") == 0
    # A rule placed before the record it reads in the same group sees the previous evaluation's:
    # here the ratio comes first, so it reads rates 15 s old.
    early = [rulelib.Group("b.yaml", "b", None, (groups[0].rules[2], *groups[0].rules[:2]))]
    assert rulelib.recording_delay(early, "15s", alerts, "service:err:ratio") == 30
    assert rulelib.recording_delay(early, "15s", ("b", 0), "service:err:rate5m") == 15
    assert rulelib.recording_delay(early, "15s", ("b", 3), "service:err:rate5m") == 0


def test_used_records_and_lookback() -> None:
    groups = _groups()
    users = rulelib.used_records(["sum(service:req:rate5m)"], groups)
    assert users == {"service:req:rate5m": {"dashboard"}, "service:err:ratio": {"alert"}}
    assert rulelib.lookback("avg_over_time(x[1d] offset 1h)") == 25 * 3600
    assert rulelib.lookback("max_over_time(rate(x[5m])[1h:1m])") == 3900
    assert rulelib.lookback("x > 1") == 0


def test_heavy_queries_are_those_reading_raw_series_above_the_threshold() -> None:
    recorded = set(rulelib.records(_groups()))
    queries = [
        {"expr": "sum(rate(req_total[5m]))", "samples": 2_000_000},  # raw, heavy
        {"expr": "sum(service:req:rate5m)", "samples": 5_000_000},  # recorded only: served
        {"expr": "service:err:ratio * on (service) group_left up", "samples": 3_000_000},  # mixed
        {"expr": "sum(rate(req_total[5m]))", "samples": 1_000_000},  # at the threshold: fine
    ]
    heavy = rulelib.heavy_raw(queries, recorded)
    assert [q["samples"] for q in heavy] == [3_000_000, 2_000_000]
    assert rulelib.heavy_raw(queries, recorded, threshold=10_000_000) == []


# ---- statistics and verify's timings line -----------------------------------------------------------


def test_percentiles_interpolate_between_ranks() -> None:
    assert stats.percentile([4, 1, 3, 2], 50) == 2.5
    assert stats.percentile([1, 2, 3, 4, 5], 95) == pytest.approx(4.8)
    assert stats.percentile([7], 95) == 7
    assert stats.geomean([1, 4]) == pytest.approx(2)
    assert stats.ratio(1, 0) is None
    with pytest.raises(ValueError):
        stats.percentile([], 50)


def test_table_aligns_numbers_right_and_is_stable() -> None:
    text = stats.table(["name", "s"], [["a", 0.0123], ["long-name", 12.5], ["c", None]])
    assert text == (
        "name            s\n---------  ------\na          0.0123\nlong-name   12.50\nc               -\n"
    )


def test_verify_timings_line_is_parsed() -> None:
    import verify_timing

    stderr = (
        "cfmon: render dev ...\n"
        "cfmon: timings: generate --check 3.89s, render dev 0.58s, check prod 10.25s, "
        "check prod + team ai-models 2.50s, golden 1.00s; "
        "total 15.72s; external tools 11.30s in 212 calls\n"
    )
    steps, ext, calls = verify_timing.parse_timings(stderr)
    assert steps == {
        "generate --check": 3.89,
        "render dev": 0.58,
        "check prod": 10.25,
        "check prod + team ai-models": 2.5,
        "golden": 1.0,
    }
    assert (ext, calls) == (11.3, 212)


def test_every_tool_run_is_accounted_with_its_argv() -> None:
    before = len(binaries.CALLS)
    proc = binaries.run("promtool", ["--version"])
    assert proc.returncode == 0
    call = binaries.CALLS[before]
    assert call.tool == "promtool" and call.argv[0].endswith("promtool") and call.argv[1:] == ("--version",)
    assert call.seconds > 0


@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "benchmarks").glob("*.py")))
def test_every_benchmark_imports_what_it_uses(script: str) -> None:
    """Each benchmark imports the names it uses from cfmon at the top, so a module moved or renamed
    in cfmon breaks `--help` here instead of the next benchmark run, minutes in."""
    import subprocess

    argv = [sys.executable, str(ROOT / "benchmarks" / script), "--help"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "usage:" in proc.stdout


def test_verify_timing_edits_one_alert_summary_and_its_tests(tmp_path, monkeypatch) -> None:
    import verify_timing

    mixin, tests = tmp_path / "mixin.libsonnet", tmp_path / "t.yaml"
    mixin.write_text("  summary: 'Redis is unreachable.',\n  summary: 'Redis is full.',\n")
    tests.write_text("summary: Redis is unreachable.\nsummary: Redis is full.\n")
    monkeypatch.setattr(verify_timing, "EDITED", mixin)
    monkeypatch.setattr(verify_timing, "regenerate", lambda: None)
    verify_timing.edit({mixin: mixin.read_text(), tests: tests.read_text()}, 3)
    assert (
        mixin.read_text()
        == "  summary: 'Redis is unreachable (edited for run 3).',\n  summary: 'Redis is full.',\n"
    )
    assert tests.read_text() == "summary: Redis is unreachable (edited for run 3).\nsummary: Redis is full.\n"
    assert verify_timing.SUMMARY.search(
        verify_timing.ROOT.joinpath("jsonnet/mixins/redis/mixin.libsonnet").read_text()
    )


def test_the_static_copy_prints_what_the_chart_prints(tmp_path) -> None:
    """helm_cpu.py --floor times a copy of the chart whose templates are plain text: it must print
    the same bytes (the function checks it too), from no helpers and no schema."""
    import subprocess

    import helm_cpu

    argv = helm_cpu.helm_argv("dev")
    chart = Path(argv[argv.index("template") + 2])
    root = helm_cpu.static_chart(argv, chart, tmp_path)
    static = [argv[0], *(str(root) if arg == str(chart) else arg for arg in argv[1:])]
    assert subprocess.run(static, capture_output=True, text=True, check=True).stdout == (
        subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    )
    assert not list(root.rglob("_*.tpl")) and not list(root.rglob("values.schema.json"))
    assert (root / "charts/prometheus/Chart.yaml").is_file()

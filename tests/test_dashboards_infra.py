"""The infrastructure, monitoring-stack and log dashboards keep what they promise on top of
the house conventions (tests/test_dashboards.py checks those on every dashboard):

- each dashboard is in its folder with the variables its users pick by;
- every alert of their areas is on a panel, and the dashed line is the alert's parameter default
  (one source of truth: changing a mixin's `_config` moves the line);
- the log dashboards are LogQL over a Loki datasource variable, every query parses, and the search
  box and trace filter reach every line query;
- neighbour links land on dashboards that exist and know the variables passed to them;
- the label joins (pod -> workload, ReplicaSet -> Deployment, kube-state-metrics replicas) give the
  expected series when the real Prometheus engine (promtool) evaluates the panels' queries.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml
from conftest import ROOT, promtool_expr_test

from cfmon import binaries, logql
from cfmon.rendered import grafana

# folder/uid.json -> the dashboard's own variables, after datasource, environment and cluster.
DASHBOARDS = {
    "Infrastructure/nodes.json": ["instance"],
    "Infrastructure/node-health.json": ["instance"],
    "Infrastructure/kubernetes-cluster.json": [],
    "Infrastructure/kubernetes-workloads.json": ["namespace", "workload_type", "workload"],
    "Infrastructure/kubernetes-kubelet.json": ["node"],
    "Infrastructure/kubernetes-namespace.json": ["namespace"],
    "Infrastructure/kubernetes-apiserver.json": [],
    "Infrastructure/kubernetes-pod.json": ["namespace", "pod"],
    "Infrastructure/kubernetes-networking.json": ["namespace"],
    "Infrastructure/kubernetes-persistent-volumes.json": ["namespace", "persistentvolumeclaim"],
    "Infrastructure/kubernetes-coredns.json": [],
    "Infrastructure/postgresql.json": ["instance", "datname"],
    "Infrastructure/redis.json": ["instance"],
    "Infrastructure/rabbitmq.json": ["vhost", "queue"],
    "Infrastructure/gpus.json": ["node"],
    "Infrastructure/minio.json": ["job"],
    "Edge/edge-gateway.json": ["edge_adapter", "route"],
    "Stack/prometheus-alertmanager.json": ["instance"],
    "Stack/stack-health.json": [],
    "Stack/alertmanager-cluster.json": ["instance"],
    "Stack/loki-log-agents.json": ["node"],
    "Logs/ai-model-logs.json": ["model_name", "model_version", "pod", "log_level", "search"],
    "Logs/service-logs.json": ["namespace", "app", "pod", "log_level", "search", "trace_id"],
}
LOG_DASHBOARDS = ["Logs/ai-model-logs.json", "Logs/service-logs.json"]
# The mixins whose alerts these dashboards mirror.
AREAS = {"platform", "kubernetes", "postgres", "redis", "rabbitmq", "gpu", "minio", "edge", "stack", "logs"}
# Alerts whose parameters draw no line: NodeFilesystemFillingUp's parameters gate a prediction
# (free share below 40% and full within 24 h); its panel draws the space thresholds instead.
NO_LINE = {"NodeFilesystemFillingUp"}
SEARCH = '|~ "(?i)$search"'
# The panel that mirrors an alert's ratio: no search, level or trace filter, like the alert.
ALERT_MIRROR = "Error share (5-minute windows)"
NEIGHBOUR = re.compile(r"^/d/([a-z0-9-]+)\?(.*)$")


def evaluate(tmp_path, source: str):
    src = tmp_path / "t.jsonnet"
    src.write_text(source)
    return json.loads(binaries.jsonnet_evaluate(src))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    data = evaluate(
        tmp_path_factory.mktemp("infra"),
        f"local m = import '{ROOT}/jsonnet/main.libsonnet';\n"
        "{ dashboards: m.dashboards, alerts: m.alerts }\n",
    )
    return data["dashboards"], data["alerts"]


def variables(dashboard: dict) -> list[dict]:
    return dashboard["templating"]["list"]


def panel(dashboard: dict, title: str) -> dict:
    return next(p for p in dashboard["panels"] if p["title"] == title)


def steps(p: dict) -> list[float]:
    return [s["value"] for s in p["fieldConfig"]["defaults"]["thresholds"]["steps"] if s["value"] is not None]


def default_steps(p: dict, alerts: list[dict]) -> list:
    """A panel's threshold steps at their defaults: a `${Alert.param}` token (main.libsonnet writes
    one where a step equals a parameter of the panel's alerts; the chart fills it from values)
    stands for that parameter's default. Where two alerts of a panel share a default, one token
    draws both lines (the first alert's: an override of the other does not move it)."""
    params = {f"${{{a['name']}.{k}}}": v for a in alerts for k, v in a["params"].items()}
    return [params.get(v, v) if isinstance(v, str) else v for v in steps(p)]


def runbooks(p: dict) -> list[str]:
    return [
        lk["title"].removeprefix("Runbook: ")
        for lk in p.get("links", [])
        if lk["title"].startswith("Runbook: ")
    ]


# ---- what is where -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(DASHBOARDS))
def test_each_dashboard_is_in_its_folder_with_its_variables(built, path):
    dashboards, _ = built
    assert path in dashboards, f"{path} is not generated"
    d = dashboards[path]
    folder, stem = path.removesuffix(".json").split("/")
    assert d["uid"] == stem
    assert d["title"].split(" / ")[0] == folder
    assert [v["name"] for v in variables(d)] == ["datasource", "environment", "cluster", *DASHBOARDS[path]]
    assert len([p for p in d["panels"] if p["type"] != "row"]) >= 8, "a dashboard worth opening"


def test_every_alert_of_these_areas_is_on_a_panel_with_its_threshold(built):
    dashboards, alerts = built
    panels = [p for path in DASHBOARDS for p in dashboards[path]["panels"]]
    linked: dict[str, list[dict]] = {}
    for p in panels:
        for alert in runbooks(p):
            linked.setdefault(alert, []).append(p)
    mine = [a for a in alerts if a["area"] in AREAS]
    assert len(mine) > 60
    missing = sorted(a["name"] for a in mine if a["name"] not in linked)
    assert missing == [], "alerts no panel links"
    undrawn = sorted(
        a["name"]
        for a in mine
        if a["params"]
        and a["name"] not in NO_LINE
        and not any(set(default_steps(p, alerts)) & set(a["params"].values()) for p in linked[a["name"]])
    )
    assert undrawn == [], "alerts with parameters whose threshold no panel draws"


@pytest.mark.parametrize(
    ("mixin", "file", "title", "override", "expected"),
    [
        ("platform", "nodes.json", "CPU utilisation", {"nodeCpuUsageHighThreshold": 0.42}, [0.42, 0.9]),
        (
            "kubernetes",
            "kubernetes-cluster.json",
            "Persistent volumes with the least space",
            {"kubePersistentVolumeSpaceLowThreshold": 0.05},
            [0.05, 0.15],
        ),
        (
            "rabbitmq",
            "rabbitmq.json",
            "Ready messages by queue",
            {"rabbitmqReadyMessagesCriticalThreshold": 9000},
            [1000, 9000],
        ),
        ("logs", "service-logs.json", ALERT_MIRROR, {"serviceErrorLogRatioThreshold": 0.33}, [0.33]),
        (
            "stack",
            "prometheus-alertmanager.json",
            "Alertmanager cluster members",
            {"alertmanagerExpectedMembers": 3},
            [3],
        ),
    ],
)
def test_threshold_lines_follow_the_mixin_config(tmp_path, mixin, file, title, override, expected):
    """One source of truth: the line moves with the alert parameter's default in `_config`."""
    d = evaluate(
        tmp_path,
        f"local m = (import '{ROOT}/jsonnet/mixins/{mixin}/mixin.libsonnet')\n"
        f"  + {{ _config+:: {json.dumps(override)} }};\n"
        f"m.grafanaDashboards['{file}']\n",
    )
    assert steps(panel(d, title)) == expected


# ---- the log dashboards: LogQL over Loki -----------------------------------------------------------


def log_targets(dashboard: dict):
    for p in dashboard["panels"]:
        for t in p.get("targets", []):
            yield p, t, logql.parse(grafana.substitute(t["expr"], variables(dashboard)))


def selectors(tree) -> list[tuple[logql.Matcher, ...]]:
    return [n.matchers for n in logql.walk(tree) if isinstance(n, logql.LogQuery)]


@pytest.mark.parametrize("path", LOG_DASHBOARDS)
def test_log_dashboards_query_loki_through_the_datasource_variable(built, path):
    d = built[0][path]
    ds = variables(d)[0]
    assert (ds["type"], ds["query"]) == ("datasource", "loki")
    loki = {"type": "loki", "uid": "${datasource}"}
    for v in variables(d)[1:]:
        if v["type"] == "query":
            assert v["datasource"] == loki, v["name"]
            assert v["definition"].startswith("label_values("), v["name"]
    data_panels = [p for p in d["panels"] if p["type"] != "row"]
    assert data_panels and all(p["datasource"] == loki for p in data_panels)
    assert all(t["datasource"] == loki for p in data_panels for t in p["targets"])


@pytest.mark.parametrize("path", LOG_DASHBOARDS)
def test_log_queries_parse_and_filter_what_the_variables_pick(built, path):
    d = built[0][path]
    own = {"ai-model-logs": "model_name", "service-logs": "namespace"}[d["uid"]]
    for p, t, tree in log_targets(d):
        # logs panels show lines, every other panel a metric query over them
        assert logql.is_metric_query(tree) == (p["type"] != "logs"), p["title"]
        for matchers in selectors(tree):
            names = {m.name for m in matchers}
            assert {"environment", "cluster", own} <= names, (p["title"], names)
        if p["title"] != ALERT_MIRROR:
            assert SEARCH in t["expr"], f"{p['title']}: the search box does not filter it"
            if d["uid"] == "service-logs":
                assert '| traceID=~"(?i)$trace_id.*"' in t["expr"], p["title"]
    search = next(v for v in variables(d) if v["name"] == "search")
    assert (search["type"], search["query"]) == ("textbox", "")
    # `.+`: All never pulls in streams without the label (node journals, non-model pods)
    assert next(v for v in variables(d) if v["name"] == own)["allValue"] == ".+"


@pytest.mark.parametrize("path", LOG_DASHBOARDS)
def test_log_dashboards_have_the_log_panels(built, path):
    """What a log dashboard needs: log stream, counts by level, top errors by message, histogram over time."""
    d = built[0][path]
    trees = {p["title"]: (p, tree) for p, _, tree in log_targets(d)}

    stream, tree = trees["Log stream"]
    assert stream["type"] == "logs" and isinstance(tree, logql.LogQuery)

    by_level, tree = trees["Lines by level"]
    assert isinstance(tree, logql.VectorAggregation) and tree.grouping == ("by", ("level",))
    assert by_level["targets"][0]["queryType"] == "instant"

    histogram, tree = trees["Log volume by level"]
    assert tree.grouping == ("by", ("level",)) and tree.expr.func == "count_over_time"
    assert "[$__interval]" in histogram["targets"][0]["expr"]
    assert histogram["fieldConfig"]["defaults"]["custom"]["drawStyle"] == "bars"
    colours = {o["matcher"]["options"] for o in histogram["fieldConfig"]["overrides"]}
    assert {"error", "warn", "info"} <= colours

    _, tree = trees["Top error messages"]
    assert (tree.op, tree.param) == ("topk", 10) and tree.expr.grouping == ("by", ("message",))
    errors = [m for m in tree.expr.expr.query.matchers if m.name == "level"]
    assert [(m.op, m.value) for m in errors] == [("=~", "error|fatal")]
    assert tree.expr.expr.query.stage("json") is not None


def test_service_logs_show_traced_lines(built):
    d = built[0]["Logs/service-logs.json"]
    traced = panel(d, "Lines with a trace")
    tree = logql.parse(grafana.substitute(traced["targets"][0]["expr"], variables(d)))
    filters = [c for s in tree.pipeline if isinstance(s, logql.LabelFilter) for c in s.comparisons]
    assert ("traceID", "!=", "") in filters
    assert traced["type"] == "logs" and traced["options"]["enableLogDetails"]  # the TraceID link is there


def test_the_ai_model_error_share_counts_like_its_alert(built):
    """The ratio panel counts error and fatal lines per model version over 5 minutes, as
    CustomAIModelErrorLogBurst does on the agents' counter, whatever level or search is picked."""
    d = built[0]["Logs/ai-model-logs.json"]
    p = panel(d, ALERT_MIRROR)
    tree = logql.parse(grafana.substitute(p["targets"][0]["expr"], variables(d)))
    assert isinstance(tree, logql.BinaryOp) and tree.op == "/"
    for side, levels in ((tree.lhs, [("=~", "error|fatal")]), (tree.rhs, [])):
        assert side.grouping == ("by", ("model_name", "model_version"))
        assert side.expr.range_seconds == 300
        assert [(m.op, m.value) for m in side.expr.query.matchers if m.name == "level"] == levels
        assert side.expr.query.pipeline == ()


# ---- links ---------------------------------------------------------------------------------------


def test_neighbour_links_land_on_dashboards_that_know_the_variables(built):
    dashboards, _ = built
    by_uid = {d["uid"]: d for d in dashboards.values()}
    for path in DASHBOARDS:
        d = dashboards[path]
        links = [lk for lk in d["links"] if lk["type"] == "link" and lk["url"].startswith("/d/")]
        assert links, f"{path} links no neighbour"
        for lk in links:
            m = NEIGHBOUR.match(lk["url"])
            assert m, lk["url"]
            uid, query = m.groups()
            assert uid in by_uid and uid != d["uid"], f"{path}: {lk['url']} leads nowhere"
            passed = re.findall(r"\$\{(\w+):queryparam\}", query)
            assert passed[:2] == ["environment", "cluster"] and "datasource" not in passed
            for var in passed:
                for side in (d, by_uid[uid]):
                    assert var in [v["name"] for v in variables(side)], f"{path} -> {uid}: ${var}"
            assert lk["keepTime"] and not lk["includeVars"]


# ---- the joins, evaluated by promtool --------------------------------------------------------------

HERE = 'cluster="c1", environment="prod"'
KSM = 'job="kube-state-metrics"'
CPU_USAGE = "namespace_pod:container_cpu_usage_seconds:sum_rate5m"
REQUESTS = "kube_pod_container_resource_requests"
ALLOCATABLE = "kube_node_status_allocatable"
ALL = {"$__rate_interval": "2m", "$environment": "prod", "$cluster": "c1"}


def expr_of(dashboard: dict, title: str, ref: str = "A", values: dict | None = None) -> str:
    target = next(t for t in panel(dashboard, title)["targets"] if t["refId"] == ref)
    expr = target["expr"]
    for var, value in {**ALL, **(values or {})}.items():
        expr = expr.replace(var, value)
    assert "$" not in expr.replace('"$1"', ""), expr
    return expr


def promtool(tmp_path, series: list[tuple[str, str]], cases: list[tuple[str, list[tuple[str, float]]]]):
    return promtool_expr_test(tmp_path, series, cases, eval_time="10m")


# The records the Kubernetes dashboards read (dashboard-rules.libsonnet), as generated; the tests
# feed the series those records read (raw, or the records they build on) and evaluate the panels.
DASHBOARD_RECORDS = (
    "kubernetes-recording-workloads-dashboard",
    "kubernetes-recording-workloads-dashboard-containers",
    "kubernetes-recording-workloads-dashboard-usage",
    "kubernetes-recording-workloads-dashboard-resources",
    "kubernetes-recording-namespace-dashboard",
    "kubernetes-recording-namespace-dashboard-resources",
    "kubernetes-recording-pod-dashboard",
)


def promtool_with_records(tmp_path, series, cases):
    rules = ROOT / "charts/creativeflow-monitoring/charts/prometheus/files/rules/kubernetes.yaml"
    groups = [g for g in yaml.safe_load(rules.read_text())["groups"] if g["name"] in DASHBOARD_RECORDS]
    assert len(groups) == len(DASHBOARD_RECORDS)
    return promtool_expr_test(tmp_path, series, cases, eval_time="10m", groups=groups)


def workload_series() -> list[tuple[str, str]]:
    """Deployment api (pods api-a, api-b) and StatefulSet db (db-0) in namespace shop; pod x-0 of
    another namespace; two kube-state-metrics replicas report every object."""
    owner = "namespace_workload_pod:kube_pod_owner:relabel"
    out = [
        (
            f'{owner}{{{HERE}, namespace="shop", pod="api-a", workload="api", workload_type="deployment"}}',
            "1x10",
        ),
        (
            f'{owner}{{{HERE}, namespace="shop", pod="api-b", workload="api", workload_type="deployment"}}',
            "1x10",
        ),
        (
            f'{owner}{{{HERE}, namespace="shop", pod="db-0", workload="db", workload_type="statefulset"}}',
            "1x10",
        ),
        (
            f'{owner}{{{HERE}, namespace="other", pod="x-0", workload="x", workload_type="statefulset"}}',
            "1x10",
        ),
    ]
    usage = {"api-a": 0.5, "api-b": 0.25, "db-0": 1, "x-0": 4}
    for pod, cores in usage.items():
        ns = "other" if pod == "x-0" else "shop"
        out.append(
            (
                f'{CPU_USAGE}{{{HERE}, namespace="{ns}", pod="{pod}"}}',
                f"{cores}x10",
            )
        )
        for replica in ("ksm-0", "ksm-1"):
            for container, request in (("app", 0.5), ("sidecar", 0.25)):
                out.append(
                    (
                        f'{REQUESTS}{{{HERE}, {KSM}, instance="{replica}", namespace="{ns}",'
                        f' pod="{pod}", container="{container}", resource="cpu", unit="core"}}',
                        f"{request}x10",
                    )
                )
    # cAdvisor: api-a throttled in 30 of 60 periods a minute, api-b in none.
    for pod, throttled in (("api-a", 30), ("api-b", 0)):
        sel = f'{HERE}, job="cadvisor", namespace="shop", pod="{pod}", container="app", image="img"'
        out.append((f"container_cpu_cfs_periods_total{{{sel}}}", "0+60x10"))
        out.append((f"container_cpu_cfs_throttled_periods_total{{{sel}}}", f"0+{throttled}x10"))
    return out


def test_workload_panels_sum_the_pods_of_each_workload(built, tmp_path):
    d = built[0]["Infrastructure/kubernetes-workloads.json"]
    shop = {"$namespace": "shop", "$workload_type": ".*", "$workload": ".*"}
    cases = [
        (
            expr_of(d, "CPU: usage, requests, limits", "A", shop),
            [('{workload="api"}', 0.75), ('{workload="db"}', 1)],
        ),
        # two containers per pod, reported by two kube-state-metrics replicas: counted once
        (
            expr_of(d, "CPU: usage, requests, limits", "B", shop),
            [('{workload="api"}', 1.5), ('{workload="db"}', 0.75)],
        ),
        (expr_of(d, "CPU throttling", "A", shop), [('{workload="api"}', 0.25)]),
        (
            expr_of(d, "CPU: usage, requests, limits", "A", {**shop, "$workload": "db"}),
            [('{workload="db"}', 1)],
        ),
    ]
    proc = promtool_with_records(tmp_path, workload_series(), cases)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_pod_cpu_panels_show_each_container_against_its_request(built, tmp_path):
    d = built[0]["Infrastructure/kubernetes-pod.json"]
    # db-0: container db at a core (request 0.5, reported by two kube-state-metrics replicas) and
    # sidecar at a tenth of one (no request: no ratio); the pod cgroup is not a container. web-0 of
    # another namespace uses half a core of its 0.25.
    series = []
    for ns, pod, container, per_minute in (
        ("data", "db-0", "db", 60),
        ("data", "db-0", "sidecar", 6),
        ("shop", "web-0", "web", 30),
    ):
        sel = f'{HERE}, job="cadvisor", namespace="{ns}", pod="{pod}", container="{container}", image="img"'
        series.append((f"container_cpu_usage_seconds_total{{{sel}}}", f"0+{per_minute}x10"))
    cgroup = f'{HERE}, job="cadvisor", namespace="data", pod="db-0", container="", image=""'
    series.append((f"container_cpu_usage_seconds_total{{{cgroup}}}", "0+66x10"))
    for replica, ns, pod, container, cores in (
        ("ksm-0", "data", "db-0", "db", 0.5),
        ("ksm-1", "data", "db-0", "db", 0.5),
        ("ksm-0", "shop", "web-0", "web", 0.25),
    ):
        sel = f'{HERE}, {KSM}, instance="{replica}", namespace="{ns}", pod="{pod}", container="{container}"'
        series.append((f'{REQUESTS}{{{sel}, resource="cpu", unit="core"}}', f"{cores}x10"))
    every = {"$namespace": ".*", "$pod": ".*"}
    cases = [
        (
            expr_of(d, "CPU: usage, requests, limits per container", "A", every),
            [
                ('{pod="db-0", container="db"}', 1),
                ('{pod="db-0", container="sidecar"}', 0.1),
                ('{pod="web-0", container="web"}', 0.5),
            ],
        ),
        (
            expr_of(d, "CPU usage / request", "A", every),
            [('{pod="db-0", container="db"}', 2), ('{pod="web-0", container="web"}', 2)],
        ),
        (
            expr_of(d, "CPU usage / request", "A", {"$namespace": "shop", "$pod": ".*"}),
            [('{pod="web-0", container="web"}', 2)],
        ),
    ]
    proc = promtool_with_records(tmp_path, series, cases)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_cluster_panels_count_not_ready_pods_and_the_node_failure_margin(built, tmp_path):
    d = built[0]["Infrastructure/kubernetes-cluster.json"]
    series = []
    # web-1 Running but not ready, web-2 Pending, web-3 Running and ready, job-1 Succeeded (not
    # ready, not counted); every series from two kube-state-metrics replicas.
    pods = {
        "web-1": ("Running", "false"),
        "web-2": ("Pending", "false"),
        "web-3": ("Running", "true"),
        "job-1": ("Succeeded", "false"),
    }
    for replica in ("ksm-0", "ksm-1"):
        ksm = f'{HERE}, {KSM}, instance="{replica}"'
        base = f'{ksm}, namespace="shop"'
        for pod, (phase, ready) in pods.items():
            for ph in ("Pending", "Running", "Succeeded", "Failed", "Unknown"):
                series.append(
                    (f'kube_pod_status_phase{{{base}, pod="{pod}", phase="{ph}"}}', f"{int(ph == phase)}x10")
                )
            for cond in ("true", "false"):
                series.append(
                    (
                        f'kube_pod_status_ready{{{base}, pod="{pod}", condition="{cond}"}}',
                        f"{int(cond == ready)}x10",
                    )
                )
        # nodes of 4, 4 and 8 allocatable cores
        for node, cores in (("n1", 4), ("n2", 4), ("n3", 8)):
            series.append(
                (
                    f'{ALLOCATABLE}{{{ksm}, node="{node}", resource="cpu", unit="core"}}',
                    f"{cores}x10",
                )
            )
    series.append((f"cluster:kube_node_status_allocatable_cpu_cores:sum{{{HERE}}}", "16x10"))
    cases = [
        (expr_of(d, "Pods not ready"), [("{}", 2)]),
        (expr_of(d, "CPU: usage, requests, limits, capacity", "E"), [(f"{{{HERE}}}", 8)]),
    ]
    proc = promtool_with_records(tmp_path, series, cases)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_finding_on_a_split_dashboard_points_at_its_panel():
    """nodes.libsonnet lays out the panels of nodes/panels.libsonnet: a panel's finding names that
    file and line, a variable's the dashboard file."""
    dash = grafana.Dashboard(
        key="nodes.json", folder="", configmap="", template="", text="", model={"uid": "nodes"}
    )
    file, line = grafana.source(ROOT, dash, "CPU utilisation")
    assert file == "jsonnet/mixins/platform/nodes/panels.libsonnet"
    assert "'CPU utilisation'" in (ROOT / file).read_text().splitlines()[line - 1]
    assert grafana.source(ROOT, dash, "instance")[0] == "jsonnet/mixins/platform/nodes.libsonnet"

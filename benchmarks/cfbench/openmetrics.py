"""Synthetic metrics shaped like CreativeFlow production, written as OpenMetrics text for
`promtool tsdb create-blocks-from openmetrics`.

The shape follows what the rules and dashboards read: node-exporter on every node, cAdvisor and
kube-state-metrics for every pod, the application metrics contract (jsonnet/lib/metrics.libsonnet)
on every service pod with its histograms' buckets, AI generation and custom-model metrics per model,
DCGM per GPU, and the postgres, redis, rabbitmq (built-in plugin), MinIO (v3), ingress-nginx,
apiserver and monitoring-stack exporters at a realistic size. Labels are the ones the scrape configs
attach (cluster, environment, job, instance, namespace, pod, service). Values are deterministic (no
randomness, no clock): counters grow with a daily load curve, histogram buckets are a log-normal
split of their `_count`, gauges follow the same curve around a level. There is no pod churn: every
series lives the whole range.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TextIO

DAY = 86400
PHASES = 4  # daily curves shifted by a quarter day, so not every series peaks together
AMPLITUDE = 0.3  # load swings +-30 % over the day

HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
GENERATION_BUCKETS = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
INFERENCE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
SCORE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
SLOW_BUCKETS = (0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)
APISERVER_BUCKETS = (0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 2.0, 4.0, 10.0, 30.0, 60.0)

# Services the rules and dashboards name; the rest of `services` is filled with generic ones.
NAMED_SERVICES = (
    "api-gateway",
    "auth",
    "billing",
    "odoo",
    "ai-orchestration",
    "collaboration",
    "notifications",
    "n8n",
    "analytics",
    "projects",
    "assets",
    "templates",
    "search",
    "exports",
    "social-publishing",
    "web",
)
PROVIDERS = ("openai", "stability", "anthropic", "replicate", "creativeflow")
CPU_MODES = (  # share of each CPU-second, summing to 1
    ("idle", 0.62),
    ("user", 0.24),
    ("system", 0.08),
    ("iowait", 0.02),
    ("softirq", 0.02),
    ("irq", 0.01),
    ("steal", 0.005),
    ("nice", 0.005),
)


@dataclass(frozen=True)
class Shape:
    """How big the synthetic production is, and which time range it covers."""

    nodes: int = 200
    services: int = 50
    models: int = 20
    replicas: int = 3  # pods per service
    model_replicas: int = 2
    cpus: int = 8  # per node
    gpu_nodes: int = 20
    gpus_per_node: int = 4
    routes: int = 6  # HTTP route templates per service
    workflows: int = 30  # n8n workflows
    queues: int = 60  # RabbitMQ queues
    ingresses: int = 40
    cluster: str = "creativeflow-prod"
    environment: str = "prod"


@dataclass(frozen=True)
class Series:
    """One series: its text up to the value, and how its value moves.

    counter: `offset + base * load-seconds since the start` (monotonic); gauge: `base * (1 +
    amplitude * daily curve)`; amplitude 0 is a constant. `digits` 0 writes integers.
    """

    prefix: str  # 'name{labels} '
    kind: str  # counter | gauge
    base: float
    amplitude: float = 0.0
    phase: int = 0
    digits: int = 0
    offset: float = 0.0


@dataclass
class Family:
    name: str  # the OpenMetrics family name (a counter's without `_total`)
    type: str  # counter | gauge | histogram | unknown
    series: list[Series] = field(default_factory=list)


def labels(**kv: object) -> str:
    """`{a="1",b="2"}` in the given order (values are plain: no quotes or backslashes)."""
    return "{" + ",".join(f'{k}="{v}"' for k, v in kv.items()) + "}"


def _h(*parts: object) -> int:
    """A stable small hash (crc32) to spread levels and phases deterministically."""
    return zlib.crc32("/".join(map(str, parts)).encode())


def lognormal_cdf(le: float, median: float, sigma: float) -> float:
    return 0.5 * (1 + math.erf((math.log(le) - math.log(median)) / (sigma * math.sqrt(2))))


class Builder:
    """Collects families; counters, gauges and histograms keep their OpenMetrics naming rules."""

    def __init__(self) -> None:
        self.families: dict[str, Family] = {}

    def _family(self, name: str, type_: str) -> Family:
        fam = self.families.get(name)
        if fam is None:
            fam = self.families[name] = Family(name, type_)
        return fam

    def counter(self, name: str, lbl: str, rate: float, digits: int = 0) -> None:
        # OpenMetrics counters are `x` with samples `x_total`; other counter names go as unknown.
        family, type_ = (name[: -len("_total")], "counter") if name.endswith("_total") else (name, "unknown")
        h = _h(name, lbl)
        offset = rate * (3600 + h % 86400)  # the process has been up for a while
        self._family(family, type_).series.append(
            Series(f"{name}{lbl} ", "counter", rate, phase=h % PHASES, digits=digits, offset=offset)
        )

    def gauge(self, name: str, lbl: str, level: float, amplitude: float = 0.0, digits: int = 0) -> None:
        self._family(name, "gauge").series.append(
            Series(f"{name}{lbl} ", "gauge", level, amplitude, _h(name, lbl) % PHASES, digits)
        )

    def histogram(
        self,
        name: str,
        base: dict[str, object],
        rate: float,
        buckets: tuple[float, ...],
        median: float,
        sigma: float = 0.8,
    ) -> None:
        """`_bucket` per le (+Inf), `_sum` and `_count`: a log-normal distribution of observations."""
        fam = self._family(name, "histogram")
        h = _h(name, *base.values())
        phase, offset = h % PHASES, rate * (3600 + h % 86400)
        for le in (*buckets, math.inf):
            share = 1.0 if le == math.inf else lognormal_cdf(le, median, sigma)
            le_text = "+Inf" if le == math.inf else repr(le)
            lbl = labels(**base, le=le_text)
            fam.series.append(
                Series(f"{name}_bucket{lbl} ", "counter", rate * share, phase=phase, offset=offset * share)
            )
        mean = median * math.exp(sigma * sigma / 2)
        lbl = labels(**base)
        fam.series.append(
            Series(f"{name}_sum{lbl} ", "counter", rate * mean, phase=phase, digits=3, offset=offset * mean)
        )
        fam.series.append(Series(f"{name}_count{lbl} ", "counter", rate, phase=phase, offset=offset))


def build(shape: Shape) -> list[Family]:
    """Every family of the synthetic production, in a fixed order."""
    b = Builder()
    common = {"cluster": shape.cluster, "environment": shape.environment}
    nodes = [f"node-{i:03d}" for i in range(shape.nodes)]
    gpu_nodes = nodes[: shape.gpu_nodes]
    services = list(NAMED_SERVICES[: shape.services]) + [
        f"service-{i:02d}" for i in range(len(NAMED_SERVICES), shape.services)
    ]
    models = [f"model-{i:02d}" for i in range(shape.models)]
    pods: list[tuple[str, str, str, str]] = []  # (namespace, pod, owner kind, node)

    def up(job: str, instance: str, **extra: object) -> None:
        b.gauge("up", labels(**common, job=job, instance=instance, **extra), 1)

    _nodes(b, shape, common, nodes, up)
    _applications(b, shape, common, services, models, nodes, pods, up)
    _gpus(b, shape, common, gpu_nodes, models)
    _datastores(b, shape, common, nodes, pods, up)
    _ingress_and_apiserver(b, shape, common, services, nodes, pods, up)
    _stack(b, common, nodes, pods, up)
    for i, node in enumerate(nodes):  # the daemonsets
        for ds in ("node-exporter", "kube-proxy", "calico-node"):
            ns = "monitoring" if ds == "node-exporter" else "kube-system"
            pods.append((ns, f"{ds}-{i:05x}", "DaemonSet", node))
    _kubernetes(b, shape, common, nodes, pods, services, up)
    return list(b.families.values())


def _nodes(b: Builder, shape: Shape, common: dict, nodes: list[str], up) -> None:
    job = "node-exporter"
    for i, node in enumerate(nodes):
        base = {**common, "job": job, "instance": node, "node": node}
        up(job, node, node=node)
        for cpu in range(shape.cpus):
            for mode, share in CPU_MODES:
                b.counter("node_cpu_seconds_total", labels(**base, cpu=cpu, mode=mode), share, digits=2)
        mem = (64 if i % 4 else 128) * 2**30
        b.gauge("node_memory_MemTotal_bytes", labels(**base), mem)
        b.gauge("node_memory_MemAvailable_bytes", labels(**base), mem * 0.45, 0.25)
        b.gauge("node_load1", labels(**base), shape.cpus * 0.4, 0.3, digits=2)
        b.gauge("node_timex_offset_seconds", labels(**base), 0.0002, 0.5, digits=6)
        for dev in ("nvme0n1", "nvme1n1"):
            d = labels(**base, device=dev)
            b.counter("node_disk_io_time_seconds_total", d, 0.08, digits=3)
            b.counter("node_disk_io_time_weighted_seconds_total", d, 0.2, digits=3)
            b.counter("node_disk_read_bytes_total", d, 2.5e6)
            b.counter("node_disk_written_bytes_total", d, 6e6)
        for dev, fstype, mount, size in (
            ("/dev/nvme0n1p1", "ext4", "/", 100 * 2**30),
            ("/dev/nvme1n1", "xfs", "/var/lib/containerd", 500 * 2**30),
            ("/dev/nvme0n1p15", "vfat", "/boot/efi", 2**27),
            ("tmpfs", "tmpfs", "/run", 2**33),
        ):
            f = labels(**base, device=dev, fstype=fstype, mountpoint=mount)
            b.gauge("node_filesystem_size_bytes", f, size)
            b.gauge("node_filesystem_avail_bytes", f, size * 0.55, 0.05)
            b.gauge("node_filesystem_readonly", f, 0)
        for dev, rate in (("eth0", 4e7), ("lo", 1e6)):  # cali*/veth* are dropped at scrape time
            n = labels(**base, device=dev)
            b.counter("node_network_receive_bytes_total", n, rate)
            b.counter("node_network_transmit_bytes_total", n, rate * 0.8)
            b.counter("node_network_receive_packets_total", n, rate / 900)
            b.counter("node_network_transmit_packets_total", n, rate / 1000)
            b.counter("node_network_receive_errs_total", n, 0.001)
            b.counter("node_network_transmit_errs_total", n, 0.001)


def _applications(
    b: Builder, shape: Shape, common: dict, services: list[str], models: list[str], nodes, pods, up
) -> None:
    ns = "creativeflow"
    app_pods: dict[str, list[dict]] = {}
    for s_i, svc in enumerate(services):
        for r in range(shape.replicas):
            pod = f"{svc}-{_h(svc) % 0xFFFFF:05x}-{r}"
            node = nodes[(s_i * shape.replicas + r) % len(nodes)]
            pods.append((ns, pod, "ReplicaSet", node))
            inst = f"10.1.{s_i}.{r}:8080"
            up("application-services", inst, namespace=ns, pod=pod, service=svc)
            app_pods.setdefault(svc, []).append(
                {
                    **common,
                    "job": "application-services",
                    "instance": inst,
                    "namespace": ns,
                    "pod": pod,
                    "service": svc,
                }
            )
    weight = {svc: 1.0 / (1 + i) ** 0.7 for i, svc in enumerate(services)}  # a few services get most
    for svc, plist in app_pods.items():
        w = weight[svc] * 40
        for p in plist:
            for r_i in range(shape.routes):
                route = f"/v1/{svc.split('-')[0]}/r{r_i}" + ("/:id" if r_i % 2 else "")
                for method in ("GET", "POST") if r_i % 3 == 0 else ("GET",):
                    share = w / shape.routes / (2 if method == "POST" else 1)
                    for status, frac in (("200", 0.95), ("404", 0.03), ("500", 0.015), ("503", 0.005)):
                        b.counter(
                            "http_requests_total",
                            labels(**p, method=method, route=route, status=status),
                            share * frac,
                        )
                    b.histogram(
                        "http_request_duration_seconds",
                        {**p, "method": method, "route": route},
                        share,
                        HTTP_BUCKETS,
                        median=0.04 + 0.01 * (r_i % 4),
                    )
    _ai(b, shape, common, models, app_pods, nodes, pods, up)
    _business(b, shape, app_pods)


def _ai(b: Builder, shape: Shape, common, models, app_pods, nodes, pods, up) -> None:
    orchestration = app_pods.get("ai-orchestration", [])
    for p in orchestration:
        for m_i, model in enumerate(models):
            provider = PROVIDERS[m_i % len(PROVIDERS)]
            for gen_type, rate in (("sample", 0.3), ("high_res", 0.06)):
                for tier in ("free", "pro", "enterprise"):
                    base = {
                        **p,
                        "generation_type": gen_type,
                        "user_tier": tier,
                        "model_provider": provider,
                        "model_name": model,
                    }
                    for status, frac in (("success", 0.97), ("failure", 0.03)):
                        b.counter(
                            "creativeflow_ai_generation_requests_total",
                            labels(**base, status=status),
                            rate * frac / (1 + m_i) ** 0.5,
                        )
                    b.histogram(
                        "creativeflow_ai_generation_duration_seconds",
                        base,
                        rate / (1 + m_i) ** 0.5,
                        GENERATION_BUCKETS,
                        median=6 if gen_type == "sample" else 25,
                    )
        for provider in PROVIDERS:
            for gen_type in ("sample", "high_res"):
                for reason in (
                    "n8n_workflow_failure",
                    "ai_model_api_error",
                    "content_safety_violation",
                    "credit_deduction_failure",
                ):
                    for tier in ("free", "pro", "enterprise"):
                        b.counter(
                            "creativeflow_ai_generation_errors_total",
                            labels(
                                **p,
                                generation_type=gen_type,
                                failure_reason=reason,
                                user_tier=tier,
                                model_provider=provider,
                            ),
                            0.002,
                        )
    ns = "creativeflow-models"
    for m_i, model in enumerate(models):
        version = f"v{1 + m_i % 3}"
        for r in range(shape.model_replicas):
            pod = f"{model}-{_h(model) % 0xFFFFF:05x}-{r}"
            pods.append((ns, pod, "ReplicaSet", nodes[(m_i * shape.model_replicas + r) % shape.gpu_nodes]))
            inst = f"10.2.{m_i}.{r}:8000"
            up("custom-ai-models", inst, namespace=ns, pod=pod)
            base = {
                **common,
                "job": "custom-ai-models",
                "instance": inst,
                "namespace": ns,
                "pod": pod,
                "model_name": model,
                "model_version": version,
            }
            rate = 2.0 / (1 + m_i) ** 0.5
            b.counter("custom_model_inference_requests_total", labels(**base), rate)
            for err in ("timeout", "oom", "bad_input"):
                b.counter("custom_model_inference_errors_total", labels(**base, error_type=err), rate * 0.002)
            b.histogram("custom_model_inference_latency_seconds", base, rate, INFERENCE_BUCKETS, 0.12)
            b.histogram("custom_model_prediction_score", base, rate, SCORE_BUCKETS, 0.7, 0.3)
        if m_i % 2 == 0:  # the optional per-model thresholds: half the models export them
            lbl = labels(**common, job="custom-ai-models", namespace=ns, model_name=model)
            b.gauge("custom_model_latency_p99_threshold_seconds", lbl, 2.0)
            b.gauge("custom_model_error_ratio_threshold", lbl, 0.05, digits=3)


def _business(b: Builder, shape: Shape, app_pods: dict[str, list[dict]]) -> None:
    def each(service: str) -> list[dict]:
        return app_pods.get(service, [])

    for p in each("auth"):
        for method in ("email", "social"):
            b.counter(
                "creativeflow_user_registration_attempts_total", labels(**p, registration_method=method), 0.05
            )
            b.counter(
                "creativeflow_user_registration_success_total", labels(**p, registration_method=method), 0.045
            )
            b.histogram(
                "creativeflow_user_registration_duration_seconds",
                {**p, "registration_method": method},
                0.045,
                SLOW_BUCKETS,
                40,
            )
        for method in ("password", "oauth", "api_key"):
            for outcome, rate in (("success", 2.0), ("failure", 0.05)):
                b.counter(
                    "creativeflow_auth_attempts_total", labels(**p, method=method, outcome=outcome), rate
                )
    for p in each("billing"):
        for gw in ("stripe", "paypal"):
            for tt in ("subscription", "one_time"):
                b.counter(
                    "creativeflow_payment_attempts_total",
                    labels(**p, payment_gateway=gw, transaction_type=tt),
                    0.1,
                )
                for reason in ("declined", "gateway_error", "timeout"):
                    b.counter(
                        "creativeflow_payment_failures_total",
                        labels(**p, payment_gateway=gw, transaction_type=tt, reason=reason),
                        0.001,
                    )
                b.histogram(
                    "creativeflow_payment_processing_duration_seconds",
                    {**p, "payment_gateway": gw, "transaction_type": tt},
                    0.1,
                    HTTP_BUCKETS,
                    0.8,
                )
        for event in ("created", "renewed", "upgraded", "downgraded", "cancelled", "payment_failed", "error"):
            for plan in ("free", "starter", "pro", "enterprise"):
                b.counter("creativeflow_subscription_event_total", labels(**p, event=event, plan=plan), 0.01)
        for tier in ("free", "pro", "enterprise"):
            for action in ("sample", "high_res", "export", "template"):
                b.counter(
                    "creativeflow_user_credits_consumed_total",
                    labels(**p, user_tier=tier, action=action),
                    0.5,
                )
    for p in each("api-gateway"):
        for plan in ("free", "starter", "pro", "enterprise"):
            for outcome, rate in (("ok", 3.0), ("rate_limited", 0.05), ("error", 0.01)):
                b.counter(
                    "creativeflow_api_user_request_count_total", labels(**p, plan=plan, outcome=outcome), rate
                )
    for p in each("analytics"):
        for window, level in (("1d", 25000), ("30d", 180000)):
            b.gauge("creativeflow_active_users", labels(**p, window=window), level, 0.1)
    for p in each("n8n"):
        for w in range(shape.workflows):
            wf = f"workflow-{w:02d}"
            rate = 0.5 / (1 + w) ** 0.5
            for status, frac in (("success", 0.98), ("error", 0.02)):
                b.counter(
                    "n8n_workflow_executions_total", labels(**p, workflow=wf, status=status), rate * frac
                )
            b.histogram("n8n_workflow_duration_seconds", {**p, "workflow": wf}, rate, SLOW_BUCKETS, 8)
            b.gauge("n8n_workflow_running_executions", labels(**p, workflow=wf), 3, 0.5)
            b.gauge("n8n_workflow_oldest_running_execution_seconds", labels(**p, workflow=wf), 30, 0.5)
    for p in each("collaboration"):
        for op in ("insert", "delete", "format", "cursor"):
            b.histogram(
                "creativeflow_collaboration_sync_latency_seconds",
                {**p, "operation": op},
                5,
                HTTP_BUCKETS,
                0.05,
            )
        b.gauge("creativeflow_collaboration_active_sessions", labels(**p), 400, 0.4)
    for p in each("notifications"):
        for ch in ("email", "push", "in_app"):
            b.gauge("creativeflow_notification_queue_depth", labels(**p, channel=ch), 20, 0.5)
            for outcome, rate in (("success", 3.0), ("failure", 0.01)):
                b.counter(
                    "creativeflow_notifications_sent_total", labels(**p, channel=ch, outcome=outcome), rate
                )
    for p in each("odoo"):
        for ch in ("root", "root.billing", "root.mail", "root.sync"):
            for state, level in (("pending", 10), ("enqueued", 5), ("started", 2), ("failed", 0)):
                b.gauge("creativeflow_odoo_job_queue_jobs", labels(**p, channel=ch, state=state), level, 0.3)
    callers = [*each("ai-orchestration"), *each("billing"), *each("social-publishing")]
    for p in callers:
        for dep in ("openai", "stability", "stripe", "paypal", "instagram", "facebook", "s3", "sendgrid"):
            for op in ("request", "upload"):
                b.histogram(
                    "creativeflow_external_service_call_duration_seconds",
                    {**p, "dependency": dep, "operation": op},
                    0.3,
                    HTTP_BUCKETS,
                    0.4,
                )
                for reason in ("status_5xx", "timeout"):
                    b.counter(
                        "creativeflow_external_service_call_errors_total",
                        labels(**p, dependency=dep, operation=op, reason=reason),
                        0.001,
                    )
    for p in each("web"):
        for version in ("2.14.0", "2.15.0"):
            for et in ("TypeError", "NetworkError", "ChunkLoadError"):
                b.counter(
                    "creativeflow_web_client_errors_total",
                    labels(**p, error_type=et, app_version=version),
                    0.01,
                )
            b.counter("creativeflow_web_client_page_views_total", labels(**p, app_version=version), 30)
            for platform in ("ios", "android"):
                b.counter(
                    "creativeflow_mobile_app_crashes_total",
                    labels(**p, platform=platform, app_version=version),
                    0.001,
                )
                b.counter(
                    "creativeflow_mobile_app_sessions_total",
                    labels(**p, platform=platform, app_version=version),
                    2,
                )


def _gpus(b: Builder, shape: Shape, common: dict, gpu_nodes: list[str], models: list[str]) -> None:
    for n_i, node in enumerate(gpu_nodes):
        for g in range(shape.gpus_per_node):
            model = models[(n_i * shape.gpus_per_node + g) % len(models)] if models else "none"
            lbl = labels(
                **common,
                job="dcgm-exporter",
                instance=node,
                node=node,
                gpu=g,
                UUID=f"GPU-{_h(node, g):08x}",
                device=f"nvidia{g}",
                modelName="NVIDIA A100-SXM4-80GB",
                Hostname=node,
                namespace="creativeflow-models",
                pod=f"{model}-{_h(model) % 0xFFFFF:05x}-0",
            )
            b.gauge("DCGM_FI_DEV_GPU_UTIL", lbl, 55, 0.5)
            b.gauge("DCGM_FI_DEV_GPU_TEMP", lbl, 62, 0.1)
            b.gauge("DCGM_FI_DEV_FB_USED", lbl, 50000, 0.3)
            b.gauge("DCGM_FI_DEV_FB_FREE", lbl, 30000, 0.3)
            b.gauge("DCGM_FI_DEV_XID_ERRORS", lbl, 0)


def _datastores(b: Builder, shape: Shape, common: dict, nodes, pods, up) -> None:
    for i in range(3):
        inst = f"postgres-{i}"
        pods.append(("data", inst, "StatefulSet", nodes[(-1 - i) % len(nodes)]))
        up("postgres-exporter", inst)
        base = {**common, "job": "postgres-exporter", "instance": inst}
        b.gauge("pg_up", labels(**base), 1)
        b.gauge("pg_settings_max_connections", labels(**base), 500)
        b.gauge("pg_replication_lag_seconds", labels(**base), 0 if i == 0 else 0.4, 0.5, digits=3)
        for state in ("active", "idle", "idle in transaction"):
            b.gauge("pg_stat_activity_count", labels(**base, state=state), 60, 0.4)
            for db in ("creativeflow", "odoo", "n8n", "grafana", "postgres"):
                b.gauge(
                    "pg_stat_activity_max_tx_duration", labels(**base, datname=db, state=state), 2, 0.5, 3
                )
        for db in ("creativeflow", "odoo", "n8n", "grafana", "postgres"):
            d = labels(**base, datname=db)
            b.counter("pg_stat_database_xact_commit", d, 300)
            b.counter("pg_stat_database_xact_rollback", d, 1)
            b.counter("pg_stat_database_deadlocks", d, 0.0001, digits=4)
            b.counter("pg_stat_database_blks_hit", d, 30000)
            b.counter("pg_stat_database_blks_read", d, 300)
    for i in range(6):
        inst = f"redis-{i}"
        pods.append(("data", inst, "StatefulSet", nodes[(-4 - i) % len(nodes)]))
        up("redis-exporter", inst)
        base = labels(**common, job="redis-exporter", instance=inst)
        b.gauge("redis_up", base, 1)
        b.gauge("redis_memory_max_bytes", base, 8 * 2**30)
        b.gauge("redis_memory_used_bytes", base, 3 * 2**30, 0.2)
        b.counter("redis_keyspace_hits_total", base, 4000)
        b.counter("redis_keyspace_misses_total", base, 200)
        b.counter("redis_commands_processed_total", base, 6000)
        b.counter("redis_evicted_keys_total", base, 0.01, digits=2)
        b.counter("redis_rejected_connections_total", base, 0.0001, digits=4)
    # RabbitMQ's built-in plugin: node-level /metrics (job rabbitmq) and per-queue /metrics/detailed
    # (job rabbitmq-queues) on every node; the leader node reports a queue.
    for i in range(3):
        inst = f"rabbitmq-server-{i}:15692"
        pods.append(("data", f"rabbitmq-server-{i}", "StatefulSet", nodes[(-10 - i) % len(nodes)]))
        identity = {"rabbitmq_node": f"rabbit@rabbitmq-server-{i}", "rabbitmq_cluster": "creativeflow"}
        for job in ("rabbitmq", "rabbitmq-queues"):
            up(job, inst)
            b.gauge("rabbitmq_identity_info", labels(**common, job=job, instance=inst, **identity), 1)
        base = labels(**common, job="rabbitmq", instance=inst)
        b.gauge("rabbitmq_alarms_memory_used_watermark", base, 0)
        b.gauge("rabbitmq_alarms_free_disk_space_watermark", base, 0)
        b.gauge("rabbitmq_process_resident_memory_bytes", base, 2 * 2**30, 0.1)
        b.gauge("rabbitmq_resident_memory_limit_bytes", base, 6 * 2**30)
        b.gauge("rabbitmq_disk_space_available_bytes", base, 80 * 2**30, 0.01)
        b.gauge("rabbitmq_disk_space_available_limit_bytes", base, 2 * 2**30)
        b.gauge("rabbitmq_connections", base, 40)
        b.gauge("rabbitmq_channels", base, 80)
        for name in ("received", "delivered", "acknowledged"):
            b.counter(
                f"rabbitmq_global_messages_{name}_total",
                labels(**common, job="rabbitmq", instance=inst, protocol="amqp091"),
                400,
            )
        for j in range(3):
            if j != i:
                peer = labels(**common, job="rabbitmq", instance=inst, peer=f"rabbit@rabbitmq-server-{j}")
                b.gauge("erlang_vm_dist_node_state", peer, 3)
    for q in range(shape.queues):
        ql = labels(
            **common,
            job="rabbitmq-queues",
            instance=f"rabbitmq-server-{q % 3}:15692",
            vhost="/",
            queue=f"queue-{q:02d}",
        )
        b.gauge("rabbitmq_detailed_queue_messages_ready", ql, 40, 0.6)
        b.gauge("rabbitmq_detailed_queue_messages_unacked", ql, 5, 0.6)
        b.gauge("rabbitmq_detailed_queue_consumers", ql, 3)
    # MinIO metrics v3: cluster health through the Service (job minio), API metrics per server
    # (job minio-api).
    up("minio", "minio:9000")
    base = labels(**common, job="minio", instance="minio:9000")
    for name, level in (
        ("minio_cluster_health_nodes_online_count", 4),
        ("minio_cluster_health_nodes_offline_count", 0),
        ("minio_cluster_health_drives_online_count", 16),
        ("minio_cluster_health_drives_offline_count", 0),
        ("minio_cluster_health_capacity_usable_total_bytes", 64 * 2**40),
    ):
        b.gauge(name, base, level)
    b.gauge("minio_cluster_health_capacity_usable_free_bytes", base, 30 * 2**40, 0.01)
    for i in range(4):
        pods.append(("data", f"minio-{i}", "StatefulSet", nodes[(-14 - i) % len(nodes)]))
        up("minio-api", f"minio-{i}")
        server = {
            **common,
            "job": "minio-api",
            "instance": f"minio-{i}",
            "server": f"minio-{i}.minio-hl:9000",
            "pool_index": "0",
            "type": "s3",
        }
        for api, rate in (("GetObject", 30), ("PutObject", 10), ("ListObjectsV2", 5)):
            b.counter("minio_api_requests_total", labels(**server, name=api), rate)
            b.counter("minio_api_requests_errors_total", labels(**server, name=api), rate * 0.01, digits=2)
        b.counter("minio_api_requests_traffic_received_bytes", labels(**server), 2e6)
        b.counter("minio_api_requests_traffic_sent_bytes", labels(**server), 6e6)


def _ingress_and_apiserver(b: Builder, shape: Shape, common, services, nodes, pods, up) -> None:
    for c in range(3):
        pod = f"ingress-nginx-controller-{c}"
        pods.append(("ingress-nginx", pod, "ReplicaSet", nodes[(20 + c) % len(nodes)]))
        up("ingress-nginx", pod)
        base = {**common, "job": "ingress-nginx", "instance": pod, "controller_pod": pod}
        b.gauge("nginx_ingress_controller_config_last_reload_successful", labels(**base), 1)
        for i in range(shape.ingresses):
            svc = services[i % len(services)]
            ing = {**base, "exported_namespace": "creativeflow", "ingress": f"{svc}-{i}", "service": svc}
            for status, frac in (
                ("200", 0.93),
                ("301", 0.01),
                ("404", 0.04),
                ("499", 0.01),
                ("502", 0.005),
                ("503", 0.005),
            ):
                b.counter(
                    "nginx_ingress_controller_requests", labels(**ing, status=status), 5 / (1 + i) * frac
                )
            b.histogram(
                "nginx_ingress_controller_request_duration_seconds", ing, 5 / (1 + i), HTTP_BUCKETS, 0.05
            )
    verbs = ("GET", "LIST", "WATCH", "POST", "PUT", "PATCH", "DELETE", "CONNECT")
    resources = (
        "pods",
        "nodes",
        "services",
        "endpointslices",
        "configmaps",
        "secrets",
        "deployments",
        "leases",
        "events",
        "jobs",
    )
    for a in range(3):
        inst = f"10.0.0.{10 + a}:6443"
        up("apiserver", inst)
        base = {**common, "job": "apiserver", "instance": inst}
        for verb in verbs:
            for res in resources:
                for code, frac in (("200", 0.98), ("404", 0.015), ("500", 0.005)):
                    b.counter(
                        "apiserver_request_total",
                        labels(**base, verb=verb, resource=res, code=code),
                        2 * frac,
                    )
                b.histogram(
                    "apiserver_request_duration_seconds",
                    {**base, "verb": verb, "resource": res, "subresource": "", "scope": "namespace"},
                    2,
                    APISERVER_BUCKETS,
                    0.03,
                )


def _stack(b: Builder, common, nodes, pods, up) -> None:
    for r in range(2):
        pod = f"prometheus-{r}"
        pods.append(("monitoring", pod, "StatefulSet", nodes[(30 + r) % len(nodes)]))
        up("prometheus", pod)
        base = {**common, "job": "prometheus", "instance": pod}
        for name, level in (
            ("prometheus_config_last_reload_successful", 1),
            ("prometheus_notifications_alertmanagers_discovered", 3),
            ("prometheus_notifications_queue_capacity", 10000),
        ):
            b.gauge(name, labels(**base), level)
        b.gauge("prometheus_notifications_queue_length", labels(**base), 2, 0.5)
        b.counter("prometheus_tsdb_compactions_failed_total", labels(**base), 0)
        b.counter("prometheus_tsdb_wal_corruptions_total", labels(**base), 0)
        for area in ("applications", "kubernetes", "platform", "slo"):
            b.counter(
                "prometheus_rule_evaluation_failures_total", labels(**base, rule_group=f"{area}-recording"), 0
            )
    for r in range(3):
        pod = f"alertmanager-{r}"
        pods.append(("monitoring", pod, "StatefulSet", nodes[(33 + r) % len(nodes)]))
        up("alertmanager", pod)
        base = {**common, "job": "alertmanager", "instance": pod}
        b.gauge("alertmanager_cluster_members", labels(**base), 3)
        for integ in ("slack", "pagerduty", "email", "webhook"):
            b.counter("alertmanager_notifications_total", labels(**base, integration=integ), 0.01, digits=2)
            b.counter("alertmanager_notifications_failed_total", labels(**base, integration=integ), 0)
    for job, n in (("grafana", 2), ("loki", 3), ("log-agent", 0), ("kube-state-metrics", 1)):
        for r in range(n):
            pod = f"{job}-{r}"
            pods.append(("monitoring", pod, "ReplicaSet", nodes[(40 + r) % len(nodes)]))
            up(job, pod)


def _kubernetes(b: Builder, shape: Shape, common, nodes, pods, services, up) -> None:
    ksm = {**common, "job": "kube-state-metrics", "instance": "kube-state-metrics-0"}
    for node in nodes:
        up("log-agent", node)  # the log agent runs on every node
        up("kubelet", node)
        up("cadvisor", node)
        for cond in ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable"):
            for status in ("true", "false", "unknown"):
                good = (cond == "Ready") == (status == "true") if status != "unknown" else False
                b.gauge(
                    "kube_node_status_condition",
                    labels(**ksm, node=node, condition=cond, status=status),
                    1 if good else 0,
                )
        for res, unit, level in (
            ("cpu", "core", shape.cpus),
            ("memory", "byte", 60 * 2**30),
            ("pods", "integer", 110),
            ("ephemeral-storage", "byte", 90 * 2**30),
        ):
            b.gauge("kube_node_status_allocatable", labels(**ksm, node=node, resource=res, unit=unit), level)
    for i, (ns, pod, owner, node) in enumerate(pods):
        container = pod.rsplit("-", 2)[0] if owner in ("ReplicaSet", "DaemonSet") else pod.rsplit("-", 1)[0]
        base = {**ksm, "namespace": ns, "pod": pod}
        for phase in ("Pending", "Running", "Succeeded", "Failed", "Unknown"):
            b.gauge("kube_pod_status_phase", labels(**base, phase=phase), 1 if phase == "Running" else 0)
        for cond in ("true", "false", "unknown"):
            b.gauge("kube_pod_status_ready", labels(**base, condition=cond), 1 if cond == "true" else 0)
        b.gauge(
            "kube_pod_owner",
            labels(**base, owner_kind=owner, owner_name=container, owner_is_controller="true"),
            1,
        )
        c = labels(**base, container=container)
        b.counter("kube_pod_container_status_restarts_total", c, 0.00001, digits=0)
        # kube-state-metrics only reports a reason for containers that wait or have terminated.
        if i % 50 == 0:
            b.gauge(
                "kube_pod_container_status_waiting_reason",
                labels(**base, container=container, reason="ContainerCreating"),
                0,
            )
        if i % 20 == 0:
            b.gauge(
                "kube_pod_container_status_last_terminated_reason",
                labels(**base, container=container, reason="OOMKilled" if i % 40 == 0 else "Completed"),
                1,
            )
        b.gauge(
            "kube_pod_container_resource_requests",
            labels(**base, container=container, node=node, resource="cpu", unit="core"),
            0.5,
            digits=2,
        )
        b.gauge(
            "kube_pod_container_resource_requests",
            labels(**base, container=container, node=node, resource="memory", unit="byte"),
            2**30,
        )
        cad = {**common, "job": "cadvisor", "instance": node, "namespace": ns, "pod": pod}
        for cont, image in (
            (container, f"registry/creativeflow/{container}:1.0"),
            ("", ""),
            ("POD", "pause:3.9"),
        ):
            cl = labels(**cad, container=cont, image=image)
            b.counter("container_cpu_usage_seconds_total", cl, 0.2 if cont != "POD" else 0.0001, digits=3)
            b.gauge("container_memory_working_set_bytes", cl, 5e8 if cont != "POD" else 5e5, 0.2)
    deployments = [("creativeflow", s) for s in services] + [
        ("monitoring", "grafana"),
        ("ingress-nginx", "ingress-nginx-controller"),
    ]
    for ns, dep in deployments:
        d = labels(**ksm, namespace=ns, deployment=dep)
        b.gauge("kube_deployment_spec_replicas", d, shape.replicas)
        b.gauge("kube_deployment_status_replicas_available", d, shape.replicas)
        b.gauge("kube_deployment_status_replicas_updated", d, shape.replicas)
        h = labels(**ksm, namespace=ns, horizontalpodautoscaler=dep)
        b.gauge("kube_horizontalpodautoscaler_spec_min_replicas", h, shape.replicas)
        b.gauge("kube_horizontalpodautoscaler_spec_max_replicas", h, shape.replicas * 4)
        b.gauge("kube_horizontalpodautoscaler_status_current_replicas", h, shape.replicas)
    for sts, n in (
        ("postgres", 3),
        ("redis", 6),
        ("rabbitmq", 3),
        ("minio", 4),
        ("prometheus", 2),
        ("alertmanager", 3),
    ):
        s = labels(
            **ksm,
            namespace="monitoring" if sts in ("prometheus", "alertmanager") else "data",
            statefulset=sts,
        )
        b.gauge("kube_statefulset_replicas", s, n)
        b.gauge("kube_statefulset_status_replicas_ready", s, n)
        b.gauge("kube_statefulset_status_replicas_updated", s, n)
        for i in range(n):
            pvc = labels(
                **common,
                job="kubelet",
                instance=nodes[(i) % len(nodes)],
                namespace="data",
                persistentvolumeclaim=f"data-{sts}-{i}",
            )
            b.gauge("kubelet_volume_stats_capacity_bytes", pvc, 100 * 2**30)
            b.gauge("kubelet_volume_stats_available_bytes", pvc, 60 * 2**30, 0.02)
    for j in range(20):
        b.gauge(
            "kube_job_failed",
            labels(**ksm, namespace="creativeflow", job_name=f"batch-{j:02d}", condition="true"),
            0,
        )


# ---- writing ----------------------------------------------------------------------------------


def series_count(families: Iterable[Family]) -> int:
    return sum(len(f.series) for f in families)


def timestamps(start: int, end: int, interval: int) -> list[int]:
    """Scrape times in [start, end), aligned to the interval (what a scraper would produce)."""
    first = -(-start // interval) * interval
    return list(range(first, end, interval))


def curves(ts: list[int], origin: int) -> tuple[list[list[float]], list[list[float]]]:
    """Per phase: the daily load factor at each time, and its integral since `origin` (seconds of
    load), in closed form so that windows written separately join up exactly."""
    waves, integrals = [], []
    w = 2 * math.pi / DAY
    for p in range(PHASES):
        phi = p * math.pi / 2
        waves.append([1 + AMPLITUDE * math.sin(w * t + phi) for t in ts])
        c0 = math.cos(w * origin + phi)
        integrals.append([(t - origin) + AMPLITUDE / w * (c0 - math.cos(w * t + phi)) for t in ts])
    return waves, integrals


def write(out: TextIO, families: list[Family], ts: list[int], origin: int) -> int:
    """Every series of every family at the times `ts`; returns the number of samples written."""
    waves, integrals = curves(ts, origin)
    tails = [f" {t}\n" for t in ts]
    samples = 0
    for fam in families:
        out.write(f"# TYPE {fam.name} {fam.type}\n")
        for s in fam.series:
            out.write("".join(_lines(s, waves[s.phase], integrals[s.phase], tails)))
            samples += len(ts)
    out.write("# EOF\n")
    return samples


def scrape(series: list[Series], at: float, origin: int) -> bytes:
    """The series as a scrape at time `at` would read them: one exposition line each, no
    timestamp (the scraper stamps them), counters grown since `origin` at their load-scaled rate.
    The same values `write` gives at that time, written without its per-series generators: a
    live target answers this for every scrape."""
    waves, integrals = curves([at], origin)
    wave, integral = [w[0] for w in waves], [c[0] for c in integrals]
    out = []
    for s in series:
        if s.kind == "counter":
            v = s.offset + s.base * integral[s.phase]
        elif s.amplitude == 0:
            v = s.base
        else:
            v = s.base * (1 + s.amplitude / AMPLITUDE * (wave[s.phase] - 1))
        out.append(
            f"{s.prefix}{v:.{s.digits}f}\n" if s.digits or s.kind != "counter" else f"{s.prefix}{int(v)}\n"
        )
    return "".join(out).encode()


def _lines(s: Series, wave: list[float], integral: list[float], tails: list[str]) -> Iterator[str]:
    p, d = s.prefix, s.digits
    if s.kind == "counter":
        off, r = s.offset, s.base
        if d == 0:
            return (f"{p}{int(off + r * c)}{tail}" for c, tail in zip(integral, tails, strict=True))
        return (f"{p}{off + r * c:.{d}f}{tail}" for c, tail in zip(integral, tails, strict=True))
    if s.amplitude == 0:
        const = f"{p}{s.base:.{d}f}"
        return (const + tail for tail in tails)
    lvl, k = s.base, s.amplitude / AMPLITUDE  # wave swings +-AMPLITUDE; rescale to this gauge's
    return (f"{p}{lvl * (1 + k * (w - 1)):.{d}f}{tail}" for w, tail in zip(wave, tails, strict=True))

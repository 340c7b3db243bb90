"""The long-term store (VictoriaMetrics) and Prometheus's remote write to it, checked offline."""

from __future__ import annotations

import functools
import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from cfmon import binaries
from cfmon.catalog import catalog
from cfmon.checks.base import Check, Context, Finding
from cfmon.manifests import Resource
from cfmon.serialize import parse_yaml

FLAGS_FILE = Path(__file__).with_name("victoriametrics_flags.yaml")
CHART_VALUES = "charts/creativeflow-monitoring/charts/victoria-metrics/values.yaml"
PROM_TEMPLATE = "charts/creativeflow-monitoring/charts/prometheus/templates/configmap.yaml"
# The tier records' names (jsonnet/mixins/longterm): the only series the store may receive.
TIER_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z0-9_]+:[a-z0-9_]+_tier(5m|1h|1d)")
# Raw names a keep regex must never let through, besides every metric of the contract and the
# exporter lists (rules.catalog): Prometheus' own series and the ones every target has.
RAW_SAMPLES = ("up", "ALERTS", "ALERTS_FOR_STATE", "scrape_samples_scraped", "prometheus_tsdb_head_series")
WRITE_PATHS = {
    "single": re.compile(r"/api/v1/write"),
    "vminsert": re.compile(r"/insert/\d+/prometheus/api/v1/write"),
}
_UNITS_H = {"h": 1, "d": 24, "w": 168, "M": 744, "y": 8784, "": 744}


@functools.cache
def documented_flags() -> tuple[str, dict[str, frozenset[str]]]:
    """(source version, component -> documented flag names) from the recorded lists."""
    doc = parse_yaml(FLAGS_FILE.read_text())
    common = set(doc["common"])
    return str(doc["version"]), {
        c: frozenset(common | set(doc[c])) for c in ("vminsert", "vmselect", "vmstorage")
    }


@functools.cache
def single_node_flags() -> frozenset[str] | None:
    """The single-node server's flags, asked from the binary (None when it is not installed)."""
    binary = binaries._tools_bin() / "victoria-metrics"
    if not binary.exists():
        return None
    proc = subprocess.run([str(binary), "-help"], capture_output=True, text=True, timeout=30)
    return frozenset(re.findall(r"^  -([A-Za-z0-9_.-]+)", proc.stdout + proc.stderr, re.M))


def retention_hours(value: str) -> int | None:
    m = re.fullmatch(r"(\d+)(h|d|w|M|y)?", value)
    return int(m.group(1)) * _UNITS_H[m.group(2) or ""] if m else None


def parse_args(args: list) -> dict[str, str]:
    out = {}
    for a in args:
        m = re.fullmatch(r"--?([^=]+)(?:=(.*))?", str(a))
        if m:
            out[m.group(1)] = m.group(2) if m.group(2) is not None else "true"
    return out


def _component(res: Resource) -> str:
    labels = res.obj.get("metadata", {}).get("labels") or {}
    return str(labels.get("app.kubernetes.io/component", ""))


def store_workloads(ctx: Context) -> list[tuple[Resource, str, dict[str, str], int]]:
    """(resource, component, flags, replicas) of every VictoriaMetrics workload."""
    out = []
    for res in ctx.rendered.resources:
        labels = res.obj.get("metadata", {}).get("labels") or {}
        if (
            res.kind not in ("Deployment", "StatefulSet")
            or labels.get("app.kubernetes.io/name") != "victoria-metrics"
        ):
            continue
        containers = res.obj["spec"]["template"]["spec"].get("containers") or []
        args = parse_args(containers[0].get("args") or []) if containers else {}
        out.append((res, _component(res), args, int(res.obj["spec"].get("replicas", 1) or 1)))
    return out


def prometheus_config(ctx: Context) -> tuple[Resource | None, dict]:
    for res in ctx.objects("ConfigMap"):
        data = res.obj.get("data") or {}
        if "prometheus.yml" in data:
            return res, parse_yaml(data["prometheus.yml"]) or {}
    return None, {}


def recorded_names(ctx: Context) -> set[str]:
    """Every recording rule name in the rendered rule ConfigMaps."""
    names = set()
    for res in ctx.objects("ConfigMap"):
        labels = res.obj.get("metadata", {}).get("labels") or {}
        if labels.get("app.kubernetes.io/name") != "prometheus":
            continue
        for key, text in (res.obj.get("data") or {}).items():
            if not key.endswith(".yaml"):
                continue
            doc = parse_yaml(text) or {}
            for group in doc.get("groups") or [] if isinstance(doc, dict) else []:
                names.update(str(r["record"]) for r in group.get("rules") or [] if "record" in r)
    return names


class LongTermStore(Check):
    """The long-term store and the remote write that feeds it agree with each other and with
    what VictoriaMetrics documents.

    - every flag rendered for vminsert, vmselect and vmstorage is in that component's documented
      list (victoriametrics_flags.yaml, recorded from the cluster docs of the version it names);
      the single-node server's flags are checked against `victoria-metrics -help`;
    - one retention and one dedup interval on every storing process, covering every tier; vminsert
      and vmselect use the same replication factor, at most the vmstorage replicas, and list exactly
      the vmstorage pods (ports 8400 and 8401);
    - every remote-write URL that names a Service of the release names a rendered one, on its port;
      a write to the store goes to vminsert (cluster) or the single server, on its write path;
    - a write to the store keeps only the tier records (`<level>:<metric>:<op>_tier<5m|1h|1d>`)
      and drops the `replica` label, or both HA replicas would be stored twice.
    Why: the cluster binaries do not run here; a misspelt flag stops a pod at start, and a wrong
    relabel fills the store with raw series (months of them) or doubles every aggregate.
    Bad: `-retentionPeriod=30d` with a 3y tier; a keep regex `.*`. Good: the chart's defaults.
    """

    id = "longterm/store"

    def run(self, ctx: Context) -> list[Finding]:
        findings: list[Finding] = []
        workloads = store_workloads(ctx)
        findings += self._flags(ctx, workloads)
        findings += self._consistency(ctx, workloads)
        findings += self._remote_write(ctx, workloads)
        return findings

    # -- flags
    def _flags(self, ctx: Context, workloads) -> list[Finding]:
        version, documented = documented_flags()
        out = []
        for res, component, args, _ in workloads:
            if component == "single":
                known = single_node_flags()
                source = "`victoria-metrics -help`"
                if known is None:
                    out.append(
                        self.finding(
                            ctx,
                            "victoria-metrics is not installed: the single node's flags are unchecked",
                            file=res.source,
                            hint=binaries.INSTALL_HINT,
                        )
                    )
                    continue
            else:
                known = documented.get(component, frozenset())
                source = f"{FLAGS_FILE.name} (VictoriaMetrics {version})"
            for flag in sorted(set(args) - known):
                out.append(
                    self.finding(
                        ctx,
                        f"{res.kind} {res.name}: -{flag} is not a flag {component} documents (per {source})",
                        file=CHART_VALUES,
                        hint=f"remove or correct it in victoria-metrics.extraArgs.{component}",
                    )
                )
        return out

    # -- retention, dedup, replication
    def _consistency(self, ctx: Context, workloads) -> list[Finding]:
        out = []
        storing = [(r, c, a) for r, c, a, _ in workloads if c in ("single", "vmstorage")]
        tiers = self._tiers(ctx)
        for key in ("retentionPeriod", "dedup.minScrapeInterval"):
            values = {a.get(key) for _, _, a in storing}
            if len(values) > 1:
                out.append(
                    self.finding(
                        ctx,
                        f"the storing processes disagree on -{key}: {sorted(map(str, values))}",
                        file=CHART_VALUES,
                        hint=f"set -{key} once (victoria-metrics values), not in extraArgs",
                    )
                )
        for res, _, args in storing:
            have = retention_hours(args.get("retentionPeriod", "1"))
            if have is None:
                out.append(
                    self.finding(
                        ctx,
                        f"{res.name}: -retentionPeriod={args['retentionPeriod']} is not a retention",
                        file=CHART_VALUES,
                        hint="set victoria-metrics.retentionPeriod, e.g. 3y",
                    )
                )
                continue
            for tier, need in sorted(tiers.items()):
                if (retention_hours(need) or 0) > have:
                    out.append(
                        self.finding(
                            ctx,
                            f"{res.name}: -retentionPeriod={args.get('retentionPeriod', '1 (month)')} "
                            f"is shorter than the {tier} tier's {need}",
                            file=CHART_VALUES,
                            hint=f"set victoria-metrics.retentionPeriod to at least {need}",
                        )
                    )
        by_component = {c: (r, a, n) for r, c, a, n in workloads}
        if "vmstorage" in by_component:
            storage, sargs, replicas = by_component["vmstorage"]
            dedup = sargs.get("dedup.minScrapeInterval")
            rfs = {}
            for component, port in (("vminsert", 8400), ("vmselect", 8401)):
                if component not in by_component:
                    out.append(
                        self.finding(ctx, f"the cluster has vmstorage but no {component}", file=CHART_VALUES)
                    )
                    continue
                res, args, _ = by_component[component]
                rfs[component] = args.get("replicationFactor", "1")
                expected = [
                    f"{storage.name}-{i}.{storage.name}-headless.{storage.namespace}.svc:{port}"
                    for i in range(replicas)
                ]
                nodes = [n for n in args.get("storageNode", "").split(",") if n]
                if sorted(nodes) != sorted(expected):
                    out.append(
                        self.finding(
                            ctx,
                            (
                                f"{res.name}: -storageNode lists {nodes}, not "
                                f"the {replicas} vmstorage pods on port {port}"
                            ),
                            file=CHART_VALUES,
                            hint="leave -storageNode to the chart (extraArgs must not set it)",
                        )
                    )
                if int(rfs[component]) > replicas:
                    out.append(
                        self.finding(
                            ctx,
                            f"{res.name}: -replicationFactor={rfs[component]} "
                            f"is more than the {replicas} vmstorage pods",
                            file=CHART_VALUES,
                            hint="lower victoria-metrics.cluster.replicationFactor or add vmstorage replicas",
                        )
                    )
            if len(set(rfs.values())) > 1:
                out.append(
                    self.finding(
                        ctx,
                        f"vminsert and vmselect disagree on -replicationFactor: {rfs}",
                        file=CHART_VALUES,
                        hint="set victoria-metrics.cluster.replicationFactor only",
                    )
                )
            if (
                "vmselect" in by_component
                and by_component["vmselect"][1].get("dedup.minScrapeInterval") != dedup
            ):
                out.append(
                    self.finding(
                        ctx,
                        (
                            "vmselect and vmstorage disagree on "
                            "-dedup.minScrapeInterval (replicated samples would be returned twice)"
                        ),
                        file=CHART_VALUES,
                        hint="set victoria-metrics.dedupMinScrapeInterval only",
                    )
                )
        return out

    @staticmethod
    def _tiers(ctx: Context) -> dict[str, str]:
        path = (
            ctx.project.root
            / "charts/creativeflow-monitoring/charts/victoria-metrics/files/longterm-tiers.yaml"
        )
        if not path.exists():
            return {}
        doc = parse_yaml(path.read_text()) or {}
        return {t: str(v["retention"]) for t, v in (doc.get("tiers") or {}).items()}

    # -- remote write
    def _remote_write(self, ctx: Context, workloads) -> list[Finding]:
        out: list[Finding] = []
        config_res, config = prometheus_config(ctx)
        if config_res is None:
            return out
        services = {
            (s.name, s.namespace): {
                int(p.get("port", 0)) for p in (s.obj.get("spec") or {}).get("ports") or []
            }
            for s in ctx.objects("Service")
            if (s.obj.get("spec") or {}).get("clusterIP") != "None"
        }
        namespace = config_res.namespace
        store_services = {
            (r.name, r.namespace): c for r, c, _, _ in workloads if c in ("single", "vminsert", "vmselect")
        }
        topology = "cluster" if any(c == "vmstorage" for _, c, _, _ in workloads) else "single"
        records = recorded_names(ctx)
        for i, rw in enumerate(config.get("remote_write") or []):
            where = f"prometheus.yml remote_write[{i}] ({rw.get('name', 'unnamed')})"
            url = str(rw.get("url", ""))
            parts = urlsplit(url)
            host = parts.hostname or ""
            labels = host.split(".")
            in_release = host.endswith(".svc") or host.endswith(".svc.cluster.local") or "." not in host
            if not in_release:
                continue
            name, ns = labels[0], (labels[1] if len(labels) > 1 else namespace)
            port = parts.port or 80
            if (name, ns) not in services:
                out.append(
                    self.finding(
                        ctx,
                        f"{where}: {url} names Service {ns}/{name}, which the release does not render",
                        file=PROM_TEMPLATE,
                        hint=(
                            "point it at a rendered Service, or enable the "
                            "component (global.longTerm.enabled for the long-term store)"
                        ),
                    )
                )
                continue
            if port not in services[(name, ns)]:
                out.append(
                    self.finding(
                        ctx,
                        f"{where}: {url}: Service {name} has no port {port}",
                        file=PROM_TEMPLATE,
                        hint=f"use one of its ports {sorted(services[(name, ns)])}",
                    )
                )
            component = store_services.get((name, ns))
            if component is None:
                continue
            wanted = "vminsert" if topology == "cluster" else "single"
            if component != wanted or not WRITE_PATHS[wanted].fullmatch(parts.path):
                out.append(
                    self.finding(
                        ctx,
                        (
                            f"{where}: {url} does not write to the store's "
                            f"{wanted} (the {topology} topology) on its write path"
                        ),
                        file=PROM_TEMPLATE,
                        hint="use the chart's longterm remote write (creativeflow.longTermWriteUrl)",
                    )
                )
            out += self._relabel(ctx, where, rw.get("write_relabel_configs") or [], records)
        return out

    def _relabel(self, ctx: Context, where: str, relabels: list[dict], records: set[str]) -> list[Finding]:
        out = []
        keeps = [
            r
            for r in relabels
            if r.get("action", "replace") == "keep" and list(r.get("source_labels") or []) == ["__name__"]
        ]
        if not keeps:
            return [
                self.finding(
                    ctx,
                    f"{where}: no `keep` on __name__: every raw series would be written to the store",
                    file=PROM_TEMPLATE,
                    hint="keep only the tier records (regex from files/longterm-tiers.yaml)",
                )
            ]
        regexes = []
        for r in keeps:
            try:
                regexes.append(re.compile(str(r.get("regex", "(.*)"))))
            except re.error as exc:
                out.append(
                    self.finding(
                        ctx,
                        f"{where}: keep regex {r.get('regex')!r} does not compile: {exc}",
                        file=PROM_TEMPLATE,
                    )
                )
                return out

        def kept(name: str) -> bool:
            return all(rx.fullmatch(name) for rx in regexes)

        raw = sorted(set(RAW_SAMPLES) | catalog(ctx.project.root.resolve()))
        leaks = [n for n in raw if kept(n)] + sorted(
            n for n in records if kept(n) and not TIER_NAME.fullmatch(n)
        )
        if leaks:
            out.append(
                self.finding(
                    ctx,
                    (
                        f"{where}: the keep regex lets through series that are not "
                        f"tier records, e.g. {leaks[:5]}"
                    ),
                    file=PROM_TEMPLATE,
                    hint=(
                        "keep only `<level>:<metric>:<op>_tier<5m|1h|1d>` "
                        "(files/longterm-tiers.yaml keepRegex)"
                    ),
                )
            )
        missing = sorted(n for n in records if TIER_NAME.fullmatch(n) and not kept(n))
        if missing:
            out.append(
                self.finding(
                    ctx,
                    f"{where}: the keep regex drops {len(missing)} tier records, e.g. {missing[:3]}",
                    file=PROM_TEMPLATE,
                    hint="use files/longterm-tiers.yaml keepRegex",
                )
            )
        if not any(
            r.get("action") == "labeldrop" and re.fullmatch(str(r.get("regex", "")), "replica")
            for r in relabels
        ):
            out.append(
                self.finding(
                    ctx,
                    (
                        f"{where}: the `replica` label is not dropped: both HA "
                        "replicas would be stored as two series (double counting)"
                    ),
                    file=PROM_TEMPLATE,
                    hint="add {action: labeldrop, regex: replica}",
                )
            )
        return out

"""cfmon sandbox: the rendered Prometheus and Alertmanager of an environment, running for real on
loopback, fed by a scenario file, reporting which alerts fired and who got which notification.

What is rewritten (only what must change to run on one machine; everything else runs as rendered):

- Scrape jobs keep their names, relabelling and metric relabelling, sample and label limits.
  Service discovery (Kubernetes, file, DNS) becomes `static_configs` pointing at the in-process
  synthetic exporter, one target per (job, instance) of the scenario, or `<job>-0` with no series
  for a job the scenario does not feed (so every job is up, as in a healthy cluster). Relabel
  rules that read discovery metadata (`__meta_*`, `__address__`) or set the address, scheme or
  path are dropped (nothing to read); the ones that add `cluster` and `environment` stay. TLS and
  credentials are dropped (the exporter is plain HTTP on 127.0.0.1). `honor_labels: true`, so the
  scenario's series are stored with exactly their labels, and `honor_timestamps: true`: the
  exporter stamps each sample with its step's time, as promtool does (a failed scrape loses
  nothing). Scrape timeouts are raised to the scrape interval.
- The `prometheus` and `alertmanager` jobs scrape the real processes of the sandbox, so the stack
  alerts (cluster members, notifications failing, ...) see real data.
- `alerting.alertmanagers` points at every Alertmanager peer; `remote_write`/`remote_read` go.
- Alertmanager: every receiver becomes one webhook per original integration (same
  `send_resolved`), posting to the capture server at /<receiver>/<integration>; routes, grouping,
  inhibitions and time intervals are kept. Files from Secrets are throwaway placeholders.
- Peers: the environment's replica count (StatefulSet `replicas`), gossiping on loopback ports.

Time scaling (cfmon.timescale): with speed N every duration is divided by N: scrape and evaluation
intervals, scrape timeouts, group intervals, rule `for`/`keep_firing_for`, PromQL ranges, offsets
and subqueries, Alertmanager group_wait/group_interval/repeat_interval/resolve_timeout, Prometheus'
lookback delta, resend delay and `for` restore tolerances (the rendered ones where the
StatefulSet sets them, e.g. --rules.alert.for-grace-period), and the scenario's own timeline. Rules
that read the wall clock (`time()`, ...) cannot be scaled: they are left out and listed in the
report. The peers' timeout (how long peer N waits before it sends what peer N-1 may have sent:
15 s by default) is scaled too, since dedup needs (peers - 1) x timeout below the shortest
repeat_interval; it never goes below PEER_TIMEOUT_FLOOR_MS. Their gossip runs every
GOSSIP_INTERVAL (network timing, not scaled), well inside that timeout on loopback.

Processes are started through cfmon.binaries (own process group, killed if cfmon dies) and always
stopped in a `finally`, also on Ctrl-C and SIGTERM. Readiness waits have timeouts; a process that
fails is reported with the tail of its log.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import socket
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from cfmon import binaries
from cfmon.durations import format_ms, parse_ms
from cfmon.errors import UserError
from cfmon.manifests import Resource, parse_documents, split_by_source
from cfmon.mounts import Mounts, find_container, materialize
from cfmon.project import CHART, Project
from cfmon.render import helm_output
from cfmon.rendered.prometheus import rule_files
from cfmon.rendered.rules import rules_source
from cfmon.scenario import (
    AlertSeen,
    Event,
    Notification,
    Observed,
    Scenario,
    Series,
    Target,
    Verdict,
    applies,
    default_instance,
    evaluate,
    exposition,
)
from cfmon.timescale import scale_duration, scale_expr, unscalable

PROMETHEUS_JOB = "prometheus"  # the stack mixin's job names: these scrape the real processes
ALERTMANAGER_JOB = "alertmanager"
PEER_TIMEOUT_FLOOR_MS = 100
GOSSIP_INTERVAL = "20ms"  # settles a loopback cluster in ~1 s (the default 200ms takes ~8 s)
POLL_S = 0.1
READY_TIMEOUT_S = 60.0
# Prometheus' defaults for what the config may leave out (they must be scaled too).
PROM_DEFAULTS = {"scrape_interval": "1m", "scrape_timeout": "10s", "evaluation_interval": "1m"}
# Flags the sandbox always passes, scaled: the StatefulSet's value when it sets one (the chart sets
# the for-grace-period), else Prometheus' default.
PROM_FLAG_DEFAULTS = {
    "query.lookback-delta": "5m",
    "rules.alert.for-outage-tolerance": "1h",
    "rules.alert.for-grace-period": "10m",
    "rules.alert.resend-delay": "1m",
}
AM_ROUTE_DEFAULTS = {"group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h"}
# Alertmanager's send_resolved default per integration (when the rendered config omits it).
SEND_RESOLVED_DEFAULT = {"email_configs": False, "slack_configs": False, "wechat_configs": False}
# Scrape-job keys that only make sense against the real targets.
CONNECTION_KEYS = {
    "static_configs",
    "scheme",
    "authorization",
    "basic_auth",
    "oauth2",
    "bearer_token",
    "bearer_token_file",
    "tls_config",
    "proxy_url",
    "proxy_from_environment",
    "proxy_connect_header",
    "no_proxy",
}
SYNTHETIC_LABELS = {"__address__", "__scheme__", "__metrics_path__"}


@dataclass
class Peer:
    index: int
    port: int
    cluster_port: int | None

    @property
    def name(self) -> str:
        return f"alertmanager-{self.index}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Plan:
    """Everything a run needs, written to `workdir` (inspect it with --keep-dir)."""

    env: str
    scenarios: list[Scenario]
    speed: int
    duration_ms: int  # the longest scenario
    events: list[Event]  # every scenario's, in time order
    workdir: Path
    cluster: str
    prometheus_config: Path
    prometheus_args: list[str]
    prometheus_port: int
    alertmanager_config: Path
    peers: list[Peer]
    exporter_port: int
    capture_port: int
    targets: dict[str, tuple[Target, list[Series]]]  # exporter path -> target and its series
    receivers: list[str]
    alert_names: set[str]
    notes: list[str] = field(default_factory=list)


@dataclass
class ScenarioReport:
    name: str
    file: str
    verdicts: list[Verdict]


@dataclass
class SandboxResult:
    env: str
    speed: int
    cluster: str
    peers: int
    notes: list[str]
    events: list[str]
    alerts: list[AlertSeen]
    notifications: list[Notification]
    inhibited: list[dict]
    rule_errors: list[str]
    failed_scrapes: dict[str, int]  # job/instance -> failed scrapes the scenarios did not cause
    reports: list[ScenarioReport]
    startup_s: float
    run_s: float
    workdir: str | None

    @property
    def ok(self) -> bool:
        return not self.rule_errors and all(v.ok for r in self.reports for v in r.verdicts)


# ---- rendering and rewriting ----------------------------------------------------------------------


def render_resources(project: Project, env: str, overlays: list[Path] | None = None) -> list[Resource]:
    """A fresh render in memory (build/rendered/ is left alone: others may be rendering)."""
    text, _ = helm_output(project, env, overlays or [])
    resources: list[Resource] = []
    for rel, body in split_by_source(text).items():
        resources += parse_documents(body, source=str(CHART / rel), origin=rel)
    return resources


def _scaled(value: Any, speed: int, where: str) -> str:
    return scale_duration(str(value), speed, where)


def _reads_discovery(rule: dict) -> bool:
    sources = [str(s) for s in rule.get("source_labels") or []]
    if any(s.startswith("__meta_") or s == "__address__" for s in sources):
        return True
    if str(rule.get("target_label", "")) in SYNTHETIC_LABELS or str(rule.get("target_label", "")).startswith(
        "__param_"
    ):
        return True
    return rule.get("action") in ("labelmap", "labeldrop", "labelkeep") and "__meta_" in str(
        rule.get("regex", "")
    )


def rewrite_scrape_job(
    job: dict, groups: list[dict], speed: int, global_interval: str, *, synthetic: bool
) -> tuple[dict, int]:
    """One scrape job against `groups` (static target groups); returns it and how many relabel
    rules were dropped because they read service-discovery metadata. `global_interval` is the
    already scaled global scrape interval."""
    name = job.get("job_name")
    new = {k: v for k, v in job.items() if not k.endswith("_sd_configs") and k not in CONNECTION_KEYS}
    if "scrape_interval" in job:
        new["scrape_interval"] = _scaled(job["scrape_interval"], speed, f"scrape job {name}: scrape_interval")
    # The timeout is the whole interval: a busy machine must not turn a slow answer into a down target.
    new["scrape_timeout"] = new.get("scrape_interval", global_interval)
    kept = [r for r in job.get("relabel_configs") or [] if not _reads_discovery(r)]
    dropped = len(job.get("relabel_configs") or []) - len(kept)
    if "relabel_configs" in job:
        new["relabel_configs"] = kept
    if synthetic:
        new["honor_labels"] = True
        new["honor_timestamps"] = True  # the exporter stamps each sample with its step's time
    new["static_configs"] = groups
    return new, dropped


def _scrape_jobs(layout: Mounts, config: dict) -> list[tuple[Path | None, int, dict]]:
    """(scrape file or None for prometheus.yml, index, job) for every job, in config order."""
    jobs: list[tuple[Path | None, int, dict]] = [
        (None, i, j) for i, j in enumerate(config.get("scrape_configs") or [])
    ]
    for pattern in config.get("scrape_config_files") or []:
        for path in sorted(Path("/").glob(str(pattern).lstrip("/"))):
            doc = yaml.safe_load(path.read_text()) or {}
            jobs += [(path, i, j) for i, j in enumerate(doc.get("scrape_configs") or [])]
    return jobs


def rewrite_prometheus(config: dict, speed: int, alertmanagers: list[str]) -> tuple[dict, list[str]]:
    """prometheus.yml: scaled global intervals, alerting at the sandbox peers, no remote storage."""
    notes = []
    new = dict(config)
    glob = dict(config.get("global") or {})
    for key, default in PROM_DEFAULTS.items():
        glob[key] = _scaled(glob.get(key, default), speed, f"prometheus.yml: global.{key}")
    glob["scrape_timeout"] = glob["scrape_interval"]
    new["global"] = glob
    for key in ("remote_write", "remote_read"):
        if new.pop(key, None):
            notes.append(f"{key} removed (no remote storage in the sandbox)")
    alerting = dict(config.get("alerting") or {})
    first = dict((alerting.get("alertmanagers") or [{}])[0])
    am = {k: v for k, v in first.items() if not k.endswith("_sd_configs") and k not in CONNECTION_KEYS}
    am.pop("path_prefix", None)
    am["static_configs"] = [{"targets": alertmanagers}]
    alerting["alertmanagers"] = [am]
    new["alerting"] = alerting
    return new, notes


def rewrite_rules(doc: dict, speed: int) -> tuple[dict, list[str]]:
    """A rule file with time scaled; rules that read the wall clock are left out (returned)."""
    if speed == 1:
        return doc, []
    skipped: list[str] = []
    out: dict = {"groups": []}
    for g, group in enumerate(doc.get("groups") or []):
        where = f"groups[{g}] ({group.get('name')})"
        new = dict(group)
        for key in ("interval", "query_offset"):
            if key in group:
                new[key] = scale_duration(str(group[key]), speed, f"{where}.{key}")
        rules = []
        for r, rule in enumerate(group.get("rules") or []):
            name = rule.get("alert") or rule.get("record")
            reason = unscalable(str(rule["expr"]))
            if reason:
                skipped.append(f"{name} ({reason})")
                continue
            rwhere = f"{where}.rules[{r}] ({name})"
            rule = dict(rule)
            rule["expr"] = scale_expr(str(rule["expr"]), speed, f"{rwhere}.expr")
            for key in ("for", "keep_firing_for"):
                if key in rule:
                    rule[key] = scale_duration(str(rule[key]), speed, f"{rwhere}.{key}")
            rules.append(rule)
        if rules:
            new["rules"] = rules
            out["groups"].append(new)
    return out, skipped


def scale_route(route: dict, speed: int, *, root: bool = False, where: str = "route") -> dict:
    new = dict(route)
    for key, default in AM_ROUTE_DEFAULTS.items():
        if key in route or root:
            new[key] = _scaled(route.get(key, default), speed, f"alertmanager.yml: {where}.{key}")
    if route.get("routes"):
        new["routes"] = [
            scale_route(r, speed, where=f"{where}.routes[{i}]") for i, r in enumerate(route["routes"])
        ]
    return new


def rewrite_alertmanager(
    config: dict, speed: int, capture_url: str, secrets_dir: Path
) -> tuple[dict, list[str]]:
    """alertmanager.yml: every integration a webhook to the capture server, durations scaled."""
    new = dict(config)
    glob = dict(config.get("global") or {})
    glob["resolve_timeout"] = _scaled(
        glob.get("resolve_timeout", "5m"), speed, "alertmanager.yml: global.resolve_timeout"
    )
    new["global"] = glob
    new["route"] = scale_route(config.get("route") or {}, speed, root=True)
    receivers = []
    names = []
    secrets_dir.mkdir(parents=True, exist_ok=True)
    for rcv in config.get("receivers") or []:
        name = str(rcv["name"])
        names.append(name)
        hooks = []
        for kind, configs in sorted(rcv.items()):
            if kind == "name" or not isinstance(configs, list):
                continue
            integration = kind.removesuffix("_configs")
            for i, cfg in enumerate(configs):
                url = f"{capture_url}/{urllib.parse.quote(name, safe='')}/{integration}"
                url_file = secrets_dir / f"{name}-{integration}-{i}.url"
                url_file.write_text(url)
                hook: dict[str, Any] = {
                    "url_file": str(url_file),
                    "send_resolved": bool(cfg.get("send_resolved", SEND_RESOLVED_DEFAULT.get(kind, True))),
                }
                if kind == "webhook_configs" and cfg.get("max_alerts"):
                    hook["max_alerts"] = cfg["max_alerts"]
                hooks.append(hook)
        receivers.append({"name": name, **({"webhook_configs": hooks} if hooks else {})})
    new["receivers"] = receivers
    return new, names


# ---- route matching (which receivers and group_wait an alert gets) ---------------------------------


def _matcher_ok(matcher: str, labels: dict[str, str]) -> bool:
    import re

    m = re.fullmatch(r'\s*([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*', matcher)
    if not m:
        raise UserError(f"cannot read the route matcher {matcher!r}")
    name, op, value = m.groups()
    value = value.replace('\\"', '"').replace("\\\\", "\\")
    have = labels.get(name, "")
    return {
        "=": have == value,
        "!=": have != value,
        "=~": re.fullmatch(value, have) is not None,
        "!~": re.fullmatch(value, have) is None,
    }[op]


def _route_matches(route: dict, labels: dict[str, str]) -> bool:
    import re

    matchers = list(route.get("matchers") or [])
    ok = all(_matcher_ok(m, labels) for m in matchers)
    ok = ok and all(labels.get(k, "") == str(v) for k, v in (route.get("match") or {}).items())
    return ok and all(
        re.fullmatch(str(v), labels.get(k, "")) for k, v in (route.get("match_re") or {}).items()
    )


def routes_for(route: dict, labels: dict[str, str], inherited: dict | None = None) -> list[dict]:
    """The routes an alert with `labels` ends in, as Alertmanager walks the tree: each with its
    effective receiver, group_by and group_wait/group_interval/repeat_interval."""
    opts = dict(inherited or {})
    for key in ("receiver", "group_by", *AM_ROUTE_DEFAULTS):
        if key in route:
            opts[key] = route[key]
    for key, default in AM_ROUTE_DEFAULTS.items():
        opts.setdefault(key, default)
    found: list[dict] = []
    for child in route.get("routes") or []:
        if not _route_matches(child, labels):
            continue
        found += routes_for(child, labels, opts)
        if not child.get("continue"):
            break
    return found or [opts]


# ---- helpers: ports, HTTP ---------------------------------------------------------------------------


_PORTS_TAKEN: set[int] = set()  # handed out by this process (runs may go on side by side)
_PORTS_LOCK = threading.Lock()


def free_port(udp: bool = False) -> int:
    """A free loopback port (TCP, and UDP too for gossip), never the same twice in a process."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if udp:
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                    u.bind(("127.0.0.1", port))
            except OSError:
                continue
        with _PORTS_LOCK:
            if port not in _PORTS_TAKEN:
                _PORTS_TAKEN.add(port)
                return port
    raise UserError("no free loopback port found")


def _get_json(url: str, timeout: float = 2.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return json.loads(resp.read() or b"null")


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n    ".join(text[-lines:])


# ---- planning ----------------------------------------------------------------------------------------


def _check_scenarios(project: Project, env: str, scenarios: list[Scenario], speed: int | None) -> int:
    """The scenarios can run in `env`, together, at one speed; returns that speed."""
    speeds = {sc.speed for sc in scenarios}
    if speed is None and len(speeds) > 1:
        raise UserError(
            f"the scenarios ask for different speeds ({', '.join(map(str, sorted(speeds)))})",
            key="speed",
            hint="pass --speed to run them together",
        )
    speed = speed or scenarios[0].speed
    seen: dict[tuple, str] = {}
    for sc in scenarios:
        file = project.rel(sc.path)
        if sc.envs is not None and env not in sc.envs:
            raise UserError(
                f"scenario {sc.name} is written for {', '.join(sc.envs)}, not {env}",
                file=file,
                key="envs",
                hint=f"run it with --env {sc.envs[0]}, or add {env} to `envs`",
            )
        checks = [("interval", sc.interval_ms), ("duration", sc.duration_ms)]
        checks += [(f"events ({e.action} at {format_ms(e.at_ms)})", e.at_ms) for e in sc.events]
        for key, ms in checks:
            if ms % speed:
                raise UserError(
                    f"{format_ms(ms)} divided by speed {speed} is not a whole number of milliseconds",
                    file=file,
                    key=key,
                    hint="use a speed that divides it (e.g. 100, 200 or 250)",
                )
        for i, series in enumerate(sc.series):
            if series.envs is not None and env not in series.envs:
                continue
            ident = (series.metric, tuple(sorted(series.labels.items())))
            if ident in seen and seen[ident] != sc.name:
                raise UserError(
                    f"the same series is in scenario {seen[ident]}: scenarios run together need their own",
                    file=file,
                    key=f"series[{i}]",
                    hint="give it another label value (e.g. another instance), or run the scenarios apart",
                )
            seen[ident] = sc.name
    return speed


def _check_jobs(project: Project, env: str, scenarios: list[Scenario], job_names: list[str]) -> None:
    real = {PROMETHEUS_JOB, ALERTMANAGER_JOB}
    usable = ", ".join(sorted(set(job_names) - real))
    for sc in scenarios:
        file = project.rel(sc.path)
        for i, s in enumerate(sc.series):
            if s.envs is not None and env not in s.envs:
                continue
            job = s.labels["job"]
            if job in real:
                raise UserError(
                    f"job {job} scrapes the sandbox's real {job}; a scenario cannot serve series for it",
                    file=file,
                    key=f"series[{i}].series",
                    hint=f"pick another scrape job: {usable}",
                )
            if job not in job_names:
                raise UserError(
                    f"job {job!r} is not a scrape job of the {env} render",
                    file=file,
                    key=f"series[{i}].series",
                    hint=f"use one of: {usable}",
                )
        for t in sc.targets_in(env):
            if t.job not in job_names or t.job in real:
                raise UserError(
                    f"target {t.job}/{t.instance}: {t.job!r} is not a synthetic scrape job "
                    f"of the {env} render",
                    file=file,
                    key="targets",
                    hint=f"use one of: {usable}",
                )


def _check_expectations(
    project: Project, env: str, scenarios: list[Scenario], alert_names: set[str], receivers: list[str]
) -> None:
    for sc in scenarios:
        for section in ("fired", "not_fired", "notifications", "inhibited"):
            for i, m in enumerate(getattr(sc.expect, section)):
                if not applies(m, env):
                    continue
                if m.alertname not in alert_names:
                    raise UserError(
                        f"no alert {m.alertname!r} in the {env} render",
                        file=project.rel(sc.path),
                        key=f"expect.{section}[{i}].alertname",
                        hint="check the spelling against docs/alerts.md (or limit the item with envs:)",
                    )
                if m.receiver is not None and m.receiver not in receivers:
                    raise UserError(
                        f"no receiver {m.receiver!r} in the {env} render",
                        file=project.rel(sc.path),
                        key=f"expect.{section}[{i}].receiver",
                        hint=f"receivers in {env}: {', '.join(sorted(receivers))} "
                        "(or limit the item with envs:)",
                    )


def prometheus_flags(
    resources: list[Resource], config: Path, workdir: Path, port: int, speed: int
) -> list[str]:
    """The command line of the rendered Prometheus on loopback: its feature flags, and the flags
    that hold durations scaled (the StatefulSet's value, else Prometheus' default)."""
    _, prom_container = find_container(resources, "prometheus")
    args = [str(a) for a in prom_container.get("args", [])]
    features = [a for a in args if a.startswith("--enable-feature=")]
    rendered = dict(a.removeprefix("--").split("=", 1) for a in args if a.startswith("--") and "=" in a)
    flags = [
        f"--{k}={_scaled(rendered.get(k, v), speed, f'prometheus --{k}')}"
        for k, v in PROM_FLAG_DEFAULTS.items()
    ]
    return [
        f"--config.file={config}",
        f"--storage.tsdb.path={workdir / 'prometheus-data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        *flags,
        *features,
    ]


def plan(
    project: Project,
    env: str,
    scenarios: list[Scenario],
    workdir: Path,
    *,
    speed: int | None = None,
    resources: list[Resource] | None = None,
) -> Plan:
    """Render the environment, rewrite its configs for the sandbox and write them under workdir.
    Several scenarios run together on one stack (their series side by side, their events merged);
    each keeps its own expectations."""
    if not scenarios:
        raise UserError("no scenario given", hint="pass a scenario file, e.g. scenarios/api-5xx-burst.yaml")
    speed = _check_scenarios(project, env, scenarios, speed)
    resources = resources if resources is not None else render_resources(project, env)
    notes: list[str] = []
    series = [s for sc in scenarios for s in sc.series_in(env)]
    all_targets = sorted(
        {t for sc in scenarios for t in sc.targets_in(env)}, key=lambda t: (t.job, t.instance)
    )

    # -- Alertmanager peers (the environment's replica count)
    am_workload, _ = find_container(resources, "alertmanager")
    replicas = int(am_workload.obj["spec"].get("replicas", 1) or 1)
    peers = [Peer(i, free_port(), free_port(udp=True) if replicas > 1 else None) for i in range(replicas)]

    # -- Prometheus: scrape jobs on static targets
    prom = materialize(resources, "prometheus", workdir / "prometheus")
    config = yaml.safe_load(prom.config.read_text()) or {}
    cluster = str(((config.get("global") or {}).get("external_labels") or {}).get("cluster", ""))
    prometheus_port, exporter_port, capture_port = free_port(), free_port(), free_port()
    jobs = _scrape_jobs(prom, config)
    _check_jobs(project, env, scenarios, [str(j.get("job_name")) for _, _, j in jobs])
    config, more = rewrite_prometheus(config, speed, [f"127.0.0.1:{p.port}" for p in peers])
    notes += more
    global_interval = config["global"]["scrape_interval"]
    targets: dict[str, tuple[Target, list[Series]]] = {}
    by_job: dict[str, list[Target]] = {}
    for t in all_targets:
        by_job.setdefault(t.job, []).append(t)
    dropped_relabels = 0
    rewritten: dict[Path | None, dict[int, dict]] = {}
    for path, index, job in jobs:
        name = str(job.get("job_name"))
        if name == PROMETHEUS_JOB:
            groups = [{"targets": [f"127.0.0.1:{prometheus_port}"], "labels": {"instance": "prometheus-0"}}]
        elif name == ALERTMANAGER_JOB:
            groups = [{"targets": [f"127.0.0.1:{p.port}"], "labels": {"instance": p.name}} for p in peers]
        else:
            groups = []
            for t in by_job.get(name) or [Target(name, default_instance(name))]:
                exporter_path = f"/t/{len(targets)}"
                mine = [s for s in series if (s.labels["job"], s.labels["instance"]) == (t.job, t.instance)]
                targets[exporter_path] = (t, mine)
                groups.append(
                    {
                        "targets": [f"127.0.0.1:{exporter_port}"],
                        "labels": {"instance": t.instance, "__metrics_path__": exporter_path},
                    }
                )
        synthetic = name not in (PROMETHEUS_JOB, ALERTMANAGER_JOB)
        new, dropped = rewrite_scrape_job(job, groups, speed, global_interval, synthetic=synthetic)
        dropped_relabels += dropped
        rewritten.setdefault(path, {})[index] = new
    for path, by_index in rewritten.items():
        if path is None:
            config["scrape_configs"] = [by_index[i] for i in sorted(by_index)]
        else:
            doc = yaml.safe_load(path.read_text()) or {}
            doc["scrape_configs"] = [by_index[i] for i in sorted(by_index)]
            path.write_text(yaml.safe_dump(doc, sort_keys=False))
    notes.append(
        f"{len(jobs)} scrape jobs on static targets ({dropped_relabels} relabel rules that read "
        "service-discovery metadata dropped); scrape timeouts raised to the scrape interval"
    )
    prom.config.write_text(yaml.safe_dump(config, sort_keys=False))

    # -- Prometheus: rules
    alert_names: set[str] = set()
    skipped: list[str] = []
    for name, path in rule_files(prom).items():
        doc = yaml.safe_load(path.read_text()) or {}
        try:
            new_doc, left_out = rewrite_rules(doc, speed)
        except UserError as exc:
            exc.file = rules_source(name)
            raise
        skipped += left_out
        for group in doc.get("groups") or []:
            alert_names.update(str(r["alert"]) for r in group.get("rules") or [] if "alert" in r)
        path.write_text(yaml.safe_dump(new_doc, sort_keys=False))
    if skipped:
        notes.append(
            "rules left out (they read the wall clock, which cannot be time-scaled): " + ", ".join(skipped)
        )
    prometheus_args = prometheus_flags(resources, prom.config, workdir, prometheus_port, speed)

    # -- Alertmanager
    am = materialize(resources, "alertmanager", workdir / "alertmanager")
    am_config = yaml.safe_load(am.config.read_text()) or {}
    am_config, receivers = rewrite_alertmanager(
        am_config, speed, f"http://127.0.0.1:{capture_port}", workdir / "alertmanager" / "sandbox-urls"
    )
    am.config.write_text(yaml.safe_dump(am_config, sort_keys=False))
    if am_config.get("time_intervals") or am_config.get("mute_time_intervals"):
        notes.append("time intervals follow the wall clock (they are not scaled)")
    _check_expectations(project, env, scenarios, alert_names, receivers)
    return Plan(
        env=env,
        scenarios=scenarios,
        speed=speed,
        duration_ms=max(sc.duration_ms for sc in scenarios),
        events=sorted((e for sc in scenarios for e in sc.events), key=lambda e: e.at_ms),
        workdir=workdir,
        cluster=cluster,
        prometheus_config=prom.config,
        prometheus_args=prometheus_args,
        prometheus_port=prometheus_port,
        alertmanager_config=am.config,
        peers=peers,
        exporter_port=exporter_port,
        capture_port=capture_port,
        targets=targets,
        receivers=receivers,
        alert_names=alert_names,
        notes=notes,
    )


def alertmanager_args(plan: Plan, peer: Peer) -> list[str]:
    args = [
        f"--config.file={plan.alertmanager_config}",
        f"--storage.path={plan.workdir / f'alertmanager-data-{peer.index}'}",
        f"--web.listen-address=127.0.0.1:{peer.port}",
        # Each peer's own URL: the webhook payload's externalURL then says which peer notified.
        f"--web.external-url={peer.url}",
        "--web.route-prefix=/",
    ]
    if peer.cluster_port is None:
        return [*args, "--cluster.listen-address="]
    peer_timeout = max(parse_ms("15s") // plan.speed, PEER_TIMEOUT_FLOOR_MS)
    args += [
        f"--cluster.listen-address=127.0.0.1:{peer.cluster_port}",
        f"--cluster.advertise-address=127.0.0.1:{peer.cluster_port}",
        *(f"--cluster.peer=127.0.0.1:{p.cluster_port}" for p in plan.peers),
        f"--cluster.gossip-interval={GOSSIP_INTERVAL}",
        f"--cluster.peer-timeout={format_ms(peer_timeout)}",
    ]
    return args


# ---- the synthetic exporter and the capture webhook ---------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that hung up (Prometheus gave up on a slow scrape); it retries


class Exporter:
    """Serves each target's series at the current scenario step; stopped targets answer 503."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.t0: float | None = None
        self.stopped: set[tuple[str, str]] = set()
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: one connection per target, not per scrape

            def do_GET(self):
                status, body = exporter.serve(self.path.split("?", 1)[0])
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain; version=0.0.4")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    self.close_connection = True  # Prometheus gave up on this scrape; it retries

            def log_message(self, *args):
                pass

        self.server = _Server(("127.0.0.1", plan.exporter_port), Handler)

    def serve(self, path: str) -> tuple[int, bytes]:
        entry = self.plan.targets.get(path)
        if entry is None:
            return 404, b"no such target\n"
        target, series = entry
        if (target.job, target.instance) in self.stopped:
            return 503, b"target stopped by the scenario\n"
        t0 = self.t0
        if t0 is None:
            return 200, b""  # up, no series yet: the timeline starts once everything runs
        scenario_ms = int((time.time() - t0) * 1000 * self.plan.speed)
        return 200, exposition(series, scenario_ms, round(t0 * 1000), self.plan.speed)


class Capture:
    """The webhook every receiver posts to: records (time, receiver, integration, payload)."""

    def __init__(self, port: int) -> None:
        self.received: list[tuple[float, str, str, dict]] = []
        self.lock = threading.Lock()
        capture = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                parts = [urllib.parse.unquote(p) for p in self.path.strip("/").split("/")]
                try:
                    payload = json.loads(body or b"{}")
                except json.JSONDecodeError:
                    payload = {"unreadable": body.decode(errors="replace")}
                with capture.lock:
                    capture.received.append(
                        (time.time(), parts[0], parts[1] if len(parts) > 1 else "", payload)
                    )
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = _Server(("127.0.0.1", port), Handler)


# ---- the run ----------------------------------------------------------------------------------------------


class _Stop(Exception):
    """SIGTERM during a run (turned into a clean shutdown)."""


class Run:
    def __init__(self, plan: Plan, deadline: float | None = None) -> None:
        self.plan = plan
        self.deadline = deadline  # time.time() after which the run gives up (a hard limit)
        self.procs: dict[str, Any] = {}
        self.killed: set[str] = set()
        self.exporter = Exporter(plan)
        self.capture = Capture(plan.capture_port)
        self.t0: float | None = None
        self.alerts: dict[tuple, AlertSeen] = {}
        self.inhibited: dict[tuple, dict] = {}
        self.events: list[str] = []
        self.rule_errors: list[str] = []
        self.failed_scrapes: dict[str, int] = {}
        self.disturbed: set[str] = set()  # job/instance the events stopped (their failures are meant)
        self.logs = plan.workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)

    # -- time
    def now_ms(self, t: float | None = None) -> int:
        assert self.t0 is not None
        return round(((t if t is not None else time.time()) - self.t0) * 1000 * self.plan.speed)

    def at_real(self, ms: int) -> float:
        assert self.t0 is not None
        return self.t0 + ms / 1000 / self.plan.speed

    # -- processes
    def _start(self, name: str, tool: str, args: list[str], env: dict[str, str] | None = None) -> None:
        self.procs[name] = binaries.start(tool, args, log=self.logs / f"{name}.log", env=env)

    def _check_alive(self) -> None:
        for name, proc in self.procs.items():
            if name not in self.killed and proc.poll() is not None:
                raise UserError(
                    f"{name} exited with code {proc.returncode}:\n    {_tail(self.logs / f'{name}.log')}",
                    hint=f"see {self.logs / f'{name}.log'} (run with --keep-dir to keep it)",
                )

    def _check_deadline(self) -> None:
        if self.deadline is not None and time.time() > self.deadline:
            raise UserError("the sandbox run exceeded its time limit; every process was stopped")

    def _wait(self, what: str, ready, timeout: float = READY_TIMEOUT_S) -> None:
        deadline = time.time() + timeout
        last = ""
        while time.time() < deadline:
            self._check_deadline()
            self._check_alive()
            try:
                problem = ready()
            except (OSError, ValueError) as exc:
                problem = str(exc)
            if not problem:
                return
            last = problem
            time.sleep(0.05)
        raise UserError(f"{what} not ready after {timeout:.0f}s: {last}")

    def start_prometheus(self) -> None:
        self._start("prometheus", "prometheus", self.plan.prometheus_args, env={"POD_NAME": "prometheus-0"})
        url = f"http://127.0.0.1:{self.plan.prometheus_port}"

        def ready():
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as resp:
                return None if resp.status == 200 else f"HTTP {resp.status}"

        self._wait("prometheus", ready)
        self.killed.discard("prometheus")

    def stop_prometheus(self) -> None:
        proc = self.procs.get("prometheus")
        if proc is not None:
            self.killed.add("prometheus")
            binaries.stop(proc, timeout=10)

    def targets_up(self) -> str | None:
        data = _get_json(f"http://127.0.0.1:{self.plan.prometheus_port}/api/v1/targets?state=active")
        down = [
            f"{t['labels'].get('job')}/{t['labels'].get('instance')}: {t.get('lastError') or t.get('health')}"
            for t in data["data"]["activeTargets"]
            if t.get("health") != "up"
        ]
        return f"targets not up yet: {'; '.join(down[:5])}" if down else None

    def start(self) -> None:
        """Everything starts at once; then each readiness is awaited (Prometheus takes up to 5 s
        to hand its Alertmanagers to the notifier, the peers as long to settle their gossip)."""
        for srv in (self.exporter.server, self.capture.server):
            threading.Thread(target=srv.serve_forever, daemon=True, kwargs={"poll_interval": 0.1}).start()
        for peer in self.plan.peers:
            self._start(peer.name, "alertmanager", alertmanager_args(self.plan, peer))
        self.start_prometheus()
        for peer in self.plan.peers:

            def settled(peer=peer):
                status = _get_json(f"{peer.url}/api/v2/status")
                state = (status.get("cluster") or {}).get("status")
                return None if state in ("ready", "disabled") else f"cluster {state}"

            self._wait(peer.name, settled)
        self._wait("scrape targets", self.targets_up)
        self._wait("Prometheus' Alertmanager discovery", self.alertmanagers_found)

    def alertmanagers_found(self) -> str | None:
        data = _get_json(f"http://127.0.0.1:{self.plan.prometheus_port}/api/v1/alertmanagers")
        found = len(data["data"]["activeAlertmanagers"])
        return None if found == len(self.plan.peers) else f"{found} of {len(self.plan.peers)} found"

    def stop_all(self) -> None:
        for name in sorted(self.procs, key=lambda n: n != "prometheus"):  # Prometheus first
            with contextlib.suppress(OSError):
                binaries.stop(self.procs[name], timeout=10)
        for srv in (self.exporter.server, self.capture.server):
            with contextlib.suppress(OSError):
                srv.shutdown()
                srv.server_close()

    # -- events
    def first_peer(self) -> Peer:
        """The peer at cluster position 0 (the one that notifies first; the others wait)."""
        live = [p for p in self.plan.peers if p.name not in self.killed]
        status = _get_json(f"{live[0].url}/api/v2/status")
        names = {p["address"]: p["name"] for p in (status.get("cluster") or {}).get("peers") or []}
        by_name = {names.get(f"127.0.0.1:{p.cluster_port}"): p for p in live}
        first = min(n for n in by_name if n is not None)
        return by_name[first]

    def do(self, event) -> None:
        when = format_ms(event.at_ms)
        if event.action in ("stop_target", "start_target"):
            key = (event.job, event.instance)
            if event.action == "stop_target":
                self.exporter.stopped.add(key)
            else:
                self.exporter.stopped.discard(key)
            self.disturbed.add(f"{event.job}/{event.instance}")
            self.events.append(f"{when} {event.action.replace('_', ' ')} {event.job}/{event.instance}")
        elif event.action == "kill_alertmanager":
            if event.peer == "first":
                peer = self.first_peer()
                why = " (the peer that notifies first)"
            else:
                index = int(event.peer or 0)
                if index >= len(self.plan.peers):
                    raise UserError(
                        f"kill_alertmanager: peer {index} does not exist "
                        f"({len(self.plan.peers)} peers in {self.plan.env})",
                        key="events",
                    )
                peer, why = self.plan.peers[index], ""
            self.killed.add(peer.name)
            self.disturbed.add(f"{ALERTMANAGER_JOB}/{peer.name}")
            proc = self.procs[peer.name]
            proc.kill()  # a crash, not a clean leave: the others must notice on their own
            proc.wait()
            self.events.append(f"{when} killed {peer.name}{why}")
        elif event.action == "restart_prometheus":
            self.stop_prometheus()
            self.start_prometheus()
            # Scraping and notifying resume only once Prometheus hands over its targets (a fixed
            # ~5 s of real time: several scenario minutes at high speed).
            self._wait("scrape targets after the restart", self.targets_up)
            self._wait("Prometheus' Alertmanager discovery after the restart", self.alertmanagers_found)
            self.events.append(f"{when} restarted prometheus (scraping again at {_t(self.now_ms())})")
        elif event.action == "stop_prometheus":
            self.stop_prometheus()
            self.events.append(f"{when} stopped prometheus")

    # -- observation
    def poll(self) -> None:
        now = self.now_ms()
        if "prometheus" not in self.killed:
            try:
                data = _get_json(f"http://127.0.0.1:{self.plan.prometheus_port}/api/v1/alerts", timeout=1)
            except (OSError, ValueError):
                data = None
            if data is not None:
                active = set()
                for a in data["data"]["alerts"]:
                    key = tuple(sorted(a["labels"].items()))
                    active.add(key)
                    seen = self.alerts.setdefault(key, AlertSeen(dict(a["labels"])))
                    if seen.pending_ms is None:
                        seen.pending_ms = now
                    open_episode = seen.firing and seen.firing[-1][1] is None
                    if a["state"] == "firing" and not open_episode:
                        seen.firing.append([now, None])
                    elif a["state"] != "firing" and open_episode:
                        seen.firing[-1][1] = now
                for key, seen in self.alerts.items():
                    if key not in active and seen.firing and seen.firing[-1][1] is None:
                        seen.firing[-1][1] = now
        for peer in self.plan.peers:
            if peer.name in self.killed:
                continue
            try:
                alerts = _get_json(
                    f"{peer.url}/api/v2/alerts?active=true&inhibited=true&silenced=true", timeout=1
                )
            except (OSError, ValueError):
                continue
            for a in alerts:
                if (a.get("status") or {}).get("inhibitedBy"):
                    key = tuple(sorted(a["labels"].items()))
                    self.inhibited.setdefault(key, {"at_ms": now, "labels": dict(a["labels"])})
            break  # every peer gets every alert: one is enough

    def collect_health(self) -> None:
        """Rules that failed to evaluate, and scrapes that failed although no event stopped the
        target (a machine too busy for the speed: alerts on `up` are then artefacts)."""
        api = f"http://127.0.0.1:{self.plan.prometheus_port}/api/v1"
        try:
            data = _get_json(f"{api}/rules", timeout=5)
            query = urllib.parse.quote("count_over_time(up[1h]) - sum_over_time(up[1h]) > 0")
            failed = _get_json(f"{api}/query?query={query}", timeout=5)
        except (OSError, ValueError):
            return
        for group in data["data"]["groups"]:
            for rule in group["rules"]:
                if rule.get("health") == "err":
                    self.rule_errors.append(
                        f"{rule['name']} (group {group['name']}): {rule.get('lastError')}"
                    )
        for r in failed["data"]["result"]:
            target = f"{r['metric'].get('job')}/{r['metric'].get('instance')}"
            if target not in self.disturbed:
                self.failed_scrapes[target] = int(float(r["value"][1]))

    def notifications(self) -> list[Notification]:
        peers = {p.url: p.name for p in self.plan.peers}
        out = []
        with self.capture.lock:
            received = list(self.capture.received)
        for t, receiver, integration, payload in received:
            out.append(
                Notification(
                    at_ms=self.now_ms(t),
                    receiver=receiver,
                    integration=integration,
                    status=str(payload.get("status", "")),
                    peer=peers.get(
                        str(payload.get("externalURL", "")).rstrip("/"), str(payload.get("externalURL"))
                    ),
                    alerts=[
                        {"status": a.get("status"), "labels": a.get("labels") or {}}
                        for a in payload.get("alerts") or []
                    ],
                )
            )
        return out

    def loop(self) -> None:
        self.t0 = time.time()
        self.exporter.t0 = self.t0
        end = self.at_real(self.plan.duration_ms)
        pending = list(self.plan.events)
        next_poll = 0.0
        while True:
            now = time.time()
            while pending and self.at_real(pending[0].at_ms) <= now:
                self.do(pending.pop(0))
            if now >= next_poll:
                self._check_deadline()
                self._check_alive()
                self.poll()
                next_poll = now + POLL_S
            if now >= end:
                break
            time.sleep(max(0.0, min(0.02, end - now)))
        if "prometheus" not in self.killed:
            self.collect_health()


def _sigterm(signum, frame):
    raise _Stop()


def run(
    project: Project,
    env: str,
    scenarios: list[Scenario],
    *,
    speed: int | None = None,
    keep_dir: Path | None = None,
    resources: list[Resource] | None = None,
    log: Callable[[str], None] | None = None,
    timeout_s: float | None = None,
) -> SandboxResult:
    """Plan, start, replay the scenarios, stop everything, and judge each scenario's expectations.
    `log` gets progress lines (the CLI prints them on stderr); `timeout_s` bounds the whole run
    (start-up included): past it, the run stops everything and raises a UserError."""
    say = log or (lambda _msg: None)
    for tool in ("prometheus", "alertmanager"):
        binaries.require(tool)  # before anything is rendered or started
    if keep_dir is not None:
        if keep_dir.exists() and (not keep_dir.is_dir() or any(keep_dir.iterdir())):
            raise UserError(
                "not an empty directory",
                key="--keep-dir",
                file=str(keep_dir),
                hint="pass a new or empty directory",
            )
        keep_dir.mkdir(parents=True, exist_ok=True)
        workdir = keep_dir.resolve()
    else:
        workdir = Path(tempfile.mkdtemp(prefix=f"cfmon-sandbox-{env}-"))
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _sigterm) if main else None
    began = time.time()
    runner: Run | None = None
    try:
        say(f"sandbox: rendering {env} and rewriting it for loopback in {workdir}")
        p = plan(project, env, scenarios, workdir, speed=speed, resources=resources)
        runner = Run(p, began + timeout_s if timeout_s else None)
        say(f"sandbox: starting Prometheus and {len(p.peers)} Alertmanager peer(s)")
        runner.start()
        started = time.time()
        say(
            f"sandbox: replaying {format_ms(p.duration_ms)} of scenario time at speed {p.speed} "
            f"(~{p.duration_ms / p.speed / 1000:.0f}s)"
        )
        runner.loop()
        run_s = time.time() - started
    except _Stop:
        raise KeyboardInterrupt from None
    finally:
        if runner is not None:
            runner.stop_all()
        if main:
            signal.signal(signal.SIGTERM, previous)
        if keep_dir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    observed = Observed(
        alerts=sorted(
            runner.alerts.values(),
            key=lambda a: (a.firing[0][0] if a.firing else 1 << 62, sorted(a.labels.items())),
        ),
        notifications=runner.notifications(),
        inhibited=sorted(runner.inhibited.values(), key=lambda i: (i["at_ms"], sorted(i["labels"].items()))),
    )
    reports = [
        ScenarioReport(sc.name, project.rel(sc.path), evaluate(sc, env, p.cluster, observed))
        for sc in scenarios
    ]
    return SandboxResult(
        env=env,
        speed=p.speed,
        cluster=p.cluster,
        peers=len(p.peers),
        notes=p.notes,
        events=runner.events,
        alerts=observed.alerts,
        notifications=observed.notifications,
        inhibited=observed.inhibited,
        rule_errors=runner.rule_errors,
        failed_scrapes=runner.failed_scrapes,
        reports=reports,
        startup_s=started - began,
        run_s=run_s,
        workdir=str(workdir) if keep_dir is not None else None,
    )


# ---- output -------------------------------------------------------------------------------------------


def _t(ms: int | None) -> str:
    if ms is None:
        return "-"
    sign = "-" if ms < 0 else ""
    return sign + format_ms(round(abs(ms) / 1000) * 1000)


def _labels_text(labels: dict[str, str], skip: tuple[str, ...] = ("alertname",)) -> str:
    return "{" + ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k not in skip) + "}"


def scaling_text(speed: int) -> str:
    if speed == 1:
        return "time not scaled (speed 1)"
    return (
        f"time scaled by {speed}: every duration divided by {speed} (scrape and evaluation intervals, "
        "rule for, PromQL ranges and offsets, group_wait/group_interval/repeat_interval, the scenarios); "
        f"1 scenario minute = {60 / speed:g}s real; times below are scenario times"
    )


def format_text(result: SandboxResult) -> str:
    peers = f"{result.peers} Alertmanager peer{'s' if result.peers > 1 else ''}"
    out = [f"sandbox {result.env} (cluster {result.cluster}, {peers})\n", scaling_text(result.speed) + "\n"]
    out += [f"note: {n}\n" for n in result.notes]
    if result.events:
        out.append("events:\n" + "".join(f"  {e}\n" for e in result.events))
    out.append("alerts fired (firing episodes):\n")
    for a in result.alerts:
        if a.firing:
            episodes = ", ".join(f"{_t(s)}-{_t(e) if e is not None else 'end'}" for s, e in a.firing)
            out.append(f"  {a.name:40} {episodes:24} {_labels_text(a.labels)}\n")
    pending_only = sorted({a.name for a in result.alerts if not a.firing})
    if pending_only:
        out.append(f"  pending only (never fired): {', '.join(pending_only)}\n")
    out.append("notifications (receiver, status, alert, labels, sending peer):\n")
    for n in result.notifications:
        for a in n.alerts:
            out.append(
                f"  {_t(n.at_ms):>8} {n.receiver:20} {a['status']:8} {a['labels'].get('alertname', ''):34} "
                f"{_labels_text(a['labels'])} via {n.peer}\n"
            )
    if result.inhibited:
        out.append("inhibited (first seen):\n")
        for i in result.inhibited:
            out.append(f"  {_t(i['at_ms']):>8} {i['labels'].get('alertname')} {_labels_text(i['labels'])}\n")
    if result.rule_errors:
        out.append("rule evaluation errors:\n" + "".join(f"  {e}\n" for e in result.rule_errors))
    if result.failed_scrapes:
        shown = ", ".join(f"{t} {n}x" for t, n in sorted(result.failed_scrapes.items()))
        out.append(
            f"warning: scrapes failed on targets no event stopped ({shown}): the machine was too busy "
            f"for speed {result.speed}; alerts on `up` may be artefacts (try a lower --speed)\n"
        )
    failed = total = 0
    for report in result.reports:
        out.append(f"expectations of {report.name} ({report.file}):\n")
        for v in report.verdicts:
            out.append(f"  {'ok  ' if v.ok else 'FAIL'}  {v.text}\n")
            total += 1
            failed += not v.ok
    out.append(
        f"sandbox: {total} expectations, {failed} failed"
        + (f", {len(result.rule_errors)} rule errors" if result.rule_errors else "")
        + f" (start-up {result.startup_s:.1f}s, run {result.run_s:.1f}s)"
        + (f"; files kept in {result.workdir}" if result.workdir else "")
        + "\n"
    )
    return "".join(out)


def as_json(result: SandboxResult) -> dict:
    return {
        "env": result.env,
        "speed": result.speed,
        "cluster": result.cluster,
        "peers": result.peers,
        "notes": result.notes,
        "events": result.events,
        "alerts": [
            {"labels": a.labels, "pending_ms": a.pending_ms, "firing_ms": a.firing} for a in result.alerts
        ],
        "notifications": [n.__dict__ for n in result.notifications],
        "inhibited": result.inhibited,
        "rule_errors": result.rule_errors,
        "failed_scrapes": result.failed_scrapes,
        "scenarios": [
            {
                "name": r.name,
                "file": r.file,
                "expectations": [{"ok": v.ok, "text": v.text} for v in r.verdicts],
            }
            for r in result.reports
        ],
        "ok": result.ok,
        "startup_s": round(result.startup_s, 3),
        "run_s": round(result.run_s, 3),
        "workdir": result.workdir,
    }

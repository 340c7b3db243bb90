"""Planning a sandbox run: render the environment, check the scenarios fit it, pick loopback
ports, rewrite every config under the work directory and gather what the run needs in a Plan."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from cfmon.durations import format_ms, parse_ms
from cfmon.errors import UserError
from cfmon.manifests import Resource, parse_documents, split_by_source
from cfmon.mounts import find_container
from cfmon.project import CHART, Project
from cfmon.render import helm_output
from cfmon.rendered.model import Render
from cfmon.rendered.prometheus import rule_files
from cfmon.rendered.rules import rules_source
from cfmon.sandbox.rewrite import (
    _scrape_jobs,
    prometheus_flags,
    rewrite_alertmanager,
    rewrite_prometheus,
    rewrite_rules,
    rewrite_scrape_job,
    write_scrape_jobs,
)
from cfmon.sandbox.servers import free_port
from cfmon.scenario import (
    Event,
    Scenario,
    Series,
    Target,
    applies,
    default_instance,
)

PROMETHEUS_JOB = "prometheus"  # the stack mixin's job names: these scrape the real processes
ALERTMANAGER_JOB = "alertmanager"
PEER_TIMEOUT_FLOOR_MS = 100
GOSSIP_INTERVAL = "20ms"  # settles a loopback cluster in ~1 s (the default 200ms takes ~8 s)


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


def render_resources(project: Project, env: str, overlays: list[Path] | None = None) -> list[Resource]:
    """A fresh render in memory (build/rendered/ is left alone: others may be rendering)."""
    text, _ = helm_output(project, env, overlays or [])
    resources: list[Resource] = []
    for rel, body in split_by_source(text).items():
        resources += parse_documents(body, source=str(CHART / rel), origin=rel)
    return resources


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
    model = Render(resources)
    prom = model.prometheus(workdir / "prometheus")
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
    write_scrape_jobs(config, rewritten)
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
            exc.file = rules_source(project.root, name)
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
    am = model.alertmanager(workdir / "alertmanager")
    assert am is not None  # its workload was found above
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

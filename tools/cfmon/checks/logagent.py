"""The log agents (Promtail, Alloy): their rendered configs checked offline, since neither can run here."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import yaml

from cfmon import alloy
from cfmon.checks.base import Check, Context, Finding
from cfmon.logagents import (
    PUSH_PATH,
    alloy_labels,
    alloy_problems,
    promtail_labels,
    promtail_problems,
    push_urls,
)
from cfmon.rendered.logagents import AgentConfig, agent_configs
from cfmon.serialize import parse_yaml

PIPELINE = "charts/creativeflow-monitoring/templates/_logagent.tpl"

# Labels whose values have no bound (one per request, user, trace or pod instance): as a label
# each value is a new stream, and Loki's index grows with every one. Compared without case or `_`.
UNBOUNDED = (
    "traceID",
    "spanID",
    "inference_id",
    "request_id",
    "user_id",
    "session_id",
    "pod_uid",
    "uid",
    "filename",
)
# Discovered labels with one value per pod instance: a label copied from them is unbounded too.
UNBOUNDED_SOURCES = (
    "__meta_kubernetes_pod_uid",
    "__meta_kubernetes_pod_ip",
    "__meta_kubernetes_pod_container_id",
)
# Fields parsed from the log line that may become labels: the agents normalise them to a few values.
PARSED_LABELS_ALLOWED = ("level",)


def _norm(name: str) -> str:
    return name.replace("_", "").lower()


def _parse_error(check: Check, ctx: Context, cfg: AgentConfig) -> Finding | None:
    """A config that does not parse is logs/agent-schema's finding; the other checks stop there."""
    try:
        if cfg.agent == "alloy":
            alloy.parse(cfg.text)
        else:
            parse_yaml(cfg.text)
    except (alloy.AlloySyntaxError, yaml.YAMLError):
        return check.finding(
            ctx,
            f"{cfg.where}: not checked, the config does not parse (see logs/agent-schema)",
            file=cfg.resource.source,
        )
    return None


class AgentSchema(Check):
    """The agent config uses only keys and components we know, with the right types.

    Promtail: promtail.yaml against a JSON schema of the keys the chart emits (unknown keys and
    wrong types are errors, with the key path). Alloy: config.alloy parsed (a syntax error names
    its line), then every component, block and attribute against the table in cfmon/alloy_components.py,
    and every reference to a component that exists.
    Why: an agent refuses a config it cannot load and ships no logs at all; nothing here can run it.
    Bad: `stage.jsn {}`, `batchwait: 1` (not a duration), `forward_to = [loki.write.typo.receiver]`.
    Good: the render of either agent.
    """

    id = "logs/agent-schema"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        for cfg in agent_configs(ctx.rendered.resources):
            problems = promtail_problems(cfg.text) if cfg.agent == "promtail" else alloy_problems(cfg.text)
            for p in problems:
                findings.append(
                    self.finding(
                        ctx,
                        f"{cfg.where}: {p.where}: {p.message}",
                        file=cfg.resource.source,
                        hint=f"fix the template that writes it (the pipeline: {PIPELINE}; the agent's "
                        f"_helpers.tpl) or the {cfg.agent} values it reads",
                    )
                )
        return findings


class AgentLabels(Check):
    """No unbounded label in the agent's label set.

    Labels come from relabel rules (target_label; labelmap is open-ended by nature), pipeline
    label stages, static and external labels. An identifier (traceID, spanID, inference_id,
    request_id, user_id, pod_uid, ...) is never a label, a field parsed from the log line is a
    label only when allow-listed (level), and the `filename` label a file source adds (its path
    holds the pod uid) must be dropped.
    Why: every label value is a stream; unbounded values explode Loki's index and its memory.
    Structured metadata keeps them queryable. Bad: `labels: {traceID: }`, a labelmap of every
    pod label. Good: traceID in structured_metadata, labels namespace/pod/container/app/level.
    """

    id = "logs/agent-labels"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        for cfg in agent_configs(ctx.rendered.resources):
            broken = _parse_error(self, ctx, cfg)
            findings += [broken] if broken else self._problems(ctx, cfg)
        return findings

    def _problems(self, ctx: Context, cfg: AgentConfig) -> list[Finding]:
        labels = promtail_labels(cfg.text) if cfg.agent == "promtail" else alloy_labels(cfg.text)
        unbounded = {_norm(n) for n in UNBOUNDED}
        allowed = {_norm(n) for n in PARSED_LABELS_ALLOWED}
        problems: list[tuple[str, str]] = []  # (message, hint)
        for use in labels.uses:
            if use.label in labels.dropped or (labels.kept is not None and use.label not in labels.kept):
                continue
            if use.open_ended:
                problems.append(
                    (
                        f"{use.where}: {use.open_ended}: the label names have no bound",
                        f"name each label with its own replace rule (see {PIPELINE})",
                    )
                )
            elif _norm(use.label) in unbounded:
                problems.append(
                    (
                        f"{use.where}: label {use.label} is unbounded (one value per request, trace or pod)",
                        "keep it in the line or in structured metadata (a structured_metadata stage)",
                    )
                )
            elif set(use.sources) & set(UNBOUNDED_SOURCES):
                source = sorted(set(use.sources) & set(UNBOUNDED_SOURCES))[0]
                problems.append(
                    (
                        f"{use.where}: label {use.label} takes its value from {source} (one per pod)",
                        "drop the rule; namespace, pod and container identify a stream",
                    )
                )
            elif use.parsed_from and _norm(use.label) not in allowed:
                problems.append(
                    (
                        f"{use.where}: label {use.label} comes from the log line's field {use.parsed_from}, "
                        f"which is not allow-listed ({', '.join(PARSED_LABELS_ALLOWED)})",
                        "put the field in structured metadata (a parsed label needs a few normalised values)",
                    )
                )
        for where in sorted(set(labels.file_pipelines) - set(labels.file_pipelines_dropping_filename)):
            problems.append(
                (
                    f"{where}: tailed files get a `filename` label (/var/log/pods/<ns>_<pod>_<uid>/...: "
                    "one value per pod instance) that no stage drops",
                    "add a label_drop (Alloy) / labeldrop (Promtail) stage for filename",
                )
            )
        return [
            self.finding(ctx, f"{cfg.where}: {message}", file=cfg.resource.source, hint=hint)
            for message, hint in problems
        ]


class AgentPushUrl(Check):
    """The agent pushes to the Loki Service of the release (name, port, /loki/api/v1/push), or to a
    valid http(s) URL when the release deploys no Loki.

    Loki Services are the rendered Services labelled app.kubernetes.io/name: loki (headless ones
    excluded; with a `write` component, only that one takes pushes). A URL naming a `<svc>.<ns>.svc`
    host in the release's namespace must name a rendered Service.
    Why: a wrong host or port is only seen at run time, as dropped logs on every node.
    Bad: `http://creativeflow-loki.monitoring.svc:3101/loki/api/v1/push`, or that URL with Loki
    switched off. Good: `http://creativeflow-loki.monitoring.svc:3100/loki/api/v1/push`.
    """

    id = "logs/agent-push-url"

    def run(self, ctx: Context) -> list[Finding]:
        services = list(ctx.objects("Service"))
        loki = [
            s
            for s in services
            if (s.obj.get("metadata", {}).get("labels") or {}).get("app.kubernetes.io/name") == "loki"
            and (s.obj.get("spec") or {}).get("clusterIP") != "None"
        ]
        writers = [
            s
            for s in loki
            if (s.obj["metadata"].get("labels") or {}).get("app.kubernetes.io/component") == "write"
        ]
        targets = writers or loki
        namespaces = {r.namespace for r in ctx.rendered.resources if r.namespace}
        findings = []
        for cfg in agent_configs(ctx.rendered.resources):
            broken = _parse_error(self, ctx, cfg)
            if broken:
                findings.append(broken)
                continue
            urls = push_urls(cfg)
            if not urls:
                findings.append(
                    self.finding(
                        ctx,
                        f"{cfg.where}: no push URL",
                        file=cfg.resource.source,
                        hint="configure one client",
                    )
                )
            for url in urls:
                release = (cfg.resource.obj["metadata"].get("labels") or {}).get(
                    "app.kubernetes.io/instance", ""
                )
                problem = _url_problem(url.value, targets, services, namespaces, release)
                if problem:
                    findings.append(
                        self.finding(
                            ctx,
                            f"{cfg.where}: {url.where}: {problem}",
                            file=cfg.resource.source,
                            hint=f"set {cfg.agent}.loki.url (empty: the release's Loki) or fix the Service",
                        )
                    )
        return findings


def _service_hosts(svc) -> set[str]:
    name, ns = svc.name, svc.namespace
    return {name, f"{name}.{ns}", f"{name}.{ns}.svc", f"{name}.{ns}.svc.cluster.local"}


def _url_problem(value, targets, services, namespaces, release: str) -> str | None:
    if not isinstance(value, str):
        return "not a literal URL (cannot be checked)"
    parts = urlsplit(value)
    try:
        port = parts.port
    except ValueError:
        return f"{value} has an invalid port"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{value} is not a valid http(s) URL"
    if parts.path.rstrip("/") != PUSH_PATH:
        return f"{value}: the path must be {PUSH_PATH} (Loki's push API), not {parts.path or '/'}"
    port = port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname
    if targets:
        for svc in targets:
            ports = {p.get("port") for p in (svc.obj.get("spec") or {}).get("ports") or []}
            if host in _service_hosts(svc) and port in ports:
                return None
        expected = ", ".join(
            f"http://{s.name}.{s.namespace}.svc:{p.get('port')}{PUSH_PATH}"
            for s in targets
            for p in (s.obj.get("spec") or {}).get("ports") or []
            if p.get("name", "").startswith("http")
        )
        return f"{value} does not reach the Loki Service of this release ({expected or 'no http port'})"
    # A Service of this release (<release>-...) in its namespace that is not rendered: pushes go nowhere.
    m = re.fullmatch(r"([a-z0-9-]+)\.([a-z0-9-]+)\.svc(\.cluster\.local)?", host)
    ours = m and release and m.group(1).startswith(f"{release}-") and m.group(2) in namespaces
    if ours and not any(s.name == m.group(1) for s in services):
        return (
            f"{value} names Service {m.group(1)} in namespace {m.group(2)}, which this release does not "
            "render (is Loki switched off?)"
        )
    return None

"""`logs/agent-push-url`: the agent pushes to the Loki Service of the release, or to a valid
http(s) URL when the release deploys no Loki.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from cfmon.checks.base import Check, Context, Finding
from cfmon.checks.logagent.common import parse_error
from cfmon.logagents import PUSH_PATH, push_urls


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
        for cfg in ctx.rendered.model.log_agents:
            broken = parse_error(self, ctx, cfg)
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

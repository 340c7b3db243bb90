"""Alert conventions that routing and on-call rely on, read from the rules as rendered."""

from __future__ import annotations

import configparser
import re
from collections.abc import Iterable

from cfmon.catalog import conventions
from cfmon.checks.base import Check, Context, Finding
from cfmon.manifests import Resource
from cfmon.rendered.grafana import panels, rendered_dashboards, variables
from cfmon.rendered.prometheus import rendered_grafana_urls
from cfmon.rendered.rules import rendered_rules, rules_source

# Runbooks live in this repository; the URL the Jsonnet helper builds (mixin _config.runbookBaseUrl).


# <Grafana URL>/d/<uid>[/<slug>][?<query>]; the query may hold Prometheus templates ({{ ... }}).
DASHBOARD_URL = re.compile(
    r"^(?P<base>https?://[^?#]*?)/d/(?P<uid>[^/?#]+)(?:/[^?#]*)?(?:\?(?P<query>.*))?$", re.S
)
VIEW_PANEL = re.compile(r"(?:^|&)viewPanel=([^&]*)")
QUERY_VARIABLE = re.compile(r"(?:^|&)var-([^=&]+)=")

RUNBOOK_SECTIONS = ("## What it means", "## Diagnose", "## Mitigate")
SEVERITIES = ("critical", "warning", "info")
PRIORITIES = ("P1", "P2", "P3", "P4")


def rendered_alerts(ctx: Context):
    """(rule file name, alert rule) for every alert in the rendered rule ConfigMaps."""
    for file, _, rule in rendered_rules(ctx.rendered.resources):
        if "alert" in rule:
            yield file, rule


class AlertConvention(Check):
    """Base of the per-alert convention checks: `problems(rule)` lists what is wrong with one alert."""

    hint: str

    def problems(self, rule: dict) -> list[str]:
        raise NotImplementedError

    def run(self, ctx: Context) -> list[Finding]:
        return [
            self.finding(
                ctx,
                f"alert {rule['alert']}: {p}",
                file=rules_source(ctx.project.root, file),
                hint=self.hint % rule["alert"],
            )
            for file, rule in rendered_alerts(ctx)
            for p in self.problems(rule)
        ]


class AlertLabels(AlertConvention):
    """Every alert has `severity`, `priority` and a `service` or `component` label.

    Why: Alertmanager routes on severity and team, on-call sorts by priority (MON-012), and the
    notification says which service is hurt. Bad: severity `high`, no priority, no service.
    Good: severity critical|warning|info, priority P1..P4, service or component.
    """

    id = "alerts/labels"
    hint = "set it in the mixin's rules.alert() call, or fix the values override prometheus.alerts.%s"

    def problems(self, rule: dict) -> list[str]:
        labels = rule.get("labels") or {}
        problems = []
        if labels.get("severity") not in SEVERITIES:
            problems.append(f"severity {labels.get('severity')!r} is not one of {', '.join(SEVERITIES)}")
        if labels.get("priority") not in PRIORITIES:
            problems.append(f"priority {labels.get('priority')!r} is not one of {', '.join(PRIORITIES)}")
        if not (labels.get("service") or labels.get("component")):
            problems.append("it has neither a service nor a component label")
        return problems


class AlertAnnotations(AlertConvention):
    """Every alert has a static `summary` ending with a period and a templated `description`.

    Why: the summary is the notification title (grouped alerts share it, so it must not vary);
    the description says which instance and how bad ({{ $labels.x }}, {{ $value }}).
    Bad: summary `High CPU on {{ $labels.instance }}`; a description with no template.
    Good: summary `Node CPU usage is high.`, description `CPU of {{ $labels.instance }} is {{ $value }}`.
    """

    id = "alerts/annotations"
    hint = "fix the summary/description in the mixin (or the values override prometheus.alerts.%s)"

    def problems(self, rule: dict) -> list[str]:
        ann = rule.get("annotations") or {}
        summary, description = str(ann.get("summary", "")), str(ann.get("description", ""))
        problems = []
        if not summary:
            problems.append("no summary")
        elif "{{" in summary or not summary.endswith("."):
            problems.append(f"summary {summary!r} must be static text ending with a period")
        if "{{" not in description:
            problems.append("description must be templated ({{ $labels.x }}, {{ $value }})")
        return problems


class AlertRunbook(Check):
    """Every alert links a runbook `docs/runbooks/<AlertName>.md` that exists in this repository
    and has the sections What it means, Diagnose and Mitigate.

    Why: the page at 3 a.m. must say what the alert means and what to do.
    Bad: no `runbook_url`, or one naming a file that is not there. Good: a runbook per alert.
    """

    id = "alerts/runbook-url"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        base = conventions().runbook_base_url + "/"
        for file, rule in rendered_alerts(ctx):
            name = rule["alert"]
            url = (rule.get("annotations") or {}).get("runbook_url", "")
            m = re.search(re.escape(base) + r"([A-Za-z0-9]+)\.md$", url)
            if not m or m.group(1) != name:
                findings.append(
                    self.finding(
                        ctx,
                        f"alert {name}: runbook_url {url or '(none)'} is not {base}{name}.md",
                        file=rules_source(ctx.project.root, file),
                        hint="build alerts with the rules.libsonnet alert() helper",
                    )
                )
                continue
            runbook = ctx.project.path(f"docs/runbooks/{name}.md")
            if not runbook.is_file():
                findings.append(
                    self.finding(
                        ctx,
                        f"alert {name}: docs/runbooks/{name}.md does not exist",
                        file=f"docs/runbooks/{name}.md",
                        hint="write it: what the alert means, how to diagnose, how to mitigate",
                    )
                )
                continue
            lines = {line.strip() for line in runbook.read_text().splitlines()}
            missing = [s for s in RUNBOOK_SECTIONS if s not in lines]
            if missing:
                findings.append(
                    self.finding(
                        ctx,
                        f"alert {name}: docs/runbooks/{name}.md lacks the section(s) {', '.join(missing)}",
                        file=f"docs/runbooks/{name}.md",
                        hint="a runbook says what the alert means, how to diagnose and how to mitigate",
                    )
                )
        return findings


def rendered_grafana_root_url(resources: Iterable[Resource]) -> str | None:
    """[server] root_url of the rendered grafana.ini (None when the release ships no Grafana)."""
    for res in resources:
        labels = (res.obj.get("metadata") or {}).get("labels") or {}
        ini = (res.obj.get("data") or {}).get("grafana.ini")
        if res.kind != "ConfigMap" or labels.get("app.kubernetes.io/name") != "grafana" or not ini:
            continue
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read_string(str(ini))
        except configparser.Error:
            return None
        return parser.get("server", "root_url", fallback=None)
    return None


class AlertDashboardUrl(Check):
    """Every alert's `dashboard_url` opens a dashboard this release ships, at a panel it has, on the
    environment's Grafana: `<root_url>/d/<uid>?var-...&viewPanel=<id>`.

    Why: the link in a page is the first click of the on-call; a renamed uid, a removed panel or
    another environment's Grafana sends them to an error page. The dashboard (and panel) come from
    the panels' `alerts=[...]` (jsonnet/lib/alert-links.libsonnet); the host from global.grafanaUrl.
    Bad: no dashboard_url; `/d/nodez`; `viewPanel=99` on a dashboard without panel 99; a `var-`
    the dashboard does not define; `https://grafana.staging.creativeflow.ai/d/...` in prod.
    Good: `https://grafana.creativeflow.ai/d/nodes?var-environment=...&viewPanel=8`, where the
    rendered Grafana has root_url https://grafana.creativeflow.ai and dashboard nodes has panel 8.
    The Grafana URL is grafana.ini's root_url, or, when the release ships no Grafana, the rule
    ConfigMaps' creativeflow.ai/grafana-url (and uids and panels are not checked).
    """

    id = "alerts/dashboard-url"

    def run(self, ctx: Context) -> list[Finding]:
        resources = ctx.rendered.resources
        root = rendered_grafana_root_url(resources)
        declared = rendered_grafana_urls(resources)
        base = root if root else (next(iter(declared)) if len(declared) == 1 else None)
        shipped = {
            d.uid: ({str(p.id) for p in panels(d.model)}, {str(v.get("name")) for v in variables(d.model)})
            for d in rendered_dashboards(resources)
            if d.uid
        }
        findings = []
        for file, rule in rendered_alerts(ctx):
            for problem, hint in self.problems(rule, base, shipped if root else None):
                findings.append(
                    self.finding(
                        ctx,
                        f"alert {rule['alert']}: {problem}",
                        file=rules_source(ctx.project.root, file),
                        hint=hint,
                    )
                )
        return findings

    def problems(
        self, rule: dict, base: str | None, shipped: dict[str, tuple[set[str], set[str]]] | None
    ) -> list[tuple[str, str]]:
        """(what is wrong, how to fix it) for one alert; `shipped`: uid -> (panel ids, variables)."""
        name = rule["alert"]
        url = str((rule.get("annotations") or {}).get("dashboard_url") or "")
        from_panels = (
            f"give the panel that shows it alerts=['{name}'] (or the mixin a defaultDashboard), "
            "then cfmon generate; or fix the values override "
            f"prometheus.alerts.{name}.annotations.dashboard_url"
        )
        if not url:
            return [("no dashboard_url", from_panels)]
        m = DASHBOARD_URL.match(url)
        if not m:
            return [(f"dashboard_url {url} is not <Grafana URL>/d/<uid>?...", from_panels)]
        problems = []
        if base is not None and m.group("base").rstrip("/") != base.rstrip("/"):
            problems.append(
                (
                    f"dashboard_url points at {m.group('base')}, not this environment's Grafana {base}",
                    "set global.grafanaUrl in the environment's values file (Grafana's root_url "
                    "follows it unless grafana.rootUrl differs)",
                )
            )
        if shipped is None:
            return problems
        uid = m.group("uid")
        if uid not in shipped:
            problems.append(
                (f"dashboard_url names dashboard {uid!r}, which this release does not ship", from_panels)
            )
            return problems
        panel_ids, names = shipped[uid]
        query = m.group("query") or ""
        for view in VIEW_PANEL.findall(query):
            if view not in panel_ids:
                problems.append(
                    (f"dashboard_url opens panel {view!r}, which dashboard {uid} does not have", from_panels)
                )
        unknown = sorted(set(QUERY_VARIABLE.findall(query)) - names)
        if unknown:
            problems.append(
                (
                    f"dashboard_url sets {', '.join('var-' + v for v in unknown)}, "
                    f"not variables of dashboard {uid} (Grafana ignores them)",
                    from_panels,
                )
            )
        return problems

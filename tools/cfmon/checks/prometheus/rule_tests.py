"""`prometheus/rule-tests`: `promtool test rules` for every tests/rules/*.yaml against the rules as
rendered for the environment.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import yaml

from cfmon import ruledeps, ruletests
from cfmon.checks.base import Check, Context, Finding, read_mapping
from cfmon.checks.prometheus.common import prometheus_layout, rules_valid
from cfmon.durations import DurationError, parse_seconds
from cfmon.mounts import has_container
from cfmon.project import RULE_TESTS_DIR
from cfmon.rendered.prometheus import (
    CONTAINER,
    GRAFANA_URL_TOKEN,
    rule_files,
)
from cfmon.serialize import parse_yaml
from cfmon.teams import overridden_alerts


class PrometheusRuleTests(Check):
    """`promtool test rules` for every tests/rules/*.yaml against the rules as rendered for the env.

    Why: a rule that parses can still never fire, or fire on healthy data.
    A test file lists `rule_files` by basename (the CLI substitutes the rendered file) and may
    carry `cfmon: {environments: [..]}` to run only where its thresholds apply, and
    `cfmon: {whenRendered: true}` to run only where its rule files are rendered (a file the chart
    ships behind a values switch). `${grafanaUrl}` in a test (the start of an expected
    dashboard_url) stands for the URL the environment's Grafana serves at, as the rendered
    grafana.ini says it (`[server] root_url`); in a release without Grafana, for the one Grafana
    URL the rendered alerts link to (nothing else says where Grafana is).
    Bad: a test whose expected alert does not fire. Good: every case passes.
    """

    id = "prometheus/rule-tests"

    @classmethod
    def prepare(cls, project) -> None:
        for test in project.path(RULE_TESTS_DIR).glob("*.yaml"):
            try:
                parse_yaml(test.read_text())
            except (OSError, yaml.YAMLError):
                continue  # run() reports it

    def run(self, ctx: Context) -> list[Finding]:
        if not has_container(ctx.rendered.resources, CONTAINER):
            return []
        rendered = rule_files(prometheus_layout(ctx))
        root = ctx.rendered.model.grafana_root_url
        grafana_urls = {root} if root else ctx.rendered.model.linked_grafana_urls
        url = next(iter(grafana_urls)) if len(grafana_urls) == 1 else None
        tested = {name: _tokenized(path.read_text(), url) for name, path in rendered.items()}
        findings: list[Finding] = []
        jobs: list[tuple[str, dict]] = []  # (test file, its test document)
        known_envs = ctx.project.environments()
        overridden = _overridden(ctx)
        team_tested: set[str] = set()
        tests = [(p, False) for p in sorted(ctx.project.path(RULE_TESTS_DIR).glob("*.yaml"))]
        tests += [(p, True) for team in ctx.teams for p in team.rule_tests]
        for test, is_team in tests:
            rel = ctx.project.rel(test)
            shared, problem = read_mapping(self, ctx, test, shared=True)
            if problem:
                findings.append(problem)
                continue
            # Only the top level is changed below (`cfmon` taken out, `tests` replaced).
            doc = dict(shared)
            meta = doc.pop("cfmon", None) or {}
            envs = meta.get("environments")
            if envs is not None:
                # Judged against values/<env>.yaml (a test table without values/ cannot be).
                unknown = [e for e in envs if e not in known_envs] if isinstance(envs, list) else [envs]
                if (unknown and known_envs) or not envs:
                    findings.append(
                        self.finding(
                            ctx,
                            f"cfmon.environments {envs!r}: "
                            + (
                                f"no environment is named {', '.join(map(str, unknown))}"
                                if unknown
                                else "an empty list"
                            )
                            + " (the file would not run there, or nowhere)",
                            file=rel,
                            line=_line_of(test, "environments"),
                            hint=f"list some of: {', '.join(known_envs)} "
                            "(or drop `environments` to run everywhere)",
                        )
                    )
                    continue
                if ctx.env not in envs:
                    continue
            if is_team:
                team_tested |= _alerts_tested(doc)
            elif overridden:
                replaced = _drop_alert_tests(doc, set(overridden))
                if replaced:
                    where, line = overridden[sorted(replaced)[0]]
                    findings.append(
                        self.finding(
                            ctx,
                            f"tests of {', '.join(sorted(replaced))} at the repository's defaults do not "
                            f"apply: {where} overrides them (the team's own tests replace them)",
                            file=rel,
                            severity="info",
                        )
                    )
                    if not doc.get("tests"):
                        continue
            missing = [f for f in doc.get("rule_files") or [] if f not in rendered]
            # A rule file the chart ships only behind a values switch (the control plane's) is
            # tested wherever the render has it: `cfmon: {whenRendered: true}`.
            if missing and meta.get("whenRendered"):
                continue
            if missing:
                findings.append(
                    self.finding(
                        ctx,
                        f"rule_files {missing} are not rendered in {ctx.env} (rendered: {sorted(rendered)})",
                        file=rel,
                        hint="name rule files by their basename, e.g. applications.yaml",
                    )
                )
                continue
            if not doc.get("tests"):
                findings.append(
                    self.finding(
                        ctx,
                        "no `tests`: the file checks nothing",
                        file=rel,
                        hint="add test groups (input_series, alert_rule_test), or delete the file",
                    )
                )
                continue
            if GRAFANA_URL_TOKEN in json.dumps(doc) and len(grafana_urls) != 1:
                findings.append(self._no_grafana_url(ctx, rel, grafana_urls))
                continue
            broken = [f for f in doc.get("rule_files") or [] if not rules_valid(ctx, rendered[f])[0]]
            if broken:
                # prometheus/rules reports why; running the tests would only repeat it.
                findings.append(
                    self.finding(
                        ctx,
                        f"not run: rule file {', '.join(broken)} is invalid (see prometheus/rules)",
                        file=rel,
                    )
                )
                continue
            jobs.append((rel, doc))
        for alert, (where, line) in sorted(overridden.items()):
            if alert not in team_tested:
                findings.append(
                    self.finding(
                        ctx,
                        f"{alert} is overridden (params, for, severity or enabled) but no team test "
                        "asserts it: the repository's tests of its defaults no longer apply",
                        file=where,
                        line=line,
                        hint="add an alert_rule_test for it in values/teams/<team>/rules/*.yaml "
                        "(firing at the new threshold and `for`, silent below)",
                    )
                )
        findings += self._run(ctx, jobs, tested)
        return findings

    def _run(self, ctx: Context, jobs: list[tuple[str, dict]], tested: dict[str, str]) -> list[Finding]:
        """Every test group of every file on its own, against the rules it needs (cfmon.ruletests);
        a file's failing groups make one finding."""
        groups: list[ruletests.Group] = []
        where: list[tuple[str, int, str | None]] = []  # (test file, group position, group name)
        for rel, doc in jobs:
            for index, group in _split(doc):
                names = tuple(doc.get("rule_files") or [])
                alerts, exprs = _asserted(group)
                texts = tuple(tested[n] for n in names)
                rules, count = _cut(names, texts, frozenset(alerts), tuple(exprs))
                settings = {k: v for k, v in doc.items() if k not in ("rule_files", "tests")}
                test = {**settings, "rule_files": list(names), "tests": group}
                groups.append(ruletests.Group(test, rules, _cost(doc, group, count)))
                name = group[0].get("name") if len(group) == 1 and isinstance(group[0], dict) else None
                where.append((rel, index, name))
        results = ruletests.run(groups, ctx.scratch)
        failed: dict[str, list[str]] = {}
        for (rel, index, name), result in zip(where, results, strict=True):
            if not result.ok:
                label = f"test group {index + 1}" + (f" ({name})" if name else "")
                failed.setdefault(rel, []).append(f"{label}: {result.output}")
        return [
            self.finding(
                ctx,
                "rule unit tests fail: " + "\n    ".join(failed[rel]),
                file=rel,
                hint=f"the rule or the test is wrong: run `cfmon check --env {ctx.env}` after fixing",
            )
            for rel, _ in jobs
            if rel in failed
        ]

    def _no_grafana_url(self, ctx: Context, rel: str, urls: set[str]) -> Finding:
        return self.finding(
            ctx,
            f"not run: the test expects {GRAFANA_URL_TOKEN} links, but this release ships no Grafana "
            f"(whose root_url the token stands for) and its alerts link {len(urls)} Grafana URLs "
            f"({', '.join(sorted(urls)) or 'none'}), not one",
            file=rel,
            hint="enable grafana, or start every alert's dashboard_url with global.grafanaUrl "
            "(an override in prometheus.alerts.<Alert>.annotations.dashboard_url may use ${grafanaUrl})",
        )


@lru_cache(maxsize=8192)
def _cut(
    names: tuple[str, ...], texts: tuple[str, ...], alerts: frozenset[str], exprs: tuple[str, ...]
) -> tuple[dict[str, bytes], int]:
    """The rule files a test group loads, cut to what it asserts (cfmon.ruledeps), and how many
    rules they hold. Many groups assert the same alerts (firing, then silent), and most renders
    render the same rules: they share the cut. Shared: never change what it returns."""
    files = {n: parse_yaml(t) for n, t in zip(names, texts, strict=True)}
    cut = ruledeps.needed(files, alerts, exprs)
    rules = {
        n: ruletests.rules_text(cut[n]) if cut else t.encode() for n, t in zip(names, texts, strict=True)
    }
    return rules, _rule_count(cut or files)


def _overridden(ctx: Context) -> dict[str, tuple[str, int | None]]:
    """Alert -> (overlay, line) for every alert whose behaviour an overlay overrides."""
    found: dict[str, tuple[str, int | None]] = {}
    for vf in ctx.overlays:
        for alert in overridden_alerts(vf):
            found[alert] = (vf.rel, vf.line(("prometheus", "alerts", alert)))
    return found


def _alerts_tested(doc: dict) -> set[str]:
    return {
        str(case.get("alertname"))
        for group in doc.get("tests") or []
        if isinstance(group, dict)
        for case in group.get("alert_rule_test") or []
        if isinstance(case, dict)
    }


def _drop_alert_tests(doc: dict, alerts: set[str]) -> set[str]:
    """Remove the alert_rule_test cases of these alerts (and groups left asserting nothing)."""
    dropped: set[str] = set()
    groups = []
    for group in doc.get("tests") or []:
        if not isinstance(group, dict):
            groups.append(group)
            continue
        cases = group.get("alert_rule_test") or []
        keep = [c for c in cases if not (isinstance(c, dict) and c.get("alertname") in alerts)]
        dropped |= {str(c.get("alertname")) for c in cases if c not in keep}
        if len(keep) != len(cases):
            group = {**group, "alert_rule_test": keep}
            if not keep:
                group.pop("alert_rule_test")
        if group.get("alert_rule_test") or group.get("promql_expr_test"):
            groups.append(group)
    doc["tests"] = groups
    return dropped


def _line_of(path: Path, key: str) -> int | None:
    for number, text in enumerate(path.read_text().splitlines(), 1):
        if text.strip().startswith(f"{key}:"):
            return number
    return None


def _tokenized(text: str, url: str | None) -> str:
    """A rendered rule file as the tests read it: the environment's Grafana URL written back as
    GRAFANA_URL_TOKEN (so staging and prod, which differ only there, share their runs)."""
    return text.replace(url, GRAFANA_URL_TOKEN) if url else text


def _split(doc: dict) -> list[tuple[int, list]]:
    """(position, [group]) for each test group; a `tests` that is not a list of mappings stays
    whole, for promtool to say what is wrong with it."""
    tests = doc.get("tests")
    if isinstance(tests, list) and all(isinstance(g, dict) for g in tests):
        return [(i, [g]) for i, g in enumerate(tests)]
    return [(0, tests)]


def _asserted(groups: list) -> tuple[set[str], list[str]]:
    """The alert names and expressions a test group's assertions look at."""
    alerts: set[str] = set()
    exprs: list[str] = []
    for group in groups if isinstance(groups, list) else []:
        if not isinstance(group, dict):
            continue
        for case in group.get("alert_rule_test") or []:
            if isinstance(case, dict):
                alerts.add(str(case.get("alertname")))
        for case in group.get("promql_expr_test") or []:
            if isinstance(case, dict):
                exprs.append(str(case.get("expr")))
    return alerts, exprs


def _rule_count(files: dict[str, dict]) -> int:
    return sum(len(g.get("rules") or []) for f in files.values() for g in (f or {}).get("groups") or [])


def _cost(doc: dict, groups: list, rules: int) -> float:
    """About how much promtool evaluates: steps to the last eval_time, times the rules loaded."""
    cases = [
        case
        for group in (groups if isinstance(groups, list) else [])
        if isinstance(group, dict)
        for kind in ("alert_rule_test", "promql_expr_test")
        for case in group.get(kind) or []
        if isinstance(case, dict)
    ]
    last = max((_seconds(case.get("eval_time"), 0.0) for case in cases), default=0.0)
    step = _seconds(doc.get("evaluation_interval"), 60.0) or 60.0
    return (last / step + 1) * (rules + 1)


def _seconds(text: object, default: float) -> float:
    try:
        return parse_seconds(text) if text is not None else default
    except DurationError:
        return default

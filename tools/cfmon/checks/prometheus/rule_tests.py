"""`prometheus/rule-tests`: `promtool test rules` for every tests/rules/*.yaml against the rules as
rendered for the environment.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from cfmon import binaries, cache
from cfmon.checks.base import Check, Context, Finding, read_mapping
from cfmon.checks.prometheus.common import prometheus_layout, rules_valid, tool_output
from cfmon.mounts import has_container
from cfmon.project import RULE_TESTS_DIR
from cfmon.rendered.prometheus import (
    CONTAINER,
    GRAFANA_URL_TOKEN,
    rule_files,
)
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

    def run(self, ctx: Context) -> list[Finding]:
        if not has_container(ctx.rendered.resources, CONTAINER):
            return []
        rendered = rule_files(prometheus_layout(ctx))
        root = ctx.rendered.model.grafana_root_url
        grafana_urls = {root} if root else ctx.rendered.model.linked_grafana_urls
        tested = dict(rendered)  # the files promtool loads (the Grafana URL put back as the token)
        if len(grafana_urls) == 1:
            tested = _with_token(ctx, rendered, next(iter(grafana_urls)))
        findings: list[Finding] = []
        jobs: list[tuple[str, str, dict]] = []  # (test file, cache key, promtool input)
        known_envs = ctx.project.environments()
        overridden = _overridden(ctx)
        team_tested: set[str] = set()
        tests = [(p, False) for p in sorted(ctx.project.path(RULE_TESTS_DIR).glob("*.yaml"))]
        tests += [(p, True) for team in ctx.teams for p in team.rule_tests]
        for test, is_team in tests:
            rel = ctx.project.rel(test)
            doc, problem = read_mapping(self, ctx, test)
            if problem:
                findings.append(problem)
                continue
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
            # Environments that render the same rules share one promtool run (dev usually differs
            # in one file only), so the key is the test plus the content of the rules it loads.
            # Only the Grafana host differs between staging and prod rules: it is the token in
            # what promtool loads (alerts/dashboard-url checks the host), so they share the run.
            key = hashlib.sha256(
                json.dumps(doc, sort_keys=True, default=str).encode()
                + b"".join(tested[f].read_bytes() for f in doc.get("rule_files") or [])
            ).hexdigest()
            doc["rule_files"] = [str(tested[f]) for f in doc.get("rule_files") or []]
            jobs.append((rel, key, doc))
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
        todo = {key: doc for _, key, doc in jobs if key not in _TEST_RESULTS}
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            results = pool.map(lambda item: _promtool_test(ctx, *item), todo.items())
            _TEST_RESULTS.update(zip(todo, results, strict=True))
        for rel, key, _ in jobs:
            ok, output = _TEST_RESULTS[key]
            if not ok:
                findings.append(
                    self.finding(
                        ctx,
                        f"rule unit tests fail: {output}",
                        file=rel,
                        hint=f"the rule or the test is wrong: run `cfmon check --env {ctx.env}` after fixing",
                    )
                )
        return findings

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


def _with_token(ctx: Context, rendered: dict[str, Path], url: str) -> dict[str, Path]:
    """Copies of the rendered rule files with the environment's Grafana URL written back as
    GRAFANA_URL_TOKEN (in a scratch directory), by basename."""
    # A fixed name (not mkdtemp): the path is part of what promtool reads, so of the cache key.
    out = ctx.scratch / "rules-token"
    out.mkdir(exist_ok=True)
    copies = {}
    for name, path in rendered.items():
        copies[name] = out / name
        copies[name].write_text(path.read_text().replace(url, GRAFANA_URL_TOKEN))
    return copies


# (test + rendered rules) digest -> (passed, promtool's output), for the life of the process.
_TEST_RESULTS: dict[str, tuple[bool, str]] = {}


def _promtool_test(ctx: Context, digest: str, doc: dict) -> tuple[bool, str]:
    # Named by the job's digest, not a random temporary name: the path is part of the cache key.
    test = ctx.scratch / f"rule-test-{digest[:16]}.yaml"
    test.write_text(yaml.dump(doc, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False))
    rules = [Path(f) for f in doc.get("rule_files") or []]
    key = cache.Key("promtool", scrub=ctx.scratch).add_files([test, *rules])
    proc = binaries.run_cached("promtool", ["test", "rules", str(test)], key)
    return proc.returncode == 0, tool_output(proc, prometheus_layout(ctx))

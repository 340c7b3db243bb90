"""Prometheus: the rendered config, rule files and rule unit tests, through the real promtool."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from cfmon import cache, tools
from cfmon.checks.base import Check, Context, Finding, read_mapping
from cfmon.layout import Layout, has_container, materialize
from cfmon.manifests import Resource
from cfmon.project import RULE_TESTS_DIR

CONTAINER = "prometheus"
# The rule ConfigMaps say which Grafana their dashboard_url links start with (global.grafanaUrl);
# rule tests write that part as GRAFANA_URL_TOKEN, the same for every environment.
GRAFANA_URL_ANNOTATION = "creativeflow.ai/grafana-url"
GRAFANA_URL_TOKEN = "${grafanaUrl}"


def prometheus_layout(ctx: Context) -> Layout:
    """The Prometheus pod's files in a temporary root (built once per environment)."""
    if "prometheus" not in ctx.cache:
        assert ctx.scratch is not None
        ctx.cache["prometheus"] = materialize(ctx.rendered.resources, CONTAINER, ctx.scratch / "prometheus")
    return ctx.cache["prometheus"]


def rule_files(layout: Layout) -> dict[str, Path]:
    """basename -> re-rooted path of every file the config's rule_files globs match."""
    config = yaml.safe_load(layout.config.read_text()) or {}
    found: dict[str, Path] = {}
    for pattern in config.get("rule_files") or []:
        for path in sorted(Path("/").glob(pattern.lstrip("/"))):
            found[path.name] = path
    return found


def rendered_grafana_urls(resources: Iterable[Resource]) -> set[str]:
    """The Grafana URLs the rendered Prometheus rule ConfigMaps declare (one, when all is well)."""
    urls = set()
    for res in resources:
        meta = res.obj.get("metadata") or {}
        if (
            res.kind != "ConfigMap"
            or (meta.get("labels") or {}).get("app.kubernetes.io/name") != "prometheus"
        ):
            continue
        url = (meta.get("annotations") or {}).get(GRAFANA_URL_ANNOTATION)
        if url is not None:
            urls.add(str(url))
    return urls


def rules_source(name: str) -> str:
    """Rule file `applications.yaml` comes from the mixin jsonnet/mixins/applications/."""
    return f"jsonnet/mixins/{Path(name).stem}/mixin.libsonnet"


def _tool_output(proc, layout: Layout) -> str:
    """promtool's verdict without the noise: paths as mounted, no banners, no repeats."""
    text = (proc.stdout + proc.stderr).replace(str(layout.root), "")
    lines: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("Unit Testing:", "Checking ")) or line in lines:
            continue
        lines.append(line)
    return "\n    ".join(lines)


def rules_valid(ctx: Context, path: Path) -> tuple[bool, str]:
    """`promtool check rules` on one rendered file, once per environment."""
    memo = f"rules-valid:{path}"
    if memo not in ctx.cache:
        key = cache.Key("promtool", scrub=ctx.scratch).add_files([path])
        proc = tools.run_cached("promtool", ["check", "rules", str(path)], key)
        ctx.cache[memo] = (proc.returncode == 0, _tool_output(proc, prometheus_layout(ctx)))
    return ctx.cache[memo]


class PrometheusConfig(Check):
    """`promtool check config` on prometheus.yml and its scrape_config_files, laid out as mounted.

    Why: a config Prometheus rejects means it keeps running the old one (or never starts).
    Bad: a scrape job with an unknown field. Good: a config promtool accepts.
    Rule files are checked by prometheus/rules (so one broken rule is reported once).
    """

    id = "prometheus/config"

    def run(self, ctx: Context) -> list[Finding]:
        if not has_container(ctx.rendered.resources, CONTAINER):
            return []
        layout = prometheus_layout(ctx)
        config = yaml.safe_load(layout.config.read_text()) or {}
        config.pop("rule_files", None)
        probe = layout.config.with_name("cfmon-config-check.yml")
        probe.write_text(yaml.safe_dump(config, sort_keys=False))
        # promtool also reads the files the config names (scrape configs, credentials): all of the pod's.
        key = cache.Key("promtool", scrub=ctx.scratch).add_tree(layout.root)
        proc = tools.run_cached("promtool", ["check", "config", str(probe)], key)
        if proc.returncode == 0:
            return []
        cm = layout.files.get(str(layout.config))
        return [
            self.finding(
                ctx,
                f"promtool rejects prometheus.yml: {_tool_output(proc, layout)}",
                file=cm.source if cm else None,
                hint="fix the scrape/config template or the values it reads",
            )
        ]


class PrometheusRules(Check):
    """`promtool check rules` on every rule file as rendered (overrides applied).

    Why: Prometheus refuses a whole rule file when one expression is invalid.
    Bad: `expr: rate(x[5m]` (unbalanced). Good: a file promtool accepts with no lint findings.
    """

    id = "prometheus/rules"

    def run(self, ctx: Context) -> list[Finding]:
        if not has_container(ctx.rendered.resources, CONTAINER):
            return []
        findings = []
        for name, path in rule_files(prometheus_layout(ctx)).items():
            ok, output = rules_valid(ctx, path)
            if not ok:
                findings.append(
                    self.finding(
                        ctx,
                        f"promtool rejects rule file {name}: {output}",
                        file=rules_source(name),
                        hint="fix the Jsonnet expression (or its values override), then cfmon generate",
                    )
                )
        return findings


class PrometheusRuleTests(Check):
    """`promtool test rules` for every tests/rules/*.yaml against the rules as rendered for the env.

    Why: a rule that parses can still never fire, or fire on healthy data.
    A test file lists `rule_files` by basename (the CLI substitutes the rendered file) and may
    carry `cfmon: {environments: [..]}` to run only where its thresholds apply, and
    `cfmon: {whenRendered: true}` to run only where its rule files are rendered (a file the chart
    ships behind a values switch). `${grafanaUrl}` in a test (the start of an expected
    dashboard_url) stands for the environment's Grafana URL, as the rendered rule ConfigMaps
    declare it (annotation creativeflow.ai/grafana-url).
    Bad: a test whose expected alert does not fire. Good: every case passes.
    """

    id = "prometheus/rule-tests"

    def run(self, ctx: Context) -> list[Finding]:
        if not has_container(ctx.rendered.resources, CONTAINER):
            return []
        rendered = rule_files(prometheus_layout(ctx))
        grafana_urls = rendered_grafana_urls(ctx.rendered.resources)
        tested = dict(rendered)  # the files promtool loads (the Grafana URL put back as the token)
        if len(grafana_urls) == 1:
            tested = _with_token(ctx, rendered, next(iter(grafana_urls)))
        findings: list[Finding] = []
        jobs: list[tuple[str, str, dict]] = []  # (test file, cache key, promtool input)
        for test in sorted(ctx.project.path(RULE_TESTS_DIR).glob("*.yaml")):
            rel = ctx.project.rel(test)
            doc, problem = read_mapping(self, ctx, test)
            if problem:
                findings.append(problem)
                continue
            meta = doc.pop("cfmon", None) or {}
            envs = meta.get("environments")
            if envs is not None and ctx.env not in envs:
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
                yaml.safe_dump(doc, sort_keys=True).encode()
                + b"".join(tested[f].read_bytes() for f in doc.get("rule_files") or [])
            ).hexdigest()
            doc["rule_files"] = [str(tested[f]) for f in doc.get("rule_files") or []]
            jobs.append((rel, key, doc))
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
            f"not run: the test expects {GRAFANA_URL_TOKEN} links, but the rendered rule ConfigMaps "
            f"declare {len(urls)} Grafana URLs in {GRAFANA_URL_ANNOTATION} "
            f"({', '.join(sorted(urls)) or 'none'}), not one",
            file=rel,
            hint="the prometheus subchart's rules-configmap.yaml sets it from global.grafanaUrl",
        )


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
    test.write_text(yaml.safe_dump(doc, sort_keys=False))
    rules = [Path(f) for f in doc.get("rule_files") or []]
    key = cache.Key("promtool", scrub=ctx.scratch).add_files([test, *rules])
    proc = tools.run_cached("promtool", ["test", "rules", str(test)], key)
    return proc.returncode == 0, _tool_output(proc, prometheus_layout(ctx))

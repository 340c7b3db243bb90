"""Prometheus: the rendered config, rule files and rule unit tests, through the real promtool."""

from __future__ import annotations

import hashlib
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from cfmon import tools
from cfmon.checks.base import Check, Context, Finding, read_mapping
from cfmon.layout import Layout, has_container, materialize
from cfmon.project import RULE_TESTS_DIR

CONTAINER = "prometheus"


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
    key = f"rules-valid:{path}"
    if key not in ctx.cache:
        proc = tools.run("promtool", ["check", "rules", str(path)])
        ctx.cache[key] = (proc.returncode == 0, _tool_output(proc, prometheus_layout(ctx)))
    return ctx.cache[key]


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
        proc = tools.run("promtool", ["check", "config", str(probe)])
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
    carry `cfmon: {environments: [..]}` to run only where its thresholds apply.
    Bad: a test whose expected alert does not fire. Good: every case passes.
    """

    id = "prometheus/rule-tests"

    def run(self, ctx: Context) -> list[Finding]:
        if not has_container(ctx.rendered.resources, CONTAINER):
            return []
        rendered = rule_files(prometheus_layout(ctx))
        findings: list[Finding] = []
        jobs: list[tuple[str, str, dict]] = []  # (test file, cache key, promtool input)
        for test in sorted(ctx.project.path(RULE_TESTS_DIR).glob("*.yaml")):
            rel = ctx.project.rel(test)
            doc, problem = read_mapping(self, ctx, test)
            if problem:
                findings.append(problem)
                continue
            envs = (doc.pop("cfmon", None) or {}).get("environments")
            if envs is not None and ctx.env not in envs:
                continue
            missing = [f for f in doc.get("rule_files") or [] if f not in rendered]
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
            key = hashlib.sha256(
                yaml.safe_dump(doc, sort_keys=True).encode()
                + b"".join(rendered[f].read_bytes() for f in doc.get("rule_files") or [])
            ).hexdigest()
            doc["rule_files"] = [str(rendered[f]) for f in doc.get("rule_files") or []]
            jobs.append((rel, key, doc))
        todo = {key: doc for _, key, doc in jobs if key not in _TEST_RESULTS}
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            results = pool.map(lambda d: _promtool_test(ctx, d), todo.values())
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


# (test + rendered rules) digest -> (passed, promtool's output), for the life of the process.
_TEST_RESULTS: dict[str, tuple[bool, str]] = {}


def _promtool_test(ctx: Context, doc: dict) -> tuple[bool, str]:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", dir=ctx.scratch, delete=False) as fh:
        yaml.safe_dump(doc, fh, sort_keys=False)
    proc = tools.run("promtool", ["test", "rules", fh.name])
    return proc.returncode == 0, _tool_output(proc, prometheus_layout(ctx))

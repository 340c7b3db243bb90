"""`prometheus/config`: `promtool check config` on prometheus.yml and its scrape_config_files, laid
out as mounted.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

import re

import yaml

from cfmon import binaries, cache
from cfmon.checks.base import Check, Context, Finding
from cfmon.checks.prometheus.common import prometheus_layout, tool_output
from cfmon.mounts import has_container
from cfmon.rendered.prometheus import CONTAINER


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
        proc = binaries.run_cached("promtool", ["check", "config", str(probe)], key)
        if proc.returncode == 0:
            return []
        output = tool_output(proc, layout)
        team = _team_job(ctx, output)
        if team:
            file, line, job = team
            return [
                self.finding(
                    ctx,
                    f"promtool rejects team scrape job {job!r}: {output}",
                    file=file,
                    line=line,
                    hint=f"fix prometheus.scrapeConfigs.extraJobs.{job} (a Prometheus scrape_config)",
                )
            ]
        cm = layout.files.get(str(layout.config))
        return [
            self.finding(
                ctx,
                f"promtool rejects prometheus.yml: {output}",
                file=cm.source if cm else None,
                hint="fix the scrape/config template or the values it reads",
            )
        ]


def _team_job(ctx: Context, output: str) -> tuple[str, int | None, str] | None:
    """(values file, line, job) when promtool's complaint is about a team scrape job (the jobs of
    prometheus.scrapeConfigs.extraJobs land in extra_targets.yml): the job it names, else the
    values file's first job."""
    if "extra_targets.yml" not in output:
        return None
    keypath = ("prometheus", "scrapeConfigs", "extraJobs")
    for vf in reversed(ctx.rendered.loaded):
        jobs = vf.get(keypath)
        if not isinstance(jobs, dict) or not jobs:
            continue
        named = [j for j in jobs if f'"{j}"' in output or f"'{j}'" in output or f" {j}:" in output]
        job = str((named or list(jobs))[0])
        # "field scrape_intervall not found in type config.ScrapeConfig": the line of that field.
        field = re.search(r"field (\w+) not found", output)
        if field and isinstance(jobs.get(job), dict) and field.group(1) in jobs[job]:
            return vf.rel, vf.line((*keypath, job, field.group(1))), job
        return vf.rel, vf.line((*keypath, job)), job
    return None

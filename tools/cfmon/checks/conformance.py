"""Selector conformance: every selector of every rule and dashboard query finds series in what the
exporter its job scrapes really exposes (a recorded or written sample, or a live Prometheus)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path

import yaml

from cfmon import promql
from cfmon.catalog import CONTRACT_SAMPLE, contract
from cfmon.checks.base import Check, Context, Finding
from cfmon.checks.dashboards import queries, valid_dashboards
from cfmon.conformance import selectors as sel
from cfmon.conformance import series as ser
from cfmon.errors import UserError
from cfmon.rendered import grafana
from cfmon.rendered.rules import rules_source
from cfmon.serialize import parse_yaml

# Series Prometheus makes itself from the rules: never scraped, nothing to conform to.
SYNTHETIC = {"ALERTS", "ALERTS_FOR_STATE"}


@dataclass(frozen=True)
class Result:
    """A selector that reads nothing, and why."""

    reader: sel.Reader
    selector: sel.Selector | sel.Drop  # a selector reading nothing, or an aggregation losing labels
    exporter: str  # the exporter (or `-` when the job is not known)
    source: str  # the sample file, the contract, or the live Prometheus
    problem: sel.Problem
    affected: tuple[str, ...] = ()  # for a recording rule: the alerts and panels that read it

    def as_dict(self) -> dict:
        s = self.selector
        return {
            "reader": f"{self.reader.kind} {self.reader.name}",
            "selector": s.text if isinstance(s, sel.Selector) else s.aggregation,
            "labels": sorted(s.labels),
            "via": list(s.via),
            "exporter": self.exporter,
            "source": self.source,
            "problem": self.problem.kind,
            "detail": self.problem.detail,
            "affected": list(self.affected),
        }


# ---- the readers ------------------------------------------------------------------------------------


def _rules(ctx: Context) -> list[tuple[str, str, dict]]:
    return ctx.rendered.model.rules


def readers(ctx: Context) -> list[sel.Reader]:
    """Every rule and every PromQL dashboard query of the render, with its selectors (expressions
    that do not parse are skipped: prometheus/rules and dashboards/promql report them)."""
    if "conformance:readers" in ctx.cache:
        return ctx.cache["conformance:readers"]
    rules = _rules(ctx)
    extractor = sel.Extractor(sel.records(rules))
    out: list[sel.Reader] = list(sel.rule_readers(rules, partial(rules_source, ctx.project.root)))
    label_of = {
        (d.uid, str(v.get("name"))): sel.label_values_label(grafana.variable_query(v))
        for d in valid_dashboards(ctx)
        for v in grafana.variables(d.model)
        if v.get("type") == "query"
    }
    for q in queries(ctx):
        if q.language != "prometheus":
            continue
        extra: frozenset[str] = frozenset()
        kind = "panel"
        if q.where.startswith("variable"):
            kind = "variable"
            label = label_of.get((q.dashboard.uid, q.needle))
            extra = frozenset({label}) if label else frozenset()
        name = f"dashboard {q.dashboard.uid} {q.where}"
        out.append(sel.Reader(kind, name, None, q.text, extra, dashboard=q.dashboard, needle=q.needle))
    memo = _extracted(extractor.records)
    for reader in out:
        asked = (reader.expr, reader.extra_labels)
        if asked not in memo:
            try:
                memo[asked] = (extractor.selectors(*asked), list(dict.fromkeys(extractor.drops)))
            except promql.PromqlError:
                memo[asked] = None
        if memo[asked] is None:
            continue
        found, drops = memo[asked]
        reader.drops.extend(drops)
        seen = set()
        for s in found:
            if s.metric in SYNTHETIC or (s.metric, s.matchers, s.labels, s.via) in seen:
                continue
            seen.add((s.metric, s.matchers, s.labels, s.via))
            reader.selectors.append(s)
    ctx.cache["conformance:readers"] = out
    return out


def _extracted(records: dict[str, list[dict]]) -> dict:
    """{(expr, extra labels): (selectors, drops) or None} already found under these records (by
    their expressions and label names): every render of an environment, and most of every
    environment, records the same rules and has the same panels and alerts."""
    return _found_under(
        tuple(
            (name, tuple((str(r.get("expr", "")), tuple(sorted(r.get("labels") or {}))) for r in rules))
            for name, rules in sorted(records.items())
        )
    )


@lru_cache(maxsize=16)
def _found_under(records: tuple) -> dict:
    return {}


# ---- where a selector's series come from ---------------------------------------------------------


def scrape_jobs(ctx: Context) -> dict[str, ser.Job]:
    """job name -> the rendered scrape job (prometheus.yml and its scrape config files)."""
    jobs: dict[str, ser.Job] = {}
    for res in ctx.objects("ConfigMap"):
        labels = (res.obj.get("metadata") or {}).get("labels") or {}
        if labels.get("app.kubernetes.io/name") != "prometheus":
            continue
        for key, payload in sorted((res.obj.get("data") or {}).items()):
            if not key.endswith((".yml", ".yaml")) or "scrape_configs:" not in payload:
                continue  # rule files and the rest: only scrape configs are read here
            try:
                doc = parse_yaml(payload)
            except yaml.YAMLError:
                continue
            if not isinstance(doc, dict):
                continue
            for cfg in doc.get("scrape_configs") or []:
                if isinstance(cfg, dict) and cfg.get("job_name"):
                    jobs[str(cfg["job_name"])] = ser.Job.from_config(cfg)
    return jobs


@lru_cache(maxsize=4)
def _contract(root: Path) -> tuple:
    return tuple(ser.contract_series(contract(root)))


class SampleSource:
    """Series from the samples, as each rendered scrape job stores them."""

    def __init__(self, root: Path, jobs: dict[str, ser.Job]) -> None:
        self.root = root
        self.jobs = jobs
        self.table = ser.load_table(root)
        self.by_job = {job: e for e in self.table for job in e.jobs}
        self._raw: dict[str, tuple[str, list[ser.Series]] | sel.Problem] = {}
        self._stored: dict[tuple[str, str], list[ser.Series]] = {}

    def raw(self, exporter: ser.Exporter) -> tuple[str, list[ser.Series]] | sel.Problem:
        """(sample files, their series), or why there is none; a malformed sample raises SampleError."""
        if exporter.name not in self._raw:
            if not exporter.samples:
                found = (CONTRACT_SAMPLE.as_posix(), list(_contract(self.root.resolve())))
            else:
                paths = [p for p in (ser.sample_file(self.root, stem) for stem in exporter.samples) if p]
                if paths:
                    extra = (ser.sample_file(self.root, stem) for stem in exporter.supplements)
                    paths += [p for p in extra if p]
                rels = [p.relative_to(self.root).as_posix() for p in paths]
                found = (
                    ", ".join(rels),
                    [s for path, rel in zip(paths, rels, strict=True) for s in ser.read_sample(path, rel)],
                )
                if not paths:
                    wanted = " or ".join(f"{ser.SAMPLES}/{stem}-<version>.prom" for stem in exporter.samples)
                    found = sel.Problem("no-sample", f"no sample {wanted}")
            self._raw[exporter.name] = found
        return self._raw[exporter.name]

    def exporter_for(self, metric: str | None) -> ser.Exporter | None:
        if not metric:
            return None
        best = max(
            ((p, e) for e in self.table for p in e.prefixes if metric.startswith(p)),
            key=lambda pe: len(pe[0]),
            default=None,
        )
        return best[1] if best else None

    def lookup(self, selector: sel.Selector) -> tuple[str, str, list[ser.Series] | sel.Problem | None]:
        """(exporter, source, its series | why there are none | None when the exporter is not
        scraped in this environment: a disabled job reads nothing by design)."""
        job_matchers = [m for m in selector.matchers if m.name == "job" and not m.variable]
        if job_matchers:
            jobs = [j for j in self.jobs if all(ser.matches(j, m.op, m.value) for m in job_matchers)]
            known = [j for j in self.by_job if all(ser.matches(j, m.op, m.value) for m in job_matchers)]
            if not jobs and known:
                return self.by_job[known[0]].name, "prometheus.yml", None  # not scraped in this environment
            if not jobs:
                text = ", ".join(str(m) for m in job_matchers)
                return (
                    "-",
                    "prometheus.yml",
                    sel.Problem(
                        "job-not-scraped",
                        f"no scrape job of this environment has {text} (jobs: {', '.join(self.jobs)})",
                    ),
                )
        else:
            exporter = self.exporter_for(selector.metric)
            if exporter is not None:
                jobs = [j for j in exporter.jobs if j in self.jobs]
                if not jobs:
                    return exporter.name, "prometheus.yml", None  # not scraped in this environment
            else:
                jobs = [j for j in self.jobs if j in self.by_job]
        exporters, sources, found = [], [], []
        unmapped = [j for j in jobs if j not in self.by_job]
        if (
            unmapped
            and job_matchers
            and len(unmapped) == len(jobs)
            and selector.metric not in ser.SCRAPE_SERIES
        ):
            return (
                "-",
                ser.TABLE,
                sel.Problem("no-sample", f"job {', '.join(unmapped)} has no exporter in {ser.TABLE}"),
            )
        for job in jobs:
            exporter = self.by_job.get(job)
            if exporter is None:
                if selector.metric in ser.SCRAPE_SERIES:
                    found += self.jobs[job].store([])
                continue
            raw = self.raw(exporter)
            if isinstance(raw, sel.Problem) and selector.metric in ser.SCRAPE_SERIES:
                raw = ("prometheus.yml", [])  # Prometheus makes these itself, sample or not
            if isinstance(raw, sel.Problem):
                if job_matchers or self.exporter_for(selector.metric) is exporter:
                    return exporter.name, "-", raw
                continue
            if exporter.name not in exporters:
                exporters.append(exporter.name)
                sources.append(raw[0])
            key = (exporter.name, job)
            if key not in self._stored:
                self._stored[key] = self.jobs[job].store(raw[1])
            found += self._stored[key]
        if not job_matchers and self.exporter_for(selector.metric) is None:
            # A name no exporter claims (go_*, process_*): the samples that have it.
            have = {s.get("job") for s in found if s.get("__name__") == selector.metric}
            if have:
                found = [s for s in found if s.get("job") in have]
                exporters = [self.by_job[j].name for j in sorted(have) if j in self.by_job] or exporters
        names = list(dict.fromkeys(exporters))
        name = "+".join(names) if len(names) <= 2 else "(every job)"
        return name or "-", ", ".join(dict.fromkeys(sources)) or "-", found


class LiveSource:
    """Series from a running Prometheus (what it stores is the truth: no relabelling to model).
    Exporters are named from the table (job, then prefix) for the report only."""

    def __init__(
        self, prometheus: ser.LivePrometheus, table: list[ser.Exporter], jobs: dict[str, ser.Job]
    ) -> None:
        self.prometheus = prometheus
        self.jobs = jobs
        self.table = table
        self.by_job = {job: e.name for e in table for job in e.jobs}
        self.prefixes = sorted(((p, e.name) for e in table for p in e.prefixes), key=lambda pe: -len(pe[0]))

    def _disabled(self, selector: sel.Selector) -> bool:
        """The render scrapes no job of the selector's exporter: it reads nothing by design."""
        job_matchers = [m for m in selector.matchers if m.name == "job" and not m.variable]
        if job_matchers:

            def hit(job: str) -> bool:
                return all(ser.matches(job, m.op, m.value) for m in job_matchers)

            return not any(hit(j) for j in self.jobs) and any(hit(j) for j in self.by_job)
        metric = selector.metric or ""
        exporter = next((e for p, e in self.prefixes if metric.startswith(p)), None)
        jobs = next((e.jobs for e in self.table if e.name == exporter), ())
        return exporter is not None and not any(j in self.jobs for j in jobs)

    def _name(self, selector: sel.Selector, found: list[ser.Series]) -> str:
        jobs = sorted({s.get("job", "") for s in found} - {""})
        jobs += [m.value for m in selector.matchers if m.name == "job" and m.op == "=" and not m.variable]
        named = [self.by_job[j] for j in jobs if j in self.by_job]
        if named:
            return "+".join(dict.fromkeys(named))
        metric = selector.metric or ""
        return next((name for p, name in self.prefixes if metric.startswith(p)), ",".join(jobs) or "-")

    def lookup(self, selector: sel.Selector) -> tuple[str, str, list[ser.Series] | sel.Problem | None]:
        fixed = [m for m in selector.matchers if not m.variable]
        parts = [f"{m.name}{m.op}{json.dumps(m.value)}" for m in fixed]
        if selector.metric:
            parts.insert(0, f"__name__={json.dumps(selector.metric)}")
        if not selector.metric and not any(m.op == "=" and m.value for m in fixed):
            return "-", self.prometheus.url, None  # Prometheus refuses a selector that matches everything
        if self._disabled(selector):
            return self._name(selector, []), self.prometheus.url, None
        found = self.prometheus.series("{" + ", ".join(parts) + "}")
        if not found and selector.metric and fixed:  # say whether the name or a matcher reads nothing
            found = self.prometheus.series("{" + f"__name__={json.dumps(selector.metric)}" + "}")
        return self._name(selector, found), self.prometheus.url, found


def results(ctx: Context, source) -> list[Result]:
    """Every selector that reads nothing from `source`, records' own selectors reported once: by
    the record (an alert or panel reading the record is reported only for the labels it adds)."""
    out: list[Result] = []
    own: set[tuple[str, str, str]] = set()
    ordered = sorted(readers(ctx), key=lambda r: r.kind != "record")
    # Most selectors are read by several rules and panels: judged once each.
    judged: dict[sel.Selector, tuple[str, str, sel.Problem | None]] = {}
    for reader in ordered:
        for s in reader.selectors:
            if s not in judged:
                exporter, origin, series = source.lookup(s)
                if series is None:  # its exporter is not scraped in this environment (a disabled job)
                    judged[s] = (exporter, origin, None)
                else:
                    problem = series if isinstance(series, sel.Problem) else sel.check(s, series)
                    judged[s] = (exporter, origin, problem)
            exporter, origin, problem = judged[s]
            if problem is None:
                continue
            key = (s.text, problem.kind, problem.detail)
            if reader.kind == "record":
                own.add(key)
            if s.via and (problem.kind != "label-absent" or key in own):
                continue  # the record reading it reports it
            out.append(Result(reader, s, exporter, origin, problem))
    for reader in ordered:
        for drop in reader.drops:
            key = (drop.aggregation, "label-dropped", ",".join(sorted(drop.labels)))
            if reader.kind == "record":
                own.add(key)
            elif drop.via and key in own:
                continue
            inside = f" (in {drop.via[-1]})" if drop.via else ""
            detail = (
                f"`{drop.aggregation}`{inside} drops {', '.join(sorted(drop.labels))}, asked for above it"
            )
            out.append(Result(reader, drop, "-", "the expression", sel.Problem("label-dropped", detail)))
    # A record that reads nothing starves the alerts and panels that read it: name them.
    readers_of: dict[str, set[str]] = {}
    for reader in ordered:
        if reader.kind != "record":
            for s in reader.selectors:
                for record in s.via:
                    readers_of.setdefault(record, set()).add(_name(reader))
    return [
        dataclasses.replace(r, affected=tuple(sorted(readers_of.get(r.reader.name, ()))))
        if r.reader.kind == "record"
        else r
        for r in out
    ]


def _name(reader: sel.Reader) -> str:
    return f"{reader.kind} {reader.name}" if reader.kind in ("alert", "record") else reader.name


HINTS = {
    "metric-absent": "read a metric the exporter exposes (see the sample), or fix the sample table if "
    "the wrong exporter's sample was used",
    "matcher-unmatched": "change the matcher to values the exporter produces (see the sample)",
    "label-absent": "group/match on a label the exporter's series carry, or make it with label_replace",
    "job-not-scraped": "select the job name the scrape config uses, or enable the scrape job",
    "label-dropped": "keep the label in the aggregation's `by (...)` (or group by labels it keeps)",
    "no-sample": f"record the sample (`cfmon conformance record`) or map the job in {ser.TABLE}",
}


def _where(result: Result) -> str:
    r, s = result.reader, result.selector
    what = _name(r)
    if isinstance(s, sel.Drop):
        return f"[{result.exporter}] {what} needs {', '.join(sorted(s.labels))}"
    via = f" (through {' -> '.join(s.via)})" if s.via else ""
    return f"[{result.exporter}] {what} reads {s.describe().split(' via ')[0]}{via}"


def _affected(result: Result, shown: int = 4) -> str:
    if not result.affected:
        return ""
    names = ", ".join(result.affected[:shown])
    more = f" and {len(result.affected) - shown} more" if len(result.affected) > shown else ""
    return f"; the record is read by {names}{more}"


class SelectorConformance(Check):
    """Every selector of every rule and dashboard query matches series in the sample of the exporter
    its job scrapes: the metric name, every label matcher, and the labels that `by`, `without`,
    `on` and `group_left`/`group_right` above it need (recorded series resolved to their rules).

    Why: a rule reading a metric or a label value the exporter does not produce never fires and
    never errors; a panel on it shows "No data" that looks like a quiet system. Samples are what
    the real exporters expose (tests/conformance/samples, mapped to jobs in
    tests/conformance/exporters.yaml); the services' own metrics come from the metrics contract.
    Bad: `rabbitmq_up` read from RabbitMQ's built-in plugin, `sum by (queue) (...)` over a series
    without `queue`, `state="idle"` where the exporter says `state="idle in transaction"` only.
    Good: names, labels and values as the sample shows them.
    """

    id = "conformance/selectors"

    @classmethod
    def prepare(cls, project) -> None:
        try:
            source = SampleSource(project.root, {})
            for exporter in source.table:
                source.raw(exporter)
        except UserError:
            pass  # run() reports it

    def run(self, ctx: Context) -> list[Finding]:
        if not _rules(ctx) and not valid_dashboards(ctx):
            return []
        try:
            source = SampleSource(ctx.project.root, scrape_jobs(ctx))
            found = results(ctx, source)
        except UserError as exc:
            return [self.finding(ctx, exc.message, file=exc.file, line=exc.line, hint=exc.hint)]
        out = []
        for r in found:
            file, line = r.reader.locate(ctx.project.root)
            out.append(
                self.finding(
                    ctx,
                    f"{_where(r)}: {r.problem.kind}: {r.problem.detail} (in {r.source})" + _affected(r),
                    file=file,
                    line=line,
                    hint=HINTS.get(r.problem.kind),
                )
            )
        return out


@dataclass
class Usage:
    """What the rules and dashboards read from one exporter, and what of it the series have."""

    selectors: int = 0
    reading_nothing: int = 0
    # metric -> [labels asked (grouping, matching and matched labels), labels no series of it
    # has, whether any series has the metric]
    metrics: dict[str, list] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "selectors": self.selectors,
            "reading_nothing": self.reading_nothing,
            "metrics": {
                m: {"labels": sorted(asked), "found": seen, "missing_labels": sorted(missing) if seen else []}
                for m, (asked, missing, seen) in sorted(self.metrics.items())
            },
        }


def summary(ctx: Context, source) -> dict[str, Usage]:
    """exporter -> its Usage (exporters not scraped in this environment left out)."""
    usage: dict[str, Usage] = {}
    for reader in readers(ctx):
        for s in reader.selectors:
            exporter, _, series = source.lookup(s)
            if series is None:
                continue
            u = usage.setdefault(exporter, Usage())
            u.selectors += 1
            u.reading_nothing += isinstance(series, sel.Problem) or sel.check(s, series) is not None
            if not s.metric:
                continue
            asked = set(s.labels) | {m.name for m in s.matchers if m.name != "__name__"}
            have = [x for x in series if x.get("__name__") == s.metric] if isinstance(series, list) else []
            entry = u.metrics.setdefault(s.metric, [set(), set(), False])
            entry[0] |= asked
            if have:
                entry[1] |= {label for label in asked if not any(label in x for x in have)}
                entry[2] = True
    return dict(sorted(usage.items()))


# ---- `cfmon conformance check` ---------------------------------------------------------------------


@dataclass
class Report:
    env: str
    source: str  # the samples or the Prometheus URL
    results: list[Result]
    usage: dict[str, Usage]
    files: dict[int, tuple[str, int | None]]  # id(reader) -> where a user edits it


def report(ctx: Context, source, origin: str) -> Report:
    found = results(ctx, source)
    files = {id(r.reader): r.reader.locate(ctx.project.root) for r in found}
    return Report(ctx.env, origin, found, summary(ctx, source), files)


def format_text(rep: Report) -> str:
    checked = sum(u.selectors for u in rep.usage.values())
    lines = [f"{rep.env}: {checked} selectors of rules and dashboards checked against {rep.source}"]
    for exporter, u in rep.usage.items():
        absent = sorted(m for m, (_, _, seen) in u.metrics.items() if not seen)
        lines.append(
            f"  {exporter:22} {u.selectors:4} selectors, {u.reading_nothing:3} read nothing; "
            f"{len(u.metrics)} metrics read, {len(absent)} absent"
        )
    for r in sorted(rep.results, key=lambda r: (r.exporter, r.reader.kind, r.reader.name)):
        file, line = rep.files[id(r.reader)]
        where = f"{file}:{line}" if line else file
        lines.append(f"{where}: {_where(r)}: {r.problem.kind}: {r.problem.detail}{_affected(r)}")
    lines.append(f"{len(rep.results)} selectors read nothing")
    return "\n".join(lines) + "\n"


def as_json(rep: Report) -> dict:
    items = []
    for r in rep.results:
        d = r.as_dict()
        d["file"], d["line"] = rep.files[id(r.reader)]
        items.append(d)
    return {
        "env": rep.env,
        "source": rep.source,
        "exporters": {e: u.as_dict() for e, u in rep.usage.items()},
        "findings": items,
    }

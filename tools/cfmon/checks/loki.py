"""Loki: the rendered loki.yaml, checked offline (no Loki binary can run on the build machines).

`loki/config-schema` holds every key the chart emits to a schema faithful to Loki 3.5's
configuration reference (loki_config.schema.json, next to this file); the others hold the design's
rules: retention on, object storage in staging and prod, the TSDB v13 index from a set date,
retention classes whose selectors Loki can parse, and a year for the audit class.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from cfmon import logql, valuesfile
from cfmon.checks.base import Check, Context, Finding, locate_text
from cfmon.durations import DurationError, parse_seconds
from cfmon.manifests import Resource

SCHEMA_FILE = Path(__file__).with_name("loki_config.schema.json")
SCHEMA_REL = "tools/cfmon/checks/loki_config.schema.json"
HELPERS = "charts/creativeflow-monitoring/charts/loki/templates/_helpers.tpl"
SUBCHART_VALUES = "charts/creativeflow-monitoring/charts/loki/values.yaml"
CONFIG_KEY = "loki.yaml"
# Environments whose logs must live on object storage (MinIO), not on a pod's volume.
OBJECT_STORAGE_ENVS = ("staging", "prod")
S3_STORES = ("s3", "aws")  # Loki's two names for the S3 client
DAY = 86_400
MIN_RETENTION = DAY  # Loki refuses a retention class under 24h; retention works per daily table
AUDIT_MIN_DAYS = 365  # seeds 002/003: security audit logs 12+ months active

# Where the chart takes each part of loki.yaml from: Loki key path -> key under `loki:` in values.
VALUES_KEYS = {
    "server.log_level": "logLevel",
    "common.replication_factor": "replicationFactor",
    "common.storage.s3": "storage.s3",
    "common.storage": "storage.type",
    "schema_config.configs.from": "schemaConfig.from",
    "schema_config.configs.object_store": "storage.type",
    "compactor.compaction_interval": "retention.compactionInterval",
    "compactor.retention_delete_delay": "retention.deleteDelay",
    "compactor.delete_request_store": "storage.type",
    "limits_config.retention_period": "retention.defaultPeriod",
    "limits_config.retention_stream": "retention.streams",
    "limits_config.ingestion_rate_mb": "limits.ingestionRateMb",
    "limits_config.ingestion_burst_size_mb": "limits.ingestionBurstSizeMb",
    "limits_config.max_global_streams_per_user": "limits.maxGlobalStreamsPerUser",
    "limits_config.max_query_length": "limits.maxQueryLength",
    "limits_config.max_query_parallelism": "limits.maxQueryParallelism",
    "limits_config.reject_old_samples_max_age": "limits.rejectOldSamplesMaxAge",
}
TEMPLATE_HINT = f"the chart builds loki.yaml in `loki.config` ({HELPERS}) from the loki.* values"

_TYPE_NAMES = {
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "string": "a string",
    "array": "a list",
    "object": "a mapping",
}


# ---- the rendered config ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LokiConfig:
    resource: Resource  # the ConfigMap that ships it
    config: dict[str, Any] | None  # None when it does not parse
    error: str | None = None

    @property
    def name(self) -> str:
        return f"{self.resource.name}/{CONFIG_KEY}"


def _plain(node: Any) -> Any:
    """YAML dates as the text Loki reads (`from: 2025-01-01` unquoted is the same day to Loki)."""
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, dt.date):
        return node.isoformat()
    return node


def loki_configs(ctx: Context) -> list[LokiConfig]:
    """loki.yaml of every ConfigMap of the loki subchart (label app.kubernetes.io/name: loki)."""
    if "loki" not in ctx.cache:
        out = []
        for res in ctx.objects("ConfigMap"):
            labels = (res.obj.get("metadata") or {}).get("labels") or {}
            data = res.obj.get("data") or {}
            if labels.get("app.kubernetes.io/name") != "loki" or CONFIG_KEY not in data:
                continue
            try:
                doc = yaml.safe_load(data[CONFIG_KEY])
            except yaml.YAMLError as exc:
                out.append(LokiConfig(res, None, f"not valid YAML: {exc}"))
                continue
            if not isinstance(doc, dict):
                out.append(LokiConfig(res, None, f"the top level is a {type(doc).__name__}, not a mapping"))
                continue
            out.append(LokiConfig(res, _plain(doc)))
        ctx.cache["loki"] = out
    return ctx.cache["loki"]


def parsed(ctx: Context) -> list[tuple[LokiConfig, dict[str, Any]]]:
    """The configs that parse (loki/config-schema reports the others)."""
    return [(c, c.config) for c in loki_configs(ctx) if c.config is not None]


def prom_seconds(value: Any) -> float | None:
    """Seconds of a Prometheus duration (`14d`, `1w2d`, `0`), None when it is not one."""
    try:
        return parse_seconds(value)
    except DurationError:
        return None


def _dig(node: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def periods(config: dict[str, Any]) -> list[dict[str, Any]]:
    configs = _dig(config, "schema_config", "configs")
    return [p for p in configs if isinstance(p, dict)] if isinstance(configs, list) else []


def retention_streams(config: dict[str, Any]) -> list[dict[str, Any]]:
    streams = _dig(config, "limits_config", "retention_stream")
    return [s for s in streams if isinstance(s, dict)] if isinstance(streams, list) else []


# ---- where a user fixes it -------------------------------------------------------------------------


def _values_key(path: str) -> str | None:
    """The loki.* values key that sets this loki.yaml path (list indices ignored), if any."""
    bare = re.sub(r"\[\d+\]", "", path)
    best = max((k for k in VALUES_KEYS if bare == k or bare.startswith(k + ".")), key=len, default=None)
    return VALUES_KEYS[best] if best else None


def _missing(doc: Any, keys: list[str]) -> bool:
    for key in keys:
        if not isinstance(doc, dict) or key not in doc:
            return True
        doc = doc[key]
    return False


def values_location(ctx: Context, path: str) -> tuple[str, int | None, str | None]:
    """(file, line, `loki.<key>`) for a loki.yaml path: the last values file that sets the key
    (the value helm used; the subchart's own values.yaml holds the defaults), else the template."""
    key = _values_key(path)
    if key is None:
        return HELPERS, None, None
    keys = key.split(".")
    subchart = ctx.project.path(SUBCHART_VALUES)
    setter = None
    for file, prefix in [(subchart, []), *((f, ["loki"]) for f in ctx.rendered.values_files)]:
        try:
            doc = yaml.safe_load(file.read_text())
        except (OSError, yaml.YAMLError):
            continue
        if not _missing(doc, prefix + keys):
            setter = file
    if setter is None:
        return HELPERS, None, f"loki.{key}"
    rel, line = locate_text(ctx.project, [setter], f"{keys[-1]}:")
    return rel or ctx.project.rel(setter), line, f"loki.{key}"


def stream_location(ctx: Context, stream: dict[str, Any], field: str = "selector") -> tuple[str, int | None]:
    """The values file and line that set one field (selector, period) of a retention class: the
    class is found by its selector (wherever that is set), the field in the last file that sets
    it, as in helm (an environment may change the period of a class the subchart defines)."""
    selector = str(stream.get("selector", ""))
    subchart = ctx.project.path(SUBCHART_VALUES)
    files = [(valuesfile.load(subchart, SUBCHART_VALUES), ())]
    files += [(vf, ("loki",)) for vf in ctx.rendered.loaded]
    names = set()
    for vf, prefix in files:
        streams = vf.get((*prefix, "retention", "streams"))
        if isinstance(streams, dict):
            names |= {
                str(n)
                for n, spec in streams.items()
                if isinstance(spec, dict) and spec.get("selector") == selector
            }
    found: tuple[str | None, int | None] = (None, None)
    for key in ((), (field,)):  # the class, then (winning) the field
        for name in sorted(names):
            for vf, prefix in files:
                keypath = (*prefix, "retention", "streams", name, *key)
                if vf.has(keypath):
                    found = (vf.rel, vf.line(keypath))
    if found[0]:
        return found[0], found[1]
    file, line, _ = values_location(ctx, "limits_config.retention_stream")
    return file, line


def _stream_finding(
    check: Check,
    ctx: Context,
    cfg: LokiConfig,
    i: int,
    stream: dict,
    message: str,
    hint: str,
    field: str = "selector",
):
    file, line = stream_location(ctx, stream, field)
    return check.finding(
        ctx,
        f"{cfg.name}: limits_config.retention_stream[{i}] {stream.get('selector')!r}: {message}",
        file=file,
        line=line,
        hint=hint,
    )


# ---- loki/config-schema ----------------------------------------------------------------------------


def _is_int(_checker: Any, instance: Any) -> bool:
    # Go's YAML decoder refuses 3.0 for an int field; jsonschema would accept it.
    return isinstance(instance, int) and not isinstance(instance, bool)


@cache
def schema_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_FILE.read_text())
    base = jsonschema.validators.validator_for(schema)
    strict = jsonschema.validators.extend(base, type_checker=base.TYPE_CHECKER.redefine("integer", _is_int))
    return strict(schema)


def _path(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class LokiConfigSchema(Check):
    """Every key of the rendered loki.yaml is one Loki 3.5 knows, with the type Loki parses it into.

    Why: Loki unmarshals its config strictly and exits at start on an unknown key or a wrong type;
    nothing here can run Loki, so the schema (tools/cfmon/checks/loki_config.schema.json, from
    Loki 3.5's configuration reference) stands in for it.
    Bad: `limits_config.retention_periods: 14d` (no such key), `compactor.compaction_interval: 1d`
    (a Go duration: no days), `max_query_parallelism: "32"`. Good: the keys and types of the
    reference, as the chart writes them.
    """

    id = "loki/config-schema"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        for cfg in loki_configs(ctx):
            if cfg.config is None:
                findings.append(
                    self.finding(
                        ctx, f"{cfg.name}: {cfg.error}", file=HELPERS, hint="fix the template that writes it"
                    )
                )
                continue
            errors = sorted(schema_validator().iter_errors(cfg.config), key=lambda e: _path(e.absolute_path))
            for error in errors:
                findings += self._findings(ctx, cfg, error)
        return findings

    def _findings(self, ctx: Context, cfg: LokiConfig, error: jsonschema.ValidationError) -> list[Finding]:
        path = _path(error.absolute_path)
        if error.validator == "additionalProperties":
            known = set((error.schema.get("properties") or {}).keys())
            return [
                self.finding(
                    ctx,
                    f"{cfg.name}: {_join(path, key)}: unknown key (Loki 3.5 refuses to start on it)",
                    file=HELPERS,
                    hint=f"remove or rename it ({TEMPLATE_HINT}); if Loki 3.5 does have this key, add it "
                    f"to {SCHEMA_REL}",
                )
                for key in sorted(set(error.instance) - known)
            ]
        if error.validator == "required":
            missing = re.findall(r"'([^']+)' is a required property", error.message)
            key = _join(path, missing[0]) if missing else path
            file, line, values_key = values_location(ctx, key)
            return [
                self.finding(
                    ctx,
                    f"{cfg.name}: {key}: missing",
                    file=file,
                    line=line,
                    hint=f"set {values_key}" if values_key else TEMPLATE_HINT,
                )
            ]
        value = json.dumps(error.instance, sort_keys=True, default=str)
        description = error.schema.get("description")
        if error.validator == "type":
            expected = _TYPE_NAMES.get(str(error.validator_value), str(error.validator_value))
            what = f"{value} is not {expected}"
        elif error.validator == "maxProperties" and isinstance(error.instance, dict):
            what = f"{', '.join(sorted(error.instance))} are set: {description or error.message}"
        elif description and error.validator in ("pattern", "enum", "minLength"):
            what = f"{value} is not {description}"
        else:
            what = error.message
        file, line, values_key = values_location(ctx, path)
        return [
            self.finding(
                ctx,
                f"{cfg.name}: {path or '(top level)'}: {what}",
                file=file,
                line=line,
                hint=f"fix {values_key} (the chart's values.schema.json should refuse it too)"
                if values_key
                else f"fix the template: {TEMPLATE_HINT}",
            )
        ]


# ---- loki/retention --------------------------------------------------------------------------------


def _store(name: Any) -> str:
    return "s3" if name in S3_STORES else str(name)


class LokiRetention(Check):
    """The compactor applies retention, with a delete request store and periods Loki accepts.

    Why: without `compactor.retention_enabled` Loki keeps every line forever: the volume or bucket
    fills up and the retention classes (debug 14d, standard 90d, audit 365d+) are never applied.
    Loki 3.5 refuses retention without `delete_request_store`, and retention classes under 24h.
    Bad: `retention_enabled: false`, or `retention_period: 0s`. Good: retention on, the delete
    requests on the object store of the schema periods, every period at least 24h.
    """

    id = "loki/retention"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        for cfg, config in parsed(ctx):
            compactor = config.get("compactor") if isinstance(config.get("compactor"), dict) else {}
            if compactor.get("retention_enabled") is not True:
                findings.append(
                    self.finding(
                        ctx,
                        f"{cfg.name}: compactor.retention_enabled is not true: the compactor never "
                        "deletes a line, so logs live forever and no retention class applies",
                        file=HELPERS,
                        hint=f"set compactor.retention_enabled: true ({TEMPLATE_HINT})",
                    )
                )
            stores = {_store(p.get("object_store")) for p in periods(config)}
            store = compactor.get("delete_request_store")
            if not store:
                findings.append(
                    self.finding(
                        ctx,
                        f"{cfg.name}: compactor.delete_request_store is not set: Loki 3.5 refuses to "
                        "start with retention enabled and nowhere to keep delete requests",
                        file=HELPERS,
                        hint="set it to the object store of the schema periods (loki.storage.type)",
                    )
                )
            elif stores and _store(store) not in stores:
                findings.append(
                    self.finding(
                        ctx,
                        f"{cfg.name}: compactor.delete_request_store {store!r} is not the object store "
                        f"of the index ({', '.join(sorted(stores))})",
                        file=HELPERS,
                        hint="keep delete requests where the index is (loki.storage.type)",
                    )
                )
            findings += self._periods(ctx, cfg, config)
        return findings

    def _periods(self, ctx: Context, cfg: LokiConfig, config: dict[str, Any]) -> list[Finding]:
        findings = []
        default = _dig(config, "limits_config", "retention_period")
        seconds = prom_seconds(default) if default is not None else 0.0
        if seconds is not None and seconds < MIN_RETENTION:
            file, line, key = values_location(ctx, "limits_config.retention_period")
            why = (
                "0 turns retention off for streams no class matches (kept forever)"
                if not seconds
                else "retention works on daily index tables: keep it at 24h or more"
            )
            findings.append(
                self.finding(
                    ctx,
                    f"{cfg.name}: limits_config.retention_period is {default or 'not set'}: {why}",
                    file=file,
                    line=line,
                    hint=f"set {key} to 24h or more (the seeds: 90d for application logs)",
                )
            )
        for i, stream in enumerate(retention_streams(config)):
            seconds = prom_seconds(stream.get("period"))
            if seconds is not None and seconds < MIN_RETENTION:
                findings.append(
                    _stream_finding(
                        self,
                        ctx,
                        cfg,
                        i,
                        stream,
                        f"period {stream.get('period')} is under 24h, which Loki refuses",
                        "set the class's period to 24h or more (loki.retention.streams.<class>.period)",
                        "period",
                    )
                )
        return findings


# ---- loki/object-storage ---------------------------------------------------------------------------


class LokiObjectStorage(Check):
    """In staging and prod, chunks, index and delete requests go to S3-compatible object storage.

    Why: on the filesystem the logs live on one pod's volume: a lost volume loses them, the
    volume caps the retention the seeds ask for (audit logs a year), and no second replica can
    read them. Bad: `object_store: filesystem` in prod. Good: `object_store: s3` with
    `common.storage.s3` naming the MinIO endpoint and bucket.
    """

    id = "loki/object-storage"

    def run(self, ctx: Context) -> list[Finding]:
        if ctx.env not in OBJECT_STORAGE_ENVS:
            return []
        findings = []
        for cfg, config in parsed(ctx):
            for i, period in enumerate(periods(config)):
                store = period.get("object_store")
                if store in S3_STORES:
                    continue
                file, line, key = values_location(ctx, "schema_config.configs.object_store")
                findings.append(
                    self.finding(
                        ctx,
                        f"{cfg.name}: schema_config.configs[{i}].object_store is {store!r}: {ctx.env} keeps "
                        "logs on object storage (S3/MinIO), not on a pod's volume",
                        file=file,
                        line=line,
                        hint=f"set {key}: s3 and loki.storage.s3 (endpoint, bucket, existingSecret)",
                    )
                )
            s3 = _dig(config, "common", "storage", "s3") or _dig(config, "storage_config", "aws") or {}
            if any(p.get("object_store") in S3_STORES for p in periods(config)) and not (
                isinstance(s3, dict) and s3.get("endpoint") and s3.get("bucketnames")
            ):
                file, line, key = values_location(ctx, "common.storage.s3")
                findings.append(
                    self.finding(
                        ctx,
                        f"{cfg.name}: the index is on s3 but no S3 endpoint and bucket are configured "
                        "(common.storage.s3.endpoint, bucketnames)",
                        file=file,
                        line=line,
                        hint="set loki.storage.s3.endpoint and loki.storage.s3.bucket",
                    )
                )
        return findings


# ---- loki/schema-period ----------------------------------------------------------------------------


class LokiSchemaPeriods(Check):
    """Every index period starts on an explicit date and uses the TSDB store with schema v13.

    Why: the seed's boltdb-shipper with v11 is deprecated (no structured metadata, which the agents
    send: traceID, spanID, inference_id), TSDB needs a 24h index period, and a period without a
    valid `from` (or out of order) leaves Loki unable to tell which index holds a day.
    Bad: `{from: 2020-10-24, store: boltdb-shipper, schema: v11}`. Good: `{from: "2025-01-01",
    store: tsdb, object_store: s3, schema: v13, index: {prefix: index_, period: 24h}}`.
    """

    id = "loki/schema-period"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        for cfg, config in parsed(ctx):
            found = periods(config)
            if not found:
                findings.append(self._finding(ctx, cfg, "schema_config.configs", "no index period at all"))
            previous: dt.date | None = None
            for i, period in enumerate(found):
                where = f"schema_config.configs[{i}]"
                day = self._day(period.get("from"))
                if day is None:
                    findings.append(
                        self._finding(
                            ctx, cfg, f"{where}.from", f"{period.get('from')!r} is not a day (YYYY-MM-DD)"
                        )
                    )
                elif previous is not None and day <= previous:
                    findings.append(
                        self._finding(
                            ctx,
                            cfg,
                            f"{where}.from",
                            f"{day} does not follow the previous period's {previous}",
                        )
                    )
                previous = day or previous
                store, schema = period.get("store"), period.get("schema")
                if store != "tsdb" or schema != "v13":
                    findings.append(
                        self._finding(
                            ctx,
                            cfg,
                            where,
                            f"uses {store} with schema {schema}: index periods use tsdb with schema v13 "
                            "(boltdb-shipper and older schemas are deprecated and lack structured metadata)",
                        )
                    )
                index_period = prom_seconds(_dig(period, "index", "period"))
                if store == "tsdb" and index_period != DAY:
                    findings.append(
                        self._finding(
                            ctx,
                            cfg,
                            f"{where}.index.period",
                            f"{_dig(period, 'index', 'period')}: the TSDB index needs a 24h period",
                        )
                    )
        return findings

    @staticmethod
    def _day(value: Any) -> dt.date | None:
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None

    def _finding(self, ctx: Context, cfg: LokiConfig, path: str, message: str) -> Finding:
        if path.endswith(".from"):
            file, line, key = values_location(ctx, path)
            hint = f'set {key} to the first day of the period, quoted ("2025-01-01")'
        else:
            file, line, hint = HELPERS, None, f"the period is written by {TEMPLATE_HINT}"
        return self.finding(ctx, f"{cfg.name}: {path}: {message}", file=file, line=line, hint=hint)


# ---- loki/retention-selectors ----------------------------------------------------------------------


def selector_matchers(selector: str) -> tuple[logql.Matcher, ...]:
    """The matchers of a retention class's selector, or LogqlError. `$$` is a literal `$` once
    Loki has expanded its environment (-config.expand-env)."""
    expr = logql.parse(selector.replace("$$", "$"))
    if not isinstance(expr, logql.LogQuery) or expr.pipeline:
        raise logql.LogqlError('only a stream selector {label="value", ...} selects a retention class')
    return expr.matchers


class LokiRetentionSelectors(Check):
    """Every retention class selects streams with a LogQL stream selector Loki can parse.

    Why: Loki parses `retention_stream` selectors at start and refuses the whole config on a bad
    one; with -config.expand-env a lone `$` is eaten as an environment variable first.
    Bad: `retention="audit"` (no braces), `{retention=~".*"}` (matches every stream),
    `{app=~"api$"}` (write `$$`). Good: `{retention="audit"}`.
    """

    id = "loki/retention-selectors"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        hint = (
            'write a stream selector such as {retention="audit"} in loki.retention.streams.<class>.selector'
        )
        for cfg, config in parsed(ctx):
            for i, stream in enumerate(retention_streams(config)):
                selector = stream.get("selector")
                if not isinstance(selector, str):
                    findings.append(_stream_finding(self, ctx, cfg, i, stream, "has no selector", hint))
                    continue
                if "$" in selector.replace("$$", ""):
                    findings.append(
                        _stream_finding(
                            self,
                            ctx,
                            cfg,
                            i,
                            stream,
                            "has a lone `$`, which Loki expands as an environment variable "
                            "(-config.expand-env) before it reads the selector",
                            "write `$$` for a literal `$`",
                        )
                    )
                    continue
                try:
                    selector_matchers(selector)
                except logql.LogqlError as exc:
                    findings.append(
                        _stream_finding(
                            self, ctx, cfg, i, stream, f"is not a LogQL stream selector: {exc}", hint
                        )
                    )
        return findings


# ---- loki/audit-retention --------------------------------------------------------------------------


def _holds(m: logql.Matcher, value: str) -> bool:
    if m.op == "=":
        return value == m.value
    if m.op == "!=":
        return value != m.value
    matched = re.fullmatch(m.value, value) is not None
    return matched if m.op == "=~" else not matched


def selects_audit(matchers: tuple[logql.Matcher, ...]) -> bool:
    """The class is the audit tier: it selects retention="audit" (the agents' label) exactly."""
    return any(
        m.name == "retention" and m.op in ("=", "=~") and m.value == "audit" for m in matchers
    ) and all(_holds(m, "audit") for m in matchers if m.name == "retention")


def may_match_audit(matchers: tuple[logql.Matcher, ...]) -> bool:
    """Whether some audit stream (retention="audit") could match these matchers."""
    return all(_holds(m, "audit") for m in matchers if m.name == "retention")


class LokiAuditRetention(Check):
    """The audit class keeps security audit logs at least 365 days, and no class cuts that short.

    Why: the seeds (002, 003) require security audit logs to stay 12+ months. Loki applies the
    matching class with the highest priority (on a tie, the shortest period), so a class that may
    match audit streams with an equal or higher priority and a shorter period wins over the audit class.
    Bad: `{retention="audit"}` for 90d, or a team class `{namespace="payments"}` for 30d at the
    audit class's priority. Good: `{retention="audit"}` for 365d or more at the highest priority.
    """

    id = "loki/audit-retention"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        minimum = AUDIT_MIN_DAYS * DAY
        for cfg, config in parsed(ctx):
            classes = []
            for i, stream in enumerate(retention_streams(config)):
                try:
                    matchers = selector_matchers(str(stream.get("selector", "")))
                except logql.LogqlError:
                    continue  # loki/retention-selectors reports it
                classes.append(
                    (i, stream, matchers, prom_seconds(stream.get("period")), stream.get("priority", 0))
                )
            audits = [c for c in classes if selects_audit(c[2])]
            for i, stream, _, seconds, _ in audits:
                if seconds is not None and seconds < minimum:
                    findings.append(
                        _stream_finding(
                            self,
                            ctx,
                            cfg,
                            i,
                            stream,
                            f"the audit class keeps logs {stream.get('period')}: security audit logs "
                            f"stay at least {AUDIT_MIN_DAYS}d (seeds 002/003)",
                            f"set loki.retention.streams.<audit class>.period to {AUDIT_MIN_DAYS}d or more",
                            "period",
                        )
                    )
            if not audits:
                continue
            top = max((c[4] for c in audits if isinstance(c[4], int)), default=0)
            for i, stream, matchers, seconds, priority in classes:
                if selects_audit(matchers) or not may_match_audit(matchers) or seconds is None:
                    continue
                if isinstance(priority, int) and priority >= top and seconds < minimum:
                    findings.append(
                        _stream_finding(
                            self,
                            ctx,
                            cfg,
                            i,
                            stream,
                            f'may match audit streams (it does not exclude retention="audit") at priority '
                            f"{priority}, not below the audit class's {top}, with a shorter period "
                            f"({stream.get('period')}): it would cut audit logs short",
                            'add retention!="audit" to its selector or give it a lower priority '
                            "than the audit class",
                        )
                    )
        return findings

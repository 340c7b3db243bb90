"""What the loki checks share: the rendered loki.yaml (read by cfmon.rendered.loki), Loki's duration syntax,
and where a user fixes each key (the loki.* values, else the chart's template).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from cfmon import valuesfile
from cfmon.checks.base import Check, Context, locate_text
from cfmon.durations import DurationError, parse_seconds
from cfmon.rendered.loki import LokiConfig
from cfmon.serialize import parse_yaml

SCHEMA_FILE = Path(__file__).parents[1] / "loki_config.schema.json"  # next to the checks
SCHEMA_REL = "tools/cfmon/checks/loki_config.schema.json"
HELPERS = "charts/creativeflow-monitoring/charts/loki/templates/_helpers.tpl"
SUBCHART_VALUES = "charts/creativeflow-monitoring/charts/loki/values.yaml"
S3_STORES = ("s3", "aws")  # Loki's two names for the S3 client
DAY = 86_400

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


def rendered_configs(ctx: Context) -> list[LokiConfig]:
    """The render's loki.yaml configs, read once for all the loki checks of a run."""
    return ctx.rendered.model.loki


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
            doc = parse_yaml(file.read_text())
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

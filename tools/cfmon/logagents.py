"""The log agents' configs (found by cfmon.rendered.logagents) read: the schema of the Promtail keys
we emit, the labels each config puts on streams and the URLs it pushes to. The logs/* checks read these.

Neither Promtail nor Alloy can run on the build machines, so their configs are read offline:
Promtail's YAML against PROMTAIL_SCHEMA, Alloy's syntax with cfmon.alloy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jsonschema
import yaml

from cfmon import alloy
from cfmon.catalog import conventions
from cfmon.rendered.logagents import AgentConfig
from cfmon.serialize import parse_yaml

PUSH_PATH = "/loki/api/v1/push"


# ---- Promtail: the keys we emit ------------------------------------------------------------------

_STR = {"type": "string"}
_DURATION = {"type": "string", "pattern": r"^(0|(\d+(\.\d+)?(ns|us|µs|ms|s|m|h|d|w|y))+)$"}
_LABELS = {"type": "object", "additionalProperties": {"type": "string"}}
_NAMES = {"type": "array", "items": {"type": "string"}}
_NAME_MAP = {"type": "object", "additionalProperties": {"type": ["string", "null"]}}


def _obj(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "required": list(required),
    }


def _stage(name: str, config: dict[str, Any]) -> dict[str, Any]:
    return _obj({name: config}, (name,))


_RELABEL = _obj(
    {
        "source_labels": _NAMES,
        "separator": _STR,
        "regex": _STR,
        "modulus": {"type": "integer", "minimum": 1},
        "target_label": _STR,
        "replacement": _STR,
        "action": {"$ref": "#/definitions/relabelAction"},  # filled in by _schema()
    }
)
_COUNTER = _obj(
    {
        "type": {"const": "Counter"},
        "description": _STR,
        "prefix": {"type": "string", "pattern": "^[a-zA-Z_][a-zA-Z0-9_]*$"},
        "source": _STR,
        "max_idle_duration": _DURATION,
        "config": _obj(
            {
                "value": _STR,
                "match_all": {"type": "boolean"},
                "count_entry_bytes": {"type": "boolean"},
                "action": {"enum": ["inc", "add"]},
            },
            ("action",),
        ),
    },
    ("type", "config"),
)
_STAGES: list[dict[str, Any]] = [
    _stage(
        "cri", _obj({"max_partial_lines": {"type": "integer"}, "max_partial_line_size": {"type": "integer"}})
    ),
    _stage("docker", _obj({})),
    _stage(
        "json",
        _obj(
            {
                "expressions": {"type": "object", "additionalProperties": _STR},
                "source": _STR,
                "drop_malformed": {"type": "boolean"},
            },
            ("expressions",),
        ),
    ),
    _stage("regex", _obj({"expression": _STR, "source": _STR}, ("expression",))),
    _stage("template", _obj({"source": _STR, "template": _STR}, ("source", "template"))),
    _stage("labels", _NAME_MAP),
    _stage("structured_metadata", _NAME_MAP),
    _stage("static_labels", _LABELS),
    _stage("labeldrop", _NAMES),
    _stage("labelallow", _NAMES),
    _stage(
        "timestamp",
        _obj(
            {
                "source": _STR,
                "format": _STR,
                "fallback_formats": _NAMES,
                "location": _STR,
                "action_on_failure": {"enum": ["fudge", "skip"]},
            },
            ("source", "format"),
        ),
    ),
    _stage("output", _obj({"source": _STR}, ("source",))),
    _stage("metrics", {"type": "object", "minProperties": 1, "additionalProperties": _COUNTER}),
    _stage(
        "match",
        _obj(
            {
                "selector": _STR,
                "action": {"enum": ["keep", "drop"]},
                "pipeline_name": _STR,
                "drop_counter_reason": _STR,
                "stages": {"type": "array", "items": {"$ref": "#/definitions/stage"}},
            },
            ("selector",),
        ),
    ),
]

PROMTAIL_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "definitions": {"stage": {"oneOf": _STAGES}},
    **_obj(
        {
            "server": _obj(
                {
                    "http_listen_address": _STR,
                    "http_listen_port": {"type": "integer", "minimum": 1, "maximum": 65535},
                    "grpc_listen_port": {"type": "integer", "minimum": 0, "maximum": 65535},
                    "log_level": {"enum": ["debug", "info", "warn", "error"]},
                    "log_format": {"enum": ["logfmt", "json"]},
                }
            ),
            "positions": _obj({"filename": _STR, "sync_period": _DURATION}, ("filename",)),
            "clients": {
                "type": "array",
                "minItems": 1,
                "items": _obj(
                    {
                        "url": _STR,
                        "tenant_id": _STR,
                        "batchwait": _DURATION,
                        "batchsize": {"type": "integer", "minimum": 1},
                        "timeout": _DURATION,
                        "external_labels": _LABELS,
                        "backoff_config": _obj(
                            {
                                "min_period": _DURATION,
                                "max_period": _DURATION,
                                "max_retries": {"type": "integer", "minimum": 0},
                            }
                        ),
                    },
                    ("url",),
                ),
            },
            "target_config": _obj({"sync_period": _DURATION}),
            "scrape_configs": {
                "type": "array",
                "minItems": 1,
                "items": _obj(
                    {
                        "job_name": {"type": "string", "minLength": 1},
                        "kubernetes_sd_configs": {
                            "type": "array",
                            "items": _obj(
                                {
                                    "role": {
                                        "enum": [
                                            "pod",
                                            "node",
                                            "service",
                                            "endpoints",
                                            "endpointslice",
                                            "ingress",
                                        ]
                                    },
                                    "namespaces": _obj(
                                        {"names": _NAMES, "own_namespace": {"type": "boolean"}}
                                    ),
                                    "selectors": {
                                        "type": "array",
                                        "items": _obj(
                                            {"role": _STR, "label": _STR, "field": _STR}, ("role",)
                                        ),
                                    },
                                },
                                ("role",),
                            ),
                        },
                        "static_configs": {
                            "type": "array",
                            "items": _obj({"targets": _NAMES, "labels": _LABELS}),
                        },
                        "journal": _obj(
                            {
                                "json": {"type": "boolean"},
                                "max_age": _DURATION,
                                "path": _STR,
                                "labels": _LABELS,
                                "matches": _STR,
                            }
                        ),
                        "relabel_configs": {"type": "array", "items": _RELABEL},
                        "pipeline_stages": {"type": "array", "items": {"$ref": "#/definitions/stage"}},
                    },
                    ("job_name",),
                ),
            },
        },
        ("server", "positions", "clients", "scrape_configs"),
    ),
}


@dataclass(frozen=True)
class ConfigProblem:
    where: str  # a key path (promtail.yaml) or "line N" (config.alloy)
    message: str


def _yaml_lines(text: str) -> dict[tuple, int]:
    """Key path (tuple of keys and indexes) -> line number, for every node of a YAML document."""
    lines: dict[tuple, int] = {}

    def visit(node: yaml.Node, path: tuple) -> None:
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                lines[(*path, key.value)] = key.start_mark.line + 1
                visit(value, (*path, key.value))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                visit(item, (*path, i))

    root = yaml.compose(text)
    if root is not None:
        visit(root, ())
    return lines


def key_path(path) -> str:
    """scrape_configs[0].pipeline_stages[3].json: jsonschema's path as a user reads it."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    """PROMTAIL_SCHEMA with the relabel actions the Jsonnet declares (read when first validating)."""
    relabel_action = {"enum": list(conventions().relabel_actions)}
    return {
        **PROMTAIL_SCHEMA,
        "definitions": {**PROMTAIL_SCHEMA["definitions"], "relabelAction": relabel_action},
    }


def promtail_problems(text: str) -> list[ConfigProblem]:
    """promtail.yaml against PROMTAIL_SCHEMA: unknown keys and wrong types, with key path and line."""
    try:
        doc = parse_yaml(text)
        lines = _yaml_lines(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(document)"
        return [ConfigProblem(where, f"not valid YAML: {getattr(exc, 'problem', exc)}")]
    validator = jsonschema.Draft7Validator(_schema())
    out = []
    for error in sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path]):
        # A stage matches none of the stage schemas: say which stage key it has, not the whole oneOf.
        path = list(error.absolute_path)
        message = error.message
        if error.validator == "oneOf" and isinstance(error.instance, dict):
            kinds = sorted(error.instance)
            message = _stage_error(error.instance) or f"not a known pipeline stage: {', '.join(kinds)}"
        elif error.validator == "additionalProperties":
            extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            message = (
                f"unknown key {', '.join(extra)} (allowed: {', '.join(sorted(error.schema['properties']))})"
            )
            path = [*path, extra[0]] if len(extra) == 1 else path
        line = lines.get(tuple(path))
        where = key_path(path) + (f" (line {line})" if line else "")
        out.append(ConfigProblem(where, message))
    return out


def _stage_error(stage: dict[str, Any]) -> str | None:
    """Why one pipeline stage is invalid, from the schema of its own kind."""
    if len(stage) != 1:
        return f"a pipeline stage has exactly one key, not {', '.join(sorted(stage)) or 'none'}"
    (kind,) = stage
    schema = next((s for s in _STAGES if kind in s["properties"]), None)
    if schema is None:
        known = sorted(k for s in _STAGES for k in s["properties"])
        return f"unknown pipeline stage {kind} (known: {', '.join(known)})"
    resolver_schema = {**schema, "definitions": _schema()["definitions"]}
    errors = sorted(jsonschema.Draft7Validator(resolver_schema).iter_errors(stage), key=lambda e: e.path)
    if not errors:
        return None
    inner = errors[0]
    return f"{key_path(list(inner.absolute_path))}: {inner.message}"


def alloy_problems(text: str) -> list[ConfigProblem]:
    """config.alloy: syntax (the line of the first error), then the component table of cfmon.alloy."""
    try:
        statements = alloy.parse(text)
    except alloy.AlloySyntaxError as exc:
        return [ConfigProblem(f"line {exc.line}", f"syntax error: {exc.message} (column {exc.column})")]
    return [ConfigProblem(f"line {p.line}", p.message) for p in alloy.validate(statements)]


# ---- labels --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelUse:
    """One way a config puts a label on streams."""

    label: str
    where: str
    parsed_from: str | None = None  # the log-line field (json/regex/logfmt) its value comes from
    open_ended: str | None = None  # why the set of label names itself has no bound (labelmap)
    sources: tuple[str, ...] = ()  # the discovered labels a relabel rule reads


@dataclass
class LabelSet:
    uses: list[LabelUse]
    dropped: set[str]  # labels a labeldrop removes (or a labelallow/label_keep leaves out)
    kept: set[str] | None  # the labelallow / label_keep list, when there is one
    # Pipelines fed from tailed files, whose `filename` label (the path holds the pod uid) must go.
    file_pipelines: list[str]
    file_pipelines_dropping_filename: list[str]


_NAMED_GROUP = re.compile(r"\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>")


def _relabel_use(rule: dict[str, Any], where: str) -> LabelUse | None:
    action = str(rule.get("action", "replace")).lower()
    if action == "labelmap":
        return LabelUse(
            str(rule.get("replacement", "$1")),
            where,
            open_ended=f"labelmap copies every label matching {rule.get('regex', '(.*)')!r}",
        )
    target = rule.get("target_label")
    if action in ("replace", "lowercase", "uppercase", "hashmod") and isinstance(target, str):
        if target.startswith("__"):
            return None
        if "$" in target:
            return LabelUse(target, where, open_ended=f"the label name {target!r} comes from a regex group")
        sources = rule.get("source_labels")
        return LabelUse(target, where, sources=tuple(sources) if isinstance(sources, list) else ())
    return None


def promtail_labels(text: str) -> LabelSet:
    doc = parse_yaml(text) or {}
    out = LabelSet([], set(), None, [], [])
    for i, client in enumerate(doc.get("clients") or []):
        for name in (client or {}).get("external_labels") or {}:
            out.uses.append(LabelUse(name, f"clients[{i}].external_labels"))
    for i, job in enumerate(doc.get("scrape_configs") or []):
        base = f"scrape_configs[{i}] ({job.get('job_name')})"
        for j, rule in enumerate(job.get("relabel_configs") or []):
            use = _relabel_use(rule or {}, f"{base}.relabel_configs[{j}]")
            if use:
                out.uses.append(use)
        for j, group in enumerate(job.get("static_configs") or []):
            for name in (group or {}).get("labels") or {}:
                if not str(name).startswith("__"):
                    out.uses.append(LabelUse(name, f"{base}.static_configs[{j}].labels"))
        for name in (job.get("journal") or {}).get("labels") or {}:
            out.uses.append(LabelUse(name, f"{base}.journal.labels"))
        drops_filename = _promtail_stages(
            job.get("pipeline_stages") or [], f"{base}.pipeline_stages", set(), out
        )
        if job.get("kubernetes_sd_configs") or job.get("static_configs"):
            out.file_pipelines.append(base)
            if drops_filename:
                out.file_pipelines_dropping_filename.append(base)
    return out


def _promtail_stages(stages: list, where: str, parsed: set[str], out: LabelSet) -> bool:
    """Record the labels of a pipeline (nested match stages too); whether it drops `filename`."""
    drops = False
    for k, stage in enumerate(stages):
        if not isinstance(stage, dict) or len(stage) != 1:
            continue
        ((kind, cfg),) = stage.items()
        here = f"{where}[{k}].{kind}"
        if kind == "json":
            parsed |= set((cfg or {}).get("expressions") or {})
        elif kind == "regex":
            parsed |= set(_NAMED_GROUP.findall(str((cfg or {}).get("expression", ""))))
        elif kind == "labels":
            for name, source in (cfg or {}).items():
                source = source or name
                out.uses.append(LabelUse(name, here, parsed_from=source if source in parsed else None))
        elif kind == "static_labels":
            out.uses.extend(LabelUse(name, here) for name in cfg or {})
        elif kind == "labeldrop":
            out.dropped |= set(cfg or [])
            drops = drops or "filename" in (cfg or [])
        elif kind == "labelallow":
            out.kept = (out.kept or set()) | set(cfg or [])
            out.uses.extend(LabelUse(name, here) for name in cfg or [])
            drops = drops or "filename" not in (cfg or [])
        elif kind == "match":
            drops = (
                _promtail_stages((cfg or {}).get("stages") or [], f"{here}.stages", set(parsed), out) or drops
            )
    return drops


def alloy_labels(text: str) -> LabelSet:
    statements = alloy.parse(text)
    out = LabelSet([], set(), None, [], [])
    components = {(s.name, s.label): s for s in statements if isinstance(s, alloy.Block)}
    for block, parents in alloy.walk(statements):
        top = parents[0] if parents else block
        where = f"config.alloy line {block.line}: {top.title}" + (f" > {block.name}" if parents else "")
        attrs = {name: a.value for name, a in block.attributes.items()}
        if block.name == "rule":
            use = _relabel_use(attrs, where)
            if use:
                out.uses.append(use)
        elif block.name == "loki.write":
            external = attrs.get("external_labels")
            if isinstance(external, dict):
                out.uses.extend(LabelUse(name, f"{where} external_labels") for name in external)
        elif block.name.startswith("loki.source.") and isinstance(attrs.get("labels"), dict):
            out.uses.extend(LabelUse(name, f"{where} labels") for name in attrs["labels"])
        elif block.name == "loki.process":
            _alloy_stages(block, where, set(), out)
    # Every loki.source.file hands its lines (with a `filename` label) to the components it names.
    for (name, label), block in components.items():
        if name != "loki.source.file":
            continue
        forward = block.attributes.get("forward_to")
        for ref in alloy.references(forward.value if forward else None):
            target = ref.path.removesuffix(".receiver").split(".")
            key = (".".join(target[:-1]), target[-1])
            where = f'{name} "{label}" -> {".".join(target)}'
            out.file_pipelines.append(where)
            process = components.get(key)
            if process is not None and key[0] == "loki.process" and _alloy_drops_filename(process):
                out.file_pipelines_dropping_filename.append(where)
    return out


def _alloy_stages(block: alloy.Block, where: str, parsed: set[str], out: LabelSet) -> None:
    for stage in block.blocks:
        values = (stage.attributes.get("values") or alloy.Attribute("values", None, stage.line)).value
        here = f"config.alloy line {stage.line}: {where.split(': ', 1)[1]} > {stage.name}"
        if stage.name == "stage.json":
            expressions = stage.attributes.get("expressions")
            if expressions and isinstance(expressions.value, dict):
                parsed |= set(expressions.value)
        elif stage.name == "stage.logfmt":
            mapping = stage.attributes.get("mapping")
            if mapping and isinstance(mapping.value, dict):
                parsed |= set(mapping.value)
        elif stage.name == "stage.regex":
            expression = stage.attributes.get("expression")
            parsed |= set(_NAMED_GROUP.findall(str(expression.value if expression else "")))
        elif stage.name == "stage.labels" and isinstance(values, dict):
            for name, source in values.items():
                source = source if isinstance(source, str) and source else name
                out.uses.append(LabelUse(name, here, parsed_from=source if source in parsed else None))
        elif stage.name == "stage.static_labels" and isinstance(values, dict):
            out.uses.extend(LabelUse(name, here) for name in values)
        elif stage.name == "stage.label_drop" and isinstance(values, list):
            out.dropped |= {v for v in values if isinstance(v, str)}
        elif stage.name == "stage.label_keep" and isinstance(values, list):
            kept = {v for v in values if isinstance(v, str)}
            out.kept = (out.kept or set()) | kept
            out.uses.extend(LabelUse(name, here) for name in sorted(kept))
        elif stage.name == "stage.match":
            _alloy_stages(stage, where, set(parsed), out)


def _alloy_drops_filename(process: alloy.Block) -> bool:
    for stage, _ in alloy.walk(process.body):
        values = stage.attributes.get("values")
        names = values.value if values and isinstance(values.value, list) else []
        if stage.name == "stage.label_drop" and "filename" in names:
            return True
        if stage.name == "stage.label_keep" and "filename" not in names:
            return True
    return False


# ---- push URLs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PushUrl:
    value: Any  # a string, or an Alloy expression (not a literal)
    where: str


def push_urls(cfg: AgentConfig) -> list[PushUrl]:
    if cfg.agent == "promtail":
        doc = parse_yaml(cfg.text) or {}
        return [
            PushUrl((client or {}).get("url"), f"clients[{i}].url")
            for i, client in enumerate(doc.get("clients") or [])
        ]
    out = []
    for block, parents in alloy.walk(alloy.parse(cfg.text)):
        if block.name == "endpoint" and parents and parents[0].name == "loki.write":
            url = block.attributes.get("url")
            out.append(
                PushUrl(
                    url.value if url else None,
                    f"config.alloy line {block.line}: {parents[0].title} > endpoint url",
                )
            )
    return out

"""The Alloy components and stage blocks the alloy subchart renders, with the arguments Grafana
documents for them: the data `cfmon.alloy.validate()` compares a parsed `config.alloy` with. Copied
by hand from Grafana Alloy's component reference; add a component or an argument here when the
chart starts rendering it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Spec:
    """What a block accepts. Attribute types: string, bool, number, duration, list, map, list(string),
    map(string), receivers (a list of `.receiver` references), relabel_action (a Prometheus relabel
    action), or a tuple of allowed strings."""

    attrs: dict[str, Any] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    blocks: dict[str, Spec] = field(default_factory=dict)
    exports: frozenset[str] = frozenset()  # component exports others may reference
    labelled: bool = False  # a component: needs a label, unique per component name


def _spec(attrs=None, required=(), blocks=None, exports=(), labelled=False) -> Spec:
    return Spec(attrs or {}, frozenset(required), blocks or {}, frozenset(exports), labelled)


_HTTP_CLIENT = {
    "bearer_token_file": "string",
    "bearer_token": "string",
    "enable_http2": "bool",
    "follow_redirects": "bool",
    "proxy_url": "string",
    "no_proxy": "string",
    "proxy_from_environment": "bool",
}
_RULE = _spec(
    {
        "source_labels": "list(string)",
        "separator": "string",
        "regex": "string",
        "modulus": "number",
        "target_label": "string",
        "replacement": "string",
        "action": "relabel_action",  # one of the actions in jsonnet/generated/conventions.json
    }
)

STAGES: dict[str, Spec] = {
    "stage.cri": _spec(
        {
            "max_partial_lines": "number",
            "max_partial_line_size": "number",
            "max_partial_line_size_truncate": "bool",
        }
    ),
    "stage.docker": _spec(),
    "stage.decolorize": _spec(),
    "stage.json": _spec(
        {"expressions": "map(string)", "source": "string", "drop_malformed": "bool"}, ["expressions"]
    ),
    "stage.logfmt": _spec({"mapping": "map(string)", "source": "string"}, ["mapping"]),
    "stage.regex": _spec({"expression": "string", "source": "string"}, ["expression"]),
    "stage.replace": _spec({"expression": "string", "source": "string", "replace": "string"}, ["expression"]),
    "stage.template": _spec({"source": "string", "template": "string"}, ["source", "template"]),
    "stage.labels": _spec({"values": "map(string)"}),
    "stage.static_labels": _spec({"values": "map(string)"}),
    "stage.structured_metadata": _spec({"values": "map(string)"}),
    "stage.label_drop": _spec({"values": "list(string)"}),
    "stage.label_keep": _spec({"values": "list(string)"}),
    "stage.timestamp": _spec(
        {
            "source": "string",
            "format": "string",
            "fallback_formats": "list(string)",
            "location": "string",
            "action_on_failure": ("fudge", "skip"),
        },
        ["source", "format"],
    ),
    "stage.output": _spec({"source": "string"}, ["source"]),
    "stage.drop": _spec(
        {
            "source": "string",
            "separator": "string",
            "expression": "string",
            "value": "string",
            "older_than": "duration",
            "longer_than": "string",
            "drop_counter_reason": "string",
        }
    ),
    "stage.limit": _spec(
        {
            "rate": "number",
            "burst": "number",
            "by_label_name": "string",
            "drop": "bool",
            "max_distinct_labels": "number",
        },
        ["rate", "burst"],
    ),
    "stage.multiline": _spec(
        {"firstline": "string", "max_lines": "number", "max_wait_time": "duration"}, ["firstline"]
    ),
    "stage.pack": _spec({"labels": "list(string)", "ingest_timestamp": "bool"}, ["labels"]),
    "stage.tenant": _spec({"label": "string", "source": "string", "value": "string"}),
}
_COUNTER = _spec(
    {
        "name": "string",
        "action": ("inc", "add"),
        "description": "string",
        "prefix": "string",
        "source": "string",
        "value": "string",
        "match_all": "bool",
        "count_entry_bytes": "bool",
        "max_idle_duration": "duration",
    },
    ["name", "action"],
)
_GAUGE = _spec(
    {
        "name": "string",
        "action": ("inc", "dec", "set", "add", "sub"),
        "description": "string",
        "prefix": "string",
        "source": "string",
        "value": "string",
        "max_idle_duration": "duration",
    },
    ["name", "action"],
)
_HISTOGRAM = _spec(
    {
        "name": "string",
        "buckets": "list",
        "description": "string",
        "prefix": "string",
        "source": "string",
        "value": "string",
        "max_idle_duration": "duration",
    },
    ["name", "buckets"],
)
STAGES["stage.metrics"] = _spec(
    blocks={"metric.counter": _COUNTER, "metric.gauge": _GAUGE, "metric.histogram": _HISTOGRAM}
)
# stage.match runs a nested pipeline: the same stage blocks, itself included.
STAGES["stage.match"] = _spec(
    {
        "selector": "string",
        "action": ("keep", "drop"),
        "pipeline_name": "string",
        "drop_counter_reason": "string",
    },
    ["selector"],
    STAGES,
)

COMPONENTS: dict[str, Spec] = {
    "logging": _spec(
        {"level": ("debug", "info", "warn", "error"), "format": ("logfmt", "json"), "write_to": "list"}
    ),
    "discovery.kubernetes": _spec(
        {"api_server": "string", "role": ("node", "pod", "service", "endpoints", "endpointslice", "ingress")}
        | {"kubeconfig_file": "string"}
        | _HTTP_CLIENT,
        ["role"],
        {
            "namespaces": _spec({"own_namespace": "bool", "names": "list(string)"}),
            "selectors": _spec({"role": "string", "label": "string", "field": "string"}, ["role"]),
            "attach_metadata": _spec({"node": "bool", "namespace": "bool"}),
        },
        ["targets"],
        labelled=True,
    ),
    "discovery.relabel": _spec({"targets": "list"}, ["targets"], {"rule": _RULE}, ["output", "rules"], True),
    "local.file_match": _spec(
        {"path_targets": "list", "sync_period": "duration", "ignore_older_than": "duration"},
        ["path_targets"],
        exports=["targets"],
        labelled=True,
    ),
    "loki.source.file": _spec(
        {
            "targets": "list",
            "forward_to": "receivers",
            "encoding": "string",
            "tail_from_end": "bool",
            "legacy_positions_file": "string",
        },
        ["targets", "forward_to"],
        {
            "decompression": _spec(
                {"enabled": "bool", "format": ("gz", "z", "bz2"), "initial_delay": "duration"},
                ["enabled", "format"],
            ),
            "file_watch": _spec({"min_poll_frequency": "duration", "max_poll_frequency": "duration"}),
        },
        labelled=True,
    ),
    "loki.source.journal": _spec(
        {
            "forward_to": "receivers",
            "format_as_json": "bool",
            "labels": "map(string)",
            "matches": "string",
            "max_age": "duration",
            "path": "string",
            "relabel_rules": "any",
        },
        ["forward_to"],
        labelled=True,
    ),
    "loki.relabel": _spec(
        {"forward_to": "receivers", "max_cache_size": "number"},
        ["forward_to"],
        {"rule": _RULE},
        ["receiver", "rules"],
        True,
    ),
    "loki.process": _spec({"forward_to": "receivers"}, ["forward_to"], STAGES, ["receiver"], True),
    "loki.write": _spec(
        {"external_labels": "map(string)", "max_streams": "number"},
        (),
        {
            "endpoint": _spec(
                {
                    "url": "string",
                    "name": "string",
                    "batch_size": "string",
                    "batch_wait": "duration",
                    "headers": "map(string)",
                    "min_backoff_period": "duration",
                    "max_backoff_period": "duration",
                    "max_backoff_retries": "number",
                    "remote_timeout": "duration",
                    "retry_on_http_429": "bool",
                    "tenant_id": "string",
                }
                | _HTTP_CLIENT,
                ["url"],
            ),
            "wal": _spec(
                {
                    "enabled": "bool",
                    "max_segment_age": "duration",
                    "min_read_frequency": "duration",
                    "max_read_frequency": "duration",
                    "drain_timeout": "duration",
                }
            ),
        },
        ["receiver"],
        True,
    ),
}
# Standard library values a config may reference, and functions it may call.
STDLIB = ("constants.hostname", "constants.os", "constants.arch")
FUNCTIONS = ("sys.env", "coalesce", "array.concat", "string.join", "string.format", "encoding.from_json")

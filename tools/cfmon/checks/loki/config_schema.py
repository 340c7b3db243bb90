"""`loki/config-schema`: Every key of the rendered loki.yaml is one Loki 3.5 knows, with the type Loki
parses it into.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import jsonschema

from cfmon.checks.base import Check, Context, Finding
from cfmon.checks.loki.common import (
    HELPERS,
    SCHEMA_FILE,
    SCHEMA_REL,
    TEMPLATE_HINT,
    rendered_configs,
    values_location,
)
from cfmon.rendered.loki import LokiConfig

_TYPE_NAMES = {
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "string": "a string",
    "array": "a list",
    "object": "a mapping",
}


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
        for cfg in rendered_configs(ctx):
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

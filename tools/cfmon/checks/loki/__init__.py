"""Loki: the rendered loki.yaml, checked offline (no Loki binary can run on the build machines).

`loki/config-schema` holds every key the chart emits to a schema faithful to Loki 3.5's
configuration reference (loki_config.schema.json, next to this file); the others hold the design's
rules: retention on, object storage in staging and prod, the TSDB v13 index from a set date,
retention classes whose selectors Loki can parse, and a year for the audit class.
"""

from __future__ import annotations

from cfmon.checks.loki.audit_retention import LokiAuditRetention
from cfmon.checks.loki.common import HELPERS, SCHEMA_FILE, SCHEMA_REL, prom_seconds
from cfmon.checks.loki.config_schema import LokiConfigSchema
from cfmon.checks.loki.object_storage import LokiObjectStorage
from cfmon.checks.loki.retention import LokiRetention
from cfmon.checks.loki.retention_selectors import LokiRetentionSelectors
from cfmon.checks.loki.schema_period import LokiSchemaPeriods

__all__ = [
    "HELPERS",
    "SCHEMA_FILE",
    "SCHEMA_REL",
    "LokiAuditRetention",
    "LokiConfigSchema",
    "LokiObjectStorage",
    "LokiRetention",
    "LokiRetentionSelectors",
    "LokiSchemaPeriods",
    "prom_seconds",
]

"""`loki/schema-period`: Every index period starts on an explicit date and uses the TSDB store with
schema v13.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from cfmon.checks.base import Check, Context, Finding
from cfmon.checks.loki.common import (
    DAY,
    HELPERS,
    TEMPLATE_HINT,
    _dig,
    periods,
    prom_seconds,
    rendered_configs,
    values_location,
)
from cfmon.rendered.loki import LokiConfig, parsed


class LokiSchemaPeriods(Check):
    """Every index period starts on an explicit date and uses the TSDB store with schema v13.

    Why: boltdb-shipper with schema v11 is deprecated (no structured metadata, which the agents
    send: traceID, spanID, inference_id), TSDB needs a 24h index period, and a period without a
    valid `from` (or out of order) leaves Loki unable to tell which index holds a day.
    Bad: `{from: 2020-10-24, store: boltdb-shipper, schema: v11}`. Good: `{from: "2025-01-01",
    store: tsdb, object_store: s3, schema: v13, index: {prefix: index_, period: 24h}}`.
    """

    id = "loki/schema-period"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        for cfg, config in parsed(rendered_configs(ctx)):
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

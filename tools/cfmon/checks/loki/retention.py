"""`loki/retention`: The compactor applies retention, with a delete request store and periods Loki
accepts.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

from typing import Any

from cfmon.checks.base import Check, Context, Finding
from cfmon.checks.loki.common import (
    DAY,
    HELPERS,
    S3_STORES,
    TEMPLATE_HINT,
    _dig,
    _stream_finding,
    periods,
    prom_seconds,
    rendered_configs,
    retention_streams,
    values_location,
)
from cfmon.rendered.loki import LokiConfig, parsed

MIN_RETENTION = DAY  # Loki refuses a retention class under 24h; retention works per daily table


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
        for cfg, config in parsed(rendered_configs(ctx)):
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
                    hint=f"set {key} to 24h or more (application logs are kept 90d)",
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

"""`loki/object-storage`: In staging and prod, chunks, index and delete requests go to S3-compatible
object storage.

One check per module; its class docstring says why, and what is bad and good.
"""

from __future__ import annotations

from cfmon.checks.base import Check, Context, Finding
from cfmon.checks.loki.common import (
    S3_STORES,
    _dig,
    periods,
    rendered_configs,
    values_location,
)
from cfmon.rendered.loki import parsed

# Environments whose logs must live on object storage (MinIO), not on a pod's volume.
OBJECT_STORAGE_ENVS = ("staging", "prod")


class LokiObjectStorage(Check):
    """In staging and prod, chunks, index and delete requests go to S3-compatible object storage.

    Why: on the filesystem the logs live on one pod's volume: a lost volume loses them, the
    volume caps the retention we need (audit logs a year), and no second replica can
    read them. Bad: `object_store: filesystem` in prod. Good: `object_store: s3` with
    `common.storage.s3` naming the MinIO endpoint and bucket.
    """

    id = "loki/object-storage"

    def run(self, ctx: Context) -> list[Finding]:
        if ctx.env not in OBJECT_STORAGE_ENVS:
            return []
        findings = []
        for cfg, config in parsed(rendered_configs(ctx)):
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

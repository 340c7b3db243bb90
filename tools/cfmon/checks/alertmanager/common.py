"""What the alertmanager checks share: the Alertmanager pod's files laid out as mounted (built once
per environment), amtool's verdict without its noise, and where a user fixes routing.
"""

from __future__ import annotations

import re

from cfmon.checks.base import Context
from cfmon.mounts import Mounts

VALUES_HINT = "fix alertmanager.routes / receivers / inhibitRules in the values files"


def alertmanager_layout(ctx: Context) -> Mounts | None:
    """The rendered Alertmanager's files, laid out once in the run's scratch for both checks."""
    assert ctx.scratch is not None
    return ctx.rendered.model.alertmanager(ctx.scratch / "alertmanager")


def amtool_output(text: str, layout: Mounts) -> str:
    """amtool's verdict without banners, with paths shown as mounted."""
    text = re.sub(r"Checking '[^']*'\s*", "", text.replace(str(layout.root), ""))
    noise = ("Warning: --config.file", "SUCCESS", "Found:", "amtool: error: failed to validate")
    keep = [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.startswith(noise) and not line.startswith(" - ")
    ]
    return "\n    ".join(keep)

"""The rendered Alertmanager: its pod's mounted files (alertmanager.yml and the notification
templates) laid out as the pod reads them, or None when the environment runs no Alertmanager."""

from __future__ import annotations

from pathlib import Path

from cfmon.manifests import Resource
from cfmon.mounts import Mounts, has_container, materialize

CONTAINER = "alertmanager"


def alertmanager_mounts(resources: list[Resource], root: Path) -> Mounts | None:
    """The Alertmanager pod's files under root, as mounted; None when the render has no Alertmanager."""
    return materialize(resources, CONTAINER, root) if has_container(resources, CONTAINER) else None

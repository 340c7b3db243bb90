"""Determinism: the same inputs render the same bytes, so Argo CD settles at Synced."""

from __future__ import annotations

from cfmon.checks.determinism.deterministic import RenderTwice
from cfmon.checks.determinism.forbidden_functions import FORBIDDEN, ForbiddenFunctions

__all__ = ["FORBIDDEN", "ForbiddenFunctions", "RenderTwice"]

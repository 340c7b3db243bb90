"""Size budgets: objects the API server (and etcd) will accept, with room to grow."""

from __future__ import annotations

from cfmon.checks.size.annotations import ANNOTATIONS_BUDGET, AnnotationSize
from cfmon.checks.size.configmap import CONFIGMAP_BUDGET, DASHBOARD_BUDGET, ConfigMapSize

__all__ = ["ANNOTATIONS_BUDGET", "CONFIGMAP_BUDGET", "DASHBOARD_BUDGET", "AnnotationSize", "ConfigMapSize"]

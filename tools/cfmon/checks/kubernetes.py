"""Kubernetes: every rendered object against the API schemas of the oldest and newest supported version."""

from __future__ import annotations

import kubernetes_validate
from kubernetes_validate.utils import SchemaNotFoundError, ValidationError

from cfmon.checks.base import Check, Context, Finding
from cfmon.project import kube_versions


class KubernetesSchema(Check):
    """Strict schema validation (unknown fields are errors) with kubernetes-validate.

    Why: the API server rejects or silently drops what a typo produces; nothing here can apply it.
    Bad: `spec.replica: 2` (unknown field), or a kind with no schema. Good: a valid object in
    every supported Kubernetes version (Chart.yaml kubeVersion).
    """

    id = "kubernetes/schema"

    def run(self, ctx: Context) -> list[Finding]:
        findings = []
        for res in ctx.objects():
            if not res.obj.get("apiVersion") or not res.kind:
                findings.append(
                    self.finding(
                        ctx,
                        f"{res.key}: an object without apiVersion or kind",
                        file=res.source,
                        hint="every manifest needs apiVersion and kind",
                    )
                )
                continue
            for version in kube_versions(ctx.project):
                try:
                    kubernetes_validate.validate(res.obj, version, strict=True)
                except SchemaNotFoundError:
                    findings.append(
                        self.finding(
                            ctx,
                            f"{res.key}: no Kubernetes {version} schema for {res.obj.get('apiVersion')} "
                            f"{res.kind}",
                            file=res.source,
                            hint="use an API version that exists in every supported Kubernetes version",
                        )
                    )
                    break
                except ValidationError as exc:
                    path = ".".join(str(p) for p in exc.path) or "(object)"
                    findings.append(
                        self.finding(
                            ctx,
                            f"{res.key}: {path}: {exc.message} (Kubernetes {version})",
                            file=res.source,
                            hint="fix the template (field name, type or required field)",
                        )
                    )
                    break
        return findings

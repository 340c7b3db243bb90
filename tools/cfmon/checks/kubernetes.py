"""Kubernetes: every rendered object against the API schemas of the oldest and newest supported version."""

from __future__ import annotations

import re
from functools import cache

import jsonschema
from kubernetes_validate import utils as kv
from kubernetes_validate.utils import SchemaNotFoundError
from referencing import Registry, Resource

from cfmon.checks.base import Check, Context, Finding
from cfmon.project import kube_versions


@cache
def _validator(kube_version: str, api_version: str, kind: str) -> jsonschema.Draft202012Validator:
    """The strict validator of one kind in one Kubernetes version, as kubernetes_validate.validate
    builds it (the newest schema set not newer than the version; rbac.authorization.k8s.io/v1 ->
    rbac-v1), built once: that function reads and compiles the schema files for every object, which
    was most of this check's time."""
    wanted = kv.major_minor(kube_version)
    version = [v for v in kv.all_versions() if kv.major_minor(v) <= wanted][-1]
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    schema_dir = f"kubernetes-json-schema/v{version}-local-strict"
    try:
        schema = kv.schema_contents(f"{schema_dir}/{kind.lower()}-{group_version}.json", kube_version)
    except FileNotFoundError:
        raise SchemaNotFoundError(version=wanted, kind=kind, api_version=api_version) from None
    definitions = kv.schema_contents(f"{schema_dir}/_definitions.json", kube_version)
    registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.Draft202012Validator(schema, registry=registry)


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
                    _validator(version, str(res.obj["apiVersion"]), res.kind).validate(res.obj)
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
                except jsonschema.ValidationError as exc:
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

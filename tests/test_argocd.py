"""deploy/argocd: one Application per environment that renders exactly what CI checks.

Argo CD runs `helm template <releaseName> <source.path> -f <valueFiles relative to the chart>`;
these tests run the same command and compare it with `cfmon render`'s helm output, so an
Application that drifts from the chart, the values files or the pinned release/namespace fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from cfmon import binaries
from cfmon.manifests import split_by_source
from cfmon.project import NAMESPACE, RELEASE, find_root, kube_versions
from cfmon.render import canonical, helm_output

PROJECT = find_root(ROOT)
ARGOCD = ROOT / "deploy/argocd"
ENVS = PROJECT.environments()
# Kinds without a namespace (the ones a chart like this may render).
CLUSTER_SCOPED = {
    "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PriorityClass",
    "StorageClass", "PersistentVolume", "IngressClass", "APIService", "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
}  # fmt: skip


def documents() -> list[tuple[Path, dict]]:
    docs = []
    for path in sorted(ARGOCD.glob("*.yaml")):
        docs += [(path, d) for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def applications() -> dict[str, dict]:
    """Applications by the environment of their values file."""
    apps = {}
    for path, doc in documents():
        if doc.get("kind") != "Application":
            continue
        files = doc["spec"]["source"]["helm"]["valueFiles"]
        envs = [Path(f).stem for f in files if Path(f).parent.name == "values"]
        assert len(envs) == 1, f"{path.name}: exactly one values/<env>.yaml in valueFiles, got {files}"
        assert envs[0] not in apps, f"two Applications for {envs[0]}"
        apps[envs[0]] = doc
    return apps


def project_doc() -> dict:
    projects = [d for _, d in documents() if d.get("kind") == "AppProject"]
    assert len(projects) == 1
    return projects[0]


def chart_dir(app: dict) -> Path:
    return ROOT / app["spec"]["source"]["path"]


def test_every_environment_has_one_application():
    assert ENVS and sorted(applications()) == ENVS


def test_every_manifest_is_an_argo_cd_object_listed_in_the_kustomization():
    kustomization = yaml.safe_load((ARGOCD / "kustomization.yaml").read_text())
    listed = sorted(kustomization["resources"])
    assert listed == sorted(p.name for p in ARGOCD.glob("*.yaml") if p.name != "kustomization.yaml")
    for path, doc in documents():
        if path.name == "kustomization.yaml":
            continue
        assert doc["apiVersion"] == "argoproj.io/v1alpha1", path
        assert doc["kind"] in ("Application", "AppProject"), path
        assert doc["metadata"]["namespace"] == "argocd", path


@pytest.mark.parametrize("env", ENVS)
def test_source_path_and_value_files_exist(env):
    app = applications()[env]
    source = app["spec"]["source"]
    chart = chart_dir(app)
    assert (chart / "Chart.yaml").is_file(), source["path"]
    assert chart.resolve() == PROJECT.chart.resolve()
    assert source["helm"]["releaseName"] == RELEASE
    assert source["helm"].get("ignoreMissingValueFiles") is not True
    for f in source["helm"]["valueFiles"]:
        resolved = (chart / f).resolve()
        assert resolved.is_file(), f"{f} (relative to {source['path']}) does not exist"
        assert ROOT.resolve() in resolved.parents, f"{f} leaves the repository"
    assert (chart / source["helm"]["valueFiles"][0]).resolve() == PROJECT.env_values(env).resolve()


def test_repository_project_and_revision_are_consistent():
    apps = applications()
    project = project_doc()
    home = yaml.safe_load((PROJECT.chart / "Chart.yaml").read_text())["home"]
    for env, app in apps.items():
        spec = app["spec"]
        assert spec["source"]["repoURL"].removesuffix(".git") == home, env
        assert spec["source"]["repoURL"] in project["spec"]["sourceRepos"], env
        assert spec["project"] == project["metadata"]["name"], env
        assert spec["source"]["targetRevision"], env
        assert app["metadata"]["name"] == f"creativeflow-monitoring-{env}"
    assert len({a["spec"]["source"]["repoURL"] for a in apps.values()}) == 1


@pytest.mark.parametrize("env", ENVS)
def test_destination_is_the_environment_cluster_and_pinned_namespace(env):
    app = applications()[env]
    dest = app["spec"]["destination"]
    values = yaml.safe_load(PROJECT.env_values(env).read_text())
    assert dest["namespace"] == NAMESPACE
    assert dest["name"] == values["global"]["cluster"]
    assert {"name": dest["name"], "namespace": NAMESPACE} in project_doc()["spec"]["destinations"]


@pytest.mark.parametrize("env", ENVS)
def test_sync_policy(env):
    policy = applications()[env]["spec"]["syncPolicy"]
    assert {"ServerSideApply=true", "CreateNamespace=true"} <= set(policy["syncOptions"])
    if env == "prod":
        assert "automated" not in policy  # an operator syncs prod after reading the diff
    else:
        assert policy["automated"] == {"prune": True, "selfHeal": True}
    assert "ignoreDifferences" not in applications()[env]["spec"]


def argo_render(app: dict) -> str:
    """What Argo CD's repo server runs: helm template from the chart directory, value files as written."""
    helm = app["spec"]["source"]["helm"]
    args = ["template", helm["releaseName"], ".", "--namespace", app["spec"]["destination"]["namespace"]]
    args += ["--kube-version", kube_versions(PROJECT)[0], "--include-crds"]
    for f in helm["valueFiles"]:
        args += ["-f", f]
    proc = binaries.run("helm", args, cwd=chart_dir(app))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("env", ENVS)
def test_argo_cd_renders_exactly_what_cfmon_checks(env):
    app = applications()[env]
    ours = canonical(split_by_source(helm_output(PROJECT, env)[0]))
    theirs = canonical(split_by_source(argo_render(app)))
    assert theirs == ours
    # Nothing Argo CD would treat differently from `helm upgrade`: no hooks, no lookup, no random.
    assert "helm.sh/hook" not in theirs


@pytest.mark.parametrize("env", ENVS)
def test_project_allows_every_cluster_scoped_kind_the_chart_renders(env):
    allowed = {(r["group"], r["kind"]) for r in project_doc()["spec"]["clusterResourceWhitelist"]}
    for doc in yaml.safe_load_all(argo_render(applications()[env])):
        if not doc or doc["kind"] not in CLUSTER_SCOPED:
            continue
        group = doc["apiVersion"].rpartition("/")[0]
        assert (group, doc["kind"]) in allowed, f"{doc['kind']} {doc['metadata']['name']} is cluster-scoped"


@pytest.mark.parametrize("team", ["ai-models", "gateway"])
def test_an_application_with_a_team_value_file_renders_what_cfmon_checks(team):
    """A team's overlay is one more entry in valueFiles, after values/<env>.yaml."""
    import copy

    app = copy.deepcopy(applications()["prod"])
    app["spec"]["source"]["helm"]["valueFiles"].append(f"../../values/teams/{team}/values.yaml")
    overlay = PROJECT.path(f"values/teams/{team}/values.yaml")
    ours = canonical(split_by_source(helm_output(PROJECT, "prod", [overlay])[0]))
    assert canonical(split_by_source(argo_render(app))) == ours

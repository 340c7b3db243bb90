"""Lay a rendered workload's mounted ConfigMaps out in a temporary root, exactly as mounted.

The tools then read the files a pod would read. Absolute paths in the config are re-rooted into
the temporary directory; files from Secrets and the service-account token (which we never
render) become empty placeholders, so a check reads what ships without any real secret.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from cfmon.errors import UserError
from cfmon.manifests import Resource

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


@dataclass
class Mounts:
    root: Path
    config: Path  # the re-rooted config file
    mounts: dict[str, str]  # mountPath -> "configMap/<name>[,<name>...]" | "projected" | "secret" | ...
    files: dict[str, Resource]  # re-rooted file path -> ConfigMap it came from

    def reroot(self, text: str) -> str:
        for mount in sorted(self.mounts, key=len, reverse=True):
            text = re.sub(rf"(?<![\w/]){re.escape(mount)}(?=/|\b)", str(self.root) + mount, text)
        return text


def _containers(resources: list[Resource]):
    for res in resources:
        if res.kind in ("StatefulSet", "Deployment", "DaemonSet"):
            for c in res.obj["spec"]["template"]["spec"].get("containers", []):
                yield res, c


def has_container(resources: list[Resource], container: str) -> bool:
    """Whether the render runs this component (it may be disabled in an environment)."""
    return any(c.get("name") == container for _, c in _containers(resources))


def find_container(resources: list[Resource], container: str) -> tuple[Resource, dict]:
    for res, c in _containers(resources):
        if c.get("name") == container:
            return res, c
    raise UserError(
        f"no workload with a container named {container!r} in the render",
        hint=f"is {container} enabled in this environment?",
    )


def materialize(resources: list[Resource], container: str, root: Path, flag: str = "--config.file") -> Mounts:
    workload, c = find_container(resources, container)
    pod = workload.obj["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    configmaps = {r.name: r for r in resources if r.kind == "ConfigMap"}
    mounts: dict[str, str] = {}
    files: dict[str, Resource] = {}
    for vm in c.get("volumeMounts", []):
        vol = volumes.get(vm["name"], {})
        target = root / vm["mountPath"].lstrip("/")
        target.mkdir(parents=True, exist_ok=True)
        # A configMap volume, or a projected volume (several ConfigMaps in one directory).
        sources = [vol] if "configMap" in vol else (vol.get("projected") or {}).get("sources") or []
        cm_sources = [s["configMap"] for s in sources if "configMap" in s]
        if not cm_sources:
            kind = next((k for k in vol if k != "name"), "unknown")
            mounts[vm["mountPath"]] = kind
            continue
        names = []
        for source in cm_sources:
            cm = configmaps.get(source["name"])
            if cm is None:
                raise UserError(
                    f"{workload.kind} {workload.name} mounts ConfigMap "
                    f"{source['name']!r}, which is not rendered",
                    file=workload.source,
                )
            items = {i["key"]: i["path"] for i in source.get("items", [])}
            for key, value in (cm.obj.get("data") or {}).items():
                if items and key not in items:
                    continue
                path = target / items.get(key, key)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(value)
                files[str(path)] = cm
            names.append(cm.name)
        # Secrets or tokens projected next to the ConfigMaps become placeholders like any secret.
        only_configmaps = len(cm_sources) == len(sources)
        mounts[vm["mountPath"]] = f"configMap/{','.join(names)}" if only_configmaps else "projected"
    if pod.get("automountServiceAccountToken", True):
        mounts.setdefault(SA_DIR, "serviceAccountToken")
    arg = next((a for a in c.get("args", []) if a.startswith(flag + "=")), None)
    if arg is None:
        raise UserError(f"container {container!r} has no {flag} argument", file=workload.source)
    config = root / arg.split("=", 1)[1].lstrip("/")
    layout = Mounts(root, config, mounts, files)
    if not config.is_file():
        raise UserError(
            f"{flag} points at {arg.split('=', 1)[1]}, which no mounted ConfigMap provides",
            file=workload.source,
        )
    # Placeholders for files that come from Secrets or the service account at run time; then
    # re-root every absolute path in every mounted file (scrape configs name CA files too).
    for name in files:
        text = Path(name).read_text()
        for mount, kind in mounts.items():
            if kind.startswith("configMap/"):
                continue
            for path in set(re.findall(rf"{re.escape(mount)}/[\w.-]+", text)):
                placeholder = root / path.lstrip("/")
                placeholder.parent.mkdir(parents=True, exist_ok=True)
                placeholder.touch()
        Path(name).write_text(layout.reroot(text))
    return layout

"""Grafana dashboards as they ship: read from the rendered dashboard ConfigMaps, walked panel by
panel, with Grafana's template variables replaced so PromQL and LogQL parsers can read the queries;
and the URL the rendered Grafana serves at (grafana.ini's root_url), where alerts must link.

Used by the `dashboards/*` checks and by `cfmon preview` / the docs' dashboard pictures.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cfmon import sourcemap
from cfmon.manifests import Resource
from cfmon.serialize import parse_yaml

DASHBOARDS_DIR = "charts/creativeflow-monitoring/charts/grafana/files/dashboards"

# ---- dashboards from the render ---------------------------------------------------------------------


@dataclass(frozen=True)
class Dashboard:
    key: str  # the ConfigMap data key, <uid>.json
    folder: str  # Grafana folder ("" is General)
    configmap: str
    template: str  # the chart template that rendered the ConfigMap
    text: str
    model: dict[str, Any] = field(default_factory=dict)  # {} when the text is not a JSON object
    error: str | None = None  # why the text is not a dashboard (JSON syntax), with the line

    @property
    def stem(self) -> str:
        return self.key.removesuffix(".json")

    @property
    def generated(self) -> str:
        """The generated file in the chart this ConfigMap was rendered from."""
        return f"{DASHBOARDS_DIR}/{self.folder + '/' if self.folder else ''}{self.key}"

    @property
    def uid(self) -> str:
        return str(self.model.get("uid") or "")

    @property
    def title(self) -> str:
        return str(self.model.get("title") or "")


def is_dashboard_configmap(res: Resource) -> bool:
    labels = (res.obj.get("metadata") or {}).get("labels") or {}
    return (
        res.kind == "ConfigMap"
        and labels.get("app.kubernetes.io/name") == "grafana"
        and labels.get("app.kubernetes.io/component") == "dashboard"
    )


def dashboard_configmaps(resources: Iterable[Resource]) -> Iterator[Resource]:
    return (res for res in resources if is_dashboard_configmap(res))


def rendered_dashboards(resources: Iterable[Resource]) -> list[Dashboard]:
    """Every dashboard of the rendered Grafana dashboard ConfigMaps, in (folder, file) order."""
    found = []
    for res in dashboard_configmaps(resources):
        meta = res.obj.get("metadata") or {}
        folder = str((meta.get("annotations") or {}).get("creativeflow.ai/dashboard-folder", ""))
        folder = "" if folder == "General" else folder
        for key, text in sorted((res.obj.get("data") or {}).items()):
            if not key.endswith(".json"):
                continue
            found.append(_load(key, folder, res, str(text)))
    return sorted(found, key=lambda d: (d.folder, d.key))


def _load(key: str, folder: str, res: Resource, text: str) -> Dashboard:
    base = {"key": key, "folder": folder, "configmap": res.name, "template": res.source, "text": text}
    try:
        model = json.loads(text)
    except json.JSONDecodeError as exc:
        return Dashboard(**base, error=f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")
    if not isinstance(model, dict):
        return Dashboard(**base, error=f"a dashboard is a JSON object, not a {type(model).__name__}")
    return Dashboard(**base, model=model)


# ---- panels, targets, variables -----------------------------------------------------------------


@dataclass(frozen=True)
class Panel:
    obj: dict[str, Any]
    row: str | None  # title of the collapsed row holding it (its panels are nested in the row)
    row_index: int | None = None  # that row's position among the top-level panels

    @property
    def id(self) -> Any:
        return self.obj.get("id")

    @property
    def type(self) -> str:
        return str(self.obj.get("type") or "")

    @property
    def title(self) -> str:
        return str(self.obj.get("title") or "")

    @property
    def label(self) -> str:
        """How messages name the panel: `panel "Request rate" (id 3)`."""
        return f'panel "{self.title}" (id {self.id})'

    def targets(self) -> list[dict[str, Any]]:
        return [t for t in self.obj.get("targets") or [] if isinstance(t, dict)]


def panels(model: dict[str, Any]) -> list[Panel]:
    """Every panel, rows included, with the panels a collapsed row nests right after the row."""
    out = []
    for index, obj in enumerate(model.get("panels") or []):
        if not isinstance(obj, dict):
            continue
        out.append(Panel(obj, None))
        if obj.get("type") == "row":
            title = str(obj.get("title") or "")
            out += [Panel(p, title, index) for p in obj.get("panels") or [] if isinstance(p, dict)]
    return out


def variables(model: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for v in (model.get("templating") or {}).get("list") or [] if isinstance(v, dict)]


def variable_query(var: dict[str, Any]) -> str:
    """A query variable's query text (Grafana stores a string or {query: ...})."""
    query = var.get("query")
    if isinstance(query, dict):
        query = query.get("query")
    return str(query or "")


# ---- the server -------------------------------------------------------------------------------------


def rendered_grafana_root_url(resources: Iterable[Resource]) -> str | None:
    """The URL the rendered Grafana serves at, as it says itself: `[server] root_url` of its
    grafana.ini (the chart's grafana.rootUrl, else global.grafanaUrl), without a trailing slash.
    None when the release ships no Grafana (grafana.enabled: false) or its grafana.ini sets none."""
    for res in resources:
        labels = (res.obj.get("metadata") or {}).get("labels") or {}
        ini = (res.obj.get("data") or {}).get("grafana.ini")
        if res.kind == "ConfigMap" and labels.get("app.kubernetes.io/name") == "grafana" and ini:
            return (ini_value(str(ini), "server", "root_url") or "").rstrip("/") or None
    return None


def ini_value(text: str, section: str, key: str) -> str | None:
    """One value of an ini text as the chart writes grafana.ini (`[section]`, then `key = value`
    lines; `;` and `#` start comments), None when the section does not set the key."""
    current = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
        elif current == section and "=" in line and not line.startswith((";", "#")):
            name, _, value = line.partition("=")
            if name.strip() == key:
                return value.strip()
    return None


# ---- datasources ------------------------------------------------------------------------------------

# Grafana's own pseudo datasources: annotations, mixed panels, panels reusing another's query.
BUILTIN_DATASOURCES = {"-- Grafana --", "grafana", "-- Mixed --", "-- Dashboard --"}
VARIABLE_REF = re.compile(r"^\$\{(\w+)(?::[^}]*)?\}$|^\$(\w+)$|^\[\[(\w+)\]\]$")


def provisioned_datasources(resources: Iterable[Resource]) -> dict[str, str]:
    """uid -> type of every datasource the rendered Grafana provisioning file declares."""
    out: dict[str, str] = {}
    for res in resources:
        labels = (res.obj.get("metadata") or {}).get("labels") or {}
        if res.kind != "ConfigMap" or labels.get("app.kubernetes.io/name") != "grafana":
            continue
        payload = (res.obj.get("data") or {}).get("datasources.yaml")
        if not payload:
            continue
        try:
            doc = parse_yaml(payload) or {}
        except yaml.YAMLError:
            continue
        for ds in doc.get("datasources") or []:
            if isinstance(ds, dict) and ds.get("uid"):
                out[str(ds["uid"])] = str(ds.get("type") or "")
    return out


def variable_ref(uid: str) -> str | None:
    """The variable a datasource uid refers to (`${datasource}` -> datasource), or None."""
    m = VARIABLE_REF.match(uid)
    return next((g for g in m.groups() if g), None) if m else None


def datasource_type(ds: Any, model: dict[str, Any], provisioned: dict[str, str]) -> str | None:
    """The plugin type a datasource reference resolves to (prometheus, loki, ...), when known."""
    if not isinstance(ds, dict):
        return None
    if ds.get("type"):
        return str(ds["type"])
    uid = str(ds.get("uid") or "")
    name = variable_ref(uid)
    if name:
        var = next((v for v in variables(model) if v.get("name") == name), None)
        if var is None or var.get("type") != "datasource":
            return None
        return str(var.get("query") or "") or None  # a datasource variable's query is the plugin type
    return provisioned.get(uid)


def target_datasource(panel: Panel, target: dict[str, Any]) -> Any:
    """The datasource a target queries: its own, else its panel's (Grafana's rule)."""
    ds = target.get("datasource")
    if isinstance(ds, dict) and ds.get("uid") not in (None, "", "-- Mixed --"):
        return ds
    return panel.obj.get("datasource")


# ---- template variables -----------------------------------------------------------------------------

# Grafana's built-in variables. Durations are distinctive (rate-interval checks recognise them after
# parsing, where the parser only keeps the number of seconds); numbers stand for *_s/*_ms forms.
BUILTINS = {
    "__rate_interval": "4m1s",
    "__interval": "1m1s",
    "__range": "1h1s",
    "__auto": "2m1s",
    "__interval_ms": "61000",
    "__range_s": "3601",
    "__range_ms": "3601000",
    "__rate_interval_ms": "241000",
}
BUILTIN_SECONDS = {241.0: "$__rate_interval", 61.0: "$__interval", 3601.0: "$__range", 121.0: "$__auto"}
PLACEHOLDER = "grafana_var"  # a value that is a valid label value, label name and metric name
# Grafana's own pattern: $var, [[var]] or [[var:fmt]], ${var}, ${var.field}, ${var:fmt}.
VARIABLE = re.compile(r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}")


def _fallback(name: str, variables_by_name: dict[str, dict[str, Any]]) -> str:
    """What a user variable stands for outside quotes: its default when that is a number or an
    interval (topk($n, ...), [$window]), else an identifier (by ($group), $metric)."""
    var = variables_by_name.get(name) or {}
    current = (var.get("current") or {}).get("value")
    if isinstance(current, list):
        current = current[0] if current else None
    if current is None and var.get("type") in ("custom", "interval", "textbox", "constant"):
        current = str(var.get("query") or "").split(",")[0].strip()
    current = str(current or "")
    if re.fullmatch(r"\d+(\.\d+)?|(\d+(ms|[smhdwy]))+", current):
        return current
    return "5m" if var.get("type") == "interval" else PLACEHOLDER


def substitute(expr: str, model_variables: Iterable[dict[str, Any]] = ()) -> str:
    """The query with every Grafana variable replaced by something of the right kind: built-in
    intervals by durations, variables inside quotes by a placeholder label value, inside a range
    `[...]` by a duration, elsewhere by their numeric default or an identifier."""
    by_name = {str(v.get("name")): v for v in model_variables}
    out: list[str] = []
    quote: str | None = None
    depth = 0  # inside [ ... ]
    i = 0
    while i < len(expr):
        ch = expr[i]
        if quote:
            if ch == "\\" and quote != "`":
                out.append(expr[i : i + 2])
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'`":
            quote = ch
        elif ch == "[" and not expr.startswith("[[", i):
            depth += 1
        elif ch == "]" and depth:
            depth -= 1
        m = VARIABLE.match(expr, i) if ch in "$[" else None
        if m:
            name = next(g for g in (m.group(1), m.group(2), m.group(4)) if g)
            if name in BUILTINS:
                out.append(BUILTINS[name])
            elif quote:
                out.append(PLACEHOLDER)
            elif depth:
                out.append("5m")
            else:
                out.append(_fallback(name, by_name))
            i = m.end()
            continue
        out.append(ch)
        i += 1
    return "".join(out)


# ---- where a dashboard is written ---------------------------------------------------------------------


def source(root: Path, dashboard: Dashboard, needle: str | None = None) -> tuple[str, int | None]:
    """The file a user edits for this dashboard and the line that holds `needle` (a panel title, a
    variable name) or else its uid, from the source map `cfmon generate` writes; else the
    generated JSON file."""
    return sourcemap.dashboard(root, dashboard.uid or dashboard.stem, needle) or (dashboard.generated, None)

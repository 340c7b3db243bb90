"""The PromQL a Grafana dashboard runs: its Prometheus targets, the step Grafana picks for a range
query, and the dashboard's variables substituted the way Grafana does on a fresh load.

Grafana specifics reproduced here (Grafana 10-12, Prometheus datasource):
- step: the panel's time range divided by its max data points (its width in pixels), rounded to a
  "nice" interval, never below the panel's min interval or the datasource's scrape interval;
- `$__interval` is that step; `$__rate_interval` is max(step + scrape interval, 4 x scrape interval);
- a variable with no saved value takes its first option: "All" when it includes All (its
  `allValue`, or every value as a regex alternation), else the first value its query returns;
- a multi-value or include-All variable is regex-escaped; several values become `(a|b)`.

Panels and variables are read with cfmon.rendered.grafana, the one dashboard reader; what is here
is the benchmark's own part: Grafana's step and a fresh load's variable values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cfmon.catalog import conventions
from cfmon.durations import format_ms, parse_seconds
from cfmon.rendered import grafana as rendered_grafana

SCREEN_PX = 1800  # a dashboard 24 grid columns wide on a 1920 px screen, less the side menu
ROUNDING = (  # Grafana's kbn.roundInterval: (below this many ms, use this many seconds)
    (1500, 1),
    (3500, 2),
    (7500, 5),
    (12500, 10),
    (17500, 15),
    (25000, 20),
    (45000, 30),
    (90000, 60),
    (210000, 120),
    (450000, 300),
    (750000, 600),
    (1050000, 900),
    (1500000, 1200),
    (2700000, 1800),
    (5400000, 3600),
    (9000000, 7200),
    (16200000, 14400),
    (32400000, 21600),
    (86400000, 43200),
)


class DashboardError(ValueError):
    """A dashboard file the benchmark cannot read (says which file and what)."""


def seconds(text: str) -> float:
    """'15s', '1m', '6h', '1h30m', '1.5m' -> seconds (Grafana's grammar)."""
    return parse_seconds(text.strip(), fractional=True)


def duration(secs: float) -> str:
    """Seconds -> the shortest PromQL duration ('90s' -> '1m30s', 0.5 -> '500ms')."""
    return format_ms(round(secs * 1000) if secs < 1 else round(secs) * 1000)


def round_interval(secs: float) -> float:
    ms = secs * 1000
    for below, value in ROUNDING:
        if ms < below:
            return value
    return 86400.0


def step_for(range_s: float, max_data_points: int, min_interval: float) -> float:
    """The step Grafana gives a range query (and `$__interval`)."""
    return max(round_interval(range_s / max(max_data_points, 1)), min_interval)


def rate_interval(step: float, scrape: float) -> float:
    return max(step + scrape, 4 * scrape)


# ---- reading dashboards -----------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    dashboard: str  # <folder>/<uid>
    panel: str
    ref: str
    expr: str  # as written, variables unexpanded
    instant: bool  # what Grafana runs for it (an instant query, not a range)
    max_data_points: int
    min_interval: float | None  # the panel's or target's `interval`, in seconds


@dataclass(frozen=True)
class Dashboard:
    key: str  # <folder>/<uid>
    title: str
    range_s: float  # the default time range (`time.from`), in seconds
    variables: tuple[dict, ...]
    queries: tuple[Query, ...]
    skipped: int  # Loki and other non-Prometheus targets


def load(path: Path, root: Path) -> Dashboard:
    try:
        dash = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DashboardError(f"{path}: not readable JSON: {exc}") from None
    key = path.relative_to(root).with_suffix("").as_posix()
    frm = str((dash.get("time") or {}).get("from", "now-6h"))
    m = re.fullmatch(r"now-(\S+)", frm)
    try:
        range_s = seconds(m.group(1)) if m else 6 * 3600
    except ValueError:
        range_s = 6 * 3600
    variables = tuple(rendered_grafana.variables(dash))
    ds_types = {v.get("name"): str(v.get("query")) for v in variables if v.get("type") == "datasource"}
    queries, skipped = [], 0
    for panel in (p.obj for p in rendered_grafana.panels(dash)):
        for target in panel.get("targets") or []:
            if target.get("hide") or not str(target.get("expr") or "").strip():
                continue
            if (
                _datasource_type(target.get("datasource") or panel.get("datasource"), ds_types)
                != "prometheus"
            ):
                skipped += 1
                continue
            width = int((panel.get("gridPos") or {}).get("w") or 12)
            columns = conventions().grid_columns
            mdp = int(panel.get("maxDataPoints") or max(100, round(width / columns * SCREEN_PX)))
            interval = target.get("interval") or panel.get("interval")
            queries.append(
                Query(
                    dashboard=key,
                    panel=str(panel.get("title") or f"panel {panel.get('id')}"),
                    ref=str(target.get("refId") or ""),
                    expr=str(target["expr"]),
                    instant=bool(target.get("instant")) and not target.get("range"),
                    max_data_points=mdp,
                    min_interval=_interval_s(interval),
                )
            )
    return Dashboard(key, str(dash.get("title") or key), range_s, variables, tuple(queries), skipped)


def load_all(directory: Path) -> list[Dashboard]:
    """Every dashboard JSON under `directory` (<folder>/<uid>.json), sorted by path."""
    return [load(p, directory) for p in sorted(directory.rglob("*.json"))]


def _datasource_type(ds: object, ds_types: dict[str, str]) -> str:
    if isinstance(ds, dict):
        if ds.get("type"):
            return str(ds["type"])
        ds = ds.get("uid")
    if isinstance(ds, str):
        m = re.fullmatch(r"\$\{?(\w+)\}?", ds)
        if m and m.group(1) in ds_types:
            return ds_types[m.group(1)]
        if "loki" in ds.lower():
            return "loki"
    return "prometheus"  # no datasource: the default one, Prometheus in this stack


def _interval_s(value: object) -> float | None:
    if not value:
        return None
    text = str(value).lstrip(">")
    try:
        return seconds(text)
    except ValueError:
        return None  # a variable or something Grafana would ignore


# ---- variables --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    values: tuple[str, ...]
    regex_escape: bool  # multi-value or include-All variables are regex-escaped by Grafana
    all_value: str | None = None  # `allValue` when All is selected

    def render(self, fmt: str | None = None) -> str:
        if self.all_value is not None:
            return self.all_value
        vals = [_regex_escape(v) for v in self.values] if self.regex_escape or fmt == "regex" else self.values
        if fmt == "pipe":
            return "|".join(self.values)
        if fmt == "raw" or len(vals) == 1:
            return vals[0] if vals else ""
        return "(" + "|".join(vals) + ")"


_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?:(.*?)\s*,\s*)?([a-zA-Z_]\w*)\s*\)\s*$", re.S)
_QUERY_RESULT = re.compile(r"^\s*query_result\((.*)\)\s*$", re.S)
_VAR = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\[\[(\w+)(?::(\w+))?\]\]|\$(\w+)")


def variable_query(var: dict) -> str:
    """The variable's query, or its `definition` when it has none (Grafana shows that)."""
    return rendered_grafana.variable_query(var) or str(var.get("definition") or "")


# lookup(kind, expression, label) -> values: kind "label_values" (expression may be "") or
# "query_result" (the instant query's result lines, `metric{labels} value timestamp`).
Lookup = Callable[[str, str, str], list[str]]


def resolve(variables: tuple[dict, ...], lookup: Lookup, builtins: dict[str, str]) -> dict[str, Value]:
    """The value of every variable on a fresh load, in order (later variables may use earlier ones)."""
    out: dict[str, Value] = {}
    for var in variables:
        name, vtype = str(var.get("name")), var.get("type")
        multi = bool(var.get("multi")) or bool(var.get("includeAll"))
        if vtype == "datasource":
            out[name] = Value((str(var.get("query") or "prometheus"),), False)
            continue
        if vtype in ("constant", "textbox"):
            text = variable_query(var) or str((var.get("current") or {}).get("value") or "")
            out[name] = Value((text,), False)
            continue
        if vtype == "interval":
            opts = [o.strip() for o in variable_query(var).split(",") if o.strip()]
            out[name] = Value((opts[0] if opts else "1m",), False)
            continue
        if vtype == "custom":
            options = [o.strip() for o in re.split(r"(?<!\\),", variable_query(var)) if o.strip()]
            options = [o.split(" : ", 1)[-1] for o in options]
        elif vtype == "query":
            options = _query_options(var, lookup, expand(variable_query(var), out, builtins))
        else:
            continue  # adhoc filters and the like add nothing to the expressions
        current = _saved(var)
        if current is not None:
            out[name] = Value(current, multi)
        elif var.get("includeAll"):
            all_value = var.get("allValue") or None
            out[name] = Value(tuple(options), True, all_value)
        else:
            out[name] = Value(tuple(options[:1]), multi)
    return out


def _saved(var: dict) -> tuple[str, ...] | None:
    value = (var.get("current") or {}).get("value")
    if value in (None, "", [], "$__all") or value == ["$__all"]:
        return None
    return tuple(value) if isinstance(value, list) else (str(value),)


def _query_options(var: dict, lookup: Lookup, query: str) -> list[str]:
    m = _LABEL_VALUES.match(query)
    if m:
        values = lookup("label_values", m.group(1) or "", m.group(2))
    else:
        m = _QUERY_RESULT.match(query)
        values = lookup("query_result", m.group(1), "") if m else []
    regex = str(var.get("regex") or "")
    if regex:
        pattern = re.compile(regex.strip("/"))
        picked = []
        for v in values:
            hit = pattern.search(v)
            if hit:
                picked.append(hit.group(1) if hit.groups() else hit.group(0))
        values = picked
    sort = int(var.get("sort") or 0)  # 0 as returned; odd ascending, even descending
    if sort:
        return sorted(set(values), reverse=sort % 2 == 0)
    return list(dict.fromkeys(values))


def expand(expr: str, values: dict[str, Value], builtins: dict[str, str]) -> str:
    """`expr` with `$var`, `${var}`, `${var:fmt}`, `[[var]]` and Grafana's `$__` variables replaced;
    unknown names are left as written (Prometheus then refuses the query, which is reported)."""

    def sub(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(3) or m.group(5)
        fmt = m.group(2) or m.group(4)
        if name in builtins:
            return builtins[name]
        if name in values:
            return values[name].render(fmt)
        return m.group(0)

    return _VAR.sub(sub, expr)


def builtins(range_s: float, step: float, scrape: float) -> dict[str, str]:
    """Grafana's global variables for one query: range, interval and rate interval."""
    rate = rate_interval(step, scrape)
    return {
        "__interval": duration(step),
        "__interval_ms": str(round(step * 1000)),
        "__rate_interval": duration(rate),
        "__rate_interval_ms": str(round(rate * 1000)),
        "__range": duration(range_s),
        "__range_s": str(round(range_s)),
        "__range_ms": str(round(range_s * 1000)),
    }


def _regex_escape(value: str) -> str:
    # Grafana's prometheusRegularEscape: a regex escape written inside a PromQL string, so doubled.
    value = value.replace("\\", "\\\\\\\\")
    return re.sub(r"([$^*{}\[\]'+?.()|])", r"\\\\\1", value)

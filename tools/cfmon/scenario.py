"""Sandbox scenario files: what the synthetic exporter serves over time, what happens to the stack
(events), and what must come out of it (expectations). The format is documented in docs/sandbox.md.

Loading validates everything a user can get wrong and says where (file, key) and how to fix it.
evaluate() checks the expectations against what a run observed; it is pure (no processes), so the
expectation logic is unit-tested without Prometheus.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import promql_parser as pp
import yaml

from cfmon.durations import format_ms, parse_ms
from cfmon.errors import UserError

DEFAULT_SPEED = 100
DEFAULT_INTERVAL = "1m"
ACTIONS = ("stop_target", "start_target", "kill_alertmanager", "restart_prometheus", "stop_prometheus")
STATUSES = ("firing", "resolved")
# Series Prometheus writes per scrape: a scenario cannot serve them.
GENERATED = frozenset(
    {
        "up",
        "scrape_duration_seconds",
        "scrape_samples_scraped",
        "scrape_samples_post_metric_relabeling",
        "scrape_series_added",
    }
)

_NUM = r"(?:[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?|Inf|inf|NaN|nan)"
_EXPAND = re.compile(rf"(?P<a>[+-]?{_NUM})(?:(?P<op>[+-])(?P<b>{_NUM}))?x(?P<n>[0-9]+)")
_SINGLE = re.compile(rf"[+-]?{_NUM}")


# ---- the data --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    metric: str
    labels: dict[str, str]  # without __name__; `job` and `instance` pick the target
    values: tuple[float | None, ...]  # one per step; None: no sample (`_`, `stale`, or past the end)
    interval_ms: int  # scenario time between two values
    envs: tuple[str, ...] | None = None  # served only in these environments (None: every one)

    def value_at(self, step: int) -> float | None:
        return self.values[step] if 0 <= step < len(self.values) else None


@dataclass(frozen=True)
class Event:
    at_ms: int
    action: str
    job: str | None = None
    instance: str | None = None
    peer: str | None = None  # kill_alertmanager: "first" (the peer that notifies first) or an index


@dataclass(frozen=True)
class Match:
    """One expected alert or notification: which alert (name + label subset), where, when."""

    alertname: str
    labels: dict[str, str] = field(default_factory=dict)
    receiver: str | None = None
    status: str = "firing"
    count: int | None = None  # exact number of notifications; None: at least one
    after_ms: int | None = None
    before_ms: int | None = None
    envs: tuple[str, ...] | None = None

    def describe(self) -> str:
        labels = ", ".join(f"{k}={v}" for k, v in sorted(self.labels.items()))
        text = self.alertname + (f" {{{labels}}}" if labels else "")
        if self.receiver:
            text = f"{self.receiver} <- {self.status} {text}"
        if self.count is not None:
            text += f" exactly {self.count}x"
        if self.after_ms is not None or self.before_ms is not None:
            lo = format_ms(self.after_ms) if self.after_ms is not None else "start"
            hi = format_ms(self.before_ms) if self.before_ms is not None else "end"
            text += f" between {lo} and {hi}"
        return text


@dataclass(frozen=True)
class Expect:
    fired: tuple[Match, ...] = ()
    not_fired: tuple[Match, ...] = ()
    notifications: tuple[Match, ...] = ()
    inhibited: tuple[Match, ...] = ()
    exclusive: bool = False  # every notification must match one of `notifications`


@dataclass(frozen=True)
class Target:
    job: str
    instance: str


@dataclass(frozen=True)
class Scenario:
    name: str
    path: Path
    description: str
    envs: tuple[str, ...] | None
    speed: int
    interval_ms: int
    duration_ms: int
    series: tuple[Series, ...]
    targets: tuple[Target, ...]  # declared under `targets:` (series add their own, see targets_in)
    events: tuple[Event, ...]
    expect: Expect

    def series_in(self, env: str) -> list[Series]:
        return [s for s in self.series if s.envs is None or env in s.envs]

    def targets_in(self, env: str) -> list[Target]:
        """Every (job, instance) the exporter serves in `env`: declared, or holding a series."""
        found = {(t.job, t.instance): t for t in self.targets}
        for s in self.series_in(env):
            key = (s.labels["job"], s.labels["instance"])
            found.setdefault(key, Target(*key))
        return [found[k] for k in sorted(found)]


# ---- parsing ---------------------------------------------------------------------------------------


class _Ctx:
    """Where we are in the file, for error messages."""

    def __init__(self, path: Path, display: str) -> None:
        self.path = path
        self.display = display

    def error(self, key: str, message: str, hint: str | None = None) -> UserError:
        return UserError(message, file=self.display, key=key, hint=hint)


def parse_values(text: str) -> tuple[float | None, ...]:
    """promtool's input_series notation: `1 2 _ stale 0+10x5 5-1x3 7x2 _x3` (see docs/sandbox.md)."""
    out: list[float | None] = []
    for token in str(text).split():
        if token in ("_", "stale"):
            out.append(None)
            continue
        m = re.fullmatch(r"_x([0-9]+)", token)
        if m:
            out.extend([None] * int(m.group(1)))
            continue
        m = _EXPAND.fullmatch(token)
        if m:
            a = float(m.group("a"))
            b = float(m.group("b")) if m.group("b") else 0.0
            if m.group("op") == "-":
                b = -b
            out.extend(a + i * b for i in range(int(m.group("n")) + 1))
            continue
        if _SINGLE.fullmatch(token):
            out.append(float(token))
            continue
        raise ValueError(
            f"{token!r} is not a value (a number, `_`, `stale`, `a+bxN`, `a-bxN`, `axN` or `_xN`)"
        )
    return tuple(out)


def parse_series(text: str) -> tuple[str, dict[str, str]]:
    """`metric{label="value", ...}` -> (metric, labels); only `=` matchers (a series, not a query)."""
    try:
        node = pp.parse(str(text))
    except ValueError as exc:
        raise ValueError(f"does not parse as a series: {exc}") from None
    if not isinstance(node, pp.VectorSelector) or node.offset is not None or node.at is not None:
        raise ValueError('must be a plain series: metric{label="value", ...}')
    labels: dict[str, str] = {}
    name = node.name
    for m in node.matchers.matchers:
        if not str(m.op).endswith(".Equal"):
            raise ValueError(f"label {m.name}: only `=` is allowed in a series (it is data, not a query)")
        if m.name == "__name__":
            name = m.value
        else:
            labels[m.name] = m.value
    if not name:
        raise ValueError("a series needs a metric name")
    return name, labels


def _duration(ctx: _Ctx, key: str, value: Any) -> int:
    try:
        return parse_ms(str(value))
    except ValueError:
        raise ctx.error(key, f"{value!r} is not a duration", "write e.g. 90s, 5m, 1h30m") from None


def _mapping(ctx: _Ctx, key: str, value: Any) -> dict:
    if not isinstance(value, dict):
        raise ctx.error(key, f"must be a mapping, not {type(value).__name__}")
    return value


def _list(ctx: _Ctx, key: str, value: Any) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ctx.error(key, f"must be a list, not {type(value).__name__}")
    return value


def _unknown(ctx: _Ctx, key: str, mapping: dict, allowed: set[str]) -> None:
    extra = sorted(set(mapping) - allowed)
    if extra:
        prefix = f"{key}." if key else ""
        raise ctx.error(f"{prefix}{extra[0]}", "unknown key", f"allowed here: {', '.join(sorted(allowed))}")


def _labels(ctx: _Ctx, key: str, value: Any) -> dict[str, str]:
    labels = _mapping(ctx, key, value or {})
    for k, v in labels.items():
        if not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", str(k)):
            raise ctx.error(f"{key}.{k}", "not a valid label name")
        if isinstance(v, (dict, list)) or v is None:
            raise ctx.error(f"{key}.{k}", "a label value must be a string")
    return {str(k): str(v) for k, v in labels.items()}


def _envs(ctx: _Ctx, key: str, value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = [value] if isinstance(value, str) else _list(ctx, key, value)
    return tuple(str(e) for e in items)


def _match(ctx: _Ctx, key: str, raw: Any, *, notification: bool) -> Match:
    if isinstance(raw, str) and not notification:
        raw = {"alertname": raw}
    item = _mapping(ctx, key, raw)
    allowed = {"alertname", "labels", "envs"}
    if notification:
        allowed |= {"receiver", "status", "count", "after", "before"}
    else:
        allowed |= {"after", "before"}
    _unknown(ctx, key, item, allowed)
    if not item.get("alertname"):
        raise ctx.error(f"{key}.alertname", "missing", "name the alert, e.g. alertname: PostgresDown")
    if notification and not item.get("receiver"):
        raise ctx.error(f"{key}.receiver", "missing", "name the receiver, e.g. receiver: warning-slack")
    status = str(item.get("status", "firing"))
    if status not in STATUSES:
        raise ctx.error(f"{key}.status", f"{status!r} is not a status", "use firing or resolved")
    count = item.get("count")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 0):
        raise ctx.error(f"{key}.count", "must be a whole number >= 0")
    return Match(
        alertname=str(item["alertname"]),
        labels=_labels(ctx, f"{key}.labels", item.get("labels")),
        receiver=str(item["receiver"]) if notification else None,
        status=status,
        count=count,
        after_ms=_duration(ctx, f"{key}.after", item["after"]) if "after" in item else None,
        before_ms=_duration(ctx, f"{key}.before", item["before"]) if "before" in item else None,
        envs=_envs(ctx, f"{key}.envs", item.get("envs")),
    )


def _event(ctx: _Ctx, key: str, raw: Any, duration_ms: int) -> Event:
    item = _mapping(ctx, key, raw)
    _unknown(ctx, key, item, {"at", "action", "job", "instance", "peer"})
    if "at" not in item:
        raise ctx.error(f"{key}.at", "missing", "when it happens in scenario time, e.g. at: 10m")
    at = _duration(ctx, f"{key}.at", item["at"])
    if at > duration_ms:
        raise ctx.error(
            f"{key}.at", f"{item['at']} is after the end of the scenario ({format_ms(duration_ms)})"
        )
    action = str(item.get("action", ""))
    if action not in ACTIONS:
        raise ctx.error(f"{key}.action", f"{action!r} is not an action", f"use one of: {', '.join(ACTIONS)}")
    if action in ("stop_target", "start_target"):
        for need in ("job", "instance"):
            if not item.get(need):
                raise ctx.error(f"{key}.{need}", f"{action} needs the target's {need}")
        return Event(at, action, job=str(item["job"]), instance=str(item["instance"]))
    if action == "kill_alertmanager":
        peer = str(item.get("peer", "first"))
        if peer != "first" and not peer.isdigit():
            raise ctx.error(
                f"{key}.peer", f"{peer!r} is not a peer", "use first, or a peer index (0, 1, ...)"
            )
        return Event(at, action, peer=peer)
    return Event(at, action)


def default_instance(job: str) -> str:
    return f"{job}-0"


def load(path: Path, display: str | None = None) -> Scenario:
    """Read and validate a scenario file; every problem is a UserError naming the file and key."""
    ctx = _Ctx(path, display or str(path))
    try:
        doc = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise UserError(f"cannot read the scenario: {exc.strerror}", file=ctx.display) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise UserError(
            f"not valid YAML: {getattr(exc, 'problem', exc)}",
            file=ctx.display,
            line=mark.line + 1 if mark else None,
            hint="fix the YAML syntax",
        ) from None
    doc = _mapping(ctx, "(top level)", doc)
    _unknown(
        ctx,
        "",
        doc,
        {
            "name",
            "description",
            "envs",
            "speed",
            "interval",
            "duration",
            "series",
            "targets",
            "events",
            "expect",
        },
    )
    if "duration" not in doc:
        raise ctx.error(
            "duration", "missing", "how long the scenario runs in scenario time, e.g. duration: 30m"
        )
    duration = _duration(ctx, "duration", doc["duration"])
    if duration <= 0:
        raise ctx.error("duration", "must be longer than 0s")
    interval = _duration(ctx, "interval", doc.get("interval", DEFAULT_INTERVAL))
    if interval <= 0:
        raise ctx.error("interval", "must be longer than 0s")
    speed = doc.get("speed", DEFAULT_SPEED)
    if not isinstance(speed, int) or isinstance(speed, bool) or speed < 1:
        raise ctx.error("speed", f"{speed!r} is not a whole number >= 1", "e.g. speed: 200")

    series: list[Series] = []
    targets: dict[tuple[str, str], Target] = {}
    for i, raw in enumerate(_list(ctx, "series", doc.get("series"))):
        key = f"series[{i}]"
        item = _mapping(ctx, key, raw)
        _unknown(ctx, key, item, {"series", "values", "envs"})
        if "series" not in item or "values" not in item:
            raise ctx.error(
                key, "needs `series` and `values`", "write: - {series: 'm{job=\"x\"}', values: '1x10'}"
            )
        try:
            metric, labels = parse_series(item["series"])
        except ValueError as exc:
            raise ctx.error(f"{key}.series", str(exc)) from None
        if metric in GENERATED:
            raise ctx.error(
                f"{key}.series",
                f"{metric} is written by Prometheus itself for every scrape",
                "to make a target fail, declare it under `targets:` and stop it with an event",
            )
        if "job" not in labels:
            raise ctx.error(
                f"{key}.series",
                f"{metric} has no job label",
                'add job="<scrape job>": it picks the rendered scrape job that serves the series',
            )
        try:
            values = parse_values(item["values"])
        except ValueError as exc:
            raise ctx.error(f"{key}.values", str(exc)) from None
        labels.setdefault("instance", default_instance(labels["job"]))
        series.append(Series(metric, labels, values, interval, _envs(ctx, f"{key}.envs", item.get("envs"))))
    for i, raw in enumerate(_list(ctx, "targets", doc.get("targets"))):
        item = _mapping(ctx, f"targets[{i}]", raw)
        _unknown(ctx, f"targets[{i}]", item, {"job", "instance"})
        if not item.get("job"):
            raise ctx.error(f"targets[{i}].job", "missing")
        job = str(item["job"])
        instance = str(item.get("instance") or default_instance(job))
        targets.setdefault((job, instance), Target(job, instance))

    events = tuple(
        sorted(
            (
                _event(ctx, f"events[{i}]", raw, duration)
                for i, raw in enumerate(_list(ctx, "events", doc.get("events")))
            ),
            key=lambda e: e.at_ms,
        )
    )
    known = set(targets) | {(s.labels["job"], s.labels["instance"]) for s in series}
    for i, ev in enumerate(events):
        if ev.action in ("stop_target", "start_target") and (ev.job, ev.instance) not in known:
            raise ctx.error(
                f"events[{i}]",
                f"{ev.action}: no target {ev.job}/{ev.instance} in the scenario",
                "declare it under `targets:` or give it a series",
            )

    raw_expect = _mapping(ctx, "expect", doc.get("expect") or {})
    _unknown(ctx, "expect", raw_expect, {"fired", "not_fired", "notifications", "inhibited", "exclusive"})
    expect = Expect(
        fired=tuple(
            _match(ctx, f"expect.fired[{i}]", r, notification=False)
            for i, r in enumerate(_list(ctx, "expect.fired", raw_expect.get("fired")))
        ),
        not_fired=tuple(
            _match(ctx, f"expect.not_fired[{i}]", r, notification=False)
            for i, r in enumerate(_list(ctx, "expect.not_fired", raw_expect.get("not_fired")))
        ),
        notifications=tuple(
            _match(ctx, f"expect.notifications[{i}]", r, notification=True)
            for i, r in enumerate(_list(ctx, "expect.notifications", raw_expect.get("notifications")))
        ),
        inhibited=tuple(
            _match(ctx, f"expect.inhibited[{i}]", r, notification=False)
            for i, r in enumerate(_list(ctx, "expect.inhibited", raw_expect.get("inhibited")))
        ),
        exclusive=bool(raw_expect.get("exclusive", False)),
    )
    return Scenario(
        name=str(doc.get("name") or path.stem),
        path=path,
        description=str(doc.get("description") or "").strip(),
        envs=_envs(ctx, "envs", doc.get("envs")),
        speed=speed,
        interval_ms=interval,
        duration_ms=duration,
        series=tuple(series),
        targets=tuple(sorted(targets.values(), key=lambda t: (t.job, t.instance))),
        events=events,
        expect=expect,
    )


# ---- exposition ------------------------------------------------------------------------------------


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _format_value(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(v)


def exposition(series: list[Series], scenario_ms: int, t0_ms: int, speed: int) -> bytes:
    """The /metrics text of one target at a moment of the scenario. Each sample carries the real
    timestamp of its step (t0 + step * interval / speed), like promtool's input series: samples
    exist at step times only, a failed scrape loses nothing (the next one serves the same sample),
    and a series without a value is seen through the lookback delta until it ages out. `job` and
    `instance` are target labels (set by the scrape config), so they are not repeated here."""
    lines = []
    for s in series:
        step = scenario_ms // s.interval_ms
        v = s.value_at(step)
        if v is None:
            continue
        labels = ",".join(
            f'{k}="{_escape(val)}"' for k, val in sorted(s.labels.items()) if k not in ("job", "instance")
        )
        stamp = t0_ms + step * s.interval_ms // speed
        lines.append(f"{s.metric}{{{labels}}} {_format_value(v)} {stamp}\n")
    return "".join(sorted(lines)).encode()


# ---- what a run observed, and the verdict -----------------------------------------------------------


@dataclass
class AlertSeen:
    """One alert (label set) as Prometheus reported it; times in scenario milliseconds."""

    labels: dict[str, str]
    pending_ms: int | None = None
    firing: list[list[int | None]] = field(default_factory=list)  # [start, end or None] episodes

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "")


@dataclass
class Notification:
    """One webhook delivery: which receiver (and integration) got which alerts, from which peer."""

    at_ms: int
    receiver: str
    integration: str
    status: str
    peer: str
    alerts: list[dict]  # [{"status": ..., "labels": {...}}]


@dataclass
class Observed:
    alerts: list[AlertSeen] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    inhibited: list[dict] = field(default_factory=list)  # [{"at_ms": ..., "labels": {...}}]


@dataclass(frozen=True)
class Verdict:
    ok: bool
    text: str


def _subst(labels: dict[str, str], env: str, cluster: str) -> dict[str, str]:
    return {k: v.replace("${env}", env).replace("${cluster}", cluster) for k, v in labels.items()}


def _has(labels: dict[str, str], name: str, want: dict[str, str]) -> bool:
    return labels.get("alertname") == name and all(labels.get(k) == v for k, v in want.items())


def _in_window(t: int | None, m: Match) -> bool:
    if t is None:
        return False
    return (m.after_ms is None or t >= m.after_ms) and (m.before_ms is None or t <= m.before_ms)


def _note_matches(n: Notification, m: Match, labels: dict[str, str]) -> bool:
    return (
        n.receiver == m.receiver
        and _in_window(n.at_ms, m)
        and any(a["status"] == m.status and _has(a["labels"], m.alertname, labels) for a in n.alerts)
    )


def applies(m: Match, env: str) -> bool:
    return m.envs is None or env in m.envs


def evaluate(scenario: Scenario, env: str, cluster: str, seen: Observed) -> list[Verdict]:
    """Every expectation of the scenario that applies to `env`, checked against a run."""
    ex = scenario.expect
    out: list[Verdict] = []
    for m in (x for x in ex.fired if applies(x, env)):
        want = _subst(m.labels, env, cluster)
        starts = [ep[0] for a in seen.alerts if _has(a.labels, m.alertname, want) for ep in a.firing]
        ok = any(_in_window(t, m) for t in starts)
        when = (
            f" (fired at {', '.join(format_ms(max(t, 0)) for t in starts)})" if starts else " (never fired)"
        )
        out.append(Verdict(ok, f"fired: {m.describe()}{'' if ok else when}"))
    for m in (x for x in ex.not_fired if applies(x, env)):
        want = _subst(m.labels, env, cluster)
        starts = [ep[0] for a in seen.alerts if _has(a.labels, m.alertname, want) for ep in a.firing]
        bad = [t for t in starts if _in_window(t, m)]
        text = f"not fired: {m.describe()}"
        if bad:
            text += f" (fired at {', '.join(format_ms(max(t, 0)) for t in bad)})"
        out.append(Verdict(not bad, text))
    for m in (x for x in ex.notifications if applies(x, env)):
        want = _subst(m.labels, env, cluster)
        got = [n for n in seen.notifications if _note_matches(n, m, want)]
        ok = len(got) == m.count if m.count is not None else bool(got)
        text = f"notified: {m.describe()}"
        if not ok:
            text += f" (got {len(got)})"
        out.append(Verdict(ok, text))
    # Inhibited: first seen inhibited inside the window, and no firing notification inside it (a
    # warning notified before its critical fired is fine: bound the window with `after`).
    for m in (x for x in ex.inhibited if applies(x, env)):
        want = _subst(m.labels, env, cluster)
        was = [
            i for i in seen.inhibited if _has(i["labels"], m.alertname, want) and _in_window(i["at_ms"], m)
        ]
        told = [
            n.receiver
            for n in seen.notifications
            if _in_window(n.at_ms, m)
            and any(a["status"] == "firing" and _has(a["labels"], m.alertname, want) for a in n.alerts)
        ]
        text = f"inhibited: {m.describe()}"
        if not was:
            text += " (never seen inhibited)"
        if told:
            text += f" (yet notified to {', '.join(sorted(set(told)))})"
        out.append(Verdict(bool(was) and not told, text))
    if ex.exclusive:
        expected = [(m, _subst(m.labels, env, cluster)) for m in ex.notifications if applies(m, env)]
        stray = []
        for n in seen.notifications:
            for a in n.alerts:
                if not any(
                    n.receiver == m.receiver
                    and _in_window(n.at_ms, m)
                    and a["status"] == m.status
                    and _has(a["labels"], m.alertname, want)
                    for m, want in expected
                ):
                    name = a["labels"].get("alertname")
                    stray.append(f"{format_ms(max(n.at_ms, 0))} {n.receiver} <- {a['status']} {name}")
        text = "no other notification"
        if stray:
            shown = sorted(set(stray))
            text += f" (unexpected: {'; '.join(shown[:8])}{' ...' if len(shown) > 8 else ''})"
        out.append(Verdict(not stray, text))
    return out

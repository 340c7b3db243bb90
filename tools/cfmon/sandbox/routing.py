"""Alertmanager's route tree walked in Python: which routes (receiver, group_by and timings) an
alert with given labels ends in, as Alertmanager itself matches them."""

from __future__ import annotations

from cfmon.errors import UserError
from cfmon.sandbox.rewrite import AM_ROUTE_DEFAULTS


def matcher_ok(matcher: str, labels: dict[str, str]) -> bool:
    """One Alertmanager matcher (`name op "value"`) against a label set."""
    import re

    m = re.fullmatch(r'\s*([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*', matcher)
    if not m:
        raise UserError(f"cannot read the route matcher {matcher!r}")
    name, op, value = m.groups()
    value = value.replace('\\"', '"').replace("\\\\", "\\")
    have = labels.get(name, "")
    return {
        "=": have == value,
        "!=": have != value,
        "=~": re.fullmatch(value, have) is not None,
        "!~": re.fullmatch(value, have) is None,
    }[op]


def _route_matches(route: dict, labels: dict[str, str]) -> bool:
    import re

    matchers = list(route.get("matchers") or [])
    ok = all(matcher_ok(m, labels) for m in matchers)
    ok = ok and all(labels.get(k, "") == str(v) for k, v in (route.get("match") or {}).items())
    return ok and all(
        re.fullmatch(str(v), labels.get(k, "")) for k, v in (route.get("match_re") or {}).items()
    )


def routes_for(route: dict, labels: dict[str, str], inherited: dict | None = None) -> list[dict]:
    """The routes an alert with `labels` ends in, as Alertmanager walks the tree: each with its
    effective receiver, group_by and group_wait/group_interval/repeat_interval."""
    opts = dict(inherited or {})
    for key in ("receiver", "group_by", *AM_ROUTE_DEFAULTS):
        if key in route:
            opts[key] = route[key]
    for key, default in AM_ROUTE_DEFAULTS.items():
        opts.setdefault(key, default)
    found: list[dict] = []
    for child in route.get("routes") or []:
        if not _route_matches(child, labels):
            continue
        found += routes_for(child, labels, opts)
        if not child.get("continue"):
            break
    return found or [opts]

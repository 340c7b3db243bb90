"""Durations as Prometheus, Alertmanager, Loki and Grafana write them: one parser, one formatter.

Prometheus and Alertmanager durations are whole numbers of units, largest first (`1h30m`, `250ms`,
`0`); LogQL and Grafana also accept fractions and sub-millisecond units (`1.5s`, `100us`).
"""

from __future__ import annotations

import re

# Seconds per unit. Floats on purpose: parse_seconds sums float(n) * unit, as every caller did.
SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 0.001, "s": 1, "m": 60, "h": 3600}
SECONDS |= {"d": 86400, "w": 7 * 86400, "y": 365 * 86400}
MS = {"y": 365 * 86_400_000, "w": 7 * 86_400_000, "d": 86_400_000, "h": 3_600_000}
MS |= {"m": 60_000, "s": 1000, "ms": 1}

_PROM_PART = re.compile(r"(\d+)(ms|y|w|d|h|m|s)")
_PROM_FULL = re.compile(r"(?:\d+(?:ms|y|w|d|h|m|s))+")
_FRACTIONAL_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|us|µs|ns|[smhdwy])")
_FRACTIONAL_FULL = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|us|µs|ns|[smhdwy]))+")


class DurationError(ValueError):
    """Text that is not a duration (the message quotes it and shows what one looks like)."""


def _not_a_duration(text: object, fractional: bool) -> DurationError:
    example = "e.g. 30s, 1.5m, 100ms" if fractional else "e.g. 30s, 5m, 1h30m, 250ms or 0"
    return DurationError(f"not a duration: {text!r} ({example})")


def parse_ms(text: object) -> int:
    """A Prometheus/Alertmanager duration (`1h30m`, `250ms`, `0s`, `0`) in whole milliseconds."""
    s = str(text).strip()
    if s == "0":
        return 0
    if not _PROM_FULL.fullmatch(s):
        raise _not_a_duration(text, fractional=False)
    return sum(int(n) * MS[u] for n, u in _PROM_PART.findall(s))


def parse_seconds(text: object, *, fractional: bool = False) -> float:
    """A duration in seconds. Prometheus' grammar (whole units, `0` allowed); with `fractional`,
    the LogQL/Grafana grammar (`1.5h`, `100us`). Surrounding blanks make it not a duration."""
    s = str(text)
    if not fractional:
        if s == "0":
            return 0.0
        if not _PROM_FULL.fullmatch(s):
            raise _not_a_duration(text, fractional=False)
        return sum(int(n) * SECONDS[u] for n, u in _PROM_PART.findall(s))
    if not _FRACTIONAL_FULL.fullmatch(s):
        raise _not_a_duration(text, fractional=True)
    return sum(float(n) * SECONDS[u] for n, u in _FRACTIONAL_PART.findall(s))


def format_ms(ms: int) -> str:
    """Milliseconds as a Prometheus duration, largest units first (`1h30m`, `1s500ms`, `0s`)."""
    if ms == 0:
        return "0s"
    out = []
    for unit in ("d", "h", "m", "s", "ms"):
        size = MS[unit]
        if ms >= size:
            out.append(f"{ms // size}{unit}")
            ms %= size
    return "".join(out)

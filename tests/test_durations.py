"""cfmon.durations: the one parser and formatter of Prometheus, Alertmanager, Loki and Grafana
durations (round trips, the fractional grammar, and a clear error on what is not a duration)."""

from __future__ import annotations

import pytest

from cfmon import durations


@pytest.mark.parametrize(
    ("text", "ms", "canonical"),
    [
        ("0", 0, "0s"),
        ("0s", 0, "0s"),
        ("250ms", 250, "250ms"),
        ("1m30s", 90_000, "1m30s"),
        ("90s", 90_000, "1m30s"),
        ("1h", 3_600_000, "1h"),
        ("1d", 86_400_000, "1d"),
        ("1w", 604_800_000, "7d"),
        ("1y", 365 * 86_400_000, "365d"),
        ("1s500ms", 1500, "1s500ms"),
    ],
)
def test_durations_parse_and_print(text, ms, canonical):
    assert durations.parse_ms(text) == ms
    assert durations.format_ms(ms) == canonical
    assert durations.parse_ms(canonical) == ms
    assert durations.parse_seconds(text) == pytest.approx(ms / 1000)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1.5m", 90.0), ("100us", 1e-4), ("250ms", 0.25), ("1h30m", 5400.0), ("2d", 172800.0), ("1d", 86400.0)],
)
def test_fractional_durations_parse_as_loki_and_grafana_write_them(text, seconds):
    assert durations.parse_seconds(text, fractional=True) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["", "5", "5 m", "1.5m", "m", "5mins", "-5m", "100us", " 5m"])
def test_a_bad_prometheus_duration_is_refused_with_a_clear_error(bad):
    with pytest.raises(durations.DurationError, match=r"not a duration: .*e\.g\. 30s, 5m"):
        durations.parse_seconds(bad)
    if bad.strip() != "5m":
        with pytest.raises(ValueError, match="not a duration"):
            durations.parse_ms(bad)


@pytest.mark.parametrize("bad", ["", "5", "6 hours", "m", "1.m", "5m "])
def test_a_bad_fractional_duration_is_refused(bad):
    with pytest.raises(durations.DurationError, match=r"not a duration: .*e\.g\. 30s, 1\.5m"):
        durations.parse_seconds(bad, fractional=True)

"""Durations: seconds as numbers, 250ms / 12s / 1m30s / 1h text, and timedelta."""

from __future__ import annotations

import datetime as dt

import pytest

from mockjobs.durations import format_ms, parse_ms
from mockjobs.errors import DurationError


@pytest.mark.parametrize(
    ("value", "ms"),
    [
        (0, 0.0),
        (12, 12_000.0),
        (1.5, 1_500.0),
        (66.311, 66_311.0),  # exact, not 66310.99999999999
        (0.001, 1.0),
        ("0", 0.0),
        ("2.5", 2_500.0),
        (".5", 500.0),
        ("250ms", 250.0),
        ("12s", 12_000.0),
        ("1m30s", 90_000.0),
        ("1h", 3_600_000.0),
        ("1m6.311s", 66_311.0),
        ("1h2m3s4ms", 3_723_004.0),
        ("1.5m", 90_000.0),
        ("0.5s", 500.0),
        ("1s500ms", 1_500.0),
        ("  12s ", 12_000.0),
        ("+5s", 5_000.0),
        ("1e3", 1_000_000.0),  # JSON text read as YAML keeps such floats as strings
        ("1e-05", 0.01),
        (dt.timedelta(seconds=90), 90_000.0),
        (dt.timedelta(milliseconds=250), 250.0),
        (dt.timedelta(hours=1, microseconds=500), 3_600_000.5),
        (dt.timedelta(days=1), 86_400_000.0),
    ],
)
def test_parse_ms(value: object, ms: float) -> None:
    assert parse_ms(value) == ms


@pytest.mark.parametrize(
    ("value", "ms"),
    [
        (-1, -1_000.0),
        (-1.5, -1_500.0),
        ("-2s", -2_000.0),
        ("-1m6.311s", -66_311.0),
        (dt.timedelta(seconds=-3), -3_000.0),
    ],
)
def test_negative_durations_only_when_allowed(value: object, ms: float) -> None:
    assert parse_ms(value, allow_negative=True) == ms
    with pytest.raises(DurationError, match="negative duration"):
        parse_ms(value)


@pytest.mark.parametrize(
    "value",
    ["", " ", "-", "s", "ms", "5x", "1min", "5 s", "1h30", "1e", "1e3s", "1_000", "nan", "inf", "1.s", "1..5s", "--1s"],
)
def test_unparsable_text(value: str) -> None:
    with pytest.raises(DurationError, match=r"use seconds as a number, or a form like 250ms, 12s, 1m30s, 1h"):
        parse_ms(value)


@pytest.mark.parametrize("value", ["1s1h", "30s1m", "1m1m", "5ms1s"])
def test_units_come_once_each_in_order(value: str) -> None:
    with pytest.raises(DurationError, match=r"units come once each, in the order h, m, s, ms"):
        parse_ms(value)


@pytest.mark.parametrize("value", [None, True, False, [1], {"s": 1}, b"1s"])
def test_other_types_are_not_durations(value: object) -> None:
    with pytest.raises(DurationError, match="not a duration"):
        parse_ms(value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_numbers_are_refused(value: float) -> None:
    with pytest.raises(DurationError, match="not a finite duration"):
        parse_ms(value, allow_negative=True)


def test_duration_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_ms("soon")


@pytest.mark.parametrize(
    ("ms", "text"),
    [(0, "0s"), (250, "0.25s"), (12_000, "12s"), (66_311, "1m6.311s"), (3_600_000, "1h"), (3_690_000, "1h1m30s"),
     (-1_500, "-1.5s")],
)  # fmt: skip
def test_format_ms_round_trips(ms: float, text: str) -> None:
    assert format_ms(ms) == text
    assert parse_ms(text, allow_negative=True) == ms

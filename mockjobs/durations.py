"""Durations as scenario files write them: seconds as a number, or 250ms, 12s, 1m30s, 1h."""

from __future__ import annotations

import datetime as _dt
import math
import re
from decimal import Decimal, DecimalException

from .errors import DurationError

_UNIT_MS = {"h": Decimal(3_600_000), "m": Decimal(60_000), "s": Decimal(1000), "ms": Decimal(1)}
_NUMBER = r"(?:\d+(?:\.\d+)?|\.\d+)"
_BARE = re.compile(rf"{_NUMBER}(?:[eE][-+]?\d+)?")  # JSON writes some floats so: 1e-05
_PART = re.compile(rf"({_NUMBER})(ms|h|m|s)")
_ORDER = ["h", "m", "s", "ms"]
MAX_MS = 100 * 365.25 * 86_400_000  # a duration longer than a century is a typo
_HINT = "use seconds as a number, or a form like 250ms, 12s, 1m30s, 1h"

Duration = int | float | str | _dt.timedelta


def parse_ms(value: object, *, allow_negative: bool = False) -> float:
    """Milliseconds of a duration: a number (seconds), a string like 1m30s, or a timedelta."""
    if isinstance(value, bool):
        raise DurationError(f"not a duration: {value!r} ({_HINT})")
    if isinstance(value, _dt.timedelta):
        micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
        ms = float(Decimal(micros) / 1000)
    elif isinstance(value, int):
        ms = float(value * 1000)
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise DurationError(f"not a finite duration: {value!r}")
        ms = float(Decimal(repr(value)) * 1000)  # 66.311 -> 66311.0 exactly, not 66310.99999999999
    elif isinstance(value, str):
        ms = _parse_text(value.strip())
    else:
        raise DurationError(f"not a duration: {value!r} ({_HINT})")
    if not math.isfinite(ms) or abs(ms) > MAX_MS:
        raise DurationError(f"not a duration: {value!r} (at most 100 years)")
    if ms < 0 and not allow_negative:
        raise DurationError(f"negative duration: {value!r}")
    return ms


def _parse_text(text: str) -> float:
    """Milliseconds of a textual duration such as -1m6.311s or 2.5."""
    try:
        return _parse_decimal_text(text)
    except (DecimalException, OverflowError):
        raise DurationError(f"not a duration: {text!r} (at most 100 years)") from None


def _parse_decimal_text(text: str) -> float:
    """_parse_text, letting decimal's own errors through."""
    sign = 1
    body = text
    if body.startswith(("-", "+")):
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    if not body:
        raise DurationError(f"not a duration: {text!r} ({_HINT})")
    if _BARE.fullmatch(body):
        return sign * float(Decimal(body) * 1000)
    total = Decimal(0)
    pos = 0
    last = -1
    for match in _PART.finditer(body):
        if match.start() != pos:
            break
        unit = match.group(2)
        rank = _ORDER.index(unit)
        if rank <= last:
            raise DurationError(f"not a duration: {text!r} (units come once each, in the order h, m, s, ms)")
        last = rank
        total += Decimal(match.group(1)) * _UNIT_MS[unit]
        pos = match.end()
    if pos != len(body) or last < 0:
        raise DurationError(f"not a duration: {text!r} ({_HINT})")
    return sign * float(total)


def format_ms(ms: float) -> str:
    """A compact text for milliseconds, e.g. 1m6.311s."""
    sign = "-" if ms < 0 else ""
    ms = abs(ms)
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds = rest / 1000
    out = ""
    if hours:
        out += f"{int(hours)}h"
    if minutes:
        out += f"{int(minutes)}m"
    if seconds or not out:
        out += f"{seconds:.3f}".rstrip("0").rstrip(".") + "s"
    return sign + out

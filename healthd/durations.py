"""Durations as the config writes them ("250ms", "1m30s", 2.5) and as messages show them."""

from __future__ import annotations

import re

_UNITS_NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
# Go's time.Duration is int64 nanoseconds: about 292 years. Longer ones overflow the clocks and
# timers that would hold them (an interval of 1e300 seconds is no interval).
MAX_SECONDS = (2**63 - 1) / 1e9
MAX_TEXT = "2562047h47m16.854775807s"
_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")


def parse_duration(value: object) -> float:
    """Return seconds from a duration string with units, or a plain number of seconds."""
    if isinstance(value, bool):
        raise ValueError('expected a duration such as "30s" or a number of seconds')
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        seconds = _parse_text(value.strip())
    else:
        raise ValueError('expected a duration such as "30s" or a number of seconds')
    if seconds < 0 or seconds != seconds or seconds == float("inf"):
        raise ValueError("a duration must be a finite number of seconds, zero or more")
    if seconds > MAX_SECONDS:
        raise ValueError(f"a duration must be at most {MAX_TEXT} (Go's longest time.Duration)")
    return seconds


def _parse_text(text: str) -> float:
    if not text:
        raise ValueError('expected a duration such as "30s", got an empty string')
    try:
        return float(text)
    except ValueError:
        pass
    pos, total_ns = 0, 0.0
    while pos < len(text):
        match = _PART.match(text, pos)
        if match is None:
            raise ValueError(
                f"invalid duration {text!r}: use a number with a unit "
                '(ns, us, ms, s, m, h), e.g. "250ms", "30s", "1m30s"'
            )
        total_ns += float(match.group(1)) * _UNITS_NS[match.group(2)]
        pos = match.end()
    return total_ns / 1e9


def format_duration(seconds: float) -> str:
    """Format seconds the way Go prints a time.Duration: "2s", "250ms", "1m30s"."""
    ns = round(seconds * 1e9)
    if ns == 0:
        return "0s"
    if ns < 1_000:
        return f"{ns}ns"
    if ns < 1_000_000:
        return f"{_trim(ns / 1_000)}µs"
    if ns < 1_000_000_000:
        return f"{_trim(ns / 1_000_000)}ms"
    hours, rest = divmod(ns, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    text = f"{_trim(rest / 1e9)}s"
    if hours or minutes:
        text = f"{minutes}m{text}"
    if hours:
        text = f"{hours}h{text}"
    return text


def _trim(number: float) -> str:
    return f"{number:.9f}".rstrip("0").rstrip(".")


_HUMAN_UNITS = ((3600.0, "h"), (60.0, "min"), (1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns"))


def human_duration(seconds: float) -> str:
    """Seconds in the largest fitting unit with 3 significant digits: "38.9 ms", "2.00 s"."""
    if seconds <= 0:
        return "0 s"
    for index, (size, unit) in enumerate(_HUMAN_UNITS):
        if seconds >= size or index == len(_HUMAN_UNITS) - 1:
            value = seconds / size
            decimals = max(0, 3 - len(str(int(value))))
            text = f"{value:.{decimals}f}"
            # 999.96 ms rounds to "1000": show it in the next unit up instead.
            if index > 0 and float(text) * size >= _HUMAN_UNITS[index - 1][0]:
                return human_duration(_HUMAN_UNITS[index - 1][0])
            return f"{text} {unit}"
    raise AssertionError("unreachable")

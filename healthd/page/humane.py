"""Times and durations as people read them: "3m ago", "18:40:01", "38.9 ms"."""

from __future__ import annotations

import time

NS = 1_000_000_000
DAY = 86_400
# (nanoseconds per unit, unit), largest first.
_DURATION_UNITS = (
    (3_600 * NS, "h"),
    (60 * NS, "min"),
    (NS, "s"),
    (1_000_000, "ms"),
    (1_000, "µs"),
    (1, "ns"),
)
_AGE_UNITS = ((DAY, "d"), (3_600, "h"), (60, "m"), (1, "s"))


def duration(ns: int) -> str:
    """A duration to 3 significant digits in the largest unit it reaches: "38.9 ms", "1.20 s"."""
    if ns <= 0:
        return "0 s"
    for index, (size, unit) in enumerate(_DURATION_UNITS):
        if ns >= size:
            text = _three_digits(ns / size)
            # 999.96 ms rounds to "1000": say "1.00 s" instead (the next unit is 1000x here).
            if float(text) >= 1000 and index > 0 and _DURATION_UNITS[index - 1][0] == 1000 * size:
                return f"1.00 {_DURATION_UNITS[index - 1][1]}"
            return f"{text} {unit}"
    raise AssertionError("unreachable: 1 ns is the smallest unit")


def _three_digits(value: float) -> str:
    if value >= 99.95:
        return f"{value:.0f}"
    if value >= 9.995:
        return f"{value:.1f}"
    return f"{value:.2f}"


def ago(then_ns: int, now_ns: int) -> str:
    """How long ago, in its largest whole unit: "just now", "12s ago", "3m ago", "2d ago"."""
    seconds = (now_ns - then_ns) // NS
    if seconds < 1:
        return "just now"
    for size, unit in _AGE_UNITS:
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    raise AssertionError("unreachable: seconds >= 1")


def iso(unix_ns: int) -> str:
    """UTC to the second, as a <time datetime> takes it: "2026-11-23T18:40:01Z"."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(unix_ns // NS))


def absolute(unix_ns: int) -> str:
    """UTC to the second for reading: "2026-11-23 18:40:01 UTC"."""
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(unix_ns // NS))


def clock(unix_ns: int, now_ns: int) -> str:
    """UTC time of day, with the date ("Nov 22 18:40:01") when it is not today's."""
    seconds = unix_ns // NS
    if seconds // DAY != now_ns // NS // DAY:
        return time.strftime("%b %d %H:%M:%S", time.gmtime(seconds))
    # Arithmetic, a third of strftime's cost: a page may title 2000 runs.
    minutes, second = divmod(seconds % DAY, 60)
    hour, minute = divmod(minutes, 60)
    return f"{hour:02d}:{minute:02d}:{second:02d}"

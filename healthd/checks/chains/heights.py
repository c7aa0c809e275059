"""Block heights, counts and times as chains write them: hex, decimal strings, numbers, RFC 3339."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

_RFC3339 = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:\d{2})$"
)


def parse_height(value: Any, what: str = "height") -> int:
    """A non-negative integer from hex ("0x1b4"), a decimal string ("436") or a number (436)."""
    if isinstance(value, bool):
        raise ValueError(f"{what} is {value!r}, not a number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            number = int(text[2:], 16) if text[:2].lower() == "0x" else int(text, 10)
        except ValueError:
            raise ValueError(f"{what} is {value[:40]!r}, not a number") from None
    else:
        raise ValueError(f"{what} is {str(value)[:40]!r}, not a number")
    if number < 0:
        raise ValueError(f"{what} is negative ({number})")
    return number


def parse_rfc3339(value: Any, what: str = "block time") -> float:
    """Unix seconds from an RFC 3339 time with up to nanoseconds, as CometBFT writes it."""
    match = _RFC3339.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{what} is {str(value)[:40]!r}, not an RFC 3339 time")
    day, clock, fraction, zone = match.groups()
    zone = "+00:00" if zone in ("Z", "z") else zone
    # Python parses at most microseconds: keep six digits of Go's nine.
    micros = (fraction or "0")[:6].ljust(6, "0")
    parsed = datetime.fromisoformat(f"{day}T{clock}.{micros}{zone}")
    return parsed.astimezone(UTC).timestamp()

"""`disk`: passes while a filesystem keeps more free space than its thresholds."""

from __future__ import annotations

import os
import re
from typing import Annotated, Any, Literal, Self

from pydantic import Field, PlainValidator, model_validator
from pydantic_core import PydanticCustomError

from healthd.checks.base import CheckEnv, CheckFailed, CheckSpec, Probe, os_error_text

_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$")
_UNITS = {"": 1, "b": 1} | {
    prefix + suffix: base**power
    for power, prefix in enumerate("kmgtp", 1)
    for suffix, base in (("b", 1000), ("ib", 1024))
}


class ByteCount(int):
    """A number of bytes that remembers how the config wrote it ("1GB")."""

    written: str

    def __new__(cls, value: int, written: str) -> Self:
        count = super().__new__(cls, value)
        count.written = written
        return count


def parse_bytes(value: object) -> ByteCount:
    """A size from a number of bytes or a string with a unit: "1GB" (10^9), "1GiB" (2^30)."""
    expected = 'expected a size such as "5GB", "512MiB" or a number of bytes'
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return ByteCount(value, f"{value} bytes")
    written = value.strip() if isinstance(value, str) else ""
    match = _SIZE.match(written)
    if match is None or match.group(2).lower() not in _UNITS:
        raise PydanticCustomError("bytes_type", expected)
    number = float(match.group(1)) * _UNITS[match.group(2).lower()]
    return ByteCount(int(number), written)


Bytes = Annotated[ByteCount, PlainValidator(parse_bytes)]


class DiskSpec(CheckSpec):
    """Keys of a `disk` check."""

    type: Literal["disk"]
    path: Annotated[str, Field(min_length=1)] = "/"
    min_free_percent: Annotated[float, Field(ge=0, le=100)] | None = None
    min_free_bytes: Bytes | None = None

    @model_validator(mode="after")
    def _needs_a_threshold(self) -> Self:
        if self.min_free_percent is None and self.min_free_bytes is None:
            raise ValueError("set min_free_percent and/or min_free_bytes")
        return self

    def target(self) -> str:
        limits = []
        if self.min_free_percent is not None:
            limits.append(f"{self.min_free_percent:g}%")
        if self.min_free_bytes is not None:
            limits.append(self.min_free_bytes.written)
        return f"{self.path} free >= {' and '.join(limits)}"


def build(spec: DiskSpec, env: CheckEnv) -> Probe:
    """Return a blocking probe: statvfs can hang on a dead network mount, so it gets a thread."""

    def probe() -> dict[str, Any]:
        try:
            stats = os.statvfs(spec.path)
        except OSError as exc:
            raise CheckFailed(f"cannot stat {spec.path}: {os_error_text(exc)}") from exc
        available = stats.f_bavail * stats.f_frsize
        total = stats.f_blocks * stats.f_frsize
        percent = round(100.0 * available / total, 2) if total else 0.0
        message = {"availableDiskBytes": available, "percentFree": percent}
        if spec.min_free_percent is not None and percent < spec.min_free_percent:
            raise CheckFailed(
                f"{percent:g}% free on {spec.path}, below the minimum {spec.min_free_percent:g}%",
                message,
            )
        if spec.min_free_bytes is not None and available < spec.min_free_bytes:
            raise CheckFailed(
                f"{available} bytes free on {spec.path}, "
                f"below the minimum {spec.min_free_bytes.written}",
                message,
            )
        return message

    return probe

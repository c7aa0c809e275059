"""`disk`: passes while a filesystem keeps more free space than its thresholds."""

from __future__ import annotations

import os
from typing import Annotated, Any, Literal, Self

from pydantic import ByteSize, Field, model_validator

from healthd.checks.base import CheckEnv, CheckFailed, CheckSpec, Probe, os_error_text


class DiskSpec(CheckSpec):
    """Keys of a `disk` check."""

    type: Literal["disk"]
    path: Annotated[str, Field(min_length=1)] = "/"
    min_free_percent: Annotated[float, Field(ge=0, le=100)] | None = None
    min_free_bytes: ByteSize | None = None

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
            limits.append(self.min_free_bytes.human_readable())
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
                f"below the minimum {int(spec.min_free_bytes)}",
                message,
            )
        return message

    return probe

"""`file`: passes while a file exists and was modified within max_age (a heartbeat file)."""

from __future__ import annotations

import os
import time
from typing import Annotated, Any, Literal

from pydantic import Field

from healthd.checks.base import CheckEnv, CheckFailed, CheckSpec, Duration, Probe, os_error_text
from healthd.durations import format_duration


class FileSpec(CheckSpec):
    """Keys of a `file` check."""

    type: Literal["file"]
    path: Annotated[str, Field(min_length=1)]
    max_age: Duration

    def target(self) -> str:
        return f"{self.path} modified within {format_duration(self.max_age)}"


def build(spec: FileSpec, env: CheckEnv) -> Probe:
    """Return a blocking probe (stat can hang on a network mount)."""

    def probe() -> dict[str, Any]:
        try:
            modified = os.stat(spec.path).st_mtime
        except OSError as exc:
            raise CheckFailed(f"cannot stat {spec.path}: {os_error_text(exc)}") from exc
        age = round(time.time() - modified, 3)
        message = {"ageSeconds": age}
        if age > spec.max_age:
            raise CheckFailed(
                f"{spec.path} was last modified {format_duration(age)} ago, "
                f"more than {format_duration(spec.max_age)}",
                message,
            )
        return message

    return probe

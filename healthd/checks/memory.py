"""`memory`: passes while the share of memory in use stays under a threshold."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import psutil
from pydantic import Field

from healthd.checks.base import CheckEnv, CheckFailed, CheckSpec, Probe


class MemorySpec(CheckSpec):
    """Keys of a `memory` check."""

    type: Literal["memory"]
    max_used_percent: Annotated[float, Field(gt=0, le=100)] = 90.0

    def target(self) -> str:
        return f"used < {self.max_used_percent:g}%"


def build(spec: MemorySpec, env: CheckEnv) -> Probe:
    """Return a probe that reads the kernel's memory counters."""

    async def probe() -> dict[str, Any]:
        memory = psutil.virtual_memory()
        used_percent = round(memory.percent, 2)
        message = {"usedPercent": used_percent, "availableBytes": memory.available}
        if used_percent >= spec.max_used_percent:
            raise CheckFailed(
                f"{used_percent:g}% of memory in use, above the maximum {spec.max_used_percent:g}%",
                message,
            )
        return message

    return probe

"""`scheduler`: a liveness check that every check's job fires on schedule."""

from __future__ import annotations

import time
from typing import Any, Literal

from healthd.checks.base import CheckEnv, CheckFailed, CheckSpec, Probe


class SchedulerSpec(CheckSpec):
    """Keys of a `scheduler` check (only the common ones)."""

    type: Literal["scheduler"]

    def target(self) -> str:
        return "every check fires on schedule"


def build(spec: SchedulerSpec, env: CheckEnv) -> Probe:
    """Return a probe that asks the scheduler which checks are overdue."""

    async def probe() -> dict[str, Any]:
        overdue = env.schedule.overdue(time.monotonic())
        message = {"checks": env.schedule.scheduled(), "overdue": overdue}
        if overdue:
            names = ", ".join(overdue[:5]) + (", …" if len(overdue) > 5 else "")
            raise CheckFailed(f"{len(overdue)} checks overdue: {names}", message)
        return message

    return probe

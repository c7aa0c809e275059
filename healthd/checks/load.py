"""`load`: passes while the load average per CPU stays under its thresholds."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

import psutil
from pydantic import Field, model_validator

from healthd.checks.base import CheckEnv, CheckFailed, CheckSpec, Probe

PerCpu = Annotated[float, Field(gt=0)]


class LoadSpec(CheckSpec):
    """Keys of a `load` check."""

    type: Literal["load"]
    max_load1_per_cpu: PerCpu | None = None
    max_load5_per_cpu: PerCpu | None = None
    max_load15_per_cpu: PerCpu | None = None

    @model_validator(mode="after")
    def _needs_a_threshold(self) -> Self:
        if not self.limits():
            raise ValueError("set max_load1_per_cpu, max_load5_per_cpu and/or max_load15_per_cpu")
        return self

    def limits(self) -> dict[str, float]:
        """The thresholds given, by load average name."""
        given = {
            "load1": self.max_load1_per_cpu,
            "load5": self.max_load5_per_cpu,
            "load15": self.max_load15_per_cpu,
        }
        return {name: limit for name, limit in given.items() if limit is not None}

    def target(self) -> str:
        return ", ".join(f"{name}/cpu < {limit:g}" for name, limit in self.limits().items())


def build(spec: LoadSpec, env: CheckEnv) -> Probe:
    """Return a probe that reads the load averages."""
    limits = spec.limits()

    async def probe() -> dict[str, Any]:
        load1, load5, load15 = psutil.getloadavg()
        cpus = psutil.cpu_count() or 1
        message = {
            "load1": round(load1, 2),
            "load5": round(load5, 2),
            "load15": round(load15, 2),
            "cpus": cpus,
        }
        for name, limit in limits.items():
            per_cpu = message[name] / cpus
            if per_cpu >= limit:
                raise CheckFailed(
                    f"{name} is {per_cpu:.2f} per CPU ({cpus} CPUs), above the maximum {limit:g}",
                    message,
                )
        return message

    return probe

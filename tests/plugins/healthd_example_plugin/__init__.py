"""A check type shipped by another package: `threshold` compares a number in a file to a limit."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from healthd.checks.base import CheckEnv, CheckFailed, CheckSpec, Probe


class Spec(CheckSpec):
    """Keys of a `threshold` check: the file holding a number, and the most it may be."""

    type: Literal["threshold"]
    path: str
    maximum: float

    def target(self) -> str:
        return f"{self.path} <= {self.maximum:g}"


def build(spec: Spec, env: CheckEnv) -> Probe:
    """Read the number (a blocking probe: healthd runs it in a worker thread)."""

    def probe() -> dict[str, Any]:
        value = float(Path(spec.path).read_text())
        if value > spec.maximum:
            raise CheckFailed(f"{value:g} is above {spec.maximum:g}", {"value": value})
        return {"value": value}

    return probe

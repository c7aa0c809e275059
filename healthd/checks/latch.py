"""The readiness latch: a gate that has opened stays open, whatever later runs or reports say."""

from __future__ import annotations

from dataclasses import replace

from healthd.checks.base import Check
from healthd.result import Outcome, Record


def latched(check: Check) -> Check:
    """The check, held open once its record has passed: it is neither run nor closed again."""
    return replace(check, hold=_open_gate)


def _open_gate(record: Record) -> Outcome | None:
    """Once the record's state has passed (hysteresis included), a pass with its last message."""
    return Outcome(message=record.message) if record.has_passed else None

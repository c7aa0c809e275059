"""The result record of one check, its "not yet run" value, and how one run advances it."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

NOT_YET_RUN_ERROR = "not yet run"
IN_PROGRESS_ERROR = "previous run still in progress"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one run of a check produced: a JSON message on success, an error text on failure."""

    message: bytes | None = None
    error: str | None = None
    degraded: bool = False  # a failure that degrades rather than fails (Monitoring Plugins WARNING)

    @property
    def passed(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class Record:
    """The latest result of a check, in the fields the Health API reports."""

    message: bytes | None = None
    error: str | None = NOT_YET_RUN_ERROR
    timestamp_ns: int | None = None
    duration_ns: int = 0
    contiguous_failures: int = 0
    time_of_first_failure_ns: int | None = None
    has_passed: bool = False
    degraded: bool = False

    @property
    def passed(self) -> bool:
        return self.error is None


NOT_YET_RUN = Record()


def advance(record: Record, outcome: Outcome, finished_ns: int, duration_ns: int) -> Record:
    """Return the record after one more run that finished at `finished_ns` (Unix time, ns)."""
    if outcome.passed:
        return Record(
            message=outcome.message,
            error=None,
            timestamp_ns=finished_ns,
            duration_ns=duration_ns,
            contiguous_failures=0,
            time_of_first_failure_ns=None,
            has_passed=True,
        )
    first_failure = record.time_of_first_failure_ns
    if record.contiguous_failures == 0:
        first_failure = finished_ns
    return replace(
        record,
        message=outcome.message,
        error=outcome.error,
        timestamp_ns=finished_ns,
        duration_ns=duration_ns,
        contiguous_failures=record.contiguous_failures + 1,
        time_of_first_failure_ns=first_failure,
        degraded=outcome.degraded,
    )


def rfc3339nano(unix_ns: int) -> str:
    """Format Unix nanoseconds as Go's RFC3339Nano in UTC: fraction trimmed of trailing zeros."""
    seconds, nanos = divmod(unix_ns, 1_000_000_000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    if nanos:
        text += "." + f"{nanos:09d}".rstrip("0")
    return text + "Z"

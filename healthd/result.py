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
    """The latest result of a check, in the fields the Health API reports, and its state.

    The state (passing, or failing/degraded while `error` is set) moves with hysteresis; the
    other fields follow the runs themselves.
    """

    message: bytes | None = None
    error: str | None = NOT_YET_RUN_ERROR
    timestamp_ns: int | None = None
    duration_ns: int = 0
    contiguous_failures: int = 0
    time_of_first_failure_ns: int | None = None
    has_passed: bool = False  # the state has been passing at least once (readiness latches)
    degraded: bool = False
    contiguous_successes: int = 0
    since_ns: int | None = None  # when the check last started or stopped passing

    @property
    def passed(self) -> bool:
        """True while the check's state is passing: `error` is present exactly while it is not."""
        return self.error is None


NOT_YET_RUN = Record()


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Hysteresis: runs in a row that it takes to change a check's state (Consul's names)."""

    failures_before_critical: int = 1
    successes_before_passing: int = 1


NO_HYSTERESIS = Thresholds()


def advance(
    record: Record,
    outcome: Outcome,
    finished_ns: int,
    duration_ns: int,
    thresholds: Thresholds = NO_HYSTERESIS,
) -> Record:
    """Return the record after one more run that finished at `finished_ns` (Unix time, ns).

    The run's own facts (timestamp, duration, message, failure counts) always follow the runs;
    the state, and with it `error`, changes only once `thresholds` runs in a row agree.
    """
    if outcome.passed:
        successes = record.contiguous_successes + 1
        if record.passed or successes >= thresholds.successes_before_passing:
            return Record(
                message=outcome.message,
                error=None,
                timestamp_ns=finished_ns,
                duration_ns=duration_ns,
                contiguous_failures=0,
                time_of_first_failure_ns=None,
                has_passed=True,
                contiguous_successes=successes,
                since_ns=_since(record, True, finished_ns),
            )
        # Recovering: still failing, showing the last error, until enough passes in a row.
        return replace(
            record,
            message=outcome.message,
            timestamp_ns=finished_ns,
            duration_ns=duration_ns,
            contiguous_failures=0,
            time_of_first_failure_ns=None,
            contiguous_successes=successes,
            since_ns=_since(record, False, finished_ns),
        )
    failures = record.contiguous_failures + 1
    first_failure = record.time_of_first_failure_ns
    if record.contiguous_failures == 0:
        first_failure = finished_ns
    failing = not record.passed or failures >= thresholds.failures_before_critical
    return replace(
        record,
        message=outcome.message,
        # Below the threshold a passing check stays passing: no error shown yet.
        error=outcome.error if failing else None,
        timestamp_ns=finished_ns,
        duration_ns=duration_ns,
        contiguous_failures=failures,
        time_of_first_failure_ns=first_failure,
        degraded=outcome.degraded if failing else False,
        contiguous_successes=0,
        since_ns=_since(record, not failing, finished_ns),
    )


def _since(record: Record, passing: bool, finished_ns: int) -> int | None:
    """When the state began: this run if it starts or stops passing (or is the first)."""
    if record.timestamp_ns is None or record.passed != passing:
        return finished_ns
    return record.since_ns


def rfc3339nano(unix_ns: int) -> str:
    """Format Unix nanoseconds as Go's RFC3339Nano in UTC: fraction trimmed of trailing zeros."""
    seconds, nanos = divmod(unix_ns, 1_000_000_000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    if nanos:
        text += "." + f"{nanos:09d}".rstrip("0")
    return text + "Z"

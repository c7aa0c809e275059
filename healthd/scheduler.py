"""APScheduler jobs: one per check, on its own interval, firing the runner."""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
import zlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from healthd.checks.base import Check
from healthd.runner import Runner

HEARTBEAT = "#heartbeat"  # "#" cannot start a check name
HEARTBEAT_EVERY = 1.0


def _not_a_cancellation(record: logging.LogRecord) -> bool:
    """APScheduler logs the jobs it cancels at shutdown as errors; they are not."""
    return not (record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError))


def phase(name: str, interval: float) -> float:
    """A stable offset in [0, interval) that spreads checks sharing an interval across it."""
    return interval * (zlib.crc32(name.encode()) / 2**32)


class FirstThenPhased(BaseTrigger):  # type: ignore[misc]
    """Fires at `first`, then every `interval` from `first + interval + phase`.

    The first run comes as configured (at once by default); the regular ones keep the check's
    own phase within the interval. IntervalTrigger alone counts from the previous run, which
    would put every check started together on the same instant forever.
    """

    def __init__(self, first: datetime, interval: float, offset: float) -> None:
        self.first = first
        self.interval = timedelta(seconds=interval)
        self.regular = first + self.interval + timedelta(seconds=offset)

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        if previous_fire_time is None:
            return self.first
        if previous_fire_time < self.regular:
            return self.regular
        return previous_fire_time + self.interval

    def __str__(self) -> str:
        return f"first at {self.first.isoformat()}, then every {self.interval} in phase"


class Lateness:
    """How late jobs started: a count per bucket (up to each bound, then beyond), and the sum."""

    # Seconds: 1-2-5 steps around the 20 ms that a scheduler of a thousand checks keeps to.
    bounds = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)

    def __init__(self) -> None:
        self.counts = [0] * (len(self.bounds) + 1)
        self.sum = 0.0

    def add(self, seconds: float) -> None:
        """Count one job that started `seconds` late."""
        self.counts[bisect.bisect_left(self.bounds, seconds)] += 1
        self.sum += seconds


class Punctuality:
    """When each check's job last fired and how late: a ticking scheduler or a stuck one."""

    def __init__(self) -> None:
        self._expected: dict[str, float] = {}
        self._intervals: dict[str, float] = {}
        self.lateness = Lateness()  # of every check's job since start, for /metrics

    def schedule(self, check: Check, first: float) -> None:
        """Expect the check's first firing at monotonic time `first`."""
        self._intervals[check.name] = check.timing.interval
        self._expected[check.name] = first

    def forget(self, name: str) -> None:
        """Stop tracking a removed check."""
        self._expected.pop(name, None)
        self._intervals.pop(name, None)

    def fired(
        self, name: str, now: float, lateness: float = 0.0, next_in: float | None = None
    ) -> None:
        """The job fired at monotonic `now`, `lateness` s late; the next is due `next_in` s on."""
        if name in self._intervals:
            self._expected[name] = now + (self._intervals[name] if next_in is None else next_in)
            self.lateness.add(lateness)

    def overdue(self, now: float) -> list[str]:
        """Checks whose job should have fired by now, beyond a grace period."""
        return sorted(
            name
            for name, expected in self._expected.items()
            if now > expected + max(2.0, 0.5 * self._intervals[name])
        )

    def scheduled(self) -> int:
        return len(self._expected)


class Scheduler:
    """Owns the APScheduler instance and the job of every check."""

    def __init__(self, runner: Runner, punctuality: Punctuality) -> None:
        self._runner = runner
        self._punctuality = punctuality
        self._checks: dict[str, Check] = {}
        self._last_beat = time.monotonic()
        self._closing = False
        logging.getLogger("apscheduler.executors.default").addFilter(_not_a_cancellation)
        self._aps = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={
                # A late run still runs, once. Overlap is the runner's to refuse (it records
                # "previous run still in progress" at once), so a second instance only ever
                # lives for that moment; APScheduler would skip it without a word.
                "coalesce": True,
                "misfire_grace_time": None,
                "max_instances": 2,
            },
        )
        self._aps.add_listener(self._submitted, EVENT_JOB_SUBMITTED)

    def start(self, checks: Iterable[Check]) -> None:
        """Schedule every check and start ticking (needs a running event loop)."""
        self._aps.start()
        self._last_beat = time.monotonic()
        self._aps.add_job(
            self._beat,
            IntervalTrigger(seconds=HEARTBEAT_EVERY, timezone=UTC),
            id=HEARTBEAT,
            name=HEARTBEAT,
            next_run_time=datetime.now(UTC),
        )
        for check in checks:
            self.add(check)

    def making_progress(self, now: float) -> bool:
        """True while APScheduler runs, its heartbeat job fires, and no check's job is overdue."""
        return (
            self._aps.running
            and not self._closing
            and now - self._last_beat <= 3 * HEARTBEAT_EVERY + 1.0
            and not self._punctuality.overdue(now)
        )

    async def _beat(self) -> None:
        self._last_beat = time.monotonic()

    def add(self, check: Check) -> None:
        """Schedule one check: first run after its initial delay, then every interval.

        After the first run, each check keeps its own phase within the interval (as Prometheus
        spreads scrapes), so a thousand checks on one interval do not all fire in one instant:
        one job whose first run is set apart from its trigger's regular times.
        """
        if check.push:
            return  # its runs are the reports it gets; the reports time its silence
        self._checks[check.name] = check
        interval = check.timing.interval
        first = datetime.now(UTC) + timedelta(seconds=check.timing.initial_delay)
        self._punctuality.schedule(check, time.monotonic() + check.timing.initial_delay)
        self._aps.add_job(
            self._fire,
            FirstThenPhased(first, interval, phase(check.name, interval)),
            args=[check.name],
            id=check.name,
            name=check.name,
            replace_existing=True,
        )

    def remove(self, name: str) -> None:
        """Unschedule one check."""
        self._checks.pop(name, None)
        self._punctuality.forget(name)
        if self._aps.get_job(name) is not None:
            self._aps.remove_job(name)

    def _submitted(self, event: JobSubmissionEvent) -> None:
        """APScheduler started a check's job: note how late, and when the next is due."""
        job = self._aps.get_job(event.job_id)
        if job is None or event.job_id == HEARTBEAT:
            return
        now = datetime.now(UTC)
        scheduled = event.scheduled_run_times[-1]
        following = job.trigger.get_next_fire_time(scheduled, now)
        next_in = None if following is None else (following - now).total_seconds()
        late = (now - scheduled).total_seconds()
        self._punctuality.fired(event.job_id, time.monotonic(), late, next_in)

    async def _fire(self, name: str) -> None:
        check = self._checks.get(name)
        if check is None or self._closing:
            return
        try:
            await self._runner.due(check)
        except asyncio.CancelledError:
            return  # cancelled by a reload or shutdown, not a failed job for APScheduler to log

    def stop(self) -> None:
        """Stop firing jobs; runs under way are the runner's to cancel."""
        self._closing = True
        if self._aps.running:
            # AsyncIOScheduler shuts down on the loop's next turn; until then jobs that fire
            # return at once (see _fire), so nothing new starts.
            self._aps.shutdown(wait=False)

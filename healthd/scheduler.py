"""APScheduler jobs: one per check, on its own interval, firing the runner."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from healthd.checks.base import Check
from healthd.runner import Runner


class Progress:
    """When each check's job last fired, to tell a ticking scheduler from a stuck one."""

    def __init__(self) -> None:
        self._expected: dict[str, float] = {}
        self._intervals: dict[str, float] = {}

    def schedule(self, check: Check, first: float) -> None:
        """Expect the check's first firing at monotonic time `first`."""
        self._intervals[check.name] = check.timing.interval
        self._expected[check.name] = first

    def forget(self, name: str) -> None:
        """Stop tracking a removed check."""
        self._expected.pop(name, None)
        self._intervals.pop(name, None)

    def fired(self, name: str, now: float) -> None:
        """The check's job fired at monotonic time `now`."""
        if name in self._intervals:
            self._expected[name] = now + self._intervals[name]

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

    def __init__(self, runner: Runner, progress: Progress) -> None:
        self._runner = runner
        self._progress = progress
        self._checks: dict[str, Check] = {}
        self._aps = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={
                # A late run still runs, once; overlap is the runner's to refuse, not APScheduler's.
                "coalesce": True,
                "misfire_grace_time": None,
                "max_instances": 1_000_000,
            },
        )

    def start(self, checks: Iterable[Check]) -> None:
        """Schedule every check and start ticking (needs a running event loop)."""
        self._aps.start()
        for check in checks:
            self.add(check)

    def add(self, check: Check) -> None:
        """Schedule one check: first run after its initial delay, then every interval."""
        self._checks[check.name] = check
        first = datetime.now(UTC) + timedelta(seconds=check.timing.initial_delay)
        self._progress.schedule(check, time.monotonic() + check.timing.initial_delay)
        self._aps.add_job(
            self._fire,
            IntervalTrigger(seconds=check.timing.interval, start_date=first, timezone=UTC),
            args=[check.name],
            id=check.name,
            name=check.name,
            next_run_time=first,
            replace_existing=True,
        )

    def remove(self, name: str) -> None:
        """Unschedule one check."""
        self._checks.pop(name, None)
        self._progress.forget(name)
        if self._aps.get_job(name) is not None:
            self._aps.remove_job(name)

    def scheduled_names(self) -> list[str]:
        """Names of the checks with a job."""
        return sorted(job.id for job in self._aps.get_jobs())

    async def _fire(self, name: str) -> None:
        check = self._checks.get(name)
        if check is None:
            return
        self._progress.fired(name, time.monotonic())
        await self._runner.due(check)

    def stop(self) -> None:
        """Stop firing jobs; runs under way are the runner's to cancel."""
        if self._aps.running:
            self._aps.shutdown(wait=False)

"""Run one check with its timeout and record the outcome; never two runs of a check at once."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson

from healthd.checks.base import Check, CheckFailed
from healthd.durations import format_duration
from healthd.result import IN_PROGRESS_ERROR, Outcome, Record
from healthd.store import Store

DEFAULT_WORKERS = 8


def to_json(value: Any) -> bytes | None:
    """A probe's return value as JSON bytes (None stays None); raises TypeError if not JSON."""
    return None if value is None else orjson.dumps(value)


def failure(exc: BaseException) -> Outcome:
    """The outcome of a probe that raised."""
    if isinstance(exc, CheckFailed):
        try:
            return Outcome(message=to_json(exc.message), error=exc.error, degraded=exc.degraded)
        except TypeError:
            return Outcome(error=exc.error, degraded=exc.degraded)
    text = str(exc)
    return Outcome(error=f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


class Runner:
    """Runs checks on the event loop, or in a bounded worker pool for blocking ones."""

    def __init__(self, store: Store, workers: int = DEFAULT_WORKERS) -> None:
        self._store = store
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="healthd-check")
        self._busy: set[Check] = set()
        self._tasks: dict[asyncio.Task[Any], Check] = {}

    async def due(self, check: Check) -> Record:
        """A scheduled run: skipped as a failure while the previous one is still going."""
        if check in self._busy:
            return self._store.record(
                check.name, Outcome(error=IN_PROGRESS_ERROR), time.time_ns(), 0
            )
        current = self._store.get(check.name)
        if check.kind == "readiness" and current.has_passed:
            # A readiness gate that has opened stays open: it is not run again.
            return self._store.record(
                check.name, Outcome(message=current.message), time.time_ns(), 0
            )
        return await self.run(check)

    async def run(self, check: Check) -> Record:
        """Run the check now and record what it gave."""
        self._busy.add(check)
        task = asyncio.current_task()
        if task is not None:
            self._tasks[task] = check
        started = time.perf_counter_ns()
        try:
            outcome = await self._outcome(check)
        finally:
            if task is not None:
                self._tasks.pop(task, None)
        duration = time.perf_counter_ns() - started
        return self._store.record(check.name, outcome, time.time_ns(), duration)

    async def _outcome(self, check: Check) -> Outcome:
        released_by_thread = False
        timeout = asyncio.timeout(check.timing.timeout)
        try:
            async with timeout:
                if check.blocking:
                    future = asyncio.get_running_loop().run_in_executor(self._pool, check.probe)
                    # The thread cannot be stopped: the check stays busy until it really ends.
                    future.add_done_callback(lambda _: self._busy.discard(check))
                    released_by_thread = True
                    value = await asyncio.shield(future)
                else:
                    value = await check.probe()
        except TimeoutError as exc:
            if timeout.expired():
                return Outcome(error=f"timed out after {format_duration(check.timing.timeout)}")
            return failure(exc)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # a misbehaving check fails only itself
            return failure(exc)
        finally:
            if not released_by_thread:
                self._busy.discard(check)
        try:
            return Outcome(message=to_json(value))
        except TypeError as exc:
            return Outcome(error=f"the check returned a value that is not JSON: {exc}")

    def is_busy(self, name: str) -> bool:
        """True while a run of the named check is under way."""
        return any(check.name == name for check in self._busy)

    async def cancel(self, names: set[str]) -> None:
        """Cancel the runs under way of the named checks (a reload changed or removed them)."""
        await self._cancel([t for t, check in self._tasks.items() if check.name in names])

    async def close(self) -> None:
        """Cancel runs under way, wait for them, and let the worker threads go."""
        await self._cancel(list(self._tasks))
        self._pool.shutdown(wait=False, cancel_futures=True)

    @staticmethod
    async def _cancel(tasks: list[asyncio.Task[Any]]) -> None:
        tasks = [task for task in tasks if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

"""Run one check with its timeout and record the outcome; never two runs of a check at once."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import orjson
import structlog

from healthd.checks.base import Check, CheckFailed
from healthd.durations import format_duration
from healthd.redact import redact_json, redact_text
from healthd.result import IN_PROGRESS_ERROR, Outcome, Record
from healthd.store import Store

DEFAULT_WORKERS = 8
# A blocking probe that gets its thread with less than this share of its timeout left is not
# started: it counts as timed out waiting for a thread.
LATE_START = 0.1
log = structlog.get_logger("healthd.runner")


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


def redacted(outcome: Outcome, secrets: tuple[str, ...]) -> Outcome:
    """The outcome with the check's configured secrets scrubbed from its error and message."""
    return replace(
        outcome,
        error=None if outcome.error is None else redact_text(outcome.error, secrets),
        message=None if outcome.message is None else redact_json(outcome.message, secrets),
    )


class Workers:
    """Threads for blocking probes: at most `size` run at once.

    Each run gets a thread of its own. A thread still running when its check times out gives
    its slot back: it cannot be stopped, but its check stays busy until it ends, so one stuck
    check holds at most one thread and never a slot that other checks need.
    """

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        self.size = size
        self._slots = asyncio.Semaphore(size)
        self.running = 0  # threads alive, in a slot or stuck past their check's timeout
        self.held = 0
        self._warned = False

    @property
    def stuck(self) -> int:
        """Threads still running after their check timed out."""
        return max(0, self.running - self.held)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the `size` slots (waiting, within the caller's timeout, for one)."""
        if self._slots.locked() and not self._warned:
            self._warned = True
            log.warning(
                "every worker thread is busy; blocking checks wait for one",
                threads=self.name,
                size=self.size,
                stuck=self.stuck,
            )
        elif not self._slots.locked():
            self._warned = False
        async with self._slots:
            self.held += 1
            try:
                yield
            finally:
                self.held -= 1

    def start(self, probe: Callable[[], Any]) -> asyncio.Future[Any]:
        """Run the probe in a new daemon thread; the future resolves on the loop when it ends."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()

        def settle(value: Any, error: BaseException | None) -> None:
            self.running -= 1
            if future.cancelled():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(value)

        def work() -> None:
            try:
                value, error = probe(), None
            except BaseException as exc:  # handed to the loop: a check fails only itself
                value, error = None, exc
            with contextlib.suppress(RuntimeError):  # a closed loop: healthd is stopping
                loop.call_soon_threadsafe(settle, value, error)

        self.running += 1
        threading.Thread(target=work, name=f"healthd-{self.name}", daemon=True).start()
        return future


class Runner:
    """Runs checks on the event loop, or in bounded worker threads for blocking ones."""

    def __init__(
        self, store: Store, workers: int = DEFAULT_WORKERS, user_workers: int = DEFAULT_WORKERS
    ) -> None:
        self._store = store
        # Built-in probes and user code (python checks, plugins) never wait on each other.
        self._builtin = Workers("check", workers)
        self._user = Workers("user-check", user_workers)
        self._busy: set[Check] = set()
        self._tasks: dict[asyncio.Task[Any], Check] = {}

    async def due(self, check: Check) -> Record:
        """A scheduled run: skipped as a failure while the previous one is still going.

        A check held by its record (`Check.hold`) records what the hold gives, without a run.
        """
        if check in self._busy:
            instead: Outcome | None = Outcome(error=IN_PROGRESS_ERROR)
        else:
            instead = check.hold(self._store.get(check.name))
        if instead is not None:
            return self._store.record(check.name, instead, time.time_ns(), 0)
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
        if check.secrets:
            outcome = redacted(outcome, check.secrets)
        return self._store.record(check.name, outcome, time.time_ns(), duration)

    def pools(self) -> tuple[Workers, Workers]:
        """The threads of built-in probes and of user code."""
        return self._builtin, self._user

    def workers(self, check: Check) -> Workers:
        """The threads a blocking check runs in."""
        return self._user if check.user_code else self._builtin

    async def _outcome(self, check: Check) -> Outcome:
        released_by_thread = False
        waiting: Workers | None = None
        timeout = asyncio.timeout(check.timing.timeout)
        loop = asyncio.get_running_loop()
        try:
            async with timeout:
                if check.blocking:
                    waiting = self.workers(check)
                    async with waiting.slot():
                        when = timeout.when()
                        left = check.timing.timeout if when is None else when - loop.time()
                        if left < check.timing.timeout * LATE_START:
                            # A thread started now would be stuck at once, holding nothing
                            # useful: count it as timed out waiting.
                            raise TimeoutError
                        pool, waiting = waiting, None
                        future = pool.start(check.probe)
                        # The thread cannot be stopped: the check stays busy until it ends.
                        future.add_done_callback(lambda _: self._busy.discard(check))
                        released_by_thread = True
                        value = await asyncio.shield(future)
                else:
                    value = await check.probe()
        except TimeoutError as exc:
            if timeout.expired() or waiting is not None:
                shown = format_duration(check.timing.timeout)
                if waiting is not None:
                    return Outcome(
                        error=f"timed out after {shown} waiting for a worker thread: all "
                        f"{waiting.size} {waiting.name} threads are busy"
                    )
                return Outcome(error=f"timed out after {shown}")
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

    async def cancel(self, names: set[str]) -> None:
        """Cancel the runs under way of the named checks (a reload changed or removed them)."""
        await self._cancel([t for t, check in self._tasks.items() if check.name in names])

    async def close(self) -> None:
        """Cancel runs under way, wait for them, and let the worker threads go."""
        await self._cancel(list(self._tasks))

    @staticmethod
    async def _cancel(tasks: list[asyncio.Task[Any]]) -> None:
        tasks = [task for task in tasks if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

"""Running a check once in a test: through the real runner, into a store of its own."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from healthd.checks.base import Check
from healthd.result import IN_PROGRESS_ERROR, Record
from healthd.runner import Runner
from healthd.store import Entry, Store


def store_for(*checks: Check) -> Store:
    """A store with an entry for each check."""
    return Store(Entry(c.name, c.kind, c.tags) for c in checks)


async def run_once(check: Check) -> Record:
    """One run of the check through a runner of its own, closed afterwards."""
    runner = Runner(store_for(check))
    try:
        return await runner.run(check)
    finally:
        await runner.close()


async def outcome(check: Check) -> tuple[str | None, str | None]:
    """Run a check once: (its message as the JSON text it is kept as, or None; its error)."""
    record = await run_once(check)
    message = None if record.message is None else record.message.decode()
    return message, record.error


async def run(check: Check) -> tuple[Any, str | None]:
    """Run a check once: (its message parsed from JSON, or None; its error)."""
    record = await run_once(check)
    message = None if record.message is None else orjson.loads(record.message)
    return message, record.error


async def first_run_not_refused(runner: Runner, check: Check) -> Record:
    """Due runs of the check until one is not refused as still in progress; that one's record.

    Polls (each refusal is recorded, as a scheduled one would be); asserts nothing about time.
    """
    while (record := await runner.due(check)).error == IN_PROGRESS_ERROR:
        await asyncio.sleep(0.01)
    return record

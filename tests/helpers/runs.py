"""A runner's runs seen from outside, as the store records them."""

from __future__ import annotations

import asyncio

from healthd.checks.base import Check
from healthd.result import IN_PROGRESS_ERROR, Record
from healthd.runner import Runner


async def first_run_not_refused(runner: Runner, check: Check) -> Record:
    """Due runs of the check until one is not refused as still in progress; that one's record.

    Polls (each refusal is recorded, as a scheduled one would be); asserts nothing about time.
    """
    while (record := await runner.due(check)).error == IN_PROGRESS_ERROR:
        await asyncio.sleep(0.01)
    return record

"""Waiting without sleeping for a fixed time: poll a condition, or wake on what the store records.

Every limit here only bounds a hung test; none of them asserts anything about speed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from healthd.store import Store

# How long a test waits for something before calling it a hang; never a speed test.
PATIENCE = 30.0


def until(condition: Callable[[], Any], what: str) -> Any:
    """Poll `condition` until it gives a true value (connection errors count as not yet)."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        try:
            value = condition()
        except OSError:  # urllib's URLError is an OSError
            value = None
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


async def until_async(condition: Callable[[], Any], what: str) -> Any:
    """Poll `condition` from the event loop (the daemon under test runs on it too) until it gives
    a true value; return that value."""
    deadline = time.monotonic() + PATIENCE
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.02)
    return value


async def wait_for(store: Store, predicate: Callable[[], bool], limit: float = 20.0) -> None:
    """Wait until `predicate()` holds after some recorded run (the limit only guards a hang)."""
    if predicate():
        return
    changed = asyncio.Event()
    unsubscribe = store.listen(lambda name, record: changed.set())
    try:
        async with asyncio.timeout(limit):
            while not predicate():
                await changed.wait()
                changed.clear()
    finally:
        unsubscribe()

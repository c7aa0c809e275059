"""Functions the tests name in `callable = "tests.helpers.probes:..."`."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

release = threading.Event()
started = threading.Event()  # set by the probes that say when they start


def returns(value: Any = None) -> Any:
    return value


async def returns_async(value: Any = None) -> Any:
    await asyncio.sleep(0)
    return value


def raises(text: str = "broken") -> None:
    raise RuntimeError(text)


def exits() -> None:
    raise SystemExit(3)


def not_json() -> Any:
    return object()


def blocks_until_released(limit: float = 30.0) -> str:
    release.wait(limit)
    return "released"


async def sleeps(seconds: float = 30.0) -> None:
    await asyncio.sleep(seconds)


async def starts_then_sleeps(seconds: float = 30.0) -> None:
    started.set()
    await asyncio.sleep(seconds)


def sleeps_sync(seconds: float = 0.01) -> str:
    time.sleep(seconds)
    return "slept"


def blocks_forever() -> None:
    """Never returns: a check stuck for good (a dead NFS mount, a lock never released)."""
    threading.Event().wait()

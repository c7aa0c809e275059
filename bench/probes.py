"""Checks for the benchmark: they pass at once and note when they started."""

from __future__ import annotations

import threading
import time
from collections import defaultdict

starts: defaultdict[str, list[float]] = defaultdict(list)


async def ok() -> None:
    """Pass instantly with no message."""


async def tick(name: str) -> None:
    """Pass instantly, noting the wall-clock start of this run."""
    starts[name].append(time.time())


def blocks() -> None:
    """Never return: a check stuck for good (sync, so it holds a worker thread)."""
    threading.Event().wait()

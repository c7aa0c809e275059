"""Reference heights: asked concurrently, shared by every check that names the same endpoint."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

Fetch = Callable[[], Awaitable[int]]


@dataclass(slots=True)
class _Entry:
    asked_at: float
    height: int | None
    pending: asyncio.Future[int | None] | None = None


class ReferenceHeights:
    """The latest height of each reference endpoint, kept for the shortest interval of the
    checks that use it.

    Fifty checks that share three references cost those references three requests per interval:
    a fresh enough height (or failure) is reused, and a request under way is joined, not repeated.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._keep: dict[str, float] = {}  # key -> the shortest interval of the checks asking

    async def height(self, key: str, fetch: Fetch, interval: float, deadline: float) -> int | None:
        """The height at `key` (None if it failed or took longer than `deadline` seconds), for a
        check run every `interval` seconds."""
        keep = self._keep[key] = min(self._keep.get(key, interval), interval)
        now = self._clock()
        entry = self._entries.get(key)
        if entry is not None and entry.pending is None and now - entry.asked_at < keep:
            return entry.height
        if entry is None or entry.pending is None:
            entry = _Entry(asked_at=now, height=None if entry is None else entry.height)
            entry.pending = asyncio.ensure_future(self._fetch(entry, fetch, deadline))
            self._entries[key] = entry
        assert entry.pending is not None
        try:
            # Shielded: a waiter giving up must not cancel the request other checks wait on.
            async with asyncio.timeout(deadline):
                return await asyncio.shield(entry.pending)
        except TimeoutError:
            return None

    async def _fetch(self, entry: _Entry, fetch: Fetch, deadline: float) -> int | None:
        try:
            async with asyncio.timeout(deadline):
                entry.height = await fetch()
        except Exception:  # a reference that fails is left out; the node is judged without it
            entry.height = None
        finally:
            entry.pending = None
        return entry.height


def quorum(heights: Sequence[int | None]) -> int | None:
    """The median of the heights that answered (of two middle ones, their mean rounded down)."""
    answered = sorted(height for height in heights if height is not None)
    if not answered:
        return None
    return int(statistics.median(answered))

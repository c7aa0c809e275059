"""What the page needs from the store: a check's last runs and when its state last changed.

The page takes two small callables rather than the store's types; by default they read the
store's history (`[scheduler] history` runs per check) and each record's `since_ns`. With
history off, the page draws the one run it knows of, the check's record. "Since" is when the
check last started or stopped passing; for a check that has not run yet, unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from healthd.store import Store


class Run(NamedTuple):
    """One run of a check as the page draws it."""

    timestamp_ns: int  # when it finished, Unix nanoseconds
    passed: bool
    degraded: bool = False  # a failure that degrades rather than fails (e.g. WARNING)
    error: str | None = None


History = Callable[[str], Sequence[Run]]
"""A check's last runs by name, oldest first."""

Since = Callable[[str], int | None]
"""When a check's state last changed (Unix nanoseconds), or None when not known."""


def last_run_only(store: Store) -> History:
    """The history a record alone can tell: its last run, if it has run."""

    def runs(name: str) -> Sequence[Run]:
        record = store.get(name)
        if record.timestamp_ns is None:
            return ()
        return (Run(record.timestamp_ns, record.passed, record.degraded, record.error),)

    return runs


def store_history(store: Store) -> History:
    """A check's runs as the store's history keeps them (oldest first), else its last run."""
    fallback = last_run_only(store)

    def runs(name: str) -> Sequence[Run]:
        kept = store.history.runs(name)
        if not kept:
            return fallback(name)
        return [Run(r.finished_ns, r.error is None, r.degraded, r.error) for r in reversed(kept)]

    return runs


def store_since(store: Store) -> Since:
    """When each check last started or stopped passing, from its record."""
    return lambda name: store.get(name).since_ns


def unknown(name: str) -> int | None:
    """A `Since` that knows no state change (the page then says when the check last ran)."""
    return None

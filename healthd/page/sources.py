"""What the page needs from the store's history: a check's last runs and its last state change.

The page takes two small callables rather than the store's history type, so it can be wired in
one line to whatever keeps runs, e.g. with a store that has `history.runs(name)` (newest first):

    history=lambda name: [Run(r.finished_ns, r.error is None, False, r.error)
                          for r in reversed(store.history.runs(name))]

and `since` from the last state change recorded for the check, e.g.

    since=lambda name: next((t.at_ns for t in reversed(store.history.transitions)
                             if t.check == name), None)

Without a `history` the page draws the one run it knows of, the check's record. "Since" is
the provider's answer when it has one, else for a failing check its first failure of the
current streak, else (a passing check, state change unknown) the last run, marked "last run".
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


def unknown(name: str) -> int | None:
    """A `Since` that knows no state change (the page then says when the check last ran)."""
    return None

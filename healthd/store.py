"""The latest record and history of every check: the daemon's only mutable state."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import structlog

from healthd.checks.base import KINDS, Kind
from healthd.durations import format_duration
from healthd.history import DEFAULT_RUNS, History, State, Transition
from healthd.result import (
    NO_HYSTERESIS,
    NOT_YET_RUN,
    NOT_YET_RUN_ERROR,
    Outcome,
    Record,
    Thresholds,
    advance,
)

log = structlog.get_logger("healthd.store")

MAINTENANCE = "maintenance"  # the synthetic check maintenance mode adds; no check may take it
MAINTENANCE_KINDS: tuple[Kind, ...] = ("health", "readiness")

Listener = Callable[[str, Record], None]
TransitionListener = Callable[[Transition], None]


@dataclass(frozen=True, slots=True)
class Entry:
    """What the store knows of a check besides its record."""

    name: str
    kind: Kind
    tags: frozenset[str]
    critical: bool = True
    thresholds: Thresholds = NO_HYSTERESIS

    def state(self, record: Record) -> State:
        """passing; degraded (a non-critical or WARNING failure); or failing."""
        if record.passed:
            return "passing"
        return "failing" if self.counts_against(record) else "degraded"

    def counts_against(self, record: Record) -> bool:
        """True when this record makes answers unhealthy (not merely degraded)."""
        return not record.passed and self.critical and not record.degraded


class Store:
    """Records by check name, and versions that say when they changed (`healthd.answers`
    renders them)."""

    def __init__(self, entries: Iterable[Entry] = (), history: int = DEFAULT_RUNS) -> None:
        self._entries: dict[str, Entry] = {}
        self._records: dict[str, Record] = {}
        self._by_kind: dict[Kind, list[str]] = {kind: [] for kind in KINDS}
        self._failing: set[str] = set()
        self._listeners: list[Listener] = []
        self._transition_listeners: list[TransitionListener] = []
        self.history = History(history)
        self.maintenance: Record | None = None
        self._runs: dict[str, int] = {}
        self._failures: dict[str, int] = {}
        self.version = 0  # changes with every recorded run and every other change
        self.checks_version = 0  # changes when checks are added, removed or changed
        self.set_entries(entries)

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(name, record)` after every recorded run; returns the unsubscriber."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def on_transition(self, listener: TransitionListener) -> Callable[[], None]:
        """Call `listener(transition)` on every state change; returns the unsubscriber."""
        self._transition_listeners.append(listener)
        return lambda: self._transition_listeners.remove(listener)

    def set_entries(self, entries: Iterable[Entry], keep: Iterable[str] = ()) -> None:
        """Track exactly these checks; records of names in `keep` survive, others start afresh."""
        kept = set(keep)
        old = self._records
        self._entries = {entry.name: entry for entry in entries}
        self._records = {
            name: old[name] if name in kept and name in old else NOT_YET_RUN
            for name in self._entries
        }
        self.history.track(self._entries, kept)
        self._runs = {
            name: self._runs.get(name, 0) if name in kept else 0 for name in self._entries
        }
        self._failures = {
            name: self._failures.get(name, 0) if name in kept else 0 for name in self._entries
        }
        for kind in KINDS:
            # Go's encoding/json writes map keys sorted; answers list checks in that order.
            self._by_kind[kind] = sorted(n for n, e in self._entries.items() if e.kind == kind)
        self._failing = {name for name, record in self._records.items() if not record.passed}
        self.checks_version += 1
        self.version += 1

    def names(self) -> list[str]:
        """Every tracked check name."""
        return list(self._entries)

    def entry(self, name: str) -> Entry:
        """The store's facts about one check."""
        return self._entries[name]

    def get(self, name: str) -> Record:
        """The current record of one check."""
        return self._records[name]

    def record(self, name: str, outcome: Outcome, finished_ns: int, duration_ns: int) -> Record:
        """Advance a check's record by one run."""
        entry = self._entries.get(name)
        if entry is None:  # removed by a reload while it ran
            return NOT_YET_RUN
        before = self._records[name]
        after = advance(before, outcome, finished_ns, duration_ns, entry.thresholds)
        self._records[name] = after
        self._runs[name] += 1
        self._failures[name] += 0 if after.passed else 1
        self.history.add(name, outcome, finished_ns, duration_ns)
        if after.passed:
            self._failing.discard(name)
        else:
            self._failing.add(name)
        self.version += 1
        transition = _transition(entry, before, after)
        if transition is not None:
            _log_transition(transition, before)
            self.history.transitions.append(transition)
            for on_transition in self._transition_listeners:
                on_transition(transition)
        for listener in self._listeners:
            listener(name, after)
        return after

    def set_maintenance(self, record: Record | None) -> None:
        """Show (or, with None, stop showing) the synthetic `maintenance` check.

        It fails health and readiness answers, as a global check; liveness never shows it.
        """
        self.maintenance = record
        self.version += 1

    def select(
        self, kind: Kind, tags: Iterable[str] | None = None, *, maintenance: bool = False
    ) -> list[tuple[Entry, Record]]:
        """The checks of a kind (tag-filtered, global ones always in) with records, by name;
        with `maintenance`, the synthetic maintenance check too while it is shown."""
        wanted = frozenset(tags or ())
        names = [n for n in self._by_kind[kind] if not wanted or self._selected(n, wanted)]
        items = [(self._entries[name], self._records[name]) for name in names]
        if maintenance and self.maintenance is not None and kind in MAINTENANCE_KINDS:
            at = bisect.bisect(names, MAINTENANCE)
            items.insert(at, (Entry(MAINTENANCE, kind, frozenset()), self.maintenance))
        return items

    def totals(self, name: str) -> tuple[int, int]:
        """(runs, failed runs) of a check since it was added or last changed."""
        return self._runs[name], self._failures[name]

    def counts(self) -> tuple[int, int]:
        """(checks, passing) over every kind."""
        return len(self._entries), len(self._entries) - len(self._failing)

    def _selected(self, name: str, tags: frozenset[str]) -> bool:
        own = self._entries[name].tags
        return not own or not own.isdisjoint(tags)


def _log_transition(transition: Transition, before: Record) -> None:
    """Log a change between passing and not passing once (degraded and failing alike)."""
    check, kind = transition.check, transition.kind
    if transition.to_state == "passing":
        if before.timestamp_ns is None or before.since_ns is None:  # its first run: never failed
            log.info("check started passing", check=check, kind=kind)
        else:
            failed = failed_for(transition.at_ns - before.since_ns)
            log.info("check started passing", check=check, kind=kind, failed_for=failed)
    elif transition.from_state == "passing" or transition.first:
        log.warning("check started failing", check=check, kind=kind, error=transition.error)


def _transition(entry: Entry, before: Record, after: Record) -> Transition | None:
    """The state change one run made, if any; leaving "not yet run" always counts as one."""
    was, now = entry.state(before), entry.state(after)
    first = before.error == NOT_YET_RUN_ERROR and after.error != NOT_YET_RUN_ERROR
    if was == now and not first:
        return None
    assert after.timestamp_ns is not None
    return Transition(
        check=entry.name,
        kind=entry.kind,
        tags=entry.tags,
        from_state=was,
        to_state=now,
        at_ns=after.timestamp_ns,
        error=after.error,
        contiguous_failures=after.contiguous_failures,
        first=first,
    )


def failed_for(nanoseconds: int) -> str:
    """How long a check was failing, as Go prints a duration ("1m30s"), to the second past 1 s."""
    seconds = nanoseconds / 1e9
    return format_duration(round(seconds) if seconds >= 1 else seconds)

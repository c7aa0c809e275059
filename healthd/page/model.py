"""What the status page shows, taken from the store at one moment: plain data, no markup."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

from healthd.answers import Answers
from healthd.checks.base import KINDS, Kind
from healthd.formats import state
from healthd.page import humane
from healthd.page.sources import History, Run, Since
from healthd.result import Record
from healthd.store import Entry

State = Literal["pass", "warn", "fail", "none"]
LABELS: dict[State, str] = {
    "pass": "PASS",
    "warn": "DEGRADED",
    "fail": "FAIL",
    "none": "not yet run",
}
_STATES: dict[str, State] = {"pass": "pass", "warn": "warn", "fail": "fail"}
DAY_NS = humane.DAY * humane.NS
# The newest runs drawn per check: the default history size; bounds the page at 1000 kept runs.
MAX_CELLS = 20


@dataclass(frozen=True, slots=True)
class Moment:
    """A point in time as the page shows it: relative, readable and machine-readable."""

    ago: str  # "3m ago"
    clock: str  # "18:40:01" UTC, dated when not today
    absolute: str  # "2026-11-23 18:40:01 UTC"
    iso: str  # "2026-11-23T18:40:01Z"

    @classmethod
    def of(cls, unix_ns: int, now_ns: int) -> Moment:
        return cls(
            humane.ago(unix_ns, now_ns),
            humane.clock(unix_ns, now_ns),
            humane.absolute(unix_ns),
            humane.iso(unix_ns),
        )


Outcome = Literal["ok", "degraded", "failed"]


class Cell(NamedTuple):
    """One run in a check's history strip, and the words that title it: "18:40:01 ok"."""

    outcome: Outcome
    title: str


@dataclass(frozen=True, slots=True)
class Row:
    """One check's line on the page."""

    name: str
    tags: tuple[str, ...]
    state: State
    since: Moment | None
    since_known: bool  # False: `since` is only the last run; when the state began is unknown
    duration: str
    error: str
    cells: tuple[Cell, ...]  # the last runs, oldest first

    @property
    def label(self) -> str:
        return LABELS[self.state]


@dataclass(frozen=True, slots=True)
class KindView:
    """A kind's overall state, as its GET answer has it, and its checks (none when limited)."""

    kind: Kind
    state: State
    rows: tuple[Row, ...]

    @property
    def label(self) -> str:
        return LABELS[self.state]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one rendering of the page shows."""

    kinds: tuple[KindView, ...]
    at: Moment
    tags: tuple[str, ...]
    limited: bool  # a token is configured and the request lacks it: overall states only


def snapshot(
    answers: Answers,
    history: History,
    since: Since,
    tags: Sequence[str] | None,
    limited: bool,
    now_ns: int,
) -> Snapshot:
    """The page's content for these tags, with or without check detail, at `now_ns`."""
    kinds = []
    for kind in KINDS:
        answer = answers.get(kind, tags)
        overall: State = "fail" if not answer.healthy else "warn" if answer.degraded else "pass"
        checks = () if limited else answers.store.select(kind, tags)
        rows = tuple(_row(entry, record, history, since, now_ns) for entry, record in checks)
        kinds.append(KindView(kind, overall, rows))
    return Snapshot(tuple(kinds), Moment.of(now_ns, now_ns), tuple(sorted(tags or ())), limited)


def _row(entry: Entry, record: Record, history: History, since: Since, now_ns: int) -> Row:
    if record.timestamp_ns is None:
        return Row(entry.name, tuple(sorted(entry.tags)), "none", None, False, "", "", ())
    changed = since(entry.name)
    known = True
    if changed is None and not record.passed:
        changed = record.time_of_first_failure_ns
    if changed is None:
        changed, known = record.timestamp_ns, False
    runs = history(entry.name)[-MAX_CELLS:]
    day = now_ns // DAY_NS
    return Row(
        name=entry.name,
        tags=tuple(sorted(entry.tags)),
        state=_STATES[state(entry, record)],
        since=Moment.of(changed, now_ns),
        since_known=known,
        duration=humane.duration(record.duration_ns),
        error=record.error or "",
        cells=tuple([_cell(run, entry.critical, day) for run in runs]),
    )


# A page draws up to 2000 cells, nearly all as it drew them a moment ago: they are remembered
# (hashing a run is a fraction of formatting its time). `day` dates the runs of other days.
@functools.lru_cache(maxsize=16384)
def _cell(run: Run, critical: bool, day: int) -> Cell:
    outcome: Outcome = "ok"
    if not run.passed:
        outcome = "degraded" if run.degraded or not critical else "failed"
    return Cell(outcome, f"{humane.clock(run.timestamp_ns, day * DAY_NS)} {outcome}")

"""The last runs of every check and the last state changes, kept bounded, and their JSON."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import orjson

from healthd.checks.base import Kind
from healthd.result import Outcome, rfc3339nano

State = Literal["passing", "degraded", "failing"]
STATES: tuple[State, ...] = ("passing", "degraded", "failing")
DEFAULT_RUNS = 20
MAX_RUNS = 1000
TRANSITIONS = 100


class Run(NamedTuple):
    """One run as history keeps it: a plain tuple, so 10,000 checks x 20 runs stay small."""

    finished_ns: int
    duration_ns: int
    error: str | None
    message: bytes | None  # the same bytes object the record holds: not copied
    degraded: bool = False  # a failure that degrades (non-critical state aside: a WARNING)


@dataclass(frozen=True, slots=True)
class Transition:
    """A check's state changed: what the notifier announces and `healthd.history` lists."""

    check: str
    kind: Kind
    tags: frozenset[str]
    from_state: State
    to_state: State
    at_ns: int
    error: str | None
    contiguous_failures: int
    first: bool = False  # the check's first state after "not yet run"

    def as_json(self) -> dict[str, Any]:
        """`{"check", "from", "to", "at", "error"?}` as `healthd.history` answers it."""
        out: dict[str, Any] = {
            "check": self.check,
            "from": self.from_state,
            "to": self.to_state,
            "at": rfc3339nano(self.at_ns),
        }
        if self.error is not None:
            out["error"] = self.error
        return out


class History:
    """Per check a ring of its last `size` runs (0 keeps none), and the last state changes."""

    def __init__(self, size: int = DEFAULT_RUNS) -> None:
        self.size = size
        self._runs: dict[str, deque[Run]] = {}
        self.transitions: deque[Transition] = deque(maxlen=TRANSITIONS)

    def track(self, names: Iterable[str], keep: Iterable[str] = ()) -> None:
        """Keep rings for exactly these names; those in `keep` keep their runs."""
        kept = set(keep)
        old = self._runs
        self._runs = {
            name: old[name] if name in kept and name in old else deque(maxlen=self.size)
            for name in names
        }

    def resize(self, size: int) -> None:
        """Keep at most `size` runs per check from now on (the newest survive a shrink)."""
        if size != self.size:
            self.size = size
            self._runs = {name: deque(runs, maxlen=size) for name, runs in self._runs.items()}

    def add(self, name: str, outcome: Outcome, finished_ns: int, duration_ns: int) -> None:
        """Remember one run of a check."""
        if self.size:
            self._runs[name].append(
                Run(finished_ns, duration_ns, outcome.error, outcome.message, outcome.degraded)
            )

    def runs(self, name: str, limit: int | None = None) -> list[Run]:
        """A check's kept runs, newest first."""
        runs = self._runs[name]
        count = len(runs) if limit is None else min(limit, len(runs))
        return [runs[-i] for i in range(1, count + 1)]

    def answer(self, names: Sequence[str], limit: int | None = None) -> dict[str, Any]:
        """`healthd.history`'s result for these checks (transitions of only these, too)."""
        wanted = set(names)
        transitions = [t.as_json() for t in reversed(self.transitions) if t.check in wanted]
        return {
            "checks": {
                name: [run_json(run) for run in self.runs(name, limit)] for name in sorted(names)
            },
            "transitions": transitions if limit is None else transitions[:limit],
        }


def run_json(run: Run) -> dict[str, Any]:
    """`{"timestamp", "duration", "passed", "error"?, "message"?}` of one run."""
    out: dict[str, Any] = {
        "timestamp": rfc3339nano(run.finished_ns),
        "duration": run.duration_ns,
        "passed": run.error is None,
    }
    if run.error is not None:
        out["error"] = run.error
    if run.message is not None:
        out["message"] = orjson.Fragment(run.message)
    return out

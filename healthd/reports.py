"""Reports to push (`ttl`) checks: each one recorded as a run; silence past the TTL, a failure.

A report is recorded at once as one run of its check (so hysteresis, history, notifications and
maintenance apply as to any check). One timer per check, re-armed by each report, records
"no report for …" when the TTL passes without one, and again every TTL while silence lasts.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from healthd.checks.base import Check, Hold
from healthd.checks.ttl import TtlSpec
from healthd.durations import format_duration
from healthd.result import Outcome, Record
from healthd.store import Store

OUTPUT_LIMIT = 4096  # characters of a report's output that are kept
MESSAGE_LIMIT = 4096  # bytes of a report's JSON message
# Monitoring Plugins exit codes, as in passive checks: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
STATUSES: dict[str | int, str] = {
    "pass": "pass",
    "warn": "warn",
    "fail": "fail",
    0: "pass",
    1: "warn",
    2: "fail",
    3: "fail",
}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class ReportRejected(ValueError):
    """The report cannot be taken: the text says why (a JSON-RPC invalid-params error)."""


@dataclass(frozen=True, slots=True)
class Pushed:
    """A push check as the reports know it."""

    name: str
    ttl: float
    token: str | None
    hold: Hold  # what a report or silence records instead, given the record (Check.hold)


def clean_output(text: str) -> str:
    """The output as one bounded line: control characters removed, at most OUTPUT_LIMIT."""
    return _CONTROL.sub("", text.replace("\t", " ").replace("\n", " ")).strip()[:OUTPUT_LIMIT]


def outcome_of(status: Any, output: str, message: Any) -> Outcome:
    """What one report says, as the outcome of a run."""
    word = STATUSES.get(status) if isinstance(status, str | int) else None
    if word is None or isinstance(status, bool):
        raise ReportRejected('status must be "pass", "warn", "fail" or 0, 1, 2, 3')
    if not isinstance(output, str):
        raise ReportRejected("output must be a string")
    try:
        body = None if message is None else orjson.dumps(message)
    except TypeError:
        raise ReportRejected("message must be JSON") from None
    if body is not None and len(body) > MESSAGE_LIMIT:
        raise ReportRejected(f"message must be at most {MESSAGE_LIMIT} bytes of JSON")
    text = clean_output(output)
    if word == "pass":
        return Outcome(message=body)
    if word == "warn":
        return Outcome(message=body, error=text or "reported warn", degraded=True)
    return Outcome(message=body, error=text or "reported fail")


class Reports:
    """Takes reports for the push checks of one configuration and times their silence."""

    def __init__(self, store: Store, checks: Iterable[Check] = ()) -> None:
        self._store = store
        self._checks: dict[str, Pushed] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._last: dict[str, float] = {}
        self.set_checks(checks)

    def set_checks(self, checks: Iterable[Check], keep: Iterable[str] = ()) -> None:
        """Track exactly these checks' push checks; timers of names in `keep` run on."""
        kept = set(keep)
        pushed = {}
        for check in checks:
            if isinstance(check.spec, TtlSpec):
                spec = check.spec
                pushed[check.name] = Pushed(check.name, spec.ttl, spec.token(), check.hold)
        for name in list(self._timers):
            if name not in pushed or name not in kept:
                self._timers.pop(name).cancel()
                self._last.pop(name, None)
        self._checks = pushed

    def tokens(self, name: Any) -> tuple[str, ...]:
        """The token of the named push check, if it has one of its own (for authorisation)."""
        pushed = self._checks.get(name) if isinstance(name, str) else None
        return (pushed.token,) if pushed is not None and pushed.token else ()

    def all_tokens(self) -> tuple[str, ...]:
        """Every push check's own token."""
        return tuple(p.token for p in self._checks.values() if p.token)

    def report(self, name: Any, status: Any, output: Any = "", message: Any = None) -> str:
        """Record one report; the check's state word afterwards. ReportRejected if not taken."""
        if not isinstance(name, str):
            raise ReportRejected("check must be the name of a ttl check")
        pushed = self._checks.get(name)
        if pushed is None:
            if name in self._store.names():
                raise ReportRejected(f"{name} is not a ttl check: only ttl checks take reports")
            raise ReportRejected(f"no check named {name}")
        outcome = outcome_of(status, output, message)
        now = time.monotonic()
        self._last[name] = now
        record = self._record(pushed, outcome)
        self._arm(pushed, now + pushed.ttl)
        return "passing" if record.passed else "degraded" if record.degraded else "failing"

    def close(self) -> None:
        """Stop every timer."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    def _arm(self, pushed: Pushed, at: float) -> None:
        loop = asyncio.get_running_loop()
        old = self._timers.pop(pushed.name, None)
        if old is not None:
            old.cancel()
        # The loop's clock is monotonic; convert from time.monotonic() explicitly.
        delay = max(0.0, at - time.monotonic())
        self._timers[pushed.name] = loop.call_later(delay, self._expired, pushed)

    def _expired(self, pushed: Pushed) -> None:
        self._timers.pop(pushed.name, None)
        if self._checks.get(pushed.name) is not pushed:
            return
        silent = time.monotonic() - self._last.get(pushed.name, time.monotonic())
        # In seconds as the contract writes it ("no report for 90s"), not Go's "1m30s".
        shown = f"{round(silent)}s" if silent >= 1 else format_duration(round(silent, 3))
        self._record(pushed, Outcome(error=f"no report for {shown}"))
        self._arm(pushed, time.monotonic() + pushed.ttl)

    def _record(self, pushed: Pushed, outcome: Outcome) -> Record:
        """Record the outcome as a run, or what the check's hold records instead."""
        held = pushed.hold(self._store.get(pushed.name))
        return self._store.record(pushed.name, outcome if held is None else held, time.time_ns(), 0)

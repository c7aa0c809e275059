"""Maintenance mode (as `consul maint`): a synthetic failing check, timed, kept across restarts."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import structlog

from healthd.result import Record, rfc3339nano

log = structlog.get_logger("healthd.maintenance")

STATE_FILE = "maintenance.json"


@dataclass(frozen=True, slots=True)
class State:
    """Whether maintenance is on, why, since and until when (Unix ns; None: until turned off)."""

    enabled: bool = False
    reason: str = ""
    since_ns: int = 0
    until_ns: int | None = None

    def error(self) -> str:
        """The synthetic check's error: `maintenance: REASON`, plus ` until T` when timed."""
        text = f"maintenance: {self.reason}" if self.reason else "maintenance"
        if self.until_ns is not None:
            text += f" until {rfc3339nano(self.until_ns)}"
        return text

    def record(self) -> Record:
        """The synthetic check's record: failing since maintenance began."""
        return Record(
            error=self.error(),
            timestamp_ns=self.since_ns,
            duration_ns=0,
            contiguous_failures=1,
            time_of_first_failure_ns=self.since_ns,
        )

    def answer(self) -> dict[str, Any]:
        """`{"enabled", "reason", "until"}` as `healthd.maintenance` answers it."""
        return {
            "enabled": self.enabled,
            "reason": self.reason,
            "until": None if self.until_ns is None else rfc3339nano(self.until_ns),
        }

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "enabled": self.enabled,
                "reason": self.reason,
                "since_ns": self.since_ns,
                "until_ns": self.until_ns,
            }
        )

    @classmethod
    def from_json(cls, data: bytes) -> State:
        """Parse a state file; ValueError when it is not one."""
        try:
            raw = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"not JSON: {exc}") from None
        if not isinstance(raw, dict):
            raise ValueError("not a JSON object")
        enabled, reason = raw.get("enabled"), raw.get("reason", "")
        since, until = raw.get("since_ns", 0), raw.get("until_ns")
        if not isinstance(enabled, bool) or not isinstance(reason, str):
            raise ValueError("enabled must be true or false and reason a string")
        if not _is_int(since) or not (until is None or _is_int(until)):
            raise ValueError("since_ns and until_ns must be integers")
        return cls(enabled, reason, since, until)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


OFF = State()


class Maintenance:
    """Turns maintenance on and off: shows it in the store, persists it, ends it on time."""

    def __init__(
        self,
        show: Callable[[Record | None], None],
        state_dir: str | None = None,
        on_change: Callable[[bool], None] = lambda enabled: None,
    ) -> None:
        self._show = show
        self._path = None if state_dir is None else Path(state_dir) / STATE_FILE
        self._on_change = on_change
        self.state = OFF
        self._expiry: asyncio.TimerHandle | None = None

    def restore(self) -> None:
        """Take up the persisted state, if any (on the event loop, at start)."""
        if self._path is None:
            return
        try:
            data = self._path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            log.warning(
                "cannot read the maintenance state; ignored",
                path=str(self._path),
                error=exc.strerror,
            )
            return
        try:
            state = State.from_json(data)
        except ValueError as exc:
            log.warning(
                "the maintenance state file is corrupt; ignored",
                path=str(self._path),
                error=str(exc),
            )
            return
        if state.enabled and state.until_ns is not None and state.until_ns <= time.time_ns():
            log.info("maintenance ended while healthd was stopped", reason=state.reason)
            state = OFF
        if state.enabled:
            log.warning("maintenance restored", reason=state.reason, until=state.answer()["until"])
        self._apply(state, persist=False)

    def enable(self, reason: str = "", duration: float | None = None) -> State:
        """Turn maintenance on (again), until turned off or for `duration` seconds."""
        now = time.time_ns()
        since = self.state.since_ns if self.state.enabled else now
        until = None if duration is None else now + round(duration * 1e9)
        state = State(True, reason, since, until)
        log.warning("maintenance on", reason=reason, until=state.answer()["until"])
        self._apply(state)
        return state

    def disable(self) -> State:
        """Turn maintenance off."""
        if self.state.enabled:
            log.info("maintenance off", reason=self.state.reason)
        self._apply(OFF)
        return OFF

    def close(self) -> None:
        """Stop the expiry timer (the daemon is stopping; the persisted state stays)."""
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None

    def _apply(self, state: State, *, persist: bool = True) -> None:
        was = self.state.enabled
        self.state = state
        self._show(state.record() if state.enabled else None)
        if persist:
            self._persist(state)
        self.close()
        if state.enabled and state.until_ns is not None:
            delay = max(0.0, (state.until_ns - time.time_ns()) / 1e9)
            self._expiry = asyncio.get_running_loop().call_later(delay, self._expire)
        if state.enabled != was:
            self._on_change(state.enabled)

    def _expire(self) -> None:
        self._expiry = None
        log.info("maintenance ended on time", reason=self.state.reason)
        self._apply(OFF)

    def _persist(self, state: State) -> None:
        if self._path is None:
            return
        try:
            write_atomically(self._path, state.to_json())
        except OSError as exc:
            log.error(
                "cannot save the maintenance state; it will not survive a restart",
                path=str(self._path),
                error=exc.strerror or str(exc),
            )


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so a crash leaves the old file or the new one, never a mix."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def check_state_dir(path: str) -> str | None:
    """Why `path` cannot hold healthd's state (None when it can): tried by writing to it."""
    if not os.path.isdir(path):
        return f"{path} is not a directory" if os.path.exists(path) else f"{path} does not exist"
    try:
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        return f"{path} is not writable: {exc.strerror or exc}"
    return None

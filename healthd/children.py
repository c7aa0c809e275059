"""Processes that checks start: each run's marked, what a run leaves behind killed, orphans reaped.

healthd makes itself a child subreaper, so a process that escapes its check's process group
(`setsid sleep 3600 &`) is re-parented to healthd rather than to init. Every process a check
starts carries the run's marker in its environment, which its descendants inherit; when the run
ends, any process still carrying that marker is a leftover and is killed. Zombies that nobody
waits for (adopted orphans) are reaped; those of healthd's own subprocesses are left to the
code that waits for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import itertools
import os
import signal
import time
from pathlib import Path

import structlog

log = structlog.get_logger("healthd.children")

MARKER = "HEALTHD_CHECK_RUN"
PR_SET_CHILD_SUBREAPER = 36
ZOMBIE_GRACE = 5.0
_MARKER_PREFIX = MARKER.encode() + b"="


def become_subreaper() -> bool:
    """Ask Linux to re-parent orphaned descendants to this process (prctl); False if it cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def direct_children() -> list[int]:
    """PIDs of this process's children, from /proc (every thread's `children` list)."""
    pids: list[int] = []
    for children in Path("/proc/self/task").glob("*/children"):
        with contextlib.suppress(OSError):
            pids += [int(pid) for pid in children.read_text().split()]
    return pids


def _state(pid: int) -> tuple[str, int] | None:
    """(state letter, process group) of a process, or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    # The command name in parentheses may hold spaces and parentheses; fields follow the last ")".
    fields = stat[stat.rfind(b")") + 2 :].split()
    return fields[0].decode(), int(fields[2])


def _marker(pid: int) -> str | None:
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return None
    for item in environ.split(b"\0"):
        if item.startswith(_MARKER_PREFIX):
            return item[len(_MARKER_PREFIX) :].decode(errors="replace")
    return None


class Children:
    """Marks each run's processes and cleans up after runs that have ended."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._active: set[str] = set()
        self._killed: set[int] = set()
        self._zombies: dict[int, float] = {}  # zombie child -> when first seen
        self._warned: set[str] = set()

    def start_run(self, check: str) -> str:
        """A new marker for the processes of one run of a check."""
        marker = f"{os.getpid()}.{next(self._ids)}.{check}"
        self._active.add(marker)
        return marker

    def end_run(self, marker: str) -> None:
        """The run is over: whatever still carries its marker is a leftover."""
        self._active.discard(marker)
        self.sweep()

    def sweep(self, everything: bool = False) -> int:
        """Kill leftovers of ended runs (every marked process if `everything`); reap orphans.

        Returns how many processes it killed.
        """
        killed = 0
        zombies: dict[int, float] = {}
        now = time.monotonic()
        children = direct_children()
        self._killed &= set(children)  # those reaped elsewhere are gone
        for pid in children:
            state = _state(pid)
            if state is None:
                continue
            letter, group = state
            if letter == "Z":
                # One we killed, or one left a zombie for a while, has nobody waiting for it;
                # the zombie of healthd's own subprocess is its child watcher's to reap.
                seen = self._zombies.get(pid, now)
                if pid in self._killed or now - seen >= ZOMBIE_GRACE:
                    self._reap(pid)
                else:
                    zombies[pid] = seen
                continue
            marker = _marker(pid)
            if marker is None or (marker in self._active and not everything):
                continue
            self._warn_once(marker)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                # An escaped process that leads its own group takes that group with it.
                if group == pid:
                    os.killpg(pid, signal.SIGKILL)
                else:
                    os.kill(pid, signal.SIGKILL)
                killed += 1
                self._killed.add(pid)
        self._zombies = zombies
        return killed

    def _warn_once(self, marker: str) -> None:
        check = marker.split(".", 2)[-1]
        if check not in self._warned:
            self._warned.add(check)
            log.warning(
                "killing processes a check left running after its run ended (logged once)",
                check=check,
            )

    def _reap(self, pid: int) -> None:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        self._killed.discard(pid)

    async def close(self, rounds: int = 20) -> None:
        """At shutdown: kill every marked process, round after round as orphans re-parent."""
        for _ in range(rounds):
            if not self.sweep(everything=True) and not self._killed:
                return
            await asyncio.sleep(0.05)

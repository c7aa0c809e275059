"""Processes the tests start: whether one is still running, and waiting until it is not."""

from __future__ import annotations

import time
from pathlib import Path

# A SIGKILLed process takes a moment to be torn down after kill() returns; on a loaded machine
# that moment can be long. Waiting asserts nothing about speed: it only bounds a hung test.
PATIENCE = 10.0


def pid_alive(pid: int) -> bool:
    """True if the pid exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def ends(pid: int, limit: float = PATIENCE) -> bool:
    """True once the process has ended (exited, or a zombie); False if it still runs at `limit`."""
    deadline = time.monotonic() + limit
    while pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True

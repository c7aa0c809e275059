"""Processes the tests run: the commands they need installed, whether one still runs, stopping it.

A SIGKILLed process takes a moment to be torn down after kill() returns; on a loaded machine that
moment can be long. Waiting asserts nothing about speed: PATIENCE only bounds a hung test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.waiting import PATIENCE


def require(command: str, package: str) -> str:
    """The path of a system command the test needs; fails (never skips) naming its package."""
    found = command if os.path.isabs(command) and os.access(command, os.X_OK) else None
    found = found or shutil.which(command)
    if found is None:
        pytest.fail(
            f"{command} is not installed: run tests/system-deps.sh (Debian package {package})"
        )
    return found


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


def stop_process(proc: subprocess.Popen[Any]) -> None:
    """Terminate a server the test started; kill it if it does not go within PATIENCE."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=PATIENCE)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()

"""Shared fixtures: free ports, checks built from TOML, waiting on the store without sleeping."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest

from healthd.checks import build_check
from healthd.checks.base import Check, CheckEnv
from healthd.checks.http import SharedSession
from healthd.config import Config, parse_config
from healthd.result import Record
from healthd.scheduler import Punctuality
from healthd.store import Store


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def toml_value(value: Any) -> str:
    """A Python value written as TOML (enough for check keys)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def config_text(*checks: dict[str, Any], extra: str = "") -> str:
    """A config file with the given [[checks]] tables."""
    parts = [extra]
    for check in checks:
        parts.append("[[checks]]")
        parts += [f"{key} = {toml_value(value)}" for key, value in check.items()]
    return "\n".join(parts) + "\n"


def config_of(*checks: dict[str, Any], extra: str = "") -> Config:
    """A validated config with the given checks."""
    return parse_config(config_text(*checks, extra=extra), "test.toml")


@pytest.fixture
def punctuality() -> Punctuality:
    return Punctuality()


@pytest.fixture
async def env(punctuality: Punctuality) -> Any:
    session = SharedSession()
    yield CheckEnv(schedule=punctuality, http=session)
    await session.close()


@pytest.fixture
def make_check(env: CheckEnv) -> Callable[..., Check]:
    """Build one check from its TOML keys (defaults: interval 1s, timeout 0.5s)."""

    def make(**keys: Any) -> Check:
        keys.setdefault("name", "c")
        keys.setdefault("interval", "1s")
        keys.setdefault("timeout", "500ms")
        item = config_of(keys).checks[0]
        return build_check(item.spec, item.timing, env)

    return make


async def wait_for(store: Store, predicate: Callable[[], bool], limit: float = 20.0) -> None:
    """Wait until `predicate()` holds after some recorded run (the limit only guards a hang)."""
    if predicate():
        return
    changed = asyncio.Event()
    unsubscribe = store.listen(lambda name, record: changed.set())
    try:
        async with asyncio.timeout(limit):
            while not predicate():
                await changed.wait()
                changed.clear()
    finally:
        unsubscribe()


def record_of(store: Store, name: str) -> Record:
    return store.get(name)


def require(command: str, package: str) -> str:
    """The path of a system command the test needs; fails (never skips) naming its package."""
    found = command if os.path.isabs(command) and os.access(command, os.X_OK) else None
    found = found or shutil.which(command)
    if found is None:
        pytest.fail(
            f"{command} is not installed: run tests/system-deps.sh (Debian package {package})"
        )
    return found


PATIENCE = 30.0


def stop_process(proc: subprocess.Popen[Any]) -> None:
    """Terminate a server the test started; kill it if it does not go within PATIENCE."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=PATIENCE)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()  # how long a test waits for something before calling it a hang; never a speed test


def until(condition: Callable[[], Any], what: str) -> Any:
    """Poll `condition` until it gives a true value (connection errors count as not yet)."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        try:
            value = condition()
        except OSError:  # urllib's URLError is an OSError
            value = None
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")

"""`command`: runs a program without a shell; exit code 0 passes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shlex
import signal
import subprocess
from typing import Annotated, Any, Literal

from pydantic import Field

from healthd.checks.base import CheckEnv, CheckFailed, CheckSpec, ListOf, Probe, os_error_text
from healthd.children import MARKER, Children
from healthd.remote import ENV_TOKEN

# Kept of a run's output: the first line of stdout, the last line of stderr, each at most this
# long once cleaned. The rest is read and thrown away, so a chatty command cannot fill memory
# nor stall on a full pipe.
LINE_LIMIT = 1024
STDERR_TAIL = 4 * LINE_LIMIT
# After the command exits, how long its pipes may stay open (output still in flight); a process
# that escaped the group and holds them longer is the leftover sweep's to kill.
PIPE_GRACE = 0.5
# How long a killed command may take to die (a process in uninterruptible sleep cannot).
KILL_GRACE = 2.0
# Variables that belong to healthd's own supervisor or secrets, never to a check's children.
PRIVATE_ENV = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", ENV_TOKEN)
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


class CommandKeys(CheckSpec):
    """Keys shared by the checks that run a program: `command` (argv) and `env`."""

    command: Annotated[ListOf[Annotated[str, Field(min_length=1)]], Field(min_length=1)]
    env: dict[str, str] = {}

    def target(self) -> str:
        return shlex.join(self.command)


class CommandSpec(CommandKeys):
    """Keys of a `command` check."""

    type: Literal["command"]


def child_environment(extra: dict[str, str]) -> dict[str, str]:
    """The daemon's environment less its private variables, plus the check's own."""
    env = {key: value for key, value in os.environ.items() if key not in PRIVATE_ENV}
    env.update(extra)
    return env


def clean(text: bytes) -> str:
    """Output as one line of text: control characters and NULs removed, at most LINE_LIMIT."""
    line = _CONTROL.sub("", text.decode(errors="replace").replace("\t", " ")).strip()
    return line[:LINE_LIMIT]


class _Output(asyncio.SubprocessProtocol):
    """Reads both pipes as data arrives, keeping only what a result shows."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.head = b""
        self.tail = b""
        self.exited: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        if fd == 1:
            if len(self.head) < LINE_LIMIT * 4 and b"\n" not in self.head:
                self.head += data[: LINE_LIMIT * 4 - len(self.head)]
        else:
            self.tail = (self.tail + data)[-STDERR_TAIL:]

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    def first_line(self) -> str:
        return clean(self.head.split(b"\n", 1)[0])

    def last_line(self) -> str:
        lines = [line for line in self.tail.splitlines() if line.strip()]
        return clean(lines[-1]) if lines else ""


def kill_group(pid: int) -> None:
    """Kill the process group the command leads, with whatever it forked."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def exit_text(code: int) -> str:
    """How a process ended, in words."""
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by signal {signal.Signals(-code).name}"
        return f"killed by signal {-code}"
    return f"exit code {code}"


async def run_command(
    check: str, argv: tuple[str, ...], env: dict[str, str], children: Children
) -> tuple[int, str, str]:
    """Run argv in its own process group; return exit code, first stdout line, last stderr line.

    However the run ends (exit, timeout, cancellation), the group is killed, the pipes closed and
    whatever the command left behind is swept up.
    """
    loop = asyncio.get_running_loop()
    marker = children.start_run(check)
    output = _Output(loop)
    try:
        transport, _ = await loop.subprocess_exec(
            lambda: output,
            *argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**env, MARKER: marker},
            start_new_session=True,
        )
    except OSError as exc:
        children.end_run(marker)
        raise CheckFailed(f"cannot run {argv[0]}: {os_error_text(exc)}") from exc
    pid = transport.get_pid()
    try:
        # Shielded: a cancelled run must not cancel the future the kill below waits on.
        await asyncio.shield(output.exited)
        kill_group(pid)  # strays left in its group
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(PIPE_GRACE):
                await asyncio.shield(output.closed)
        code = transport.get_returncode()
        assert code is not None
    finally:
        kill_group(pid)
        if not output.exited.done():
            # Timed out or cancelled: wait (briefly) for the kill to land, so the process is
            # reaped by the loop's child watcher before its transport is closed.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(KILL_GRACE):
                    await asyncio.shield(output.exited)
        transport.close()
        children.end_run(marker)
    return code, output.first_line(), output.last_line()


def build(spec: CommandSpec, env: CheckEnv) -> Probe:
    """Return a probe that runs the command once."""
    environment = child_environment(spec.env)

    async def probe() -> dict[str, Any]:
        code, output, error = await run_command(spec.name, spec.command, environment, env.children)
        message = {"exitCode": code, "output": output}
        if code != 0:
            raise CheckFailed(f"{exit_text(code)}: {error}" if error else exit_text(code), message)
        return message

    return probe

"""`command`: runs a program without a shell; exit code 0 passes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
from typing import Annotated, Any, Literal

from pydantic import Field

from healthd.checks.base import CheckEnv, CheckFailed, CheckSpec, ListOf, Probe, os_error_text

# Output beyond these sizes is read and thrown away, so a chatty command cannot fill memory.
FIRST_LINE_LIMIT = 1024
STDERR_TAIL_LIMIT = 4096
# Variables that belong to healthd's own supervisor or secrets, never to a check's children.
PRIVATE_ENV = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "HEALTHD_TOKEN")


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


async def first_line(stream: asyncio.StreamReader) -> str:
    """Read a stream to its end, keeping only the first line (bounded)."""
    head = b""
    while chunk := await stream.read(65536):
        if len(head) < FIRST_LINE_LIMIT and b"\n" not in head:
            head += chunk[: FIRST_LINE_LIMIT - len(head)]
    return head.split(b"\n", 1)[0].decode(errors="replace").strip()


async def last_line(stream: asyncio.StreamReader) -> str:
    """Read a stream to its end, keeping only its last non-empty line (bounded)."""
    tail = b""
    while chunk := await stream.read(65536):
        tail = (tail + chunk)[-STDERR_TAIL_LIMIT:]
    lines = [line for line in tail.decode(errors="replace").splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


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


async def run_command(argv: tuple[str, ...], env: dict[str, str]) -> tuple[int, str, str]:
    """Run argv in its own process group; return exit code, first stdout line, last stderr line."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
    except OSError as exc:
        raise CheckFailed(f"cannot run {argv[0]}: {os_error_text(exc)}") from exc
    assert proc.stdout is not None and proc.stderr is not None
    try:
        output, error = await asyncio.gather(first_line(proc.stdout), last_line(proc.stderr))
        code = await proc.wait()
    finally:
        # On timeout (cancellation) this stops the command; after a normal exit it reaps strays.
        kill_group(proc.pid)
        if proc.returncode is None:
            await asyncio.shield(proc.wait())
    return code, output, error


def build(spec: CommandSpec, env: CheckEnv) -> Probe:
    """Return a probe that runs the command once."""
    environment = child_environment(spec.env)

    async def probe() -> dict[str, Any]:
        code, output, error = await run_command(spec.command, environment)
        message = {"exitCode": code, "output": output}
        if code != 0:
            raise CheckFailed(f"{exit_text(code)}: {error}" if error else exit_text(code), message)
        return message

    return probe

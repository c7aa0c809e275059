"""Run a command on a real pseudo-terminal of a given width, as a person would see it."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Callable, Sequence

from tests.helpers.waiting import PATIENCE

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def plain(text: str) -> str:
    """The text without ANSI escape sequences and carriage returns."""
    return ANSI.sub("", text).replace("\r", "")


def _ctrl_c_as_at_a_prompt() -> None:
    """SIGINT back to its default: a suite started in the background (`pytest &`) has it
    ignored, and a child would inherit that, unlike one started from a person's shell."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Terminal:
    """A process whose stdin, stdout and stderr are a pty `columns` wide."""

    def __init__(self, argv: Sequence[str], env: dict[str, str], columns: int) -> None:
        self.controller, terminal = pty.openpty()
        fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
        env = {**env, "TERM": "xterm"}
        env.pop("COLUMNS", None)  # the width comes from the terminal itself
        env.pop("LINES", None)
        self.proc = subprocess.Popen(
            list(argv),
            stdin=terminal,
            stdout=terminal,
            stderr=terminal,
            env=env,
            preexec_fn=_ctrl_c_as_at_a_prompt,
        )
        os.close(terminal)
        self.screen = b""

    def read(self, timeout: float = 0.1) -> bool:
        """Read what is there; False once the process closed the terminal."""
        if not select.select([self.controller], [], [], timeout)[0]:
            return True
        try:
            chunk = os.read(self.controller, 65536)
        except OSError:  # EIO: every holder of the terminal is gone
            return False
        self.screen += chunk
        return bool(chunk)

    def until(self, condition: Callable[[bytes], bool], patience: float = PATIENCE) -> None:
        """Read until `condition(screen)` holds."""
        deadline = time.monotonic() + patience
        while not condition(self.screen):
            if time.monotonic() > deadline:
                raise AssertionError(f"gave up waiting; the screen shows {self.screen!r}")
            self.read()

    def finish(self, patience: float = PATIENCE) -> int:
        """Read to the end of the output; return the exit code."""
        deadline = time.monotonic() + patience
        while self.read() and time.monotonic() < deadline:
            pass
        code = self.proc.wait(timeout=patience)
        os.close(self.controller)
        return code

    def text(self) -> str:
        """What was shown, without escape sequences."""
        return plain(self.screen.decode(errors="replace"))


def run_on_terminal(argv: Sequence[str], env: dict[str, str], columns: int) -> tuple[int, str]:
    """Run to the end on a pty; return the exit code and what it showed (escapes removed)."""
    terminal = Terminal(argv, env, columns)
    code = terminal.finish()
    return code, terminal.text()

"""healthd's command line as a user runs it, from this checkout: the checkout's root, the
environment a healthd subprocess gets, and a command run to its end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def environment(**extra: str) -> dict[str, str]:
    """The environment healthd runs in: this checkout importable, no config or token inherited
    from the caller's environment; then `extra`."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("HEALTHD_CONFIG", None)
    env.pop("HEALTHD_TOKEN", None)
    env.update(extra)
    return env


def healthd(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m healthd ARGS` run to its end in environment(**env), its output as text."""
    return subprocess.run(
        [sys.executable, "-m", "healthd", *args],
        capture_output=True,
        text=True,
        env=environment(**(env or {})),
        cwd=ROOT,
        timeout=60,
        check=False,
    )

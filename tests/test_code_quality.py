"""The code stays lint-clean, formatted and type-checked (ruff and mypy strict)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.helpers.cli import ROOT


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.mark.parametrize(
    "command",
    [
        ("ruff", "check", "healthd", "tests", "bench"),
        ("ruff", "format", "--check", "healthd", "tests", "bench"),
        ("mypy",),
    ],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_tool_is_clean(command: tuple[str, ...]) -> None:
    if shutil.which(command[0]) is None and run(command[0], "--version").returncode != 0:
        pytest.fail(f"{command[0]} is not installed: pip install -e '.[test]'")
    result = run(*command)
    assert result.returncode == 0, result.stdout + result.stderr

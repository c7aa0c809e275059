"""The checks table shared by `healthd status` and `healthd check`: widths, wrapping, states."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from healthd import table
from healthd.durations import human_duration
from tests.helpers.cli import environment, healthd
from tests.helpers.config import config_file, config_text
from tests.helpers.terminal import run_on_terminal

LONG = "word " * 60


def rows() -> list[table.Row]:
    return [
        table.Row("node.rpc", "health", table.PASS, "1.23 ms", tags="node"),
        table.Row("a.rather.long.check.name", "readiness", table.FAIL, "38.9 ms", "3", "1m0s", "-"),
        table.Row("plugin", "health", table.DEGRADED, "512 µs", "1", "2s", "-", LONG.strip()),
    ]


@pytest.mark.parametrize("width", [60, 80, 120, 200])
def test_lines_fit_the_width_and_keep_name_state_duration_on_one_line(width: int) -> None:
    lines = table.render(rows(), width=width, color=False)
    assert all(len(line) <= width for line in lines)
    for row in rows():
        line = next(line for line in lines if line.startswith(row.name + " "))
        assert re.search(rf" {row.state} +{re.escape(row.duration)}( |$)", line)


def test_the_error_wraps_under_itself_then_is_cut_with_an_ellipsis() -> None:
    lines = table.render(rows(), width=80, color=False)
    start = next(i for i, line in enumerate(lines) if line.startswith("plugin "))
    column = lines[start].index("word")
    continued = lines[start + 1 : start + table.MAX_DETAIL_LINES]
    assert all(
        line[:column].strip() == "" and line[column:].startswith("word") for line in continued
    )
    assert continued[-1].endswith("…")
    assert len(lines) == 1 + len(rows()) + table.MAX_DETAIL_LINES - 1


def test_without_a_width_every_check_is_one_whole_line() -> None:
    lines = table.render(rows(), width=None, color=False)
    assert len(lines) == 1 + len(rows())
    assert lines[-1].endswith(LONG.strip())
    assert lines[0].split()[-1] == "ERROR"


def test_narrow_terminals_drop_optional_columns_first() -> None:
    wide = table.render(rows(), width=200, color=False)[0].split()
    narrow = table.render(rows(), width=70, color=False)[0].split()
    assert wide == [
        "CHECK",
        "KIND",
        "STATE",
        "DURATION",
        "FAILS",
        "FAILING",
        "FOR",
        "TAGS",
        "ERROR",
    ]
    assert narrow[:1] == ["CHECK"] and {"STATE", "DURATION", "ERROR"} <= set(narrow)
    assert "TAGS" not in narrow


def test_color_only_on_request() -> None:
    assert not any("\x1b" in line for line in table.render(rows(), width=80, color=False))
    assert any("\x1b[1;31mFAIL" in line for line in table.render(rows(), width=80, color=True))


@pytest.mark.parametrize(
    ("failing", "ran", "critical", "degraded", "state"),
    [
        (False, True, True, False, "PASS"),
        (True, False, True, False, "NOT RUN"),
        (True, True, True, False, "FAIL"),
        (True, True, False, False, "DEGRADED"),
        (True, True, True, True, "DEGRADED"),
    ],
)
def test_state_of(failing: bool, ran: bool, critical: bool, degraded: bool, state: str) -> None:
    assert table.state_of(failing=failing, ran=ran, critical=critical, degraded=degraded) == state


def test_summary_counts_states_and_gives_the_verdict() -> None:
    assert table.summary(rows(), False) == "3 checks: 1 pass, 1 degraded, 1 fail; health: unhealthy"
    assert table.summary(rows()[:1], True) == "1 check: 1 pass; health: healthy"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.038866124, "38.9 ms"),
        (2, "2.00 s"),
        (0.000512, "512 µs"),
        (0.9999996, "1.00 s"),
        (120.3, "2.00 min"),
        (4e-7, "400 ns"),
        (0, "0 s"),
    ],
)
def test_human_durations_have_three_significant_digits(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


CHECKS = config_text(
    {"name": "node.rpc", "type": "command", "command": ["true"]},
    {
        "name": "plugin.warn",
        "type": "nagios",
        "command": ["sh", "-c", "echo 'WARNING: pretend warning'; exit 1"],
    },
    {"name": "optional", "type": "command", "command": ["false"], "critical": False},
    {
        "name": "chatty",
        "type": "command",
        "command": ["sh", "-c", f"echo '{LONG}' >&2; exit 2"],
        "critical": False,
    },
)


@pytest.mark.parametrize("columns", [80, 200])
def test_check_on_a_terminal(tmp_path: Path, columns: int) -> None:
    argv = [sys.executable, "-m", "healthd", "check", "--config", config_file(tmp_path, CHECKS)]
    code, shown = run_on_terminal(argv, environment(), columns)
    assert code == 0, shown  # WARNING and non-critical failures degrade, they do not fail
    lines = shown.rstrip("\n").split("\n")
    assert all(len(line) <= columns for line in lines), shown
    warned = next(line for line in lines if line.startswith("plugin.warn "))
    assert re.match(r"plugin\.warn +health +DEGRADED +\S+ \S+ .*WARNING: pretend warning$", warned)
    assert "WARNING: WARNING" not in shown
    assert any(re.match(r"optional +health +DEGRADED ", line) for line in lines)
    assert lines[-1] == "4 checks: 1 pass, 3 degraded; health: healthy"


def test_check_piped_is_one_plain_line_per_check(tmp_path: Path) -> None:
    result = healthd("check", "--config", config_file(tmp_path, CHECKS))
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 6 and "\x1b" not in result.stdout
    assert lines[-1] == "4 checks: 1 pass, 3 degraded; health: healthy"
    assert lines[4].endswith(LONG.strip())

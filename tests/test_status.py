"""`healthd status` against a live daemon: its table on a terminal and piped, JSON, exit codes."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.cli import environment, healthd
from tests.helpers.config import config_text
from tests.helpers.daemon import Daemons, Served
from tests.helpers.net import free_port
from tests.helpers.terminal import Terminal, run_on_terminal
from tests.helpers.waiting import until

BOX_DRAWING = re.compile("[\u2500-\u257f]")


def status(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return healthd("status", *args, env={"COLUMNS": "200", **(env or {})})


def status_on_terminal(columns: int, *args: str) -> tuple[int, str]:
    argv = [sys.executable, "-m", "healthd", "status", *args]
    return run_on_terminal(argv, environment(), columns)


PASSING = {
    "name": "node.rpc",
    "type": "command",
    "command": ["true"],
    "interval": "200ms",
    "timeout": "100ms",
    "tags": ["node"],
}
OPTIONAL = {
    "name": "extra",
    "type": "command",
    "command": ["false"],
    "interval": "200ms",
    "timeout": "100ms",
    "critical": False,
}
WARNING = {
    "name": "plugin.warn",
    "type": "nagios",
    "command": ["sh", "-c", "echo 'WARNING: pretend warning'; exit 1"],
    "interval": "200ms",
    "timeout": "100ms",
}
LONG_ERROR = (
    "the replica at db-primary.internal.example.net refused the connection because "
    "max_connections is exhausted and every reserved slot is taken by maintenance jobs"
)
BROKEN = {
    "name": "database.primary.connection",
    "type": "command",
    "command": ["sh", "-c", f"echo '{LONG_ERROR}' >&2; exit 2"],
    "interval": "200ms",
    "timeout": "100ms",
    "tags": ["db"],
}
GATE = {
    "name": "gate",
    "type": "command",
    "command": ["true"],
    "interval": "200ms",
    "timeout": "100ms",
    "kind": "readiness",
}
DURATION = r"\d+(\.\d+)? (ns|µs|ms|s|min|h)"


def failing_once(daemon: Served, name: str) -> None:
    until(
        lambda: daemon.call("health.health")["checks"][name]["contiguousFailures"] >= 1,
        f"{name} to fail",
    )


def passed_once(daemon: Served, name: str, kind: str = "health") -> None:
    until(
        lambda: "error" not in daemon.call(f"health.{kind}")["checks"][name],
        f"{name} to pass",
    )


def row(lines: list[str], name: str) -> str:
    return next(line for line in lines if line.startswith(name + " "))


def test_status_shows_every_check_and_exits_0_when_healthy(daemons: Daemons) -> None:
    daemon = daemons.start(config_text(PASSING, OPTIONAL, WARNING, GATE))
    until(lambda: daemon.get("/readiness").status == 200, "ready")
    failing_once(daemon, "extra")
    failing_once(daemon, "plugin.warn")
    passed_once(daemon, "node.rpc")
    result = status("--url", daemon.base)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert re.match(rf"node\.rpc +health +PASS +{DURATION} +0 +- +node *$", row(lines, "node.rpc"))
    # A non-critical failure and a Monitoring Plugins WARNING degrade; GET still answers 200.
    assert " DEGRADED " in row(lines, "extra") and "exit code 1" in row(lines, "extra")
    warned = row(lines, "plugin.warn")
    assert " DEGRADED " in warned and warned.endswith(" WARNING: pretend warning")
    assert " PASS " in row(lines, "gate") and " readiness " in row(lines, "gate")
    assert lines[0] == f"healthd at {daemon.base}"
    assert lines[-1] == "4 checks: 2 pass, 2 degraded; health: healthy"


def test_piped_output_is_plain_text_one_line_per_check(daemons: Daemons) -> None:
    daemon = daemons.start(config_text(PASSING, BROKEN))
    failing_once(daemon, "database.primary.connection")
    passed_once(daemon, "node.rpc")
    result = status("--url", daemon.base)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "\x1b" not in result.stdout and not BOX_DRAWING.search(result.stdout)
    lines = result.stdout.splitlines()
    header = "CHECK KIND STATE DURATION FAILS FAILING FOR TAGS ERROR"
    assert lines[1].split() == header.split()
    assert len(lines) == 5  # title, header, two checks, summary: nothing wrapped or cut
    broken = row(lines, "database.primary.connection")
    assert re.match(rf"\S+ +health +FAIL +{DURATION} +\d+ +\d+s +db +exit code 2: ", broken)
    assert broken.endswith(LONG_ERROR)
    assert lines[-1] == "2 checks: 1 pass, 1 fail; health: unhealthy"


@pytest.mark.parametrize("columns", [80, 200])
def test_terminal_table_fits_and_never_breaks_name_state_or_duration(
    daemons: Daemons, columns: int
) -> None:
    daemon = daemons.start(config_text(PASSING, BROKEN, WARNING))
    failing_once(daemon, "database.primary.connection")
    failing_once(daemon, "plugin.warn")
    passed_once(daemon, "node.rpc")
    code, shown = status_on_terminal(columns, "--url", daemon.base)
    assert code == 1, shown
    lines = shown.rstrip("\n").split("\n")
    assert all(len(line) <= columns for line in lines), "\n".join(lines)
    assert not BOX_DRAWING.search(shown)
    for name, state in (
        ("node.rpc", "PASS"),
        ("plugin.warn", "DEGRADED"),
        ("database.primary.connection", "FAIL"),
    ):
        assert re.match(
            rf"{re.escape(name)} +(health +)?{state} +{DURATION}( |$)", row(lines, name)
        )
    # The error takes the remaining width: wrapped below itself on a narrow terminal.
    start = lines.index(row(lines, "database.primary.connection"))
    column = lines[start].index("exit code 2:")
    text = lines[start][column:]
    for line in lines[start + 1 :]:
        if line[:column].strip():
            break
        text += " " + line[column:]
    words = f"exit code 2: {LONG_ERROR}".split()
    shown_words = text.rstrip("…").split()
    assert shown_words[:-1] == words[: len(shown_words) - 1]
    if columns == 200:
        assert text == f"exit code 2: {LONG_ERROR}"
    else:
        assert text.endswith("…") or text == f"exit code 2: {LONG_ERROR}"
    assert lines[-1] == "3 checks: 1 pass, 1 degraded, 1 fail; health: unhealthy"


def test_status_json_prints_the_daemons_answer_and_nothing_else(daemons: Daemons) -> None:
    daemon = daemons.start(config_text(PASSING, OPTIONAL))
    failing_once(daemon, "extra")
    passed_once(daemon, "node.rpc")
    result = status("--url", daemon.base, "--json")
    assert result.returncode == 0
    assert result.stderr == ""
    answer = json.loads(result.stdout)
    assert answer["healthy"] is True
    assert set(answer["checks"]) == {"node.rpc", "extra"}
    assert answer["checks"]["extra"]["error"] == {"message": "exit code 1"}


@pytest.mark.parametrize(
    "form",
    [
        "{host}:{port}",
        "{host}:{port}/",
        "http://{host}:{port}",
        "http://{host}:{port}/",
        "http://{host}:{port}/ext/health",
        "http://{host}:{port}/ext/health/",
        "{host}:{port}/ext/health",
    ],
)
def test_url_forms(daemons: Daemons, form: str) -> None:
    daemon = daemons.start(config_text(PASSING))
    until(lambda: daemon.get().status == 200, "healthy")
    port = daemon.base.split(":")[2].split("/")[0]
    result = status("--url", form.format(host="127.0.0.1", port=port))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[0] == f"healthd at http://127.0.0.1:{port}/ext/health"


def test_status_exits_2_when_the_daemon_cannot_be_reached() -> None:
    result = status("--url", f"127.0.0.1:{free_port()}")
    assert result.returncode == 2
    assert re.search(
        r"cannot reach http://127\.0\.0\.1:\d+/ext/health: connection refused", result.stderr
    )
    assert result.stdout == ""


def test_status_with_a_token(tmp_path: Path, daemons: Daemons) -> None:
    token = tmp_path / "token"
    token.write_text("status-token-1\n")
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-token\n")
    protected = daemons.start(
        config_text(PASSING), env={"HEALTHD_TOKEN": "status-token-1"}, name="protected"
    )
    result = status("--url", protected.base)
    assert result.returncode == 2
    assert "the daemon needs a token: give it with --token-file" in result.stderr
    result = status("--url", protected.base, "--token-file", str(wrong))
    assert result.returncode == 2
    assert "HTTP 401 the daemon rejected the token" in result.stderr
    assert "give" not in result.stderr
    missing = tmp_path / "missing"
    result = status("--url", protected.base, "--token-file", str(missing))
    assert result.returncode == 2
    assert f"cannot read the token file {missing}: No such file" in result.stderr
    result = status("--url", protected.base, "--token-file", str(token))
    assert result.returncode in (0, 1), result.stdout + result.stderr
    assert "node.rpc" in result.stdout
    result = status("--url", protected.base, env={"HEALTHD_TOKEN": "status-token-1"})
    assert "node.rpc" in result.stdout


def test_status_watch_redraws_the_whole_screen_until_interrupted(
    daemons: Daemons, tmp_path: Path
) -> None:
    heartbeat = tmp_path / "heartbeat"
    daemon = daemons.start(
        config_text(
            PASSING,
            {
                "name": "heartbeat",
                "type": "file",
                "path": str(heartbeat),
                "max_age": "1h",
                "interval": "200ms",
                "timeout": "100ms",
            },
        )
    )
    failing_once(daemon, "heartbeat")
    argv = [sys.executable, "-m", "healthd", "status", "--watch", "--url", daemon.base]
    terminal = Terminal(argv, environment(), 80)
    try:
        terminal.until(lambda screen: b"cannot stat" in screen and b"refreshed " in screen)
        heartbeat.write_text("")
        until(lambda: daemon.get().status == 200, "the heartbeat to pass")
        frames = lambda screen: screen.split(b"\x1b[2J")  # noqa: E731
        terminal.until(lambda screen: b"2 checks: 2 pass; health: healthy" in frames(screen)[-1])
    finally:
        terminal.proc.send_signal(signal.SIGINT)
        code = terminal.finish()
    assert code == 0
    last = frames(terminal.screen)[-1].decode()
    assert "cannot stat" not in last  # the old error line is gone, not left on screen
    assert re.search(r"refreshed \d\d:\d\d:\d\d, every 2s; Ctrl-C to stop", last)


@pytest.mark.parametrize(
    ("given", "url"),
    [
        ("node1:9660", "http://node1:9660/ext/health"),
        ("http://node1:9660", "http://node1:9660/ext/health"),
        ("https://node1/", "https://node1/ext/health"),
        ("node1:9660/ext/health/", "http://node1:9660/ext/health"),
        ("[::1]:9660", "http://[::1]:9660/ext/health"),
        ("http://node1:9660/custom/prefix/", "http://node1:9660/custom/prefix"),
    ],
)
def test_endpoint_forms(given: str, url: str) -> None:
    from healthd.remote import endpoint

    assert endpoint(given) == url


def test_only_a_monitoring_plugins_warning_degrades_a_critical_check() -> None:
    from healthd.status import state

    failed = {"timestamp": "2026-11-23T10:00:00Z", "error": {"message": "x"}, "critical": True}
    plugin = {"status": "WARNING", "text": "slow", "perfdata": {}}
    assert state({**failed, "message": plugin}) == "DEGRADED"
    assert state({**failed, "message": {**plugin, "status": "CRITICAL"}}) == "FAIL"
    # A jsonrpc check's result that happens to hold a "status" says nothing about degrading.
    assert state({**failed, "message": {"status": "WARNING"}}) == "FAIL"
    assert state({**failed, "degraded": True}) == "DEGRADED"
    assert state({**failed, "critical": False}) == "DEGRADED"
    assert state({"error": {"message": "not yet run"}, "timestamp": None}) == "NOT RUN"

"""`healthd status` against a live daemon: its table and its exit codes."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tests.conftest import config_text, free_port, until
from tests.test_end_to_end import ROOT, Daemon, start_daemon

__all__ = ["start_daemon"]


def status(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    environment.pop("HEALTHD_TOKEN", None)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "healthd", "status", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )


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
BROKEN = {
    "name": "db",
    "type": "command",
    "command": ["sh", "-c", "echo refused >&2; exit 2"],
    "interval": "200ms",
    "timeout": "100ms",
}
GATE = {
    "name": "gate",
    "type": "command",
    "command": ["true"],
    "interval": "200ms",
    "timeout": "100ms",
    "kind": "readiness",
}


def test_status_shows_every_check_and_exits_0_when_healthy(
    start_daemon: Callable[[str], Daemon],
) -> None:
    daemon = start_daemon(config_text(PASSING, OPTIONAL, GATE))
    until(lambda: daemon.get()[0] == 200 and daemon.get("/readiness")[0] == 200, "healthy")
    result = status("--url", daemon.base)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "healthy" in lines[0]
    row = next(line for line in lines if "node.rpc" in line)
    assert "health" in row and "node" in row and "PASS" in row
    row = next(line for line in lines if " extra " in line)
    assert "DEGRADED" in row and "exit code 1" in row
    assert any("gate" in line and "readiness" in line and "PASS" in line for line in lines)


def test_status_exits_1_when_unhealthy_and_shows_the_error(
    start_daemon: Callable[[str], Daemon],
) -> None:
    daemon = start_daemon(config_text(PASSING, BROKEN))
    until(
        lambda: daemon.call("health.health")["checks"]["db"]["contiguousFailures"] >= 1, "a failure"
    )
    result = status("--url", daemon.base)
    assert result.returncode == 1, result.stdout + result.stderr
    row = next(line for line in result.stdout.splitlines() if " db " in line)
    assert "FAIL" in row and "exit code 2: refused" in row and "UTC" in row


def test_status_exits_2_when_the_daemon_cannot_be_reached() -> None:
    result = status("--url", f"http://127.0.0.1:{free_port()}/ext/health")
    assert result.returncode == 2
    assert "cannot reach" in result.stdout + result.stderr


def test_status_with_a_token(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("status-token-1\n")
    protected = start_daemon_with_token(tmp_path, "status-token-1")
    try:
        result = status("--url", protected[1])
        assert result.returncode == 2 and "unauthorized" in result.stdout + result.stderr
        result = status("--url", protected[1], "--token-file", str(token))
        assert result.returncode in (0, 1), result.stdout + result.stderr
        assert "node.rpc" in result.stdout
        result = status("--url", protected[1], env={"HEALTHD_TOKEN": "status-token-1"})
        assert "node.rpc" in result.stdout
    finally:
        protected[0].kill()
        protected[0].wait()


def start_daemon_with_token(tmp_path: Path, token: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    config = tmp_path / "protected.toml"
    config.write_text(f"[server]\nport = {port}\n" + config_text(PASSING))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HEALTHD_TOKEN": token}
    proc = subprocess.Popen(
        [sys.executable, "-m", "healthd", "serve", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}/ext/health"

    def up() -> bool:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status in (200, 503)

    until(up, "the protected daemon")
    return proc, url


def test_status_watch_refreshes_until_interrupted(start_daemon: Callable[[str], Daemon]) -> None:
    daemon = start_daemon(config_text(PASSING))
    until(lambda: daemon.get()[0] == 200, "healthy")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200", "TERM": "xterm"}
    controller, terminal = pty.openpty()  # a terminal, as a person would watch it from
    proc = subprocess.Popen(
        [sys.executable, "-m", "healthd", "status", "--watch", "--url", daemon.base],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
    )
    os.close(terminal)
    screen = b""

    def shown_twice() -> bool:
        nonlocal screen
        if select.select([controller], [], [], 0.1)[0]:
            screen += os.read(controller, 65536)
        return screen.count(b"node.rpc") >= 2  # drawn, then redrawn in place

    try:
        until(shown_twice, "the table drawn and refreshed")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        os.close(controller)
    assert proc.returncode == 0
    assert b"PASS" in screen

"""`healthd serve` as a separate process, spoken to with jsonrpcclient over real HTTP."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonrpcclient import Error, Ok, parse, request

from tests.helpers.cli import environment
from tests.helpers.config import config_text
from tests.helpers.net import free_port
from tests.helpers.waiting import PATIENCE, until


class Daemon:
    """A running `healthd serve` and how to talk to it."""

    def __init__(self, proc: subprocess.Popen[bytes], port: int) -> None:
        self.proc = proc
        self.base = f"http://127.0.0.1:{port}/ext/health"

    def call(self, method: str, params: Any = None) -> Any:
        payload = json.dumps(request(method, params=params)).encode()
        http_request = urllib.request.Request(
            self.base, data=payload, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(http_request, timeout=10) as response:
            parsed = parse(json.loads(response.read()))
        if isinstance(parsed, Error):
            raise AssertionError(f"JSON-RPC error {parsed.code}: {parsed.message}")
        assert isinstance(parsed, Ok)
        return parsed.result

    def get(self, path: str = "") -> tuple[int, Any]:
        try:
            with urllib.request.urlopen(self.base + path, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())


@pytest.fixture
def start_daemon(tmp_path: Path) -> Iterator[Callable[[str], Daemon]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(text: str) -> Daemon:
        port = free_port()
        path = tmp_path / "config.toml"
        path.write_text(f"[server]\nport = {port}\n{text}")
        proc = subprocess.Popen(
            [sys.executable, "-m", "healthd", "serve", "--config", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environment(),
        )
        started.append(proc)
        daemon = Daemon(proc, port)
        until(lambda: proc.poll() is not None or daemon.get("/liveness"), "the daemon to listen")
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        return daemon

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def listener(port: int) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(16)
    return sock


def test_a_check_goes_from_passing_to_failing_and_back(
    start_daemon: Callable[[str], Daemon],
) -> None:
    port = free_port()
    node = listener(port)
    daemon = start_daemon(
        config_text(
            {
                "name": "node.rpc",
                "type": "tcp",
                "host": "127.0.0.1",
                "port": port,
                "interval": "200ms",
                "timeout": "150ms",
                "tags": ["node"],
            },
        )
    )

    result = until(lambda: (r := daemon.call("health.health"))["healthy"] and r, "passing")
    check = result["checks"]["node.rpc"]
    assert check["message"] == {"address": f"127.0.0.1:{port}"}
    assert check["contiguousFailures"] == 0 and check["timeOfFirstFailure"] is None
    assert isinstance(check["duration"], int) and check["duration"] > 0
    assert daemon.get()[0] == 200
    servers = daemon.call("rpc.discover")["servers"]
    assert servers == [{"name": "healthd", "url": daemon.base}]

    node.close()
    failing = until(
        lambda: (
            (r := daemon.call("health.health", {"tags": ["node"]}))["checks"]["node.rpc"][
                "contiguousFailures"
            ]
            >= 2
            and r
        ),
        "two failures in a row",
    )
    check = failing["checks"]["node.rpc"]
    assert failing["healthy"] is False
    assert check["error"]["message"].endswith("connection refused")
    assert check["timeOfFirstFailure"] is not None
    assert check["timeOfFirstFailure"] <= check["timestamp"]
    status, body = daemon.get("?tag=node")
    assert status == 503 and body["healthy"] is False

    node = listener(port)
    try:
        until(lambda: daemon.call("health.health", [["node"]])["healthy"], "passing again")
        status, body = daemon.get()
        assert status == 200
        assert body["checks"]["node.rpc"]["contiguousFailures"] == 0
    finally:
        node.close()

    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=PATIENCE) == 0
    assert daemon.proc.stdout is not None
    events = [json.loads(line)["event"] for line in daemon.proc.stdout.read().splitlines()]
    assert events.count("check started failing") == 1
    assert events.count("check started passing") == 2
    assert "healthd started" in events and events[-1] == "healthd stopped"


def test_a_hanging_check_times_out_while_the_daemon_keeps_answering(
    start_daemon: Callable[[str], Daemon],
) -> None:
    daemon = start_daemon(
        config_text(
            {
                "name": "hangs",
                "type": "command",
                "command": ["sleep", "30"],
                "interval": "400ms",
                "timeout": "200ms",
            },
            {
                "name": "fine",
                "type": "command",
                "command": ["true"],
                "interval": "400ms",
                "timeout": "200ms",
            },
        )
    )
    result = until(
        lambda: (
            (r := daemon.call("health.health"))["checks"]["hangs"]["contiguousFailures"] >= 2 and r
        ),
        "two timeouts",
    )
    assert result["checks"]["hangs"]["error"]["message"] == "timed out after 200ms"
    assert "error" not in result["checks"]["fine"]
    assert daemon.get()[0] == 503


def test_the_started_line_comes_before_any_check_result(
    start_daemon: Callable[[str], Daemon],
) -> None:
    """In the journal, `healthd started` is the first line, before the checks' transitions."""
    daemon = start_daemon(
        config_text(
            {"name": "quick", "type": "command", "command": ["true"]},
            extra='[logging]\nformat = "json"\n',
        )
    )
    until(lambda: daemon.call("health.health")["healthy"], "the check to pass")
    daemon.proc.terminate()
    out, _ = daemon.proc.communicate(timeout=30)
    events = [json.loads(line)["event"] for line in out.decode().splitlines()]
    assert events[0] == "healthd started"
    assert events.index("check started passing") > 0
    assert events[-1] == "healthd stopped"

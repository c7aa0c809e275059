"""`healthd serve` as a separate process, spoken to with jsonrpcclient over real HTTP."""

from __future__ import annotations

import json
import signal
import socket

from tests.helpers.config import config_text
from tests.helpers.daemon import Daemons
from tests.helpers.net import free_port
from tests.helpers.waiting import PATIENCE, until


def listener(port: int) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(16)
    return sock


def test_a_check_goes_from_passing_to_failing_and_back(daemons: Daemons) -> None:
    port = free_port()
    node = listener(port)
    daemon = daemons.start(
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
    assert daemon.get().status == 200
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
    answer = daemon.get("?tag=node")
    assert answer.status == 503 and answer.json()["healthy"] is False

    node = listener(port)
    try:
        until(lambda: daemon.call("health.health", [["node"]])["healthy"], "passing again")
        answer = daemon.get()
        assert answer.status == 200
        assert answer.json()["checks"]["node.rpc"]["contiguousFailures"] == 0
    finally:
        node.close()

    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=PATIENCE) == 0
    events = [json.loads(line)["event"] for line in daemon.stdout.read_text().splitlines()]
    assert events.count("check started failing") == 1
    assert events.count("check started passing") == 2
    assert "healthd started" in events and events[-1] == "healthd stopped"


def test_a_hanging_check_times_out_while_the_daemon_keeps_answering(daemons: Daemons) -> None:
    daemon = daemons.start(
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
    assert daemon.get().status == 503


def test_the_started_line_comes_before_any_check_result(daemons: Daemons) -> None:
    """In the journal, `healthd started` is the first line, before the checks' transitions."""
    daemon = daemons.start(config_text({"name": "quick", "type": "command", "command": ["true"]}))
    until(lambda: daemon.call("health.health")["healthy"], "the check to pass")
    daemon.proc.terminate()
    daemon.proc.wait(timeout=PATIENCE)
    events = [json.loads(line)["event"] for line in daemon.stdout.read_text().splitlines()]
    assert events[0] == "healthd started"
    assert events.index("check started passing") > 0
    assert events[-1] == "healthd stopped"

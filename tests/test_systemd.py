"""`healthd serve` under a stand-in for systemd: a real notify socket, signals, reload."""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from healthd.sd_notify import Notifier, watchdog_interval
from tests.helpers.config import config_text
from tests.helpers.daemon import Daemons, Served
from tests.helpers.net import free_port
from tests.helpers.processes import ends
from tests.helpers.waiting import PATIENCE, until


class Systemd:
    """Receives what healthd tells systemd, as systemd would."""

    def __init__(self, sock: socket.socket, address: str) -> None:
        self.sock = sock
        self.address = address
        self.messages: list[dict[str, str]] = []

    def _receive(self, timeout: float) -> dict[str, str] | None:
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(4096)
        except TimeoutError:
            return None
        fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
        self.messages.append(fields)
        return fields

    def wait_for(self, predicate: Callable[[dict[str, str]], bool], what: str) -> dict[str, str]:
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            fields = self._receive(deadline - time.monotonic())
            if fields is not None and predicate(fields):
                return fields
        raise AssertionError(f"systemd never heard {what}; heard {self.messages}")


@pytest.fixture
def systemd(tmp_path: Path) -> Iterator[Systemd]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = str(tmp_path / "notify.sock")
    sock.bind(path)
    yield Systemd(sock, path)
    sock.close()


def checks_of(daemon: Served) -> dict[str, Any]:
    """The checks in the daemon's GET /ext/health answer."""
    return daemon.get().json()["checks"]  # type: ignore[no-any-return]


FAILING = {
    "name": "node.rpc",
    "type": "tcp",
    "host": "127.0.0.1",
    "interval": "200ms",
    "timeout": "100ms",
}
PASSING = {
    "name": "ok",
    "type": "command",
    "command": ["true"],
    "interval": "200ms",
    "timeout": "100ms",
}


def test_ready_status_watchdog_and_stopping(systemd: Systemd, daemons: Daemons) -> None:
    daemon = daemons.serve(
        config_text({**FAILING, "port": free_port()}, PASSING),
        env={"NOTIFY_SOCKET": systemd.address, "WATCHDOG_USEC": "2000000"},
    )
    ready = systemd.wait_for(lambda m: m.get("READY") == "1", "READY=1")
    # READY comes only once the server accepts connections: no retry needed here.
    assert daemon.get().status == 503
    assert ready["STATUS"].endswith("passing") and ready["STATUS"].startswith("2 checks")
    systemd.wait_for(lambda m: m.get("STATUS") == "2 checks, 1 passing", "STATUS kept current")

    pings: list[float] = []
    while len(pings) < 4:
        systemd.wait_for(lambda m: m.get("WATCHDOG") == "1", "WATCHDOG=1")
        pings.append(time.monotonic())
    gaps = [b - a for a, b in itertools.pairwise(pings)]
    # Pinged at half the 2 s period; systemd would act on a gap of the whole period.
    assert all(gap < 2.0 for gap in gaps), gaps

    daemon.proc.send_signal(signal.SIGTERM)
    systemd.wait_for(lambda m: m.get("STOPPING") == "1", "STOPPING=1")
    assert daemon.proc.wait(timeout=PATIENCE) == 0


def test_abstract_namespace_notify_socket(daemons: Daemons) -> None:
    name = f"healthd-test-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    try:
        daemon = daemons.serve(config_text(PASSING), env={"NOTIFY_SOCKET": "@" + name})
        systemd = Systemd(sock, "@" + name)
        systemd.wait_for(lambda m: m.get("READY") == "1", "READY=1 on an abstract socket")
        daemon.proc.send_signal(signal.SIGINT)
        assert daemon.proc.wait(timeout=PATIENCE) == 0
    finally:
        sock.close()


def test_sighup_reload_keeps_unchanged_checks_and_their_state(
    systemd: Systemd, daemons: Daemons
) -> None:
    failing = {**FAILING, "port": free_port()}
    changing = {**PASSING, "name": "changing"}
    daemon = daemons.serve(
        config_text(failing, changing, {**PASSING, "name": "removed"}),
        env={"NOTIFY_SOCKET": systemd.address},
    )
    systemd.wait_for(lambda m: m.get("READY") == "1", "READY=1")
    before = until(
        lambda: (c := checks_of(daemon))["node.rpc"]["contiguousFailures"] >= 3 and c,
        "three failures",
    )["node.rpc"]
    assert "error" not in checks_of(daemon)["changing"]

    daemons.write_config(
        config_text(failing, {**changing, "command": ["false"]}, {**PASSING, "name": "added"}),
        port=daemon.port,
    )
    daemon.proc.send_signal(signal.SIGHUP)
    systemd.wait_for(lambda m: m.get("RELOADING") == "1", "RELOADING=1")
    systemd.wait_for(lambda m: m.get("READY") == "1", "READY=1 after the reload")

    checks = checks_of(daemon)
    assert set(checks) == {"node.rpc", "changing", "added"}
    kept = checks["node.rpc"]
    assert kept["contiguousFailures"] >= before["contiguousFailures"]
    assert kept["timeOfFirstFailure"] == before["timeOfFirstFailure"]
    changed = until(
        lambda: (c := checks_of(daemon)["changing"]).get("timestamp") and c,
        "the changed check to run",
    )
    assert changed["error"]["message"] == "exit code 1"  # the new definition runs

    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=PATIENCE) == 0
    out = daemon.stdout.read_text()
    reloaded = [json.loads(line) for line in out.splitlines() if '"config reloaded"' in line]
    assert len(reloaded) == 1
    assert reloaded[0]["added"] == ["added"] and reloaded[0]["removed"] == ["removed"]
    assert reloaded[0]["changed"] == ["changing"]


def test_a_broken_config_on_sighup_leaves_the_old_one_running(
    systemd: Systemd, daemons: Daemons
) -> None:
    daemon = daemons.serve(config_text(PASSING), env={"NOTIFY_SOCKET": systemd.address})
    systemd.wait_for(lambda m: m.get("READY") == "1", "READY=1")
    daemons.write_config('[[checks]]\nname = "x"\ntype = "tcp"\nport = "nope"\n', port=daemon.port)
    daemon.proc.send_signal(signal.SIGHUP)
    systemd.wait_for(lambda m: m.get("RELOADING") == "1", "RELOADING=1")
    systemd.wait_for(lambda m: m.get("READY") == "1", "READY=1 after the failed reload")
    assert set(checks_of(daemon)) == {"ok"}
    until(lambda: daemon.get().status == 200, "the old check still serving")
    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=PATIENCE) == 0
    out = daemon.stdout.read_text()
    failures = [json.loads(line) for line in out.splitlines() if "reload failed" in line]
    assert len(failures) == 1
    assert (
        "checks[0] (x).port" in failures[0]["error"]
        and "checks[0] (x).host" in failures[0]["error"]
    )


def test_server_changes_on_reload_ask_for_a_restart(systemd: Systemd, daemons: Daemons) -> None:
    daemon = daemons.serve(config_text(PASSING), env={"NOTIFY_SOCKET": systemd.address})
    systemd.wait_for(lambda m: m.get("READY") == "1", "READY=1")
    daemons.write_config(config_text(PASSING), server={"max_body_bytes": 100}, port=daemon.port)
    daemon.proc.send_signal(signal.SIGHUP)
    systemd.wait_for(lambda m: m.get("RELOADING") == "1", "RELOADING=1")
    systemd.wait_for(lambda m: m.get("READY") == "1", "READY=1")
    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=PATIENCE) == 0
    out = daemon.stdout.read_text()
    assert "restart healthd to apply them" in out


def test_sigterm_stops_running_checks_and_kills_their_processes(
    systemd: Systemd, daemons: Daemons, tmp_path: Path
) -> None:
    pidfile = tmp_path / "child.pid"
    slow = {
        "name": "slow",
        "type": "command",
        "interval": "20s",
        "timeout": "15s",
        "command": ["sh", "-c", f"echo $$ > {pidfile}; exec sleep 60"],
    }
    stuck = {
        "name": "stuck",
        "type": "python",
        "interval": "20s",
        "timeout": "200ms",
        "callable": "tests.helpers.probes:blocks_until_released",
    }
    daemon = daemons.serve(config_text(slow, stuck), env={"NOTIFY_SOCKET": systemd.address})
    systemd.wait_for(lambda m: m.get("READY") == "1", "READY=1")
    until(lambda: pidfile.exists() and pidfile.read_text().strip(), "the command to start")
    child = int(pidfile.read_text())
    until(lambda: checks_of(daemon)["stuck"].get("timestamp"), "the stuck check to time out")
    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=PATIENCE) == 0
    assert ends(child)


def test_without_notify_socket_nothing_is_sent() -> None:
    notifier = Notifier("")
    assert not notifier.enabled
    assert notifier.send(READY=1) is False


def test_watchdog_interval_is_half_the_period_and_respects_the_pid() -> None:
    assert watchdog_interval({"WATCHDOG_USEC": "30000000"}) == 15.0
    assert watchdog_interval({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid())}) == 1.0
    assert watchdog_interval({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_interval({}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "0"}) is None

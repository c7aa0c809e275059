"""`healthd serve` under a stand-in for systemd: a real notify socket, signals, reload."""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from healthd.sd_notify import Notifier, watchdog_interval
from tests.helpers.cli import environment
from tests.helpers.config import config_text
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


class Healthd:
    def __init__(self, proc: subprocess.Popen[str], port: int, config: Path) -> None:
        self.proc, self.port, self.config = proc, port, config

    def get(self, path: str = "") -> tuple[int, Any]:
        url = f"http://127.0.0.1:{self.port}/ext/health{path}"
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def checks(self, path: str = "") -> dict[str, Any]:
        return self.get(path)[1]["checks"]  # type: ignore[no-any-return]

    def write_config(self, body: str) -> None:
        self.config.write_text(f"[server]\nport = {self.port}\n" + body)


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Healthd]]:
    procs: list[subprocess.Popen[str]] = []

    def run(body: str, **env: str) -> Healthd:
        port = free_port()
        config = tmp_path / "config.toml"
        daemon = Healthd(None, port, config)  # type: ignore[arg-type]
        daemon.write_config(body)
        daemon.proc = subprocess.Popen(
            [sys.executable, "-m", "healthd", "serve", "--config", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment(**env),
        )
        procs.append(daemon.proc)
        return daemon

    yield run
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


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


def test_ready_status_watchdog_and_stopping(
    systemd: Systemd, start: Callable[..., Healthd]
) -> None:
    daemon = start(
        config_text({**FAILING, "port": free_port()}, PASSING),
        NOTIFY_SOCKET=systemd.address,
        WATCHDOG_USEC="2000000",
    )
    ready = systemd.wait_for(lambda m: m.get("READY") == "1", "READY=1")
    # READY comes only once the server accepts connections: no retry needed here.
    status, _ = daemon.get()
    assert status == 503
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


def test_abstract_namespace_notify_socket(start: Callable[..., Healthd]) -> None:
    name = f"healthd-test-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    try:
        daemon = start(config_text(PASSING), NOTIFY_SOCKET="@" + name)
        systemd = Systemd(sock, "@" + name)
        systemd.wait_for(lambda m: m.get("READY") == "1", "READY=1 on an abstract socket")
        daemon.proc.send_signal(signal.SIGINT)
        assert daemon.proc.wait(timeout=PATIENCE) == 0
    finally:
        sock.close()


def test_sighup_reload_keeps_unchanged_checks_and_their_state(
    systemd: Systemd, start: Callable[..., Healthd]
) -> None:
    failing = {**FAILING, "port": free_port()}
    changing = {**PASSING, "name": "changing"}
    daemon = start(
        config_text(failing, changing, {**PASSING, "name": "removed"}),
        NOTIFY_SOCKET=systemd.address,
    )
    systemd.wait_for(lambda m: m.get("READY") == "1", "READY=1")
    before = until(
        lambda: (c := daemon.checks())["node.rpc"]["contiguousFailures"] >= 3 and c,
        "three failures",
    )["node.rpc"]
    assert "error" not in daemon.checks()["changing"]

    daemon.write_config(
        config_text(failing, {**changing, "command": ["false"]}, {**PASSING, "name": "added"})
    )
    daemon.proc.send_signal(signal.SIGHUP)
    systemd.wait_for(lambda m: m.get("RELOADING") == "1", "RELOADING=1")
    systemd.wait_for(lambda m: m.get("READY") == "1", "READY=1 after the reload")

    checks = daemon.checks()
    assert set(checks) == {"node.rpc", "changing", "added"}
    kept = checks["node.rpc"]
    assert kept["contiguousFailures"] >= before["contiguousFailures"]
    assert kept["timeOfFirstFailure"] == before["timeOfFirstFailure"]
    changed = until(
        lambda: (c := daemon.checks()["changing"]).get("timestamp") and c,
        "the changed check to run",
    )
    assert changed["error"]["message"] == "exit code 1"  # the new definition runs

    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=PATIENCE) == 0
    out = daemon.proc.stdout.read() if daemon.proc.stdout else ""
    reloaded = [json.loads(line) for line in out.splitlines() if '"config reloaded"' in line]
    assert len(reloaded) == 1
    assert reloaded[0]["added"] == ["added"] and reloaded[0]["removed"] == ["removed"]
    assert reloaded[0]["changed"] == ["changing"]


def test_a_broken_config_on_sighup_leaves_the_old_one_running(
    systemd: Systemd, start: Callable[..., Healthd]
) -> None:
    daemon = start(config_text(PASSING), NOTIFY_SOCKET=systemd.address)
    systemd.wait_for(lambda m: m.get("READY") == "1", "READY=1")
    daemon.write_config('[[checks]]\nname = "x"\ntype = "tcp"\nport = "nope"\n')
    daemon.proc.send_signal(signal.SIGHUP)
    systemd.wait_for(lambda m: m.get("RELOADING") == "1", "RELOADING=1")
    systemd.wait_for(lambda m: m.get("READY") == "1", "READY=1 after the failed reload")
    assert set(daemon.checks()) == {"ok"}
    until(lambda: daemon.get()[0] == 200, "the old check still serving")
    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=PATIENCE) == 0
    out = daemon.proc.stdout.read() if daemon.proc.stdout else ""
    failures = [json.loads(line) for line in out.splitlines() if "reload failed" in line]
    assert len(failures) == 1
    assert (
        "checks[0] (x).port" in failures[0]["error"]
        and "checks[0] (x).host" in failures[0]["error"]
    )


def test_server_changes_on_reload_ask_for_a_restart(
    systemd: Systemd, start: Callable[..., Healthd]
) -> None:
    daemon = start(config_text(PASSING), NOTIFY_SOCKET=systemd.address)
    systemd.wait_for(lambda m: m.get("READY") == "1", "READY=1")
    daemon.config.write_text(
        f"[server]\nport = {daemon.port}\nmax_body_bytes = 100\n" + config_text(PASSING)
    )
    daemon.proc.send_signal(signal.SIGHUP)
    systemd.wait_for(lambda m: m.get("RELOADING") == "1", "RELOADING=1")
    systemd.wait_for(lambda m: m.get("READY") == "1", "READY=1")
    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=PATIENCE) == 0
    out = daemon.proc.stdout.read() if daemon.proc.stdout else ""
    assert "restart healthd to apply them" in out


def test_sigterm_stops_running_checks_and_kills_their_processes(
    systemd: Systemd, start: Callable[..., Healthd], tmp_path: Path
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
    daemon = start(config_text(slow, stuck), NOTIFY_SOCKET=systemd.address)
    systemd.wait_for(lambda m: m.get("READY") == "1", "READY=1")
    until(lambda: pidfile.exists() and pidfile.read_text().strip(), "the command to start")
    child = int(pidfile.read_text())
    until(lambda: daemon.checks()["stuck"].get("timestamp"), "the stuck check to time out")
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

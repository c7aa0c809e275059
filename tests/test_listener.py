"""The listener's bookkeeping: failed accepts and refusals are logged once per burst."""

from __future__ import annotations

import asyncio
import urllib.request
from typing import Any

from structlog.testing import capture_logs

from healthd import listener
from healthd.listener import ACCEPT_ERROR, AcceptErrors
from tests.helpers.daemon import Daemons, read_until_closed
from tests.helpers.waiting import PATIENCE


async def test_accept_failures_are_logged_once_per_burst_not_per_attempt() -> None:
    loop = asyncio.get_running_loop()
    passed_on: list[dict[str, Any]] = []
    loop_default = loop.default_exception_handler
    loop.default_exception_handler = passed_on.append  # type: ignore[method-assign]
    try:
        handler = AcceptErrors()
        with capture_logs() as logs:
            for _ in range(1000):
                handler(loop, {"message": ACCEPT_ERROR, "exception": OSError(24, "EMFILE")})
            handler(loop, {"message": "something else"})
    finally:
        loop.default_exception_handler = loop_default  # type: ignore[method-assign]
    warnings = [entry for entry in logs if entry["log_level"] == "warning"]
    assert len(warnings) == 1
    assert "cannot accept connections" in warnings[0]["event"]
    assert passed_on == [{"message": "something else"}]  # anything else: the loop's default


async def test_a_burst_ends_with_one_line_counting_it(monkeypatch: Any) -> None:
    monkeypatch.setattr(listener, "BURST_QUIET", 0.05)
    burst = listener.Burst("connections refused: max_connections reached", 3)
    with capture_logs() as logs:
        for _ in range(5):
            burst.hit()
        for _ in range(100):  # polls for the closing line; asserts nothing about time
            if len(logs) == 2:
                break
            await asyncio.sleep(0.02)
    assert [entry["log_level"] for entry in logs] == ["warning", "info"]
    assert logs[1]["count"] == 5


def metric(text: str, name: str) -> float:
    """The value of a metric line that starts with `name` (labels included in `name`)."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"no {name} in /metrics")


def test_the_defences_show_in_metrics(daemons: Daemons) -> None:
    """Deadline cuts, malformed requests and worker slots are counted where a dashboard reads."""
    served = daemons.start(server={"header_timeout": "1s", "max_connections": 50})
    silent = [served.connect() for _ in range(3)]
    for sock in silent:  # closed by the header deadline: recv sees the end
        sock.settimeout(PATIENCE)
        assert sock.recv(1) == b""
        sock.close()
    garbage = served.connect()
    garbage.sendall(b"NOT HTTP\r\n\r\n")
    assert read_until_closed(garbage).startswith(b"HTTP/1.")
    garbage.close()
    with urllib.request.urlopen(f"http://127.0.0.1:{served.port}/metrics") as response:
        text = response.read().decode()
    assert metric(text, "healthd_connections_timed_out_total") >= 3
    assert metric(text, "healthd_bad_requests_total") >= 1
    assert metric(text, "healthd_connections_max") == 50
    assert metric(text, 'healthd_worker_slots{pool="check"}') == 8
    assert metric(text, 'healthd_worker_threads{pool="user-check",state="stuck"}') == 0

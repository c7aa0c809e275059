"""The listener's bookkeeping: failed accepts and refusals are logged once per burst."""

from __future__ import annotations

import asyncio
from typing import Any

from structlog.testing import capture_logs

from healthd import listener
from healthd.listener import ACCEPT_ERROR, AcceptErrors


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

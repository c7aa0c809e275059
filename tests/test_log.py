"""Log lines, healthd's and every library's, never carry a secret."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import orjson
import pytest
import structlog

from healthd import log


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    log.configure("debug", "json", stream)
    log.REDACTOR.update(["configured-t0ken", "db-pass-word"])
    yield stream
    log.REDACTOR.update([])
    structlog.reset_defaults()
    logging.getLogger().handlers.clear()


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in stream.getvalue().splitlines()]


def test_configured_secrets_are_scrubbed_from_healthd_lines(captured: io.StringIO) -> None:
    structlog.get_logger("healthd").warning(
        "check failed", error="auth configured-t0ken refused", nested={"dsn": "x:db-pass-word@h"}
    )
    text = captured.getvalue()
    assert "configured-t0ken" not in text and "db-pass-word" not in text
    assert lines(captured)[0]["error"] == "auth *** refused"


def test_library_lines_and_their_tracebacks_are_scrubbed(captured: io.StringIO) -> None:
    """aiohttp logs a rejected header line with its bytes; the token must not get through."""
    try:
        raise ValueError("Got more than 8190 bytes: b'Bearer configured-t0ken AAAA'")
    except ValueError as exc:
        logging.getLogger("aiohttp.server").error("Error handling request", exc_info=exc)
    logging.getLogger("asyncio").error("socket %s", "Authorization: Basic dXNlcjpwYXNz")
    text = captured.getvalue()
    assert "configured-t0ken" not in text
    assert "dXNlcjpwYXNz" not in text
    assert "Traceback" in lines(captured)[0]["exception"]  # the traceback itself is kept


def test_credentials_nobody_configured_are_masked_too(captured: io.StringIO) -> None:
    """A client's wrong token is as secret as the right one."""
    structlog.get_logger("healthd").info("request", header="Bearer someone-elses-token")
    assert "someone-elses-token" not in captured.getvalue()
    assert lines(captured)[0]["header"] == "Bearer ***"

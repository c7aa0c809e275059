"""Malformed HTTP from clients: a JSON-RPC error answer, and a count instead of a log line each.

A client's bad request is not the daemon's error. aiohttp would answer it in text/plain and log
it (header bytes, bearer token and all) at error level; healthd answers `400` with a JSON-RPC
parse error, logs each one at debug, and once a minute at most says at info how many there were.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from aiohttp import web
from aiohttp.http_exceptions import (
    BadHttpMessage,
    ContentEncodingError,
    HttpProcessingError,
    LineTooLong,
    TransferEncodingError,
)

from healthd.rpc import INTERNAL_ERROR, PARSE_ERROR, error_response

log = structlog.get_logger("healthd.requests")

SUMMARY_EVERY = 60.0
CLIENT_FAULTS = (HttpProcessingError, web.RequestPayloadError, ConnectionError)


def reason(exc: BaseException | None) -> str:
    """What was wrong with the request, in words that never repeat the request's own bytes."""
    if isinstance(exc, LineTooLong):
        return "the request line or a header is too long"
    if isinstance(exc, ContentEncodingError):
        return "the body's Content-Encoding cannot be decoded"
    if isinstance(exc, TransferEncodingError):
        return "the body's chunked framing is broken"
    if isinstance(exc, web.RequestPayloadError):
        cause = exc.__cause__ or (exc.args[0] if exc.args else None)
        if isinstance(cause, BaseException):
            return reason(cause)
        return "the body could not be read"
    if isinstance(exc, ConnectionError):
        return "the client closed the connection"
    if isinstance(exc, BadHttpMessage) and "chunk" in str(exc).lower():
        return "the body's chunked framing is broken"
    if isinstance(exc, BadHttpMessage) and "encod" in str(exc).lower():
        return "the body's Content-Encoding cannot be decoded"
    return "malformed HTTP request"


# What aiohttp decodes (br and zstd only with their libraries, else it refuses them itself).
# Any other coding it would pass through as if it were plain JSON.
DECODED = frozenset({"", "identity", "gzip", "deflate", "br", "zstd"})


def unknown_encoding(request: web.BaseRequest) -> str | None:
    """Why the request's Content-Encoding cannot be read, or None if it can."""
    if request.headers.get("Content-Encoding", "").strip().lower() in DECODED:
        return None
    return "the body's Content-Encoding is not supported (use gzip, deflate or none)"


def answer(why: str) -> web.Response:
    """HTTP 400 with a JSON-RPC parse error saying why; the connection is closed after it."""
    response = web.Response(
        body=error_response(PARSE_ERROR, data=why), status=400, content_type="application/json"
    )
    response.force_close()
    return response


class BadRequests:
    """Counts malformed requests and summarises them at most once a minute."""

    def __init__(self) -> None:
        self.total = 0
        self._window = 0
        self._last = ""
        self._timer: asyncio.TimerHandle | None = None

    def note(self, why: str, remote: str | None) -> None:
        self.total += 1
        self._window += 1
        self._last = why
        log.debug("bad request", reason=why, remote=remote)
        if self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(SUMMARY_EVERY, self._summarise)

    def _summarise(self) -> None:
        self._timer = None
        if self._window:
            log.info(
                "bad requests from clients in the last minute",
                count=self._window,
                last_reason=self._last,
            )
            self._window = 0


class Handler(web.RequestHandler):
    """aiohttp's connection handler, answering malformed HTTP as healthd answers bad requests."""

    def __init__(self, *args: Any, bad_requests: BadRequests, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._bad_requests = bad_requests

    def log_exception(self, *args: Any, **kw: Any) -> None:
        """aiohttp's own error lines: a client's broken body is debug, anything else an error."""
        exc = kw.get("exc_info")
        if isinstance(exc, CLIENT_FAULTS):
            log.debug("bad request body", reason=reason(exc))
        else:
            super().log_exception(*args, **kw)

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if status >= 500 and not isinstance(exc, HttpProcessingError | ConnectionError):
            # A fault of healthd's own: worth an error line (redacted like every line).
            log.error("error handling a request", exc_info=exc)
            response = web.Response(
                body=error_response(INTERNAL_ERROR, data="healthd failed to answer; see its log"),
                status=500,
                content_type="application/json",
            )
            response.force_close()
            return response
        why = reason(exc)
        self._bad_requests.note(why, request.remote)
        if request.writer.output_size > 0:
            raise ConnectionError("response already started; closing the connection")
        return answer(why)

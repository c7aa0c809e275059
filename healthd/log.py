"""structlog configuration: JSON lines for journald, a readable console on a TTY."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Any, TextIO

import orjson
import structlog
from structlog.typing import EventDict

from healthd.redact import redact_credentials, redact_text

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def _dumps(value: Any, **_: Any) -> str:
    return orjson.dumps(value, default=str).decode()


class Redactor:
    """A structlog processor scrubbing secrets from every log line, healthd's or a library's.

    It knows the configured secrets (the token, passwords in DSNs and URLs, header values) and
    masks anything shaped like an Authorization credential besides, so a client's wrong token
    is never logged either.
    """

    def __init__(self) -> None:
        self._secrets: tuple[str, ...] = ()

    def update(self, secrets: Iterable[str]) -> None:
        """Replace the configured secrets (at start and on every reload)."""
        self._secrets = tuple(sorted({s for s in secrets if len(s) >= 3}, key=len, reverse=True))

    def scrub(self, text: str) -> str:
        """One string, scrubbed."""
        return redact_credentials(redact_text(text, self._secrets))

    def __call__(self, logger: Any, name: str, event: EventDict) -> EventDict:
        return {key: self._value(value) for key, value in event.items()}

    def _value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, dict):
            return {key: self._value(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self._value(item) for item in value]
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, BaseException):
            return value  # formatted (and then scrubbed) by format_exc_info
        return self.scrub(str(value))


REDACTOR = Redactor()


def configure(level: str = "info", fmt: str = "auto", stream: TextIO | None = None) -> None:
    """Send structlog events, and the standard library's (APScheduler, aiohttp), to `stream`."""
    stream = stream or sys.stdout
    as_json = fmt == "json" or (fmt == "auto" and not stream.isatty())
    renderer: Any = (
        structlog.processors.JSONRenderer(serializer=_dumps)
        if as_json
        else structlog.dev.ConsoleRenderer(colors=stream.isatty())
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    # Tracebacks become text before the redactor runs, so no secret leaves in one.
    tail: list[Any] = [structlog.processors.format_exc_info, REDACTOR]
    structlog.configure(
        processors=[*shared, *tail, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(LEVELS[level]),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name, *tail],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(LEVELS[level])
    # APScheduler logs every job run at INFO; only its problems are worth a line.
    logging.getLogger("apscheduler").setLevel(max(LEVELS[level], logging.WARNING))

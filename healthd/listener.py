"""The listening socket: bound before any check runs, connections capped, slow headers cut off.

aiohttp closes idle keep-alive connections itself (`keepalive_timeout`); what it does not do is
bound how many connections are open at once, or how long a new connection may take to send its
first request. Both are what keeps an anonymous client from exhausting the process's file
descriptors, so every accepted connection passes through a `Guard` first.

At the cap, a newcomer takes the place of the connection that has been silent longest, once
that one has sent nothing for `EVICT_AFTER` (a quarter second): a client sends its request as
soon as it connects and healthd answers at once, so a connection silent that long is idle
(never used, or kept alive after its answers) or crawling, and sockets held open cannot keep a
load balancer's probe out. Only when no such connection is left is the newcomer refused.
"""

from __future__ import annotations

import asyncio
import resource
import time
from collections.abc import Callable
from typing import Any

import structlog

from healthd.transport import Corkable

log = structlog.get_logger("healthd.listener")

REFUSED = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"Content-Type: application/json\r\n"
    b"Content-Length: 32\r\n"
    b"Retry-After: 1\r\n"
    b"Connection: close\r\n\r\n"
    b'{"error":"too many connections"}'
)
# A burst of refused connections or failed accepts is logged when it starts and when it ends.
BURST_QUIET = 10.0
ACCEPT_ERROR = "socket.accept() out of system resource"
# How long a connection may stay silent before a newcomer may take its place at the cap: a
# client sends its request as it connects, so a quarter second is long past for all but attackers.
EVICT_AFTER = 0.25


class Limiter:
    """Counts open connections against the cap; makes room or refuses, logged once per burst."""

    def __init__(self, max_connections: int, header_timeout: float) -> None:
        self.max_connections = max_connections
        self.header_timeout = header_timeout
        self.evict_after = min(EVICT_AFTER, header_timeout)
        self.open = 0
        self.refused = 0
        self.evicted = 0
        self.timed_out = 0
        # Admitted connections by when they last sent something, silent longest first.
        self._quiet: dict[Guard, float] = {}
        self._refusals = Burst("connections refused: max_connections reached", max_connections)
        self._evictions = Burst(
            "silent connections closed to make room: max_connections reached", max_connections
        )

    def admit(self, guard: Guard) -> bool:
        """Take a place for a new connection (making room if one can be had), or say no."""
        if self.open >= self.max_connections and not self._make_room():
            self.refused += 1
            self._refusals.hit()
            return False
        self.open += 1
        self._quiet[guard] = time.monotonic()
        return True

    def heard(self, guard: Guard) -> None:
        """The connection sent something: it goes to the back of the line."""
        if self._quiet.pop(guard, None) is not None:
            self._quiet[guard] = time.monotonic()

    def release(self, guard: Guard) -> None:
        self._quiet.pop(guard, None)
        self.open -= 1

    def _make_room(self) -> bool:
        """Close the connection silent longest, if it has been silent `evict_after`."""
        oldest = next(iter(self._quiet.items()), None)
        if oldest is None or time.monotonic() - oldest[1] < self.evict_after:
            return False
        guard = oldest[0]
        self.release(guard)
        guard.evict()
        self.evicted += 1
        self._evictions.hit()
        return True


class Burst:
    """Logs a repeated event once when it starts and, with its count, once when it stops."""

    def __init__(self, what: str, limit: int | None = None) -> None:
        self._what = what
        self._limit = limit
        self._count = 0
        self._last = 0.0
        self._ended: asyncio.TimerHandle | None = None

    def hit(self) -> None:
        now = time.monotonic()
        if self._count == 0:
            log.warning(self._what, limit=self._limit)
        self._count += 1
        self._last = now
        if self._ended is None:
            self._ended = asyncio.get_running_loop().call_later(BURST_QUIET, self._check_end)

    def _check_end(self) -> None:
        self._ended = None
        quiet_for = time.monotonic() - self._last
        if quiet_for < BURST_QUIET:
            loop = asyncio.get_running_loop()
            self._ended = loop.call_later(BURST_QUIET - quiet_for, self._check_end)
            return
        log.info(f"{self._what}: burst over", count=self._count)
        self._count = 0


class Guard(asyncio.Protocol):
    """Wraps aiohttp's protocol for one connection: admitted or refused, header deadline."""

    def __init__(self, inner: asyncio.Protocol, limiter: Limiter) -> None:
        self._inner = inner
        self._limiter = limiter
        self._admitted = False  # aiohttp's protocol sees this connection
        self._counted = False  # it holds one of the limiter's places
        self._timer: asyncio.TimerHandle | None = None
        self._tail = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        if not self._limiter.admit(self):
            transport.write(REFUSED)
            transport.close()
            return
        self._admitted = True
        self._counted = True
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._limiter.header_timeout, self._too_slow)
        self._inner.connection_made(Corkable.wrap(transport))

    def data_received(self, data: bytes) -> None:
        if not self._admitted:
            return
        self._limiter.heard(self)
        if self._timer is not None:
            # The first request's header ends at its first empty line.
            seen = self._tail + data
            if b"\r\n\r\n" in seen or b"\n\n" in seen:
                self._timer.cancel()
                self._timer = None
                self._tail = b""
            else:
                self._tail = seen[-3:]
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._admitted else None

    def pause_writing(self) -> None:
        if self._admitted:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._admitted:
            self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._admitted:
            return
        self._admitted = False
        if self._timer is not None:
            self._timer.cancel()
        if self._counted:
            self._counted = False
            self._limiter.release(self)
        self._inner.connection_lost(exc)

    def evict(self) -> None:
        """Close to make room for a newcomer; the place is already given back."""
        self._counted = False
        if self._transport is not None:
            self._transport.close()

    def _too_slow(self) -> None:
        self._timer = None
        self._limiter.timed_out += 1
        if self._transport is not None:
            self._transport.close()


class Listener:
    """A bound socket that accepts nothing until `serve(factory)`."""

    def __init__(self, limiter: Limiter) -> None:
        self.limiter = limiter
        self._factory: Callable[[], Any] | None = None
        self.server: asyncio.Server | None = None

    async def bind(self, host: str, port: int, backlog: int = 1024) -> None:
        """Bind and listen (raises OSError: the port is taken, the address is not ours)."""
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(
            self._protocol,
            host,
            port,
            reuse_address=True,
            backlog=backlog,
            start_serving=False,
        )

    async def serve(self, factory: Callable[[], Any]) -> None:
        """Start accepting connections, each handed to `factory()`'s protocol through a Guard."""
        assert self.server is not None
        self._factory = factory
        await self.server.start_serving()

    def port(self) -> int:
        """The port actually bound (port 0 asks the kernel for a free one)."""
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    def close(self) -> None:
        if self.server is not None:
            self.server.close()

    def _protocol(self) -> Guard:
        assert self._factory is not None
        return Guard(self._factory(), self.limiter)


def raise_fd_limit(needed: int) -> tuple[int, int]:
    """Raise the soft limit on open files to the hard limit; warn if it is still below `needed`."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    if soft < needed:
        log.warning(
            "the open-file limit is lower than max_connections needs; raise LimitNOFILE",
            limit=soft,
            needed=needed,
        )
    return soft, hard


class AcceptErrors:
    """A loop exception handler that logs accept() failures once per burst, not per attempt."""

    def __init__(self) -> None:
        self._burst = Burst("cannot accept connections: out of file descriptors or memory")

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") == ACCEPT_ERROR:
            self._burst.hit()
            return
        loop.default_exception_handler(context)

"""A connection's transport that can be corked: what is written while corked goes out together,
in one system call and without a copy, when it is uncorked.

An answer is a ready GET body, or a JSON-RPC memo's shared bytes and the request's own id.
Written through aiohttp, the header and each piece are a system call of their own, or a fresh
copy once aiohttp joins them (Python before 3.12.9 has no vectored write in asyncio). Corked,
the header and the pieces leave in one `writev`, as asyncio's own `writelines` does from 3.12.9.

Uncorking writes straight to the socket only when the transport holds nothing unsent and is
not closing, as asyncio's `write` does itself (healthd never uses `write_eof` or `sendfile` on
these connections, the states where the two would differ); whatever the socket does not take at
once, and every error, is handed to the transport, which buffers, reports and closes as it
always does. The caller keeps back-pressure: after uncorking, it waits for the writer to drain.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from typing import Any

# writev takes at most IOV_MAX (1024 on Linux) pieces; a corked answer has three or four.
MAX_PIECES = 64

Buffer = bytes | bytearray | memoryview


class Corkable(asyncio.Transport):
    """Wraps a plain (not TLS) socket transport; everything but corked writes passes through."""

    def __init__(self, transport: asyncio.Transport, fd: int) -> None:
        super().__init__()
        self._transport = transport
        self._fd = fd
        self._corked: list[bytes] | None = None

    @classmethod
    def wrap(cls, transport: asyncio.Transport) -> asyncio.Transport:
        """A corkable transport over `transport`, or `transport` itself if it is not a plain
        socket (TLS bytes must go through the TLS layer, never straight to the socket)."""
        sock = transport.get_extra_info("socket")
        if sock is None or transport.get_extra_info("sslcontext") is not None:
            return transport
        return cls(transport, sock.fileno())

    def cork(self) -> None:
        """Hold every write from now on, until `uncork`."""
        if self._corked is None:
            self._corked = []

    def uncork(self, *pieces: bytes) -> None:
        """Send what was held, then `pieces`, together; stop holding."""
        held, self._corked = self._corked or [], None
        self._send([*held, *pieces])

    def discard(self) -> None:
        """Drop what was held; stop holding."""
        self._corked = None

    def write(self, data: Buffer) -> None:
        if self._corked is None:
            self._transport.write(data)
        elif data:
            # Held until uncorked: a mutable buffer is copied, as the caller may reuse it.
            self._corked.append(data if type(data) is bytes else bytes(data))

    def writelines(self, list_of_data: Iterable[Buffer]) -> None:
        if self._corked is None:
            self._transport.writelines(list_of_data)
            return
        for data in list_of_data:
            self.write(data)

    def _send(self, pieces: list[bytes]) -> None:
        transport = self._transport
        if not pieces or transport.is_closing():
            return
        sent = 0
        if 1 < len(pieces) <= MAX_PIECES and not transport.get_write_buffer_size():
            try:
                sent = os.writev(self._fd, pieces)
            except OSError:
                # EAGAIN (a full socket buffer), or the connection failed: the transport's
                # own write buffers the bytes, or reports the error and closes.
                sent = 0
        for piece in pieces:
            if sent >= len(piece):
                sent -= len(piece)
                continue
            transport.write(memoryview(piece)[sent:] if sent else piece)
            sent = 0

    # Everything else is the wrapped transport's.

    def close(self) -> None:
        self._uncork_early()
        self._transport.close()

    def abort(self) -> None:
        if self._corked:
            self._corked.clear()  # abort discards what is unsent
        self._transport.abort()

    def write_eof(self) -> None:
        self._uncork_early()
        self._transport.write_eof()

    def _uncork_early(self) -> None:
        """Closing inside a corked block: what was held goes first, as buffered data does."""
        if self._corked:
            pieces, self._corked = self._corked, []
            self._send(pieces)

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size()

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

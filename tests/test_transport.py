"""The corkable transport, on real sockets: held writes and pieces leave together, in order,
whole however little the socket takes at once; closing, aborting and a gone peer behave as a
plain transport's do. And through a real daemon: large spliced answers, pipelined, byte for byte."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import struct
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from aiohttp import web

from healthd.listener import Limiter, Listener
from healthd.result import Outcome
from healthd.server import create_app
from healthd.store import Entry, Store
from healthd.transport import Corkable
from tests.helpers.config import config_text
from tests.helpers.daemon import Daemons
from tests.helpers.waiting import PATIENCE, until

BIG = 32 * 1024 * 1024  # far more than a socket takes at once


@dataclass
class Side:
    """The server's end of one connection: the transport as wrapped, and a spy on the real
    transport's own `write` (it still writes; the spy only counts)."""

    transport: asyncio.Transport
    real: asyncio.Transport
    writes: list[int] = field(default_factory=list)
    lost: asyncio.Future[Exception | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Recorder(asyncio.Protocol):
    def __init__(self, sides: asyncio.Queue[Side]) -> None:
        self._sides = sides
        self._side: Side | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        side = Side(Corkable.wrap(transport), transport)
        own_write = transport.write

        def counted(data: Any) -> None:
            side.writes.append(len(data))
            own_write(data)

        transport.write = counted  # type: ignore[method-assign]
        self._side = side
        self._sides.put_nowait(side)

    def connection_lost(self, exc: Exception | None) -> None:
        assert self._side is not None
        if not self._side.lost.done():
            self._side.lost.set_result(exc)


@dataclass
class Pair:
    server: Side
    client: socket.socket

    async def read(self, size: int) -> bytes:
        """Exactly `size` bytes from the client's end (fewer only if the server closed)."""
        return await asyncio.to_thread(_read, self.client, size)

    async def read_to_end(self) -> bytes:
        return await asyncio.to_thread(_read, self.client, 1 << 30)


def _read(sock: socket.socket, size: int) -> bytes:
    got = bytearray()
    while len(got) < size:
        try:
            chunk = sock.recv(min(1 << 20, size - len(got)))
        except ConnectionResetError:
            break
        if not chunk:
            break
        got += chunk
    return bytes(got)


Connect = Callable[[], Awaitable[Pair]]


@pytest.fixture
async def connect() -> AsyncIterator[Connect]:
    """`await connect()`: a fresh connection to a real asyncio server."""
    sides: asyncio.Queue[Side] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Recorder(sides), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    clients: list[socket.socket] = []

    async def make() -> Pair:
        client = socket.create_connection(("127.0.0.1", port), timeout=PATIENCE)
        clients.append(client)
        return Pair(await asyncio.wait_for(sides.get(), PATIENCE), client)

    yield make
    for client in clients:
        client.close()
    server.close()
    await server.wait_closed()


def corkable(pair: Pair) -> Corkable:
    assert isinstance(pair.server.transport, Corkable)
    return pair.server.transport


async def test_held_writes_and_pieces_leave_together_without_the_transports_write(
    connect: Connect,
) -> None:
    pair = await connect()
    wire = corkable(pair)
    wire.cork()
    wire.write(b"HTTP/1.1 200 OK\r\n\r\n")
    wire.writelines([b"<", b">"])
    # Within what a fresh loopback connection takes at once (its first receive window).
    wire.uncork(b"x" * 20_000, b"tail")
    expected = b"HTTP/1.1 200 OK\r\n\r\n<>" + b"x" * 20_000 + b"tail"
    assert await pair.read(len(expected)) == expected
    # All of it went out in one writev: the transport's own write was never needed.
    assert pair.server.writes == []
    wire.write(b"after")  # uncorked, writes are the transport's again
    assert await pair.read(5) == b"after"
    assert pair.server.writes == [5]


async def test_what_the_socket_cannot_take_at_once_follows_in_order(connect: Connect) -> None:
    pair = await connect()
    wire = corkable(pair)
    pieces = [bytes([65 + i]) * (BIG // 4) for i in range(4)]
    wire.cork()
    wire.write(b"head:")
    wire.uncork(*pieces)
    wire.write(b":end")
    expected = b"head:" + b"".join(pieces) + b":end"
    assert await pair.read(len(expected)) == expected
    # The socket took part at once; the transport buffered the rest, in order.
    assert pair.server.writes and sum(pair.server.writes) < len(expected)


async def test_corked_bytes_wait_behind_bytes_the_transport_still_holds(
    connect: Connect,
) -> None:
    pair = await connect()
    wire = corkable(pair)
    wire.write(b"1" * BIG)  # far more than the socket takes: the transport keeps the rest
    assert pair.server.real.get_write_buffer_size() > 0
    wire.cork()
    wire.write(b"2")
    wire.uncork(b"3" * 1000)
    expected = b"1" * BIG + b"2" + b"3" * 1000
    assert await pair.read(len(expected)) == expected
    assert len(pair.server.writes) == 3  # the later pieces went through the transport too


async def test_a_buffer_written_while_corked_goes_out_as_it_was(connect: Connect) -> None:
    pair = await connect()
    wire = corkable(pair)
    reused = bytearray(b"first")
    wire.cork()
    wire.write(reused)
    wire.write(memoryview(b"-view"))
    reused[:] = b"XXXXX"
    wire.uncork()
    assert await pair.read(10) == b"first-view"


@pytest.mark.parametrize(
    ("end", "received"),
    [("close", b"held"), ("abort", b"")],  # close sends what was held first; abort drops it
)
async def test_ending_a_corked_connection(connect: Connect, end: str, received: bytes) -> None:
    pair = await connect()
    wire = corkable(pair)
    wire.cork()
    wire.write(b"held")
    getattr(wire, end)()
    wire.uncork(b"too late")  # after the end: nothing more goes out
    assert await pair.read_to_end() == received
    await asyncio.wait_for(pair.server.lost, PATIENCE)


async def test_a_peer_that_is_gone_fails_only_its_own_connection(connect: Connect) -> None:
    pair = await connect()
    wire = corkable(pair)
    # The client resets the connection (linger 0), then the server answers into it.
    pair.client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    pair.client.close()
    await asyncio.sleep(0)  # the reset reaches the server's socket before the answer starts
    for _ in range(3):  # the first write may still be taken; the reset shows on a later one
        wire.cork()
        wire.write(b"header")
        wire.uncork(b"x" * 100_000, b"tail")
        if wire.is_closing():
            break
        await asyncio.sleep(0.01)
    # asyncio's transport saw the error, closed, and told the protocol: nothing was raised.
    lost = await asyncio.wait_for(pair.server.lost, PATIENCE)
    assert isinstance(lost, ConnectionError)
    assert wire.is_closing()


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate and its key (made by openssl)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    request = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=x"]
    subprocess.run(
        ["openssl", *request, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


async def test_only_plain_sockets_are_wrapped(
    connect: Connect, certificate: tuple[Path, Path]
) -> None:
    pair = await connect()
    assert isinstance(pair.server.transport, Corkable)
    assert pair.server.transport.get_extra_info("peername") == pair.client.getsockname()

    loop = asyncio.get_running_loop()
    read_end, write_end = socket.socketpair()
    pipe, _ = await loop.connect_write_pipe(asyncio.Protocol, write_end.makefile("wb"))
    assert Corkable.wrap(pipe) is pipe  # no socket: nothing to write to directly
    pipe.close()
    read_end.close()
    write_end.close()

    # TLS: the bytes must go through the TLS layer, never to the socket underneath.
    cert, key = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    wrapped: asyncio.Future[asyncio.Transport] = loop.create_future()

    class Tls(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.Transport)
            wrapped.set_result(Corkable.wrap(transport))

    server = await loop.create_server(Tls, "127.0.0.1", 0, ssl=server_context)
    client_context = ssl.create_default_context(cafile=str(cert))
    client_context.check_hostname = False
    port = server.sockets[0].getsockname()[1]
    _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client_context)
    tls = await asyncio.wait_for(wrapped, PATIENCE)
    assert not isinstance(tls, Corkable)
    assert tls.get_extra_info("sslcontext") is not None
    writer.close()
    server.close()
    await server.wait_closed()


def test_answers_leave_the_daemon_whole_and_in_order_pipelined(
    daemons: Daemons, tmp_path: Path
) -> None:
    """Through the real listener, where answers are corked: in one packet, three JSON-RPC
    requests with new ids, a HEAD and a GET; each answered whole and in order, the spliced
    answers equal but for the id, the HEAD without a body."""
    beat = tmp_path / "beat"
    beat.write_text("")
    checks = [
        {"name": f"node.disk.{i:04d}", "type": "file", "path": str(beat), "max_age": "1h"}
        for i in range(400)
    ]
    daemon = daemons.start(config_text(*checks, extra='[scheduler]\ninterval = "1h"\n'))
    until(lambda: daemon.get().status == 200, "every check to have run once")
    health = daemon.get().body
    bodies = [
        b'{"jsonrpc":"2.0","method":"health.health","id":%d}' % request_id
        for request_id in (1, 2, 3, 4)
    ]
    first = daemon.post(bodies[0]).body  # answered by jsonrpcserver; fills the memo
    assert len(json.loads(first)["result"]["checks"]) == 400  # tens of kilobytes
    packet = b"".join(
        b"POST /ext/health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        for body in bodies[1:]
    )
    packet += b"HEAD /ext/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    packet += b"GET /ext/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with daemon.connect() as sock:
        sock.sendall(packet)
        stream = sock.makefile("rb")
        for request_id in (2, 3, 4):
            body = stream.read(_length(stream))
            assert body == first.replace(b'"id":1}', b'"id":%d}' % request_id)
            assert json.loads(body)["id"] == request_id
        assert _length(stream) == len(health)  # HEAD: the length, and no body follows
        assert stream.read(_length(stream)) == health


def _length(stream: BinaryIO) -> int:
    """Read one 200 response's header; its Content-Length."""
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = stream.readline()
        assert line, f"the connection closed after {head!r}"
        head += line
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nContent-Type: application/json\r\n" in head
    return next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )


async def test_a_client_that_never_reads_holds_up_its_next_request_not_memory() -> None:
    """Back-pressure through the corked path: while the transport holds more than its high-water
    mark, no further pipelined request of that connection is answered."""
    store = Store(Entry(f"check-{i:04d}", "health", frozenset()) for i in range(2000))
    for i in range(2000):
        store.record(f"check-{i:04d}", Outcome(), 1_700_000_000_000_000_000, 1)
    app = create_app(store)
    held_at_start: list[int] = []
    server_side: list[asyncio.Transport] = []

    @web.middleware
    async def note(request: web.Request, handler: Any) -> web.StreamResponse:
        assert isinstance(request.transport, Corkable)
        server_side.append(request.transport)
        held_at_start.append(request.transport.get_write_buffer_size())
        return await handler(request)  # type: ignore[no-any-return]

    app.middlewares.append(note)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    listener = Listener(Limiter(max_connections=8, header_timeout=10.0))
    await listener.bind("127.0.0.1", 0)
    assert runner.server is not None
    await listener.serve(runner.server)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", listener.port())
        requests = 200
        writer.write(b"GET /ext/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * requests)
        # Read nothing until the socket is full and the transport holds the rest.
        async with asyncio.timeout(PATIENCE):
            while not (server_side and server_side[0].get_write_buffer_size()):
                await asyncio.sleep(0.01)
        sizes = []
        for _ in range(requests):
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            sizes.append(len(await reader.readexactly(length)))
        writer.close()
    finally:
        listener.close()
        await runner.cleanup()
    assert len(held_at_start) == requests and len(set(sizes)) == 1
    assert sizes[0] > 200_000  # each answer is larger than the transport's high-water mark
    high_water = server_side[0].get_write_buffer_limits()[1]
    assert max(held_at_start) <= high_water

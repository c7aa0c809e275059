"""A real HTTP receiver for webhook tests: it records what arrives and can fail, hang, recover."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

import orjson
from aiohttp import web

from tests.helpers.net import free_port

Mode = Literal["ok", "fail", "hang", "refuse"]


class Receiver:
    """Answers 200 (ok), 500 (fail), 400 (refuse) or never (hang); keeps what it accepted."""

    def __init__(self) -> None:
        self.mode: Mode = "ok"
        self.received: list[Any] = []
        self.attempts = 0
        self.headers: list[dict[str, str]] = []
        self.arrived = asyncio.Event()
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.attempts += 1
        body = await request.read()
        self.arrived.set()
        if self.mode == "hang":
            await asyncio.Event().wait()
        if self.mode == "fail":
            return web.Response(status=500, text="receiver broken")
        if self.mode == "refuse":
            return web.Response(status=400, text="bad request")
        self.received.append(orjson.loads(body))
        self.headers.append(dict(request.headers))
        return web.Response(status=200)

    async def wait(self, count: int, limit: float = 20.0) -> list[Any]:
        """Wait until at least `count` bodies were accepted; returns them all."""
        async with asyncio.timeout(limit):
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.received


@asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    """A receiver listening on a free loopback port."""
    found = Receiver()
    app = web.Application()
    app.router.add_post("/{path:.*}", found.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    found.url = f"http://127.0.0.1:{port}/hook"
    try:
        yield found
    finally:
        await runner.cleanup()

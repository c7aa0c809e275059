"""What every fake node shares: a loopback aiohttp server that counts, hangs or fails on demand."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
from aiohttp import web

from tests.helpers.net import free_port

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Fault(Exception):
    """A JSON-RPC error a fake method answers with."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.data = code, message, data

    def error(self) -> dict[str, Any]:
        """The JSON-RPC error object."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


class FakeServer:
    """A server on 127.0.0.1 and a free port. Set `hang` to never answer, `delay` to answer that
    many seconds late, `status` to fail with that HTTP status; `requests` counts the requests by
    method (JSON-RPC) or path (GET)."""

    def __init__(self) -> None:
        self.hang = False
        self.delay = 0.0
        self.status: int | None = None
        self.requests: Counter[str] = Counter()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None

    def routes(self, app: web.Application) -> None:
        """Add the fake's routes."""
        raise NotImplementedError

    async def start(self) -> FakeServer:
        """Listen on 127.0.0.1 at `port`."""
        app = web.Application(middlewares=[self._faults])
        self.routes(app)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        """Release hanging requests and close."""
        self._release.set()  # hanging handlers return, so the server can close
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @web.middleware
    async def _faults(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.hang:
            await self._release.wait()
            return web.Response(status=503)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.status is not None:
            return web.Response(status=self.status, text="fault injected by the test")
        return await handler(request)

    def count(self, name: str) -> None:
        """Count one request."""
        self.requests[name] += 1


def jsonrpc_answer(
    body: Any, methods: Mapping[str, Callable[[Any], Any]], count: Callable[[str], None]
) -> Any:
    """Answer a JSON-RPC 2.0 request or batch with `methods` (name -> function of params)."""
    if isinstance(body, list):
        return [jsonrpc_answer(item, methods, count) for item in body]
    method = body.get("method", "")
    count(method)
    answer: dict[str, Any] = {"jsonrpc": "2.0", "id": body.get("id")}
    function = methods.get(method)
    try:
        if function is None:
            raise Fault(-32601, "Method not found")
        answer["result"] = function(body.get("params"))
    except Fault as fault:
        answer["error"] = fault.error()
    return answer


def json_response(value: Any, status: int = 200) -> web.Response:
    """A JSON body with its content type."""
    return web.Response(body=orjson.dumps(value), status=status, content_type="application/json")

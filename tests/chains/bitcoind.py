"""A fake bitcoind, as developer.bitcoin.org/reference/rpc/ (getblockchaininfo, getbestblockhash,
getblockheader, getconnectioncount, getblockcount) and Bitcoin Core's HTTP server behave.

JSON-RPC 1.0 style: every answer is {"result", "error", "id"} with the unused one null; a single
call's error comes with HTTP 500 (404 for an unknown method); a batch answers 200 with an array.
Basic auth is required: wrong or missing credentials get HTTP 401 with an empty body and
`WWW-Authenticate: Basic realm="jsonrpc"`.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import orjson
from aiohttp import web

from tests.chains.fake import FakeServer, Fault, json_response

RPC_METHOD_NOT_FOUND = -32601
RPC_IN_WARMUP = -28


class FakeBitcoind(FakeServer):
    """A bitcoind; set blocks, headers, ibd, connections, block_time, user/password between runs."""

    def __init__(self, user: str = "healthd", password: str = "s3cret-rpc-pass") -> None:
        super().__init__()
        self.user, self.password = user, password
        self.blocks = 870_000
        self.headers: int | None = None  # None: as many headers as blocks
        self.ibd = False
        self.connections = 10
        self.block_time: float | None = None  # None: the newest block is just made
        self.warming_up = False  # True: every call answers -28, as while bitcoind loads

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/", self.rpc)

    def _authorized(self, request: web.Request) -> bool:
        wanted = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {wanted}"

    def _best_hash(self) -> str:
        return f"{self.blocks:064x}"

    def _methods(self) -> dict[str, Any]:
        headers = self.blocks if self.headers is None else self.headers
        made = int(time.time() if self.block_time is None else self.block_time)
        return {
            "getblockchaininfo": lambda _: {
                "chain": "main",
                "blocks": self.blocks,
                "headers": headers,
                "bestblockhash": self._best_hash(),
                "difficulty": 141668107417558.2,
                "time": made,
                "mediantime": made - 1800,
                "verificationprogress": 0.01 if self.ibd else 0.9999987925138323,
                "initialblockdownload": self.ibd,
                "chainwork": "0" * 64,
                "size_on_disk": 814911000113,
                "pruned": False,
                "warnings": "",
            },
            "getbestblockhash": lambda _: self._best_hash(),
            "getblockheader": lambda params: self._header(params, made),
            "getconnectioncount": lambda _: self.connections,
            "getblockcount": lambda _: self.blocks,
        }

    def _header(self, params: Any, made: int) -> dict[str, Any]:
        if not params or params[0] != self._best_hash():
            raise Fault(-5, "Block not found")
        return {"hash": params[0], "height": self.blocks, "time": made, "mediantime": made - 1800}

    def _answer(self, call: Any) -> tuple[dict[str, Any], int]:
        method = call.get("method", "")
        self.count(method)
        function = self._methods().get(method)
        try:
            if self.warming_up:
                raise Fault(RPC_IN_WARMUP, "Loading block index…")
            if function is None:
                raise Fault(RPC_METHOD_NOT_FOUND, "Method not found")
            return {
                "result": function(call.get("params")),
                "error": None,
                "id": call.get("id"),
            }, 200
        except Fault as fault:
            status = 404 if fault.code == RPC_METHOD_NOT_FOUND else 500
            return {"result": None, "error": fault.error(), "id": call.get("id")}, status

    async def rpc(self, request: web.Request) -> web.Response:
        """POST: one call or a batch, behind basic auth."""
        if not self._authorized(request):
            self.count("unauthorized")
            return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="jsonrpc"'})
        body = orjson.loads(await request.read())
        if isinstance(body, list):
            return json_response([self._answer(call)[0] for call in body])
        answer, status = self._answer(body)
        return json_response(answer, status)

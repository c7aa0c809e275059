"""A fake Solana RPC node, as solana.com/docs/rpc/http/gethealth and /getslot show.

getHealth answers "ok", or while the node lags the error -32005 "Node is behind by N slots" with
data {"numSlotsBehind": N} (when it cannot tell how far: -32005 "Node is unhealthy" without a
count); getSlot answers the slot as a number. Batches are arrays.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from tests.chains.fake import FakeServer, Fault, json_response, jsonrpc_answer

NODE_UNHEALTHY = -32005


class FakeSolana(FakeServer):
    """A Solana node; set slot and slots_behind (None: healthy) between runs."""

    def __init__(self, slot: int = 250_000_000) -> None:
        super().__init__()
        self.slot = slot
        self.slots_behind: int | None = None
        self.unhealthy: str | None = None  # -32005 with this message and no slot count

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/", self.rpc)

    def get_health(self, params: Any) -> str:
        """getHealth: "ok", or -32005 while behind."""
        if self.unhealthy is not None:
            raise Fault(NODE_UNHEALTHY, self.unhealthy, {})
        if self.slots_behind is not None:
            data = {"numSlotsBehind": self.slots_behind}
            raise Fault(NODE_UNHEALTHY, f"Node is behind by {self.slots_behind} slots", data)
        return "ok"

    async def rpc(self, request: web.Request) -> web.Response:
        """POST: one call or a batch."""
        methods = {"getHealth": self.get_health, "getSlot": lambda _: self.slot}
        body = orjson.loads(await request.read())
        return json_response(jsonrpc_answer(body, methods, self.count))

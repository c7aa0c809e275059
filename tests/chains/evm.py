"""A fake Ethereum JSON-RPC node, as ethereum.org/en/developers/docs/apis/json-rpc/ documents it.

eth_blockNumber and net_peerCount answer hex quantities ("0x1b4"); eth_syncing answers false, or
{"startingBlock", "currentBlock", "highestBlock"} as hex; eth_getBlockByNumber("latest", false)
answers a block object whose "timestamp" is a hex quantity of Unix seconds. Batches are arrays.
Used for references of `evm` checks and for AvalancheGo's C-chain (/ext/bc/C/rpc).
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from aiohttp import web

from tests.chains.fake import FakeServer, Fault, json_response, jsonrpc_answer


class EvmState:
    """What the fake reports; the test changes it between runs."""

    def __init__(self, height: int = 1000) -> None:
        self.height = height
        self.syncing: dict[str, int] | None = None
        self.peers = 5
        self.block_time: float | None = None  # None: the newest block is just made
        self.height_as: str = "hex"  # how eth_blockNumber writes it: hex | decimal | number
        self.faults: dict[str, Fault] = {}

    def methods(self) -> dict[str, Any]:
        """The JSON-RPC methods, by name."""
        return {
            "eth_blockNumber": lambda _: self._method("eth_blockNumber", self._height()),
            "eth_syncing": lambda _: self._method("eth_syncing", self._syncing()),
            "eth_getBlockByNumber": lambda _: self._method("eth_getBlockByNumber", self._block()),
            "net_peerCount": lambda _: self._method("net_peerCount", hex(self.peers)),
        }

    def _method(self, name: str, value: Any) -> Any:
        if name in self.faults:
            raise self.faults[name]
        return value

    def _height(self) -> Any:
        return {"hex": hex(self.height), "decimal": str(self.height), "number": self.height}[
            self.height_as
        ]

    def _syncing(self) -> Any:
        if self.syncing is None:
            return False
        return {key: hex(value) for key, value in self.syncing.items()}

    def _block(self) -> dict[str, Any]:
        made = time.time() if self.block_time is None else self.block_time
        return {
            "number": hex(self.height),
            "hash": "0x" + f"{self.height:064x}",
            "timestamp": hex(int(made)),
            "transactions": [],
        }


class FakeEvm(FakeServer):
    """An EVM node at `/` (or at `path`)."""

    def __init__(self, height: int = 1000, path: str = "/") -> None:
        super().__init__()
        self.state = EvmState(height)
        self.path = path

    def routes(self, app: web.Application) -> None:
        app.router.add_post(self.path, self.rpc)

    async def rpc(self, request: web.Request) -> web.Response:
        """POST: one call or a batch."""
        body = orjson.loads(await request.read())
        return json_response(jsonrpc_answer(body, self.state.methods(), self.count))

"""A fake CometBFT RPC node, as docs.cometbft.com/v0.38/rpc/ (Info: /status, /net_info) shows.

GET /status answers {"jsonrpc": "2.0", "id": -1, "result": {"node_info", "sync_info",
"validator_info"}}; sync_info's latest_block_height is a decimal string, latest_block_time an
RFC 3339 time with nanoseconds (trailing zeros trimmed), catching_up a boolean. GET /net_info
answers {"listening", "listeners", "n_peers" (a decimal string), "peers"}.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.chains.fake import FakeServer, json_response


def rfc3339_nano(unix: float) -> str:
    """Go's RFC3339Nano, as CometBFT writes block times: nine digits, trailing zeros trimmed."""
    whole = int(unix)
    nanos = round((unix - whole) * 1e9)
    text = datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{nanos:09d}".rstrip("0")
    return f"{text}.{fraction}Z" if fraction else f"{text}Z"


class FakeCometBft(FakeServer):
    """A CometBFT node; set height, catching_up, peers, block_time between runs."""

    def __init__(self, height: int = 1262196) -> None:
        super().__init__()
        self.height = height
        self.catching_up = False
        self.peers = 5
        self.block_time: float | None = None  # None: the newest block is just made

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/status", self.status_route)
        app.router.add_get("/net_info", self.net_info)

    async def status_route(self, request: web.Request) -> web.Response:
        """GET /status."""
        self.count("/status")
        made = rfc3339_nano(time.time() - 0.25 if self.block_time is None else self.block_time)
        block_hash = f"{self.height:064X}"
        result: dict[str, Any] = {
            "node_info": {
                "protocol_version": {"p2p": "8", "block": "11", "app": "0"},
                "id": "b93270b358a72a2db30089f3856475bb1f918d6d",
                "listen_addr": "tcp://0.0.0.0:26656",
                "network": "cosmoshub-4",
                "version": "0.38.12",
                "channels": "40202122233038606100",
                "moniker": "fake-node",
                "other": {"tx_index": "on", "rpc_address": "tcp://0.0.0.0:26657"},
            },
            "sync_info": {
                "latest_block_hash": block_hash,
                "latest_app_hash": block_hash,
                "latest_block_height": str(self.height),
                "latest_block_time": made,
                "earliest_block_hash": block_hash,
                "earliest_app_hash": block_hash,
                "earliest_block_height": "1",
                "earliest_block_time": "2019-12-11T16:11:34Z",
                "catching_up": self.catching_up,
            },
            "validator_info": {
                "address": "5D6A51A8E9899C44079C6AF90618BA0369070E6E",
                "pub_key": {
                    "type": "tendermint/PubKeyEd25519",
                    "value": "A6DoBUypNtUAyEHWtQ9bFjfNg8Bo9CrnkUGl6k6OHN4=",
                },
                "voting_power": "0",
            },
        }
        return json_response({"jsonrpc": "2.0", "id": -1, "result": result})

    async def net_info(self, request: web.Request) -> web.Response:
        """GET /net_info."""
        self.count("/net_info")
        result = {
            "listening": True,
            "listeners": ["Listener(@)"],
            "n_peers": str(self.peers),
            "peers": [],
        }
        return json_response({"jsonrpc": "2.0", "id": -1, "result": result})

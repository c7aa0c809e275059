"""A fake AvalancheGo node, as build.avax.network/docs/api-reference (info-api, health-api,
c-chain/api) shows.

POST /ext/info: info.isBootstrapped {"chain": alias} answers {"isBootstrapped": bool};
info.peers answers {"numPeers": "3", "peers": [...]} (numPeers a decimal string, as AvalancheGo
writes every uint64). POST /ext/health: health.health answers {"checks": {name: {"message",
"error"?, "timestamp", "duration", "contiguousFailures", "timeOfFirstFailure"}}, "healthy": bool}.
POST /ext/bc/C/rpc: the C-chain's Ethereum JSON-RPC (see tests/chains/evm.py).
/ext/info and /ext/health are served by gorilla/rpc's json2 codec (v2/json2/server.go): one
request per POST (no batches), `params` required, and both `result` and `error` always written,
the unused one null.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web

from tests.chains.evm import EvmState
from tests.chains.fake import FakeServer, Fault, json_response, jsonrpc_answer


class FakeAvalancheGo(FakeServer):
    """An AvalancheGo node; set bootstrapped, peers, failing checks and the C-chain's state."""

    def __init__(self, height: int = 50_000_000) -> None:
        super().__init__()
        self.bootstrapped: dict[str, bool] = {"P": True, "X": True, "C": True}
        self.peers = 3
        self.failing: dict[str, str] = {}  # health check name -> its error
        self.c_chain = EvmState(height)
        self.c_chain_up = True  # False: the C-chain's RPC is not served yet (404)

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/ext/info", self.info)
        app.router.add_post("/ext/health", self.health)
        app.router.add_post("/ext/bc/C/rpc", self.c_rpc)

    def _is_bootstrapped(self, params: Any) -> dict[str, bool]:
        chain = params.get("chain") if isinstance(params, dict) else None
        if chain not in self.bootstrapped:
            raise Fault(-32000, f"there is no chain with alias/ID '{chain}'")
        return {"isBootstrapped": self.bootstrapped[chain]}

    def _peers(self, params: Any) -> dict[str, Any]:
        peer = {
            "ip": "206.189.137.87:9651",
            "publicIP": "206.189.137.87:9651",
            "nodeID": "NodeID-8PYXX47kqLDe2wD4oPbvRRchcnSzMA4J4",
            "version": "avalanche/1.11.0",
            "lastSent": "2020-06-01T15:23:02Z",
            "lastReceived": "2020-06-01T15:22:57Z",
            "benched": [],
            "observedUptime": "99",
            "trackedSubnets": [],
        }
        return {"numPeers": str(self.peers), "peers": [peer] * self.peers}

    def _health(self, params: Any) -> dict[str, Any]:
        checks: dict[str, Any] = {}
        for name in ("C", "P", "X", "bootstrapped", "network", "database", "diskspace"):
            check: dict[str, Any] = {
                "message": {},
                "timestamp": "2024-04-10T14:04:20.57759662Z",
                "duration": 465253,
                "contiguousFailures": 0,
                "timeOfFirstFailure": None,
            }
            if name in self.failing:
                check["error"] = {"message": self.failing[name]}
                check["contiguousFailures"] = 3
                check["timeOfFirstFailure"] = "2024-04-10T14:03:20.57759662Z"
            checks[name] = check
        return {"checks": checks, "healthy": not self.failing}

    async def info(self, request: web.Request) -> web.Response:
        """POST /ext/info: info.isBootstrapped and info.peers."""
        methods = {"info.isBootstrapped": self._is_bootstrapped, "info.peers": self._peers}
        return await self._gorilla(request, methods)

    async def health(self, request: web.Request) -> web.Response:
        """POST /ext/health: health.health."""
        return await self._gorilla(request, {"health.health": self._health})

    async def _gorilla(self, request: web.Request, methods: Mapping[str, Any]) -> web.Response:
        body = orjson.loads(await request.read())
        if not isinstance(body, dict):
            error = {"code": -32700, "message": "json: cannot unmarshal array"}
            return json_response({"jsonrpc": "2.0", "result": None, "error": error, "id": None})
        if "params" not in body:
            error = {"code": -32600, "message": "rpc: method request ill-formed: missing params"}
            answer = {"jsonrpc": "2.0", "result": None, "error": error, "id": body.get("id")}
            return json_response(answer, 400)
        answer = jsonrpc_answer(body, methods, self.count)
        return json_response({"result": None, "error": None, **answer})

    async def c_rpc(self, request: web.Request) -> web.Response:
        """POST /ext/bc/C/rpc: the C-chain, or 404 while it is not served."""
        if not self.c_chain_up:
            return web.Response(status=404, text="404 page not found\n")
        body = orjson.loads(await request.read())
        return json_response(jsonrpc_answer(body, self.c_chain.methods(), self.count))

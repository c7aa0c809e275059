"""`cosmos`: a CometBFT (Tendermint) node over its RPC's URI routes, /status and /net_info."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Literal

from healthd.checks.base import CheckEnv, Duration, Probe
from healthd.checks.chains.calls import Endpoint, at_path, endpoint, fetch_json, result
from healthd.checks.chains.heights import parse_height, parse_rfc3339
from healthd.checks.chains.probe import Chain, answer_of, build_probe
from healthd.checks.chains.spec import HeadAndPeers
from healthd.checks.chains.verdict import Reading

if TYPE_CHECKING:
    import aiohttp  # the checks import it when they run, not when a config is read


class CosmosSpec(HeadAndPeers):
    """Keys of a `cosmos` check."""

    type: Literal["cosmos"]
    max_head_age: Duration = 60.0


async def get(session: aiohttp.ClientSession, node: Endpoint, path: str) -> Any:
    """GET one route; its `result` (CometBFT wraps URI answers in a JSON-RPC envelope)."""
    call = f"GET {path}"
    answer = await fetch_json(session, node, call, url=at_path(node.url, path))
    enveloped = isinstance(answer, dict) and "jsonrpc" in answer
    return result(answer, call, node.secrets) if enveloped else answer


async def read_cosmos(session: aiohttp.ClientSession, node: Endpoint) -> Reading:
    """Height, newest block time and catching_up from /status; peers from /net_info."""
    status, net_info = await asyncio.gather(
        get(session, node, "/status"), get(session, node, "/net_info")
    )
    with answer_of("GET /status"):
        sync = status["sync_info"]
        height = parse_height(sync["latest_block_height"], "latest_block_height")
        head_time = parse_rfc3339(sync["latest_block_time"], "latest_block_time")
        catching_up = sync["catching_up"] is True
    with answer_of("GET /net_info"):
        peers = parse_height(net_info["n_peers"], "n_peers")
    syncing = f"catching up at height {height}" if catching_up else None
    return Reading(height=height, head_time=head_time, peers=peers, syncing=syncing)


async def latest_height(session: aiohttp.ClientSession, url: str) -> int:
    """A reference's height: /status sync_info.latest_block_height."""
    status = await get(session, endpoint(url), "/status")
    return parse_height(status["sync_info"]["latest_block_height"], "latest_block_height")


def build(spec: CosmosSpec, env: CheckEnv) -> Probe:
    """Return the probe of a `cosmos` check."""
    node = endpoint(spec.url, spec.headers, spec.secrets())

    async def read(session: aiohttp.ClientSession) -> Reading:
        return await read_cosmos(session, node)

    chain = Chain("GET /status, GET /net_info", read, "GET /status", latest_height)
    return build_probe(spec, env, chain)

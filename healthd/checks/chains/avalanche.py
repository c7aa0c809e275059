"""`avalanche`: an AvalancheGo node: chains bootstrapped, peers, its own health, its C-chain."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from healthd.checks.base import CheckEnv, Probe
from healthd.checks.chains.calls import CallFailed, Endpoint, at_path, call, endpoint
from healthd.checks.chains.evm import block_number, read_evm
from healthd.checks.chains.heights import parse_height
from healthd.checks.chains.probe import Chain, answer_of, build_probe
from healthd.checks.chains.spec import HeadAndPeers
from healthd.checks.chains.verdict import Reading

if TYPE_CHECKING:
    import aiohttp  # the checks import it when they run, not when a config is read

ChainAlias = Annotated[str, Field(min_length=1)]


class AvalancheSpec(HeadAndPeers):
    """Keys of an `avalanche` check; `url` is the node's base URL, `references` C-chain RPC URLs."""

    type: Literal["avalanche"]
    chains: Annotated[list[ChainAlias], Field(min_length=1)] = ["P", "X", "C"]


async def bootstrapped(session: aiohttp.ClientSession, node: Endpoint, chain: str) -> bool:
    """info.isBootstrapped for one chain."""
    name = f"info.isBootstrapped {chain}"
    answer = await call(session, node, "info.isBootstrapped", {"chain": chain}, url=info_url(node))
    with answer_of(name):
        return answer["isBootstrapped"] is True


async def peers(session: aiohttp.ClientSession, node: Endpoint) -> int:
    """info.peers' numPeers (a decimal string, as AvalancheGo writes every uint64)."""
    answer = await call(session, node, "info.peers", {}, url=info_url(node))
    with answer_of("info.peers"):
        return parse_height(answer["numPeers"], "numPeers")


async def failing_checks(session: aiohttp.ClientSession, node: Endpoint) -> list[str]:
    """The names of the node's own failing health checks (health.health at /ext/health)."""
    answer = await call(session, node, "health.health", {}, url=at_path(node.url, "/ext/health"))
    with answer_of("health.health"):
        if answer["healthy"] is True:
            return []
        checks: dict[str, Any] = answer.get("checks") or {}
        failing = sorted(name for name, result in checks.items() if result.get("error"))
        return failing or ["healthy is false"]


async def read_avalanche(
    session: aiohttp.ClientSession, node: Endpoint, chains: list[str]
) -> Reading:
    """Every call at once; a chain still bootstrapping explains a C-chain that cannot answer yet."""
    c_chain = Endpoint(
        at_path(node.url, "/ext/bc/C/rpc"), f"{node.shown} C-chain", node.headers, node.secrets
    )
    head_task = asyncio.ensure_future(read_evm(session, c_chain, peers=False))
    try:
        booted, count, failing = await asyncio.gather(
            asyncio.gather(*(bootstrapped(session, node, chain) for chain in chains)),
            peers(session, node),
            failing_checks(session, node),
        )
    except BaseException:
        head_task.cancel()
        raise
    waiting = [chain for chain, done in zip(chains, booted, strict=True) if not done]
    try:
        head = await head_task
    except CallFailed:
        if not waiting:
            raise
        head = None
    syncing = None
    if waiting:
        syncing = f"chain{'s' if len(waiting) > 1 else ''} {', '.join(waiting)} not bootstrapped"
    elif head is not None and head.syncing is not None:
        syncing = f"C-chain {head.syncing}"
    return Reading(
        height=None if head is None else head.height,
        head_time=None if head is None else head.head_time,
        peers=count,
        syncing=syncing,
        unhealthy=f"node health failing: {', '.join(failing)}" if failing else None,
    )


def info_url(node: Endpoint) -> str:
    """The node's info API."""
    return at_path(node.url, "/ext/info")


def build(spec: AvalancheSpec, env: CheckEnv) -> Probe:
    """Return the probe of an `avalanche` check."""
    node = endpoint(spec.url, spec.headers, spec.secrets())
    chains = list(spec.chains)

    async def read(session: aiohttp.ClientSession) -> Reading:
        return await read_avalanche(session, node, chains)

    calls = "info.isBootstrapped, info.peers, health.health, C-chain eth_blockNumber"
    return build_probe(spec, env, Chain(calls, read, "eth_blockNumber", block_number))

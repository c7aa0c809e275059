"""`solana`: a Solana (Agave) RPC node: getHealth and getSlot, batched."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from healthd.checks.base import CheckEnv, Probe
from healthd.checks.chains.calls import Endpoint, RpcError, batch, call, endpoint, unwrap
from healthd.checks.chains.heights import parse_height
from healthd.checks.chains.probe import Chain, answer_of, build_probe
from healthd.checks.chains.spec import Blocks, ChainSpec
from healthd.checks.chains.verdict import Reading

if TYPE_CHECKING:
    import aiohttp  # the checks import it when they run, not when a config is read

NODE_UNHEALTHY = -32005  # Agave's code for getHealth when the node is behind (or cannot tell)


class SolanaSpec(ChainSpec):
    """Keys of a `solana` check: no head age (getSlot carries no time) and no peers."""

    type: Literal["solana"]
    max_lag: Blocks = 150


async def read_solana(session: aiohttp.ClientSession, node: Endpoint) -> Reading:
    """getHealth's verdict (-32005 is syncing, not an outage) and the slot from getSlot."""
    health, slot = await batch(session, node, [("getHealth", []), ("getSlot", [])])
    syncing = None
    if isinstance(health, RpcError) and health.code == NODE_UNHEALTHY:
        syncing = behind(health)
    else:
        unwrap(health, "getHealth")
    with answer_of("getSlot"):
        height = parse_height(unwrap(slot, "getSlot"), "slot")
    return Reading(height=height, syncing=syncing)


def behind(health: RpcError) -> str:
    """getHealth's -32005 as a line: by how many slots, from its data when the node gives it."""
    data = health.data if isinstance(health.data, dict) else {}
    slots = data.get("numSlotsBehind")
    if isinstance(slots, int) and not isinstance(slots, bool):
        return f"node is behind by {slots} slots"
    return health.message or "the node reports itself unhealthy"


async def slot_of(session: aiohttp.ClientSession, url: str) -> int:
    """A reference's height: getSlot."""
    return parse_height(await call(session, endpoint(url), "getSlot"), "slot")


def build(spec: SolanaSpec, env: CheckEnv) -> Probe:
    """Return the probe of a `solana` check."""
    node = endpoint(spec.url, spec.headers, spec.secrets())

    async def read(session: aiohttp.ClientSession) -> Reading:
        return await read_solana(session, node)

    return build_probe(spec, env, Chain("getHealth, getSlot", read, "getSlot", slot_of))

"""`evm`: an Ethereum-style node (geth, Erigon, Nethermind, Besu, reth…) over JSON-RPC."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from healthd.checks.base import CheckEnv, Probe
from healthd.checks.chains.calls import Endpoint, batch, call, endpoint, unwrap
from healthd.checks.chains.heights import parse_height
from healthd.checks.chains.probe import Chain, answer_of, build_probe
from healthd.checks.chains.spec import HeadAndPeers
from healthd.checks.chains.verdict import Reading

if TYPE_CHECKING:
    import aiohttp  # the checks import it when they run, not when a config is read

HEAD = ("eth_syncing", "eth_blockNumber", "eth_getBlockByNumber")
PEERS = "net_peerCount"


class EvmSpec(HeadAndPeers):
    """Keys of an `evm` check."""

    type: Literal["evm"]


async def read_evm(session: aiohttp.ClientSession, node: Endpoint, peers: bool = True) -> Reading:
    """Sync state, height, newest block time and (if asked) peers, in one JSON-RPC batch."""
    calls: list[tuple[str, list[Any]]] = [
        ("eth_syncing", []),
        ("eth_blockNumber", []),
        ("eth_getBlockByNumber", ["latest", False]),
    ]
    if peers:
        calls.append((PEERS, []))
    answers = await batch(session, node, calls)
    syncing, number, block = (unwrap(answers[i], name) for i, name in enumerate(HEAD))
    progress = describe_syncing(syncing)
    with answer_of("eth_blockNumber"):
        height = parse_height(number, "block number")
    with answer_of("eth_getBlockByNumber"):
        head_time = float(parse_height(block["timestamp"], "timestamp"))
    count = None
    if peers:
        with answer_of(PEERS):
            count = parse_height(unwrap(answers[3], PEERS), "peer count")
    return Reading(height=height, head_time=head_time, peers=count, syncing=progress)


def describe_syncing(status: Any) -> str | None:
    """eth_syncing's answer as a line (None when not syncing): how far the node is, of how far
    it knows the chain goes. Clients add fields of their own; only the standard ones are read."""
    if status is False or (isinstance(status, dict) and status.get("isSyncing") is False):
        return None
    try:
        current = parse_height(status["currentBlock"], "currentBlock")
        highest = parse_height(status["highestBlock"], "highestBlock")
    except (KeyError, TypeError, ValueError):
        return "eth_syncing reports a sync in progress"
    return f"at block {current} of {highest}"


async def block_number(session: aiohttp.ClientSession, url: str) -> int:
    """A reference's height: eth_blockNumber."""
    return parse_height(await call(session, endpoint(url), "eth_blockNumber"), "block number")


def build(spec: EvmSpec, env: CheckEnv) -> Probe:
    """Return the probe of an `evm` check."""
    node = endpoint(spec.url, spec.headers, spec.secrets())

    async def read(session: aiohttp.ClientSession) -> Reading:
        return await read_evm(session, node)

    chain = Chain(", ".join((*HEAD, PEERS)), read, "eth_blockNumber", block_number)
    return build_probe(spec, env, chain)

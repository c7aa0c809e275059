"""`avalanche` against a fake AvalancheGo: chains bootstrapped, peers, its own health, C-chain."""

from __future__ import annotations

import time

import pytest

from healthd.config import ConfigError, parse_config
from tests.chains.avalanchego import FakeAvalancheGo
from tests.chains.evm import FakeEvm
from tests.chains.harness import chains, serving
from tests.helpers.config import config_text
from tests.helpers.net import free_port
from tests.helpers.runs import run


async def test_a_bootstrapped_synced_node_passes() -> None:
    node = FakeAvalancheGo(height=50_000_000)
    reference = FakeEvm(height=50_000_002)
    async with serving(node, reference), chains() as c:
        check = c.check(type="avalanche", url=node.url, references=[reference.url])
        message, error = await run(check)
    assert error is None and message is not None
    assert message["height"] == 50_000_000 and message["referenceHeight"] == 50_000_002
    assert message["peers"] == 3 and message["state"] == "synced"
    assert node.requests["info.isBootstrapped"] == 3
    assert node.requests["info.peers"] == 1 and node.requests["health.health"] == 1
    assert node.requests["eth_blockNumber"] == 1 and node.requests["net_peerCount"] == 0


async def test_a_chain_still_bootstrapping_is_syncing_even_without_a_c_chain() -> None:
    node = FakeAvalancheGo()
    node.bootstrapped["X"] = False
    node.bootstrapped["C"] = False
    node.c_chain_up = False
    node.failing["bootstrapped"] = "subnets not bootstrapped"
    async with serving(node), chains() as c:
        message, error = await run(c.check(type="avalanche", url=node.url))
    assert error == "syncing: chains X, C not bootstrapped"
    assert message is not None and message["state"] == "syncing" and message["height"] is None


async def test_only_the_chains_named_are_asked() -> None:
    node = FakeAvalancheGo()
    node.bootstrapped["X"] = False
    async with serving(node), chains() as c:
        _, error = await run(c.check(type="avalanche", url=node.url, chains=["P", "C"]))
    assert error is None and node.requests["info.isBootstrapped"] == 2


async def test_num_peers_is_a_string_and_too_few_fail() -> None:
    node = FakeAvalancheGo()
    node.peers = 2
    async with serving(node), chains() as c:
        message, error = await run(c.check(type="avalanche", url=node.url, min_peers=3))
    assert error == "2 peers, fewer than 3"
    assert message is not None and message["peers"] == 2


async def test_the_nodes_own_failing_health_checks_are_named() -> None:
    node = FakeAvalancheGo()
    node.failing = {"network": "not connected to a minimum of 80% of the stake", "diskspace": "x"}
    async with serving(node), chains() as c:
        message, error = await run(c.check(type="avalanche", url=node.url))
    assert error == "node health failing: diskspace, network"
    assert message is not None and message["state"] == "synced"


async def test_the_c_chain_is_judged_as_evm() -> None:
    node = FakeAvalancheGo(height=1000)
    node.c_chain.block_time = time.time() - 600
    async with serving(node), chains() as c:
        _, error = await run(c.check(type="avalanche", url=node.url))
    assert error is not None and error.startswith("newest block is 10m")


async def test_behind_its_c_chain_references() -> None:
    node = FakeAvalancheGo(height=1000)
    references = [FakeEvm(height=1020), FakeEvm(height=1030), FakeEvm(height=1040)]
    async with serving(node, *references), chains() as c:
        check = c.check(type="avalanche", url=node.url, references=[r.url for r in references])
        message, error = await run(check)
    assert error == "behind by 30 blocks (reference 1030)"
    assert message is not None and message["lag"] == 30


async def test_a_c_chain_that_fails_once_bootstrapped_is_named() -> None:
    node = FakeAvalancheGo()
    node.c_chain_up = False
    async with serving(node), chains() as c:
        message, error = await run(c.check(type="avalanche", url=node.url))
    assert error == "eth_syncing, eth_blockNumber, eth_getBlockByNumber failed: HTTP 404"
    assert message is not None and message["state"] == "unreachable"


async def test_an_unknown_chain_alias_is_a_json_rpc_error_naming_the_call() -> None:
    node = FakeAvalancheGo()
    async with serving(node), chains() as c:
        _, error = await run(c.check(type="avalanche", url=node.url, chains=["P", "Q"]))
    assert error == (
        "info.isBootstrapped failed: JSON-RPC error -32000: there is no chain with alias/ID 'Q'"
    )


async def test_an_unreachable_node() -> None:
    port = free_port()
    async with chains() as c:
        message, error = await run(c.check(type="avalanche", url=f"http://127.0.0.1:{port}"))
    assert error is not None and error.endswith(f"connection refused (http://127.0.0.1:{port})")
    assert message is not None and message["state"] == "unreachable"


def test_chains_must_not_be_empty() -> None:
    entry = {"name": "a", "type": "avalanche", "url": "http://127.0.0.1:9650", "chains": []}
    with pytest.raises(
        ConfigError, match=r"checks\[0\] \(a\)\.chains: list should have at least 1"
    ):
        parse_config(config_text(entry), "t")

"""`evm` against a real node (ganache 7, a block a second) and against fakes for what ganache
cannot be made to do (old heads, JSON-RPC errors, sync in progress)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chains.evm import FakeEvm
from tests.chains.fake import Fault
from tests.chains.ganache import ganache, height, rpc
from tests.chains.harness import chains, serving
from tests.helpers.cli import healthd
from tests.helpers.config import config_file, config_text
from tests.helpers.net import free_port
from tests.helpers.runs import run
from tests.helpers.waiting import PATIENCE, until_async

FIGURES = {
    "height",
    "referenceHeight",
    "lag",
    "headAgeSeconds",
    "peers",
    "blocksPerSecond",
    "state",
}


@pytest.fixture(scope="module")
def node() -> Iterator[str]:
    with ganache() as url:
        yield url


@pytest.fixture
def mining(node: str) -> Iterator[str]:
    """Ganache mining, whatever a test did to it."""
    rpc(node, "miner_start")
    yield node
    rpc(node, "miner_start")


async def wait_for_block_after(url: str, seen: int) -> int:
    """Poll until ganache has mined past `seen` (a block a second)."""
    mined: int = await until_async(
        lambda: (now := height(url)) > seen and now, f"ganache to mine past block {seen}"
    )
    return mined


async def test_a_mining_node_passes_with_every_figure(mining: str) -> None:
    async with chains() as c:
        message, error = await run(c.check(type="evm", url=mining, min_peers=0))
    assert error is None
    assert message is not None and set(message) == FIGURES
    assert message["state"] == "synced"
    assert message["height"] >= 0 and message["peers"] == 0
    assert message["referenceHeight"] is None and message["lag"] is None
    assert 0 <= message["headAgeSeconds"] < 60


async def test_ganache_has_no_peers_so_the_default_min_peers_fails(mining: str) -> None:
    async with chains() as c:
        message, error = await run(c.check(type="evm", url=mining))
    assert error == "0 peers, fewer than 1"
    assert message is not None and message["peers"] == 0 and message["state"] == "synced"


async def test_blocks_per_second_is_measured_across_runs(mining: str) -> None:
    async with chains() as c:
        check = c.check(type="evm", url=mining, min_peers=0)
        first, _ = await run(check)
        assert first is not None and first["blocksPerSecond"] is None
        await wait_for_block_after(mining, first["height"])
        second, error = await run(check)
    assert error is None and second is not None
    assert second["height"] > first["height"]
    assert second["blocksPerSecond"] > 0


async def test_a_stopped_miner_is_a_stall_and_mining_again_recovers(mining: str) -> None:
    async with chains() as c:
        check = c.check(type="evm", url=mining, min_peers=0, stall_after="3s")
        _, error = await run(check)
        assert error is None
        rpc(mining, "miner_stop")
        stopped_at = height(mining)
        deadline = time.monotonic() + PATIENCE
        while (error is None or error.startswith("newest")) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            message, error = await run(check)
        assert error is not None and error.startswith(f"stalled at height {stopped_at} for ")
        assert message is not None and message["state"] == "stalled"
        rpc(mining, "miner_start")
        await wait_for_block_after(mining, stopped_at)
        message, error = await run(check)
    assert error is None and message is not None and message["state"] == "synced"


async def test_lagging_while_rising_is_behind_and_lagging_while_still_is_stalled(
    mining: str,
) -> None:
    reference = FakeEvm(height=height(mining) + 1000)
    async with serving(reference), chains() as c:
        check = c.check(type="evm", url=mining, min_peers=0, references=[reference.url])
        message, error = await run(check)
        assert message is not None
        assert error == f"behind by {message['lag']} blocks (reference {reference.state.height})"
        assert message["state"] == "behind"  # the first look cannot tell catching up from stuck
        await wait_for_block_after(mining, message["height"])
        message, error = await run(check)
        assert message is not None and message["state"] == "behind"
        assert error is not None and error.startswith("behind by ")
        rpc(mining, "miner_stop")
        stopped_at = height(mining)
        await run(check)  # may still see the last block mined before the stop
        message, error = await run(check)
    assert message is not None and message["height"] == stopped_at
    assert message["state"] == "stalled"
    assert error == f"behind by {message['lag']} blocks (reference {reference.state.height})"


async def test_a_node_ahead_of_its_references_has_lag_0(mining: str) -> None:
    references = [FakeEvm(height=0), FakeEvm(height=0)]
    async with serving(*references), chains() as c:
        message, error = await run(
            c.check(type="evm", url=mining, min_peers=0, references=[r.url for r in references])
        )
    assert error is None and message is not None
    assert message["referenceHeight"] == 0 and message["lag"] == 0


def test_healthd_check_judges_a_real_node_end_to_end(mining: str, tmp_path: Path) -> None:
    config = config_file(
        tmp_path,
        config_text({"name": "eth", "type": "evm", "url": mining, "min_peers": 0, "timeout": "5s"}),
    )
    result = healthd("check", "--json", "--config", config)
    assert result.returncode == 0, result.stdout + result.stderr
    answer = json.loads(result.stdout)
    assert answer["healthy"] is True
    assert answer["checks"]["eth"]["message"]["state"] == "synced"


# --- what ganache cannot be made to do: fakes -----------------------------------------------


async def test_an_old_head_fails_with_its_age() -> None:
    node = FakeEvm()
    node.state.block_time = time.time() - 192
    async with serving(node), chains() as c:
        message, error = await run(c.check(type="evm", url=node.url, max_head_age="2m"))
    assert error is not None and error.startswith("newest block is 3m1")
    assert message is not None and 192 <= message["headAgeSeconds"] < 200
    assert message["state"] == "behind"


async def test_max_head_age_0s_disables_the_head_rule() -> None:
    node = FakeEvm()
    node.state.block_time = time.time() - 86400
    async with serving(node), chains() as c:
        _, error = await run(c.check(type="evm", url=node.url, max_head_age="0s"))
    assert error is None


async def test_eth_syncing_an_object_is_syncing() -> None:
    node = FakeEvm(height=100)
    node.state.syncing = {"startingBlock": 0, "currentBlock": 100, "highestBlock": 5000}
    async with serving(node), chains() as c:
        message, error = await run(c.check(type="evm", url=node.url))
    assert error == "syncing: at block 100 of 5000"
    assert message is not None and message["state"] == "syncing" and message["height"] == 100


async def test_a_json_rpc_error_fails_naming_the_call() -> None:
    node = FakeEvm()
    node.state.faults["net_peerCount"] = Fault(-32601, "the method net_peerCount does not exist")
    async with serving(node), chains() as c:
        message, error = await run(c.check(type="evm", url=node.url))
    assert error == (
        "net_peerCount failed: JSON-RPC error -32601: the method net_peerCount does not exist"
    )
    assert message is not None and message["state"] == "unreachable"


async def test_the_node_calls_go_in_one_batch() -> None:
    node = FakeEvm()
    async with serving(node), chains() as c:
        await run(c.check(type="evm", url=node.url))
    assert node.requests == {
        "eth_syncing": 1,
        "eth_blockNumber": 1,
        "eth_getBlockByNumber": 1,
        "net_peerCount": 1,
    }


async def test_an_unreachable_node_fails_naming_the_calls_and_keeps_the_figures() -> None:
    port = free_port()
    async with chains() as c:
        message, error = await run(c.check(type="evm", url=f"http://127.0.0.1:{port}"))
    assert error == (
        "eth_syncing, eth_blockNumber, eth_getBlockByNumber, net_peerCount failed: "
        f"connection refused (http://127.0.0.1:{port})"
    )
    assert message == dict.fromkeys(FIGURES) | {"state": "unreachable"}


async def test_a_hanging_node_fails_before_the_runner_timeout_naming_the_calls() -> None:
    node = FakeEvm()
    node.hang = True
    async with serving(node), chains() as c:
        message, error = await run(c.check(type="evm", url=node.url, timeout="1s"))
    assert error == (
        "eth_syncing, eth_blockNumber, eth_getBlockByNumber, net_peerCount failed: "
        "timed out after 900ms"
    )
    assert message is not None and message["state"] == "unreachable"


@pytest.mark.parametrize("form", ["hex", "decimal", "number"])
async def test_heights_in_any_form(form: str) -> None:
    node, reference = FakeEvm(height=436), FakeEvm(height=446)
    reference.state.height_as = form
    node.state.height_as = form
    async with serving(node, reference), chains() as c:
        message, error = await run(c.check(type="evm", url=node.url, references=[reference.url]))
    assert error is None and message is not None
    assert (message["height"], message["referenceHeight"], message["lag"]) == (436, 446, 10)


async def test_a_header_secret_never_reaches_the_error() -> None:
    port = free_port()
    async with chains() as c:
        check = c.check(
            type="evm",
            url=f"http://user:pa55word@127.0.0.1:{port}/?apikey=k3y-value",
            headers={"X-Api-Key": "t0ken-value"},
        )
        message, error = await run(check)
    assert error is not None and "connection refused" in error
    for secret in ("pa55word", "k3y-value", "t0ken-value"):
        assert (
            secret not in error and secret not in str(message) and secret not in check.spec.target()
        )

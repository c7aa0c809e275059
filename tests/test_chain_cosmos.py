"""`cosmos` against a fake CometBFT node answering as its RPC documentation shows."""

from __future__ import annotations

import time

import pytest

from healthd.config import ConfigError, parse_config
from tests.chains.cometbft import FakeCometBft, rfc3339_nano
from tests.chains.harness import chains, serving
from tests.helpers.config import config_text
from tests.helpers.net import free_port
from tests.helpers.runs import run


async def test_a_synced_node_passes_with_decimal_string_heights() -> None:
    node, reference = FakeCometBft(height=1262196), FakeCometBft(height=1262199)
    async with serving(node, reference), chains() as c:
        message, error = await run(c.check(type="cosmos", url=node.url, references=[reference.url]))
    assert error is None and message is not None
    assert message["height"] == 1262196 and message["referenceHeight"] == 1262199
    assert message["lag"] == 3 and message["peers"] == 5 and message["state"] == "synced"
    assert 0 <= message["headAgeSeconds"] < 60
    assert node.requests == {"/status": 1, "/net_info": 1}
    assert reference.requests == {"/status": 1}


async def test_catching_up_is_syncing() -> None:
    node = FakeCometBft(height=500)
    node.catching_up = True
    async with serving(node), chains() as c:
        message, error = await run(c.check(type="cosmos", url=node.url))
    assert error == "syncing: catching up at height 500"
    assert message is not None and message["state"] == "syncing"


async def test_behind_its_references() -> None:
    node = FakeCometBft(height=100)
    references = [FakeCometBft(height=120), FakeCometBft(height=130)]
    async with serving(node, *references), chains() as c:
        check = c.check(type="cosmos", url=node.url, references=[r.url for r in references])
        message, error = await run(check)
    assert error == "behind by 25 blocks (reference 125)"
    assert message is not None and message["state"] == "behind"


async def test_too_few_peers_from_n_peers() -> None:
    node = FakeCometBft()
    node.peers = 2
    async with serving(node), chains() as c:
        message, error = await run(c.check(type="cosmos", url=node.url, min_peers=3))
    assert error == "2 peers, fewer than 3"
    assert message is not None and message["peers"] == 2


async def test_a_head_older_than_the_default_minute_fails() -> None:
    node = FakeCometBft()
    node.block_time = time.time() - 75
    async with serving(node), chains() as c:
        _, error = await run(c.check(type="cosmos", url=node.url))
    assert error is not None and error.startswith("newest block is 1m1")


async def test_a_height_that_stops_rising_is_a_stall() -> None:
    node = FakeCometBft(height=42)
    async with serving(node), chains() as c:
        check = c.check(type="cosmos", url=node.url, stall_after="300ms")
        _, error = await run(check)
        assert error is None
        deadline = time.monotonic() + 30
        while error is None and time.monotonic() < deadline:
            _, error = await run(check)
    assert error is not None and error.startswith("stalled at height 42 for ")


async def test_a_failing_route_is_named() -> None:
    node = FakeCometBft()
    async with serving(node), chains() as c:
        node.status = 500
        message, error = await run(c.check(type="cosmos", url=node.url))
    assert error in ("GET /status failed: HTTP 500", "GET /net_info failed: HTTP 500")
    assert message is not None and message["state"] == "unreachable"


async def test_an_unreachable_node() -> None:
    port = free_port()
    async with chains() as c:
        message, error = await run(c.check(type="cosmos", url=f"http://127.0.0.1:{port}"))
    assert error is not None and "connection refused" in error and error.startswith("GET /")
    assert message is not None and message["state"] == "unreachable"


async def test_a_url_with_a_path_prefix_keeps_it() -> None:
    node = FakeCometBft()
    async with serving(node), chains() as c:
        _, error = await run(c.check(type="cosmos", url=f"{node.url}/rpc/"))
    assert error is not None and "HTTP 404" in error  # asked /rpc/status, not /status


def test_block_times_as_cometbft_writes_them() -> None:
    assert rfc3339_nano(1564660342.5) == "2019-08-01T11:52:22.5Z"
    assert rfc3339_nano(1564660342.0) == "2019-08-01T11:52:22Z"


def test_unknown_keys_are_errors() -> None:
    with pytest.raises(ConfigError, match=r"checks\[0\] \(c\)\.chains: unknown key"):
        parse_config(
            config_text({"name": "c", "type": "cosmos", "url": "http://x:1", "chains": ["C"]}),
            "t",
        )

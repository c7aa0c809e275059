"""`solana` against a fake Solana RPC node answering as its documentation shows."""

from __future__ import annotations

import pytest

from healthd.config import ConfigError, parse_config
from tests.chains.harness import chains, serving
from tests.chains.solana import FakeSolana
from tests.helpers.config import config_text
from tests.helpers.runs import run


async def test_a_healthy_node_passes_with_its_slot() -> None:
    node, reference = FakeSolana(slot=250_000_000), FakeSolana(slot=250_000_100)
    async with serving(node, reference), chains() as c:
        message, error = await run(c.check(type="solana", url=node.url, references=[reference.url]))
    assert error is None and message is not None
    assert (message["height"], message["referenceHeight"], message["lag"]) == (
        250_000_000,
        250_000_100,
        100,
    )
    assert message["headAgeSeconds"] is None and message["peers"] is None
    assert node.requests == {"getHealth": 1, "getSlot": 1}


async def test_get_health_behind_is_syncing_not_an_outage() -> None:
    node = FakeSolana()
    node.slots_behind = 42
    async with serving(node), chains() as c:
        message, error = await run(c.check(type="solana", url=node.url))
    assert error == "syncing: node is behind by 42 slots"
    assert message is not None and message["state"] == "syncing"
    assert message["height"] == node.slot


async def test_get_health_unhealthy_without_a_slot_count_is_syncing_too() -> None:
    node = FakeSolana()
    node.unhealthy = "Node is unhealthy"
    async with serving(node), chains() as c:
        message, error = await run(c.check(type="solana", url=node.url))
    assert error == "syncing: Node is unhealthy"
    assert message is not None and message["state"] == "syncing"


async def test_behind_by_more_than_the_default_150() -> None:
    node, reference = FakeSolana(slot=1000), FakeSolana(slot=1151)
    async with serving(node, reference), chains() as c:
        _, error = await run(c.check(type="solana", url=node.url, references=[reference.url]))
    assert error == "behind by 151 blocks (reference 1151)"


async def test_get_slot_error_is_named() -> None:
    node = FakeSolana()
    node.slot = "not a slot"  # type: ignore[assignment]
    async with serving(node), chains() as c:
        message, error = await run(c.check(type="solana", url=node.url))
    assert error is not None and error.startswith("getSlot failed: unexpected answer")
    assert message is not None and message["state"] == "unreachable"


@pytest.mark.parametrize("key", ["max_head_age", "min_peers"])
def test_keys_solana_has_no_use_for_are_errors(key: str) -> None:
    entry = {"name": "s", "type": "solana", "url": "http://127.0.0.1:8899", key: 1}
    with pytest.raises(ConfigError, match=rf"checks\[0\] \(s\)\.{key}: unknown key"):
        parse_config(config_text(entry), "t")

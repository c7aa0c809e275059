"""References: the median of those that answer, never a reason to fail the node, asked once per
interval however many checks share them."""

from __future__ import annotations

import asyncio

from tests.chains.evm import FakeEvm
from tests.chains.harness import chains, serving
from tests.helpers.runs import run


async def test_all_references_down_the_node_passes_unjudged() -> None:
    node = FakeEvm(height=100)
    down = [FakeEvm(height=500) for _ in range(3)]
    down[0].status = 500
    down[1].hang = True
    down[2].status = 502
    async with serving(node, *down), chains() as c:
        check = c.check(type="evm", url=node.url, references=[r.url for r in down], timeout="1s")
        message, error = await run(check)
    assert error is None
    assert message is not None and message["referenceHeight"] is None and message["lag"] is None


async def test_references_that_do_not_listen_are_left_out() -> None:
    node = FakeEvm(height=100)
    async with serving(node), chains() as c:
        check = c.check(type="evm", url=node.url, references=["http://127.0.0.1:9/"])
        message, error = await run(check)
    assert error is None and message is not None and message["referenceHeight"] is None


async def test_one_of_three_down_leaves_the_median_of_two() -> None:
    node = FakeEvm(height=100)
    references = [FakeEvm(height=104), FakeEvm(height=110), FakeEvm(height=9999)]
    references[2].status = 503
    async with serving(node, *references), chains() as c:
        check = c.check(type="evm", url=node.url, references=[r.url for r in references])
        message, error = await run(check)
    assert error is None and message is not None
    assert (message["referenceHeight"], message["lag"]) == (107, 7)


async def test_the_median_of_three_ignores_one_reference_far_off() -> None:
    node = FakeEvm(height=100)
    references = [FakeEvm(height=101), FakeEvm(height=102), FakeEvm(height=100_000)]
    async with serving(node, *references), chains() as c:
        check = c.check(type="evm", url=node.url, references=[r.url for r in references])
        message, error = await run(check)
    assert error is None and message is not None and message["referenceHeight"] == 102


async def test_a_hanging_reference_does_not_fail_the_node() -> None:
    node = FakeEvm(height=100)
    references = [FakeEvm(height=105), FakeEvm(height=105)]
    references[0].hang = True
    async with serving(node, *references), chains() as c:
        check = c.check(
            type="evm", url=node.url, references=[r.url for r in references], timeout="1s"
        )
        message, error = await run(check)
    assert error is None  # not "timed out after 1s": the reference drops out first
    assert message is not None and message["referenceHeight"] == 105


async def test_references_are_asked_at_once() -> None:
    node = FakeEvm(height=100)
    references = [FakeEvm(height=101), FakeEvm(height=102), FakeEvm(height=150)]
    for reference in references:
        reference.delay = 0.3  # one after the other they would not fit the 750 ms they get
    async with serving(node, *references), chains() as c:
        check = c.check(
            type="evm", url=node.url, references=[r.url for r in references], timeout="1s"
        )
        message, error = await run(check)
    assert error is None and message is not None
    assert message["referenceHeight"] == 102  # all three answered


async def test_lag_beyond_max_lag_fails_with_the_reference() -> None:
    node = FakeEvm(height=100)
    reference = FakeEvm(height=111)
    async with serving(node, reference), chains() as c:
        check = c.check(type="evm", url=node.url, references=[reference.url])
        message, error = await run(check)
    assert error == "behind by 11 blocks (reference 111)"
    assert message is not None and message["state"] == "behind"


async def test_checks_sharing_references_ask_each_once_per_interval() -> None:
    nodes = [FakeEvm(height=100) for _ in range(5)]
    references = [FakeEvm(height=100) for _ in range(3)]
    urls = [r.url for r in references]
    async with serving(*nodes, *references), chains() as c:
        checks = [
            c.check(name=f"node{i}.{j}", type="evm", url=node.url, references=urls)
            for i, node in enumerate(nodes)
            for j in range(10)
        ]
        results = await asyncio.gather(*(run(check) for check in checks))
        assert all(error is None for _, error in results)
        assert [r.requests["eth_blockNumber"] for r in references] == [1, 1, 1]
        await asyncio.gather(*(run(check) for check in checks))  # within the interval
        assert [r.requests["eth_blockNumber"] for r in references] == [1, 1, 1]
        c.clock.advance(5)  # one interval later
        await asyncio.gather(*(run(check) for check in checks))
    assert [r.requests["eth_blockNumber"] for r in references] == [2, 2, 2]
    assert sum(node.requests["eth_blockNumber"] for node in nodes) == 3 * 50


async def test_a_reference_is_kept_for_the_shortest_interval_of_its_checks() -> None:
    node = FakeEvm(height=100)
    reference = FakeEvm(height=100)
    async with serving(node, reference), chains() as c:
        fast = c.check(name="fast", type="evm", url=node.url, references=[reference.url])
        slow = c.check(
            name="slow", type="evm", url=node.url, references=[reference.url], interval="1m"
        )
        await run(slow)
        await run(fast)
        assert reference.requests["eth_blockNumber"] == 1
        c.clock.advance(5)  # the fast check's interval: the height is asked again, for both
        await run(slow)
        await run(fast)
        assert reference.requests["eth_blockNumber"] == 2
        c.clock.advance(3)
        await run(slow)
    assert reference.requests["eth_blockNumber"] == 2


async def test_a_reference_url_secret_is_not_shown() -> None:
    async with chains() as c:
        check = c.check(
            type="evm",
            url="http://127.0.0.1:9/",
            references=["https://user:hunter22@rpc.example/?api_key=abcd1234"],
        )
    assert "hunter22" not in check.spec.target() and "abcd1234" not in check.spec.target()

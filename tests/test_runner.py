"""The runner: timeouts, overlap, misbehaving checks, the readiness latch."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from healthd.checks.base import Check
from healthd.runner import Runner
from healthd.store import Store
from tests.helpers import probes
from tests.helpers.runs import first_run_not_refused, store_for


def py(func: str, **keys: object) -> dict[str, object]:
    return {"type": "python", "callable": f"tests.helpers.probes:{func}", **keys}


@pytest.fixture
async def runner_for() -> object:
    made: list[Runner] = []

    def make(store: Store) -> Runner:
        made.append(Runner(store, workers=2))
        return made[-1]

    yield make
    for runner in made:
        await runner.close()


async def test_a_passing_check_records_its_message_and_duration(
    make_check: Callable[..., Check], runner_for: Callable[[Store], Runner]
) -> None:
    check = make_check(**py("returns", args={"value": {"height": 42}}))
    store = store_for(check)
    record = await runner_for(store).run(check)
    assert record.passed and record.message == b'{"height":42}'
    assert record.duration_ns > 0 and record.timestamp_ns is not None


async def test_async_callables_are_awaited(
    make_check: Callable[..., Check], runner_for: Callable[[Store], Runner]
) -> None:
    check = make_check(**py("returns_async", args={"value": [1, 2]}))
    assert not check.blocking
    record = await runner_for(store_for(check)).run(check)
    assert record.message == b"[1,2]"


async def test_a_check_returning_nothing_has_no_message(
    make_check: Callable[..., Check], runner_for: Callable[[Store], Runner]
) -> None:
    check = make_check(**py("returns"))
    record = await runner_for(store_for(check)).run(check)
    assert record.passed and record.message is None


@pytest.mark.parametrize(
    ("func", "error"),
    [
        ("raises", "RuntimeError: broken"),
        ("exits", "SystemExit: 3"),
        ("not_json", "the check returned a value that is not JSON"),
    ],
)
async def test_a_misbehaving_check_fails_only_itself(
    make_check: Callable[..., Check], runner_for: Callable[[Store], Runner], func: str, error: str
) -> None:
    bad, good = make_check(**py(func), name="bad"), make_check(**py("returns"), name="good")
    store = store_for(bad, good)
    runner = runner_for(store)
    await asyncio.gather(runner.run(bad), runner.run(good))
    assert store.get("bad").error is not None and store.get("bad").error.startswith(error)
    assert store.get("good").passed


async def test_an_async_check_past_its_timeout_fails_and_is_cancelled(
    make_check: Callable[..., Check], runner_for: Callable[[Store], Runner]
) -> None:
    check = make_check(**py("sleeps"), timeout="200ms")
    runner = runner_for(store_for(check))
    record = await runner.run(check)
    assert record.error == "timed out after 200ms"
    # Cancelled, not left running: the next due run starts at once, and is not refused.
    assert (await runner.due(check)).error == "timed out after 200ms"


async def test_a_blocking_check_past_its_timeout_stays_busy_until_its_thread_ends(
    make_check: Callable[..., Check], runner_for: Callable[[Store], Runner]
) -> None:
    probes.release.clear()
    check = make_check(**py("blocks_until_released"), timeout="100ms")
    store = store_for(check)
    runner = runner_for(store)
    record = await runner.run(check)
    assert record.error == "timed out after 100ms"
    assert runner.workers(check).stuck == 1  # its thread runs on
    skipped = await runner.due(check)
    assert skipped.error == "previous run still in progress"
    assert skipped.contiguous_failures == 2
    probes.release.set()
    assert (await first_run_not_refused(runner, check)).passed


async def test_a_due_run_while_the_previous_runs_counts_as_a_failure(
    make_check: Callable[..., Check], runner_for: Callable[[Store], Runner]
) -> None:
    check = make_check(
        **py("starts_then_sleeps", args={"seconds": 0.3}), timeout="900ms", interval="1s"
    )
    store = store_for(check)
    runner = runner_for(store)
    probes.started.clear()
    first = asyncio.create_task(runner.due(check))
    while not probes.started.is_set():
        await asyncio.sleep(0)
    second = await runner.due(check)
    assert second.error == "previous run still in progress"
    assert second.contiguous_failures == 1
    assert (await first).passed


async def test_a_readiness_check_once_passed_stays_passed(
    make_check: Callable[..., Check], runner_for: Callable[[Store], Runner], tmp_path: object
) -> None:
    flag = f"{tmp_path}/ready"
    check = make_check(type="command", command=["test", "-e", flag], kind="readiness")
    store = store_for(check)
    runner = runner_for(store)
    assert not (await runner.due(check)).passed
    open(flag, "w").close()
    assert (await runner.due(check)).passed
    import os

    os.remove(flag)
    latched = await runner.due(check)
    assert latched.passed and latched.message is not None
    assert b'"exitCode":0' in latched.message


async def test_a_health_check_is_not_latched(
    make_check: Callable[..., Check], runner_for: Callable[[Store], Runner], tmp_path: object
) -> None:
    flag = f"{tmp_path}/up"
    check = make_check(type="command", command=["test", "-e", flag])
    runner = runner_for(store_for(check))
    open(flag, "w").close()
    assert (await runner.due(check)).passed
    import os

    os.remove(flag)
    assert not (await runner.due(check)).passed

"""The readiness latch: once a gate has opened, no run, report or silence closes it again."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from healthd.checks.base import Check
from healthd.parts import Parts
from healthd.reports import Reports
from healthd.result import NOT_YET_RUN, Outcome
from healthd.runner import Runner
from healthd.store import Entry, Store
from tests.helpers import probes
from tests.helpers.config import config_of
from tests.helpers.waiting import wait_for


def store_for(*checks: Check) -> Store:
    return Store(Entry(c.name, c.kind, c.tags) for c in checks)


@contextmanager
def reports_to(check: Check) -> Iterator[tuple[Store, Reports]]:
    """The reports to one push check, and the store they record in; timers stopped after."""
    store = store_for(check)
    reports = Reports(store, [check])
    try:
        yield store, reports
    finally:
        reports.close()


@pytest.mark.parametrize(
    ("kind", "held"), [("readiness", True), ("health", False), ("liveness", False)]
)
def test_only_a_readiness_check_is_held_and_only_once_it_has_passed(
    make_check: Callable[..., Check], kind: str, held: bool
) -> None:
    check = make_check(type="memory", kind=kind)
    store = store_for(check)
    assert check.hold(NOT_YET_RUN) is None
    opened = store.record(check.name, Outcome(message=b"{}"), 1, 1)
    assert check.hold(opened) == (Outcome(message=b"{}") if held else None)


async def test_an_opened_gate_with_a_blocking_probe_takes_no_thread(
    make_check: Callable[..., Check],
) -> None:
    """Were the probe run, it would block past its timeout and fail the gate."""
    probes.release.set()
    check = make_check(
        type="python", callable="tests.helpers.probes:blocks_until_released", kind="readiness"
    )
    assert check.blocking
    runner = Runner(store_for(check), workers=1, user_workers=1)
    try:
        assert (await runner.due(check)).passed
        probes.release.clear()
        latched = await runner.due(check)
        assert latched.passed and latched.message == b'"released"'
        assert runner.workers(check).running == 0
    finally:
        probes.release.set()
        await runner.close()


@pytest.mark.parametrize(("kind", "after"), [("readiness", "passing"), ("health", "failing")])
async def test_a_report_does_not_close_an_opened_gate(
    make_check: Callable[..., Check], kind: str, after: str
) -> None:
    with reports_to(make_check(name="gate", type="ttl", ttl="1h", kind=kind)) as (store, reports):
        assert reports.report("gate", "fail", "not yet") == "failing"  # not opened: it counts
        assert reports.report("gate", 0, message={"synced": True}) == "passing"
        assert reports.report("gate", "fail", "lost sync") == after
        if after == "passing":
            assert store.get("gate").message == b'{"synced":true}'


@pytest.mark.parametrize(("kind", "passed"), [("readiness", True), ("health", False)])
async def test_silence_does_not_close_an_opened_gate(
    make_check: Callable[..., Check], kind: str, passed: bool
) -> None:
    with reports_to(make_check(name="gate", type="ttl", ttl="50ms", kind=kind)) as (store, reports):
        reports.report("gate", "pass")
        await wait_for(store, lambda: len(store.history.runs("gate")) >= 2)  # the TTL passed
        assert store.get("gate").passed is passed


@pytest.fixture
async def parts_of() -> AsyncIterator[Callable[..., Parts]]:
    made: list[Parts] = []

    def make(*checks: dict[str, object]) -> Parts:
        made.append(Parts(config_of(*checks)))
        return made[-1]

    yield make
    for parts in made:
        await parts.close()


async def test_a_reload_keeps_an_unchanged_gate_open_and_closes_a_changed_one(
    parts_of: Callable[..., Parts], tmp_path: Path
) -> None:
    flag = tmp_path / "synced"
    gate = {"name": "gate", "type": "command", "command": ["test", "-e", str(flag)]}
    gate |= {"kind": "readiness", "interval": "1h", "timeout": "5s"}
    parts = parts_of(gate)
    flag.touch()
    assert (await parts.runner.due(parts.checks[0])).passed
    flag.unlink()
    await parts.apply(config_of(gate))  # unchanged: kept, record and all
    assert (await parts.runner.due(parts.checks[0])).passed
    await parts.apply(config_of({**gate, "timeout": "4s"}))  # changed: a new gate, closed
    assert not (await parts.runner.due(parts.checks[0])).passed

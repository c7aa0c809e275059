"""The scheduler: each check on its own interval, initial delays, clean stop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from healthd.checks.base import Check
from healthd.runner import Runner
from healthd.scheduler import Punctuality, Scheduler, phase
from healthd.store import Store
from tests.helpers.processes import ends
from tests.helpers.runs import store_for
from tests.helpers.waiting import wait_for


def setup(
    *checks: Check, punctuality: Punctuality | None = None
) -> tuple[Store, Runner, Scheduler]:
    store = store_for(*checks)
    runner = Runner(store, workers=2)
    return store, runner, Scheduler(runner, punctuality or Punctuality())


async def test_checks_run_repeatedly_on_their_interval_and_delays_hold(
    make_check: Callable[..., Check],
) -> None:
    fast = make_check(
        name="fast", type="command", command=["true"], interval="100ms", timeout="50ms"
    )
    later = make_check(name="later", type="command", command=["true"], initial_delay="1h")
    store, runner, scheduler = setup(fast, later)
    runs: list[str] = []
    store.listen(lambda name, record: runs.append(name))
    scheduler.start([fast, later])
    try:
        await wait_for(store, lambda: runs.count("fast") >= 3)
    finally:
        scheduler.stop()
        await runner.close()
    assert store.get("fast").passed
    assert "later" not in runs
    assert store.get("later").error == "not yet run"


async def test_stop_cancels_runs_under_way_and_kills_their_processes(
    make_check: Callable[..., Check], tmp_path: Path
) -> None:
    pidfile = tmp_path / "pid"
    slow = make_check(
        name="slow",
        type="command",
        # The first run stays (until cancelled); any later one passes at once.
        command=["sh", "-c", f"test -s {pidfile} || {{ echo $$ > {pidfile}; exec sleep 60; }}"],
        interval="10s",
        timeout="9s",
    )
    store, runner, scheduler = setup(slow)
    scheduler.start([slow])
    while not (pidfile.exists() and pidfile.read_text().strip()):
        await asyncio.sleep(0.02)  # polls for the file; asserts nothing about time
    pid = int(pidfile.read_text())
    scheduler.stop()
    await runner.close()
    assert store.get("slow").error == "not yet run"  # the run under way was cancelled
    assert ends(pid)
    # Nothing left in progress: a run now is not refused as "previous run still in progress".
    assert (await runner.due(slow)).passed
    await runner.close()


async def test_removed_checks_stop_firing(make_check: Callable[..., Check]) -> None:
    fast, witness = (
        make_check(name=name, type="command", command=["true"], interval="100ms", timeout="50ms")
        for name in ("fast", "witness")
    )
    punctuality = Punctuality()
    store, runner, scheduler = setup(fast, witness, punctuality=punctuality)
    scheduler.start([fast, witness])
    try:
        await wait_for(store, lambda: store.get("fast").timestamp_ns is not None)
        scheduler.remove("fast")
        await runner.cancel({"fast"})  # as a reload does: a run under way records nothing
        assert punctuality.scheduled() == 1
        runs = store.totals("fast")[0]
        witnessed = store.totals("witness")[0]
        # Three intervals of the witness, on the same clock: fast would have fired meanwhile.
        await wait_for(store, lambda: store.totals("witness")[0] >= witnessed + 3)
        assert store.totals("fast")[0] == runs
    finally:
        scheduler.stop()
        await runner.close()


def test_punctuality_reports_jobs_that_have_not_fired_in_time(
    make_check: Callable[..., Check],
) -> None:
    punctuality = Punctuality()
    check = make_check(name="x", interval="10s", timeout="1s", type="command", command=["true"])
    punctuality.schedule(check, first=100.0)
    assert punctuality.overdue(104.0) == []  # within the grace (max(2s, interval/2))
    assert punctuality.overdue(105.5) == ["x"]
    punctuality.fired("x", 105.6)
    assert punctuality.overdue(120.0) == []
    assert punctuality.overdue(121.0) == ["x"]
    punctuality.forget("x")
    assert punctuality.overdue(1000.0) == [] and punctuality.scheduled() == 0


def test_phase_is_stable_and_inside_the_interval() -> None:
    offsets = [phase(f"check-{i}", 10.0) for i in range(1000)]
    assert all(0.0 <= offset < 10.0 for offset in offsets)
    assert offsets == [phase(f"check-{i}", 10.0) for i in range(1000)]
    # spread across the interval, not bunched: every tenth of it holds some checks
    assert {int(offset) for offset in offsets} == set(range(10))


async def test_after_the_first_run_each_check_keeps_its_own_phase(
    make_check: Callable[..., Check],
) -> None:
    checks = [
        make_check(name=f"c{i}", type="command", command=["true"], interval="1h", timeout="1s")
        for i in range(20)
    ]
    _, runner, scheduler = setup(*checks)
    scheduler.start(checks)
    try:
        jobs = {job.id: job for job in scheduler._aps.get_jobs()}
        for check in checks:
            job = jobs[check.name]  # one job per check: its first run, then its own phase
            first = job.next_run_time
            regular = job.trigger.get_next_fire_time(first, first).timestamp()
            assert regular - first.timestamp() == pytest.approx(
                3600 + phase(check.name, 3600), abs=1e-3
            )
    finally:
        scheduler.stop()
        await runner.close()


async def test_making_progress_needs_a_running_scheduler_and_a_fresh_heartbeat(
    make_check: Callable[..., Check],
) -> None:
    import time

    check = make_check(name="x", type="command", command=["true"], interval="1h", timeout="1s")
    _, runner, scheduler = setup(check)
    assert not scheduler.making_progress(time.monotonic())
    scheduler.start([check])
    try:
        assert scheduler.making_progress(time.monotonic())
        # Seen from a minute on with no heartbeat since: a wedged scheduler.
        assert not scheduler.making_progress(time.monotonic() + 60)
    finally:
        scheduler.stop()
        await runner.close()
    assert not scheduler.making_progress(time.monotonic())

"""Hysteresis (contract §10): a check's state changes only after enough runs in a row agree."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import structlog

from healthd.checks.base import Check
from healthd.config import ConfigError
from healthd.result import NOT_YET_RUN, Outcome, Record, Thresholds, advance
from healthd.runner import Runner
from healthd.store import Entry, Store
from tests.helpers.config import config_of

PASS = Outcome(message=b'{"ok":1}')
FAIL = Outcome(error="boom")
WARN = Outcome(error="warning", degraded=True)


def runs(thresholds: Thresholds, *outcomes: Outcome, start: Record = NOT_YET_RUN) -> Record:
    record = start
    for at, outcome in enumerate(outcomes, 1):
        record = advance(record, outcome, at * 100, at, thresholds)
    return record


def test_a_passing_check_stays_passing_below_the_failure_threshold() -> None:
    passing = runs(Thresholds(3, 1), PASS)
    record = runs(Thresholds(3, 1), FAIL, FAIL, start=passing)
    assert record.passed and record.error is None
    assert record.contiguous_failures == 2
    assert record.time_of_first_failure_ns == 100
    assert record.timestamp_ns == 200 and record.duration_ns == 2


def test_the_threshold_run_turns_the_state_failing_with_that_runs_error() -> None:
    passing = runs(Thresholds(3, 1), PASS)
    record = runs(Thresholds(3, 1), FAIL, FAIL, Outcome(error="third"), start=passing)
    assert not record.passed and record.error == "third"
    assert (record.contiguous_failures, record.time_of_first_failure_ns) == (3, 100)
    assert record.has_passed


def test_a_pass_below_the_failure_threshold_starts_the_count_again() -> None:
    thresholds = Thresholds(2, 1)
    record = runs(thresholds, PASS, FAIL, PASS, FAIL)
    assert record.passed and record.contiguous_failures == 1


def test_a_recovering_check_shows_its_last_error_with_no_failures() -> None:
    thresholds = Thresholds(1, 3)
    record = runs(thresholds, FAIL, Outcome(error="last"), PASS, PASS)
    assert not record.passed and record.error == "last"
    assert record.contiguous_failures == 0 and record.time_of_first_failure_ns is None
    assert record.message == PASS.message and record.timestamp_ns == 400
    assert runs(thresholds, PASS, start=record).passed


def test_a_failure_while_recovering_resets_the_passes_needed() -> None:
    thresholds = Thresholds(1, 2)
    record = runs(thresholds, FAIL, PASS, FAIL, PASS)
    assert not record.passed
    assert runs(thresholds, PASS, start=record).passed


def test_a_check_starts_failing_so_passes_are_needed_before_it_first_passes() -> None:
    thresholds = Thresholds(1, 2)
    once = runs(thresholds, PASS)
    assert not once.passed and once.error == "not yet run" and not once.has_passed
    twice = runs(thresholds, PASS, PASS)
    assert twice.passed and twice.has_passed


def test_a_first_failure_fails_at_once_since_the_check_starts_failing() -> None:
    record = runs(Thresholds(5, 1), FAIL)
    assert not record.passed and record.error == "boom" and record.contiguous_failures == 1


def test_degraded_follows_the_state_not_the_pending_run() -> None:
    thresholds = Thresholds(2, 1)
    pending = runs(thresholds, PASS, WARN)
    assert pending.passed and not pending.degraded
    degraded = runs(thresholds, WARN, start=pending)
    assert degraded.degraded and degraded.error == "warning"


@pytest.mark.parametrize(
    "outcomes",
    [(PASS,), (FAIL,), (FAIL, FAIL, PASS), (PASS, WARN, FAIL, PASS, FAIL)],
)
def test_thresholds_of_one_behave_as_without_hysteresis(outcomes: tuple[Outcome, ...]) -> None:
    with_default = runs(Thresholds(), *outcomes)
    record = NOT_YET_RUN
    for at, outcome in enumerate(outcomes, 1):
        record = advance(record, outcome, at * 100, at)
    assert record == with_default
    last = outcomes[-1]
    assert record.passed == last.passed and record.error == last.error


def test_thresholds_come_from_the_scheduler_defaults_or_the_check() -> None:
    config = config_of(
        {"name": "own", "type": "memory", "failures_before_critical": 5},
        {"name": "default", "type": "memory"},
        extra="[scheduler]\nfailures_before_critical = 2\nsuccesses_before_passing = 3\n",
    )
    own, default = config.checks
    assert own.thresholds == Thresholds(5, 3)
    assert default.thresholds == Thresholds(2, 3)


@pytest.mark.parametrize(
    ("extra", "check", "where"),
    [
        ("[scheduler]\nfailures_before_critical = 0\n", {}, "scheduler.failures_before_critical"),
        ("[scheduler]\nsuccesses_before_passing = '2'\n", {}, "scheduler.successes_before_passing"),
        ("", {"successes_before_passing": 0}, "checks[0]|successes_before_passing"),
        ("", {"failures_before_critical": 1.5}, "checks[0]|failures_before_critical"),
    ],
)
def test_thresholds_below_one_or_not_integers_are_config_errors(
    extra: str, check: dict[str, object], where: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        config_of({"name": "c", "type": "memory", **check}, extra=extra)
    text = "; ".join(caught.value.problems)
    # A check's key path may also name the check: checks[0] (c).key.
    assert all(part in text for part in where.split("|")), text


async def test_the_store_logs_a_transition_only_when_the_state_changes(
    make_check: Callable[..., Check], tmp_path: Path
) -> None:
    flag = tmp_path / "ok"
    check = make_check(type="command", command=["test", "-e", str(flag)])
    store = Store([Entry(check.name, check.kind, check.tags, thresholds=Thresholds(2, 2))])
    runner = Runner(store, workers=2)
    try:
        flag.touch()
        await runner.run(check)
        await runner.run(check)
        assert store.get("c").passed
        flag.unlink()
        with structlog.testing.capture_logs() as logs:
            first = await runner.run(check)
            assert first.passed and first.contiguous_failures == 1
            second = await runner.run(check)
        assert not second.passed and second.contiguous_failures == 2
        assert [e["event"] for e in logs] == ["check started failing"]
    finally:
        await runner.close()


async def test_a_readiness_gate_latches_on_its_state_not_on_a_passing_run(
    make_check: Callable[..., Check], tmp_path: Path
) -> None:
    flag = tmp_path / "ok"
    flag.touch()
    check = make_check(type="command", command=["test", "-e", str(flag)], kind="readiness")
    store = Store([Entry(check.name, check.kind, check.tags, thresholds=Thresholds(1, 2))])
    runner = Runner(store, workers=2)
    try:
        await runner.due(check)
        flag.unlink()
        assert not (await runner.due(check)).passed  # one pass did not open the gate
        flag.touch()
        await runner.due(check)
        opened = await runner.due(check)
        assert opened.passed and opened.has_passed
        flag.unlink()
        assert (await runner.due(check)).passed  # latched: not run again
    finally:
        await runner.close()


def test_a_first_pass_below_the_threshold_logs_nothing() -> None:
    store = Store([Entry("c", "health", frozenset(), thresholds=Thresholds(1, 2))])
    with structlog.testing.capture_logs() as logs:
        store.record("c", Outcome(), 1, 1)
        assert [e["event"] for e in logs] == []
        store.record("c", Outcome(), 2, 1)
    assert [e["event"] for e in logs] == ["check started passing"]

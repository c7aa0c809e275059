"""The store: records per check, answers kept rendered, tag filters, logged transitions."""

from __future__ import annotations

import json

import pytest
from structlog.testing import capture_logs

from healthd.answers import Answers
from healthd.result import Outcome
from healthd.store import Entry, Store
from tests.helpers.answers import reference

PASS = Outcome(message=b'{"n":1}')
FAIL = Outcome(error="down")


@pytest.fixture
def store() -> Store:
    return Store(
        [
            Entry("b.node", "health", frozenset({"node"})),
            Entry("a.db", "health", frozenset({"db"})),
            Entry("global", "health", frozenset()),
            Entry("ready", "readiness", frozenset()),
            Entry("alive", "liveness", frozenset({"node"})),
        ]
    )


def assert_fresh(store: Store) -> None:
    for kind in ("health", "readiness", "liveness"):
        assert Answers(store).get(kind).body == reference(store, kind)
        for tags in (["node"], ["db"], ["node", "db"], ["nothing"]):
            assert Answers(store).get(kind, tags).body == reference(store, kind, tags)


def test_every_check_starts_not_yet_run_and_unhealthy(store: Store) -> None:
    answer = json.loads(Answers(store).get("health").body)
    assert answer["healthy"] is False
    assert list(answer["checks"]) == ["a.db", "b.node", "global"]
    assert answer["checks"]["global"] == {
        "error": {"message": "not yet run"},
        "timestamp": None,
        "duration": 0,
        "contiguousFailures": 0,
        "timeOfFirstFailure": None,
    }


def test_answers_equal_a_fresh_serialisation_after_every_change(store: Store) -> None:
    assert_fresh(store)
    steps = [
        ("a.db", PASS),
        ("b.node", PASS),
        ("global", FAIL),
        ("global", FAIL),
        ("ready", PASS),
        ("alive", FAIL),
        ("global", PASS),
        ("b.node", FAIL),
        ("a.db", Outcome(message=b'{"x":"\xc3\xa9"}', error="odd")),
    ]
    for step, (name, outcome) in enumerate(steps, start=1):
        store.record(name, outcome, 1_700_000_000_000_000_000 + step * 1_001, step * 10)
        assert_fresh(store)


def test_healthy_over_the_filtered_answer_only(store: Store) -> None:
    store.record("global", PASS, 1, 1)
    store.record("b.node", PASS, 1, 1)
    store.record("a.db", FAIL, 1, 1)
    assert Answers(store).get("health").healthy is False
    node = Answers(store).get("health", ["node"])
    assert node.healthy is True
    assert set(json.loads(node.body)["checks"]) == {"b.node", "global"}
    assert Answers(store).get("health", ["db"]).healthy is False
    assert set(json.loads(Answers(store).get("health", ["none"]).body)["checks"]) == {"global"}


def test_a_kind_with_no_checks_is_healthy_and_empty() -> None:
    empty = Store([Entry("x", "health", frozenset())])
    assert Answers(empty).get("readiness").body == b'{"checks":{},"healthy":true}'
    assert Answers(empty).get("liveness").healthy is True


def test_transitions_are_logged_once_not_every_run(store: Store) -> None:
    with capture_logs() as logs:
        store.record("global", FAIL, 1, 1)
        store.record("global", FAIL, 2, 1)
        store.record("global", PASS, 3, 1)
        store.record("global", PASS, 4, 1)
        store.record("global", FAIL, 5, 1)
    assert [(e["event"], e["log_level"]) for e in logs] == [
        ("check started failing", "warning"),
        ("check started passing", "info"),
        ("check started failing", "warning"),
    ]
    assert logs[0]["check"] == "global" and logs[0]["error"] == "down"
    assert logs[1]["failed_for"] == "2ns"  # from the first failure (at 1) to the pass (at 3)


def test_the_recovery_line_says_how_long_the_check_was_failing(store: Store) -> None:
    second = 1_000_000_000
    with capture_logs() as logs:
        store.record("global", PASS, 1 * second, 1)  # a first pass: it never failed
        store.record("global", FAIL, 10 * second, 1)
        store.record("global", FAIL, 40 * second, 1)
        store.record("global", PASS, 100 * second, 1)
        store.record("global", FAIL, 101 * second, 1)
        store.record("global", PASS, 101 * second + 250_000_000, 1)
    passing = [e for e in logs if e["event"] == "check started passing"]
    assert "failed_for" not in passing[0]
    assert passing[1]["failed_for"] == "1m30s"
    assert passing[2]["failed_for"] == "250ms"


def test_set_entries_keeps_named_records_and_drops_the_rest(store: Store) -> None:
    store.record("global", FAIL, 1, 1)
    store.record("a.db", FAIL, 1, 1)
    store.set_entries(
        [Entry("global", "health", frozenset()), Entry("new", "health", frozenset())],
        keep={"global"},
    )
    assert store.get("global").contiguous_failures == 1
    assert store.get("new").error == "not yet run"
    assert set(json.loads(Answers(store).get("health").body)["checks"]) == {"global", "new"}
    assert_fresh(store)


def test_listeners_hear_every_run(store: Store) -> None:
    heard: list[tuple[str, int]] = []
    unsubscribe = store.listen(lambda name, rec: heard.append((name, rec.contiguous_failures)))
    store.record("global", FAIL, 1, 1)
    store.record("global", FAIL, 2, 1)
    unsubscribe()
    store.record("global", FAIL, 3, 1)
    assert heard == [("global", 1), ("global", 2)]


def test_a_non_critical_failure_degrades_but_keeps_healthy() -> None:
    store = Store(
        [
            Entry("core", "health", frozenset()),
            Entry("extra", "health", frozenset({"x"}), critical=False),
        ]
    )
    store.record("core", PASS, 1, 1)
    answer = Answers(store).get("health")
    assert (answer.healthy, answer.degraded) == (True, True)  # extra has not run yet
    store.record("extra", FAIL, 2, 1)
    answer = Answers(store).get("health")
    assert (answer.healthy, answer.degraded) == (True, True)
    assert json.loads(answer.body)["checks"]["extra"]["error"] == {"message": "down"}
    assert json.loads(answer.body)["healthy"] is True
    store.record("extra", PASS, 3, 1)
    assert (Answers(store).get("health").healthy, Answers(store).get("health").degraded) == (
        True,
        False,
    )
    store.record("core", FAIL, 4, 1)
    assert (Answers(store).get("health").healthy, Answers(store).get("health").degraded) == (
        False,
        False,
    )


def test_a_degraded_outcome_of_a_critical_check_keeps_healthy() -> None:
    store = Store([Entry("plugin", "health", frozenset())])
    store.record("plugin", Outcome(error="WARNING: slow", degraded=True), 1, 1)
    answer = Answers(store).get("health")
    assert (answer.healthy, answer.degraded) == (True, True)
    assert store.get("plugin").contiguous_failures == 1

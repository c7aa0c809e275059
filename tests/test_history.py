"""History (contract §10): the last runs per check, the last state changes, `healthd.history`."""

from __future__ import annotations

from typing import Any

import jsonschema
import orjson
import pytest

from healthd.answers import Answers
from healthd.config import ConfigError
from healthd.history import MAX_RUNS, TRANSITIONS, Transition
from healthd.methods import health_methods
from healthd.openrpc import DOCUMENT
from healthd.result import Outcome, Thresholds, rfc3339nano
from healthd.rpc import JsonRpc
from healthd.store import Entry, Store
from tests.helpers.config import config_of

PASS = Outcome(message=b'{"n":1}')
FAIL = Outcome(error="down")
WARN = Outcome(error="warning", degraded=True)


def store_of(*entries: Entry, history: int = 20) -> Store:
    return Store(entries or [Entry("a", "health", frozenset({"x"}))], history)


def call(store: Store, params: Any = None) -> Any:
    request: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": "healthd.history"}
    if params is not None:
        request["params"] = params
    answer = JsonRpc(health_methods(Answers(store))).handle(orjson.dumps(request))
    assert answer is not None
    return orjson.loads(answer)


def test_runs_are_kept_newest_first_with_their_outcome() -> None:
    store = store_of()
    store.record("a", PASS, 1_000, 5)
    store.record("a", FAIL, 2_000, 6)
    runs = call(store)["result"]["checks"]["a"]
    assert runs == [
        {"timestamp": rfc3339nano(2_000), "duration": 6, "passed": False, "error": "down"},
        {"timestamp": rfc3339nano(1_000), "duration": 5, "passed": True, "message": {"n": 1}},
    ]


def test_history_keeps_only_the_configured_number_of_runs() -> None:
    store = store_of(history=3)
    for at in range(1, 8):
        store.record("a", PASS, at, at)
    assert [run.finished_ns for run in store.history.runs("a")] == [7, 6, 5]


def test_history_zero_keeps_no_runs_but_still_transitions() -> None:
    store = store_of(history=0)
    store.record("a", FAIL, 1, 1)
    answer = call(store)["result"]
    assert answer["checks"] == {"a": []}
    assert answer["transitions"] == [
        {"check": "a", "from": "failing", "to": "failing", "at": rfc3339nano(1), "error": "down"}
    ]


def test_history_records_the_run_while_the_answer_shows_the_state() -> None:
    store = store_of(Entry("a", "health", frozenset(), thresholds=Thresholds(3, 1)))
    store.record("a", PASS, 1, 1)
    store.record("a", FAIL, 2, 1)
    assert store.get("a").passed
    assert [run.error for run in store.history.runs("a")] == ["down", None]


def test_transitions_are_state_changes_newest_first() -> None:
    seen: list[Transition] = []
    store = store_of(Entry("a", "health", frozenset({"x"})), Entry("b", "health", frozenset()))
    store.on_transition(seen.append)
    store.record("a", PASS, 1, 1)  # leaving "not yet run"
    store.record("a", PASS, 2, 1)  # no change
    store.record("a", FAIL, 3, 1)
    store.record("a", FAIL, 4, 1)  # no change
    store.record("b", WARN, 5, 1)  # WARNING: degraded
    store.record("b", FAIL, 6, 1)
    assert [(t.check, t.from_state, t.to_state, t.at_ns, t.first) for t in seen] == [
        ("a", "failing", "passing", 1, True),
        ("a", "passing", "failing", 3, False),
        ("b", "failing", "degraded", 5, True),
        ("b", "degraded", "failing", 6, False),
    ]
    assert (seen[1].kind, seen[1].tags, seen[1].error, seen[1].contiguous_failures) == (
        "health",
        frozenset({"x"}),
        "down",
        1,
    )
    listed = call(store)["result"]["transitions"]
    assert [(t["check"], t["to"]) for t in listed] == [
        ("b", "failing"),
        ("b", "degraded"),
        ("a", "failing"),
        ("a", "passing"),
    ]
    assert "error" not in listed[3]


def test_a_non_critical_check_fails_into_degraded() -> None:
    store = store_of(Entry("a", "health", frozenset(), critical=False))
    store.record("a", PASS, 1, 1)
    store.record("a", FAIL, 2, 1)
    assert store.history.transitions[-1].to_state == "degraded"


def test_pending_failures_below_the_threshold_are_no_transition() -> None:
    store = store_of(Entry("a", "health", frozenset(), thresholds=Thresholds(2, 1)))
    store.record("a", PASS, 1, 1)
    store.record("a", FAIL, 2, 1)
    assert [t.to_state for t in store.history.transitions] == ["passing"]
    store.record("a", FAIL, 3, 1)
    assert [t.to_state for t in store.history.transitions] == ["passing", "failing"]


def test_only_the_last_hundred_transitions_are_kept() -> None:
    store = store_of()
    for at in range(1, 2 * TRANSITIONS + 2):
        store.record("a", PASS if at % 2 else FAIL, at, 1)
    kept = call(store)["result"]["transitions"]
    assert len(kept) == TRANSITIONS
    assert kept[0]["at"] == rfc3339nano(2 * TRANSITIONS + 1)


def test_checks_and_limit_select_what_is_answered() -> None:
    store = store_of(Entry("a", "health", frozenset()), Entry("b", "readiness", frozenset()))
    for at in range(1, 5):
        store.record("a", PASS if at % 2 else FAIL, at, 1)
        store.record("b", PASS, at, 1)
    answer = call(store, {"checks": ["b"], "limit": 2})["result"]
    assert list(answer["checks"]) == ["b"] and len(answer["checks"]["b"]) == 2
    assert {t["check"] for t in answer["transitions"]} == {"b"}
    everything = call(store)["result"]
    assert list(everything["checks"]) == ["a", "b"] and len(everything["checks"]["a"]) == 4
    assert len(call(store, {"limit": 1})["result"]["transitions"]) == 1


@pytest.mark.parametrize(
    ("params", "data"),
    [
        ({"checks": ["a", "nope", "zz"]}, "unknown checks: nope, zz"),
        ({"checks": "a"}, "checks must be a list of check names"),
        ({"checks": [1]}, "checks must be a list of check names"),
        ({"limit": 0}, "limit must be a positive integer"),
        ({"limit": "5"}, "limit must be a positive integer"),
        ({"limit": True}, "limit must be a positive integer"),
    ],
)
def test_bad_params_are_invalid_params_saying_why(params: Any, data: str) -> None:
    error = call(store_of(), params)["error"]
    assert (error["code"], error["data"]) == (-32602, data)


def test_unknown_param_names_are_invalid_params() -> None:
    assert call(store_of(), {"check": ["a"]})["error"]["code"] == -32602


def test_the_answer_fits_the_openrpc_schema() -> None:
    store = store_of()
    store.record("a", PASS, 1, 1)
    store.record("a", FAIL, 2, 1)
    method = next(m for m in DOCUMENT["methods"] if m["name"] == "healthd.history")
    jsonschema.validate(call(store)["result"], method["result"]["schema"])


def test_a_reload_keeps_the_history_of_unchanged_checks() -> None:
    store = store_of(Entry("a", "health", frozenset()), Entry("b", "health", frozenset()))
    store.record("a", PASS, 1, 1)
    store.record("b", PASS, 1, 1)
    store.set_entries(
        [Entry("a", "health", frozenset()), Entry("b", "health", frozenset())], keep=["a"]
    )
    assert len(store.history.runs("a")) == 1 and store.history.runs("b") == []
    store.history.resize(0)
    assert store.history.runs("a") == []


def test_history_size_is_validated() -> None:
    assert config_of({"name": "m", "type": "memory"}).scheduler.history == 20
    assert config_of({"name": "m", "type": "memory"}, extra="[scheduler]\nhistory = 0\n")
    with pytest.raises(ConfigError) as caught:
        config_of({"name": "m", "type": "memory"}, extra=f"[scheduler]\nhistory = {MAX_RUNS + 1}\n")
    assert any(p.startswith("scheduler.history:") for p in caught.value.problems)
    assert "1000" in caught.value.problems[0]

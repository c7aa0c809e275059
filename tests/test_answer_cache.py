"""Pre-rendered answers and cached JSON-RPC responses always equal a fresh serialisation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from healthd.result import Outcome
from healthd.rpc import JsonRpc, health_methods
from healthd.store import Entry, Store
from tests.test_store import reference

REQUESTS = [
    b'{"jsonrpc":"2.0","id":1,"method":"health.health"}',
    b'{"jsonrpc":"2.0","id":"x","method":"health.health","params":{"tags":["node"]}}',
    b'{"jsonrpc":"2.0","id":2,"method":"health.readiness","params":[["db"]]}',
    b'[{"jsonrpc":"2.0","id":1,"method":"health.liveness"},{"jsonrpc":"2.0","method":"health.health"},'
    b'{"jsonrpc":"2.0","id":3,"method":"health.health","params":{"tags":["db","node"]}},1]',
    b'{"jsonrpc":"2.0","id":4,"method":"health.health","params":{"tags":"node"}}',
    b'{"jsonrpc":"2.0","method":"health.health"}',
    b"{not json",
]


@pytest.fixture
def store() -> Store:
    return Store(
        [
            Entry("node", "health", frozenset({"node"})),
            Entry("db", "health", frozenset({"db"})),
            Entry("global", "health", frozenset()),
            Entry("gate", "readiness", frozenset({"db"})),
            Entry("alive", "liveness", frozenset()),
        ]
    )


def expected_results(store: Store, request: Any) -> Any:
    """What each request's result must be, from an independent serialisation of the records."""
    method = request["method"].removeprefix("health.")
    params = request.get("params")
    tags = params.get("tags") if isinstance(params, dict) else (params[0] if params else None)
    return json.loads(reference(store, method, tags))


def check_all(store: Store, rpc: JsonRpc) -> None:
    for body in REQUESTS:
        cached = rpc.handle(body)
        assert cached == rpc.dispatch(body)
        assert rpc.handle(body) == cached  # and the second time, from the cache
        if cached is None:
            continue
        answer = json.loads(cached)
        requests = json.loads(body) if body.startswith((b'{"', b"[")) else None
        pairs = (
            zip(requests, answer, strict=False)
            if isinstance(answer, list)
            else [(requests, answer)]
        )
        for request, response in pairs:
            if isinstance(request, dict) and "result" in response:
                assert response["result"] == expected_results(store, request)


def test_cached_answers_follow_every_change(store: Store) -> None:
    rpc = JsonRpc(health_methods(store), version=lambda: store.version)
    check_all(store, rpc)
    changes = [
        ("node", Outcome(message=b"1")),
        ("db", Outcome(error="down")),
        ("global", Outcome()),
        ("gate", Outcome(message=b'{"a":1}')),
        ("alive", Outcome(error="stuck")),
        ("db", Outcome()),
        ("node", Outcome(error="x")),
    ]
    for step, (name, outcome) in enumerate(changes):
        store.record(name, outcome, 1_700_000_000_000_000_000 + step, step + 1)
        check_all(store, rpc)
    store.set_entries(
        [Entry("global", "health", frozenset()), Entry("new", "health", frozenset())],
        keep={"global"},
    )
    check_all(store, rpc)


def test_the_cache_is_bounded(store: Store) -> None:
    rpc = JsonRpc(health_methods(store), version=lambda: store.version)
    for i in range(1000):
        rpc.handle(b'{"jsonrpc":"2.0","method":"health.health","id":%d}' % i)
    assert len(rpc._cache) <= 128


def test_large_bodies_bypass_the_cache(store: Store) -> None:
    rpc = JsonRpc(health_methods(store), version=lambda: store.version)
    big = json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": "health.health", "params": {"tags": ["t" * 50] * 100}}
    ).encode()
    assert json.loads(rpc.handle(big) or b"")["result"]["checks"].keys() == {"global"}
    assert rpc._cache == {}

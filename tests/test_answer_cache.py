"""Pre-rendered answers and cached JSON-RPC responses always equal a fresh serialisation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonrpcserver import Success

from healthd import rpc as rpc_module
from healthd.answers import Answers
from healthd.methods import health_methods
from healthd.result import Outcome
from healthd.rpc import CACHE_ENTRIES, MEMO_ENTRIES, JsonRpc, Limits
from healthd.server import create_app
from healthd.store import Entry, Store
from tests.helpers.answers import reference

REQUESTS = [
    b'{"jsonrpc":"2.0","id":1,"method":"health.health"}',
    b'{"jsonrpc":"2.0","id":"x","method":"health.health","params":{"tags":["node"]}}',
    b'{"jsonrpc":"2.0","id":2,"method":"health.readiness","params":[["db"]]}',
    b'[{"jsonrpc":"2.0","id":1,"method":"health.liveness"},{"jsonrpc":"2.0","method":"health.health"},'
    b'{"jsonrpc":"2.0","id":3,"method":"health.health","params":{"tags":["db","node"]}},1]',
    b'{"jsonrpc":"2.0","id":4,"method":"health.health","params":{"tags":"node"}}',
    b'{"jsonrpc":"2.0","method":"health.health"}',
    b"{not json",
    # After a request without params filled the memo: `null` params are still invalid, and
    # empty ones still valid; a boolean id is no id.
    b'{"jsonrpc":"2.0","id":1,"method":"health.health","params":null}',
    b'{"jsonrpc":"2.0","id":1,"method":"health.health","params":[]}',
    b'{"jsonrpc":"2.0","id":true,"method":"health.health"}',
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


def with_new_ids(body: bytes, step: int) -> bytes:
    """The same requests with other ids (as a client counting its ids up sends them)."""
    for old, new in (
        (b'"id":1,', b'"id":%d,' % (1000 + step)),
        (b'"id":"x"', b'"id":"y%d"' % step),
    ):
        body = body.replace(old, new)
    return body.replace(b'"id":2,', b'"id":18446744073709551617%d,' % step)


def check_all(store: Store, rpc: JsonRpc) -> None:
    for body in REQUESTS:
        cached = rpc.handle(body)
        assert cached == rpc.dispatch(body)
        assert rpc.handle(body) == cached  # and the second time, from the cache
        for step in range(3):  # other ids: answered from the memo of results, ids spliced in
            other = with_new_ids(body, step)
            assert rpc.handle(other) == rpc.dispatch(other)
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
    methods = health_methods(Answers(store))
    rpc = JsonRpc(methods, version=lambda: store.version, pure=frozenset(methods))
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
    rpc = JsonRpc(health_methods(Answers(store)), version=lambda: store.version)
    for i in range(1000):
        body = b'{"jsonrpc":"2.0","method":"health.health","id":%d}' % i
        assert rpc.handle(body) == rpc.handle(body)
    assert len(rpc._cache) <= CACHE_ENTRIES and len(rpc._seen) <= CACHE_ENTRIES


def test_a_body_is_kept_from_its_second_time(store: Store) -> None:
    """A poller's bytes are answered from the cache; a body sent once never takes a place."""
    rpc = JsonRpc(health_methods(Answers(store)), version=lambda: store.version)
    once = [rpc.handle(b'{"jsonrpc":"2.0","method":"health.health","id":%d}' % i) for i in range(9)]
    assert rpc._cache == {} and len(set(once)) == 9
    poller = b'{"jsonrpc":"2.0","method":"health.health","id":"poller"}'
    first, second, third = (rpc.handle(poller) for _ in range(3))
    assert first == second == third
    assert second is not first and third is second


def test_large_bodies_bypass_the_cache(store: Store) -> None:
    rpc = JsonRpc(health_methods(Answers(store)), version=lambda: store.version)
    big = json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": "health.health", "params": {"tags": ["t" * 50] * 100}}
    ).encode()
    assert json.loads(rpc.handle(big) or b"")["result"]["checks"].keys() == {"global"}
    assert rpc._cache == {}


def test_requests_with_new_ids_are_answered_from_the_memo_until_the_next_run(
    store: Store,
) -> None:
    """A client counting its ids up costs one dispatch per method and params per store version."""
    methods = health_methods(Answers(store))
    calls: list[Any] = []
    counted = methods["health.health"]

    def health(tags: Any = None) -> Any:
        calls.append(tags)
        return counted(tags)

    methods["health.health"] = health
    rpc = JsonRpc(methods, version=lambda: store.version, pure=frozenset(methods))
    for i in range(50):
        rpc.handle(b'{"jsonrpc":"2.0","method":"health.health","id":%d}' % i)
        rpc.handle(
            b'{"jsonrpc":"2.0","params":{"tags":["db"]},"method":"health.health","id":%d}' % i
        )
    assert calls == [None, ["db"]]
    store.record("db", Outcome(error="down"), 1_700_000_000_000_000_000, 1)
    answer = json.loads(rpc.handle(b'{"jsonrpc":"2.0","method":"health.health","id":77}') or b"")
    assert calls == [None, ["db"], None]
    assert answer["id"] == 77 and answer["result"]["checks"]["db"]["error"] == {"message": "down"}


def test_a_client_counting_its_ids_up_is_answered_without_a_parse(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the first request, the same bytes around a new id are answered from the memo."""
    methods = health_methods(Answers(store))
    rpc = JsonRpc(methods, version=lambda: store.version, pure=frozenset(methods))
    parsed: list[bytes] = []
    parse = rpc_module.parse

    def counting(body: bytes) -> Any:
        parsed.append(body)
        return parse(body)

    monkeypatch.setattr(rpc_module, "parse", counting)
    bodies = [b'{"jsonrpc":"2.0","method":"health.health","id":%d}' % i for i in range(50)]
    bodies += [b'{"jsonrpc":"2.0","method":"health.health","id":"uuid-%d"}' % i for i in range(50)]
    for body in bodies:
        assert rpc.handle(body) == rpc.dispatch(body)
        parsed.remove(body)  # the fresh dispatch's own parse
    assert set(parsed) == {bodies[0]}


def test_the_memo_of_bytes_around_ids_is_bounded(store: Store) -> None:
    methods = health_methods(Answers(store))
    rpc = JsonRpc(methods, version=lambda: store.version, pure=frozenset(methods))
    for i in range(MEMO_ENTRIES * 3):
        body = b'{"jsonrpc":"2.0","method":"health.health","params":[["t%d"]],"id":%d}' % (i, i)
        rpc.handle(body)
        assert rpc.handle(body.replace(b'"id":', b'"id":1')) == rpc.dispatch(
            body.replace(b'"id":', b'"id":1')
        )
    assert len(rpc._spliced) <= MEMO_ENTRIES and len(rpc._memo) <= MEMO_ENTRIES


def test_a_longer_id_that_makes_the_answer_too_large_gets_the_error(store: Store) -> None:
    methods = health_methods(Answers(store))
    body = b'{"jsonrpc":"2.0","method":"health.health","id":1}'
    size = len(JsonRpc(methods).handle(body) or b"")
    rpc = JsonRpc(
        methods,
        version=lambda: store.version,
        pure=frozenset(methods),
        limits=Limits(max_response_bytes=size + 2),
    )
    for request_id in (1, 12, 123, 1234, 12):
        sent = body.replace(b'"id":1', b'"id":%d' % request_id)
        answer = rpc.handle(sent)
        assert answer == rpc.dispatch(sent)
        assert ("error" in json.loads(answer or b"")) == (request_id == 1234)


def test_writes_and_unknown_methods_never_come_from_the_memo(store: Store) -> None:
    writes: list[int] = []

    def write() -> Any:
        writes.append(1)
        return Success(len(writes))

    methods = health_methods(Answers(store))
    rpc = JsonRpc(
        {**methods, "write": write}, version=lambda: store.version, pure=frozenset(methods)
    )
    answers = [
        json.loads(rpc.handle(b'{"jsonrpc":"2.0","method":"write","id":%d}' % i) or b"")
        for i in range(3)
    ]
    assert [a["result"] for a in answers] == [1, 2, 3]


async def test_a_large_memoised_answer_goes_out_byte_for_byte(aiohttp_client: Any) -> None:
    """The memo's result with each request's id spliced in equals a fresh dispatch, on the wire too."""

    big = Store(Entry(f"check-{i:04d}", "health", frozenset()) for i in range(1000))
    for i in range(1000):
        big.record(f"check-{i:04d}", Outcome(message=b'{"x":1}'), 1_700_000_000_000_000_000, 1)
    methods = health_methods(Answers(big))
    rpc = JsonRpc(methods, version=lambda: big.version, pure=frozenset(methods))
    body = b'{"jsonrpc":"2.0","method":"health.health","id":18446744073709551617}'
    rpc.handle(body.replace(b"18446744073709551617", b"1"))  # fills the memo
    assert rpc.handle(body) == rpc.dispatch(body)
    client = await aiohttp_client(create_app(big))
    for request_id in (5, 6):
        sent = body.replace(b"18446744073709551617", b"%d" % request_id)
        response = await client.post(
            "/ext/health", data=sent, headers={"Content-Type": "application/json"}
        )
        raw = await response.read()
        assert raw == rpc.dispatch(sent)
        assert response.headers["Content-Length"] == str(len(raw))
        assert response.headers["Content-Type"] == "application/json"
        answer = json.loads(raw)
        assert answer["id"] == request_id and len(answer["result"]["checks"]) == 1000

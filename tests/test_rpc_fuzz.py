"""Thousands of odd JSON-RPC requests, seeded: never an exception, always the spec's shape, and
the memo's answer always equal to a fresh dispatch through jsonrpcserver."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from healthd.answers import Answers
from healthd.methods import health_methods
from healthd.result import Outcome
from healthd.rpc import JsonRpc
from healthd.server import create_app
from healthd.store import Entry, Store

ABSENT = object()
FIELDS: dict[str, list[Any]] = {
    "jsonrpc": ["2.0", "2.0", "2.0", "1.0", 2.0, None, [], {}, ABSENT],
    "method": [
        "health.health",
        "health.readiness",
        "health.liveness",
        "healthd.checks",
        "healthd.history",
        "rpc.discover",
        "healthd.report",
        "nope",
        "",
        1,
        None,
        True,
        [],
        {},
        ["health.health"],
        {"health.health": 1},
        ABSENT,
    ],
    "id": [1, 7, "x", "", 1.5, -3, 2**70, None, True, [], {}, ABSENT],
    "params": [
        ABSENT,
        None,
        [],
        {},
        [["db"]],
        [["db", "node"]],
        {"tags": ["node"]},
        {"tags": "node"},
        {"tags": [1]},
        {"tags": None},
        {"checks": ["db"], "limit": 2},
        {"limit": 0},
        {"limit": True},
        {"checks": "db"},
        [1, 2, 3],
        "tags",
        5,
        {"nope": 1},
        {"tags": ["node"], "nope": 1},
        [2**70],
    ],
}
CODES = {-32700, -32600, -32601, -32602, -32603, -32001}


def request(rng: random.Random) -> Any:
    """One request object, sometimes not an object at all, sometimes with an extra key."""
    if rng.random() < 0.05:
        return rng.choice([1, "x", None, [], True])
    built = {}
    for field, values in FIELDS.items():
        value = rng.choice(values)
        if value is not ABSENT:
            built[field] = value
    if rng.random() < 0.05:
        built["extra"] = 1
    return built


def body(rng: random.Random) -> bytes:
    if rng.random() < 0.25:
        return json.dumps([request(rng) for _ in range(rng.randint(1, 5))]).encode()
    return json.dumps(request(rng)).encode()


def check_shape(response: Any) -> None:
    assert isinstance(response, dict)
    assert response["jsonrpc"] == "2.0" and "id" in response
    assert ("result" in response) != ("error" in response)
    assert set(response) == {"jsonrpc", "id", "result" if "result" in response else "error"}
    if "error" in response:
        assert response["error"]["code"] in CODES
        assert isinstance(response["error"]["message"], str)


@pytest.fixture
def store() -> Store:
    store = Store(
        [
            Entry("node", "health", frozenset({"node"})),
            Entry("db", "health", frozenset({"db"})),
            Entry("gate", "readiness", frozenset()),
            Entry("alive", "liveness", frozenset()),
        ]
    )
    store.record("node", Outcome(message=b'{"height":1}'), 1_700_000_000_000_000_000, 5)
    store.record("db", Outcome(error="down"), 1_700_000_000_000_000_001, 5)
    return store


@pytest.mark.parametrize("seed", range(4))
def test_odd_requests_get_the_specs_answers_and_the_memo_agrees(store: Store, seed: int) -> None:
    methods = health_methods(Answers(store))
    rpc = JsonRpc(methods, version=lambda: store.version, pure=frozenset(methods))
    rng = random.Random(seed)
    for turn in range(1500):
        sent = body(rng)
        answer = rpc.handle(sent)
        assert answer == rpc.dispatch(sent), sent
        if answer is not None:
            parsed = json.loads(answer)
            for response in parsed if isinstance(parsed, list) else [parsed]:
                check_shape(response)
        if turn % 300 == 299:  # a run now and then: every cache starts afresh
            store.record("node", Outcome(), 1_700_000_000_000_000_000 + turn, 5)


@pytest.mark.parametrize("authorization", ["Bearer fuzz-token", "Bearer wrong", None])
async def test_odd_requests_over_http_never_fail_the_server(
    aiohttp_client: Any, store: Store, authorization: str | None
) -> None:
    """Through the whole POST path, the token gate and its own-token check included."""
    client = await aiohttp_client(create_app(store, token="fuzz-token"))
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    rng = random.Random(99)
    for _ in range(300):
        response = await client.post("/ext/health", data=body(rng), headers=headers)
        raw = await response.read()
        assert response.status in (200, 204, 401), raw
        if response.status == 204:
            assert raw == b""
            continue
        parsed = json.loads(raw)
        for one in parsed if isinstance(parsed, list) else [parsed]:
            check_shape(one)
        if response.status == 401:
            assert parsed["error"]["code"] == -32001


# Bodies answered once, then sent again with every token below in place of {ID}: the memo answers
# a body that differs from one it answered only in a plainly written id, without a parse.
TEMPLATES = [
    b'{"jsonrpc":"2.0","id":{ID},"method":"health.health"}',
    b'{"jsonrpc":"2.0","method":"health.health","id":{ID}}',
    b'{ "id" :\t{ID} ,\n"jsonrpc":"2.0","method":"health.readiness","params":{"tags":["db"]}}',
    b'{"jsonrpc":"2.0","id":{ID},"method":"health.health","params":[["node"]]}',
    b'{"jsonrpc":"2.0","id":{ID},"method":"health.health","params":{"tags":["id"]}}',
    b'{"jsonrpc":"2.0","id":{ID},"method":"health.health","params":{"tags":["a\\"b"]}}',
    b'{"jsonrpc":"2.0","id":{ID},"method":"health.health","id":5}',
    b'{"jsonrpc":"2.0","id":5,"method":"health.health","id":{ID}}',
    b'{"jsonrpc":"2.0","method":"health.health","params":{"id":{ID}}}',
    b'{"jsonrpc":"2.0","id":{ID},"method":"health.health","params":null}',
    b'{"jsonrpc":"2.0","id":{ID},"method":"nope"}',
    b'{"jsonrpc":"2.0","id":{ID},"method":"healthd.report","params":{"check":"x"}}',
    b'[{"jsonrpc":"2.0","id":{ID},"method":"health.health"}]',
    b'{"jsonrpc":"2.0","id":{ID},"method":"health.health"',
    b'{"jsonrpc":"2.0","\\u0069d":{ID},"method":"health.health"}',
]
ID_TOKENS = [
    b"1",
    b"0",
    b"-0",
    b"007",
    b"-12",
    b"1.0",
    b"1e3",
    b"2E1",
    b"-",
    b"18446744073709551617",
    b"-99999999999999999999999",
    b"9" * 500,
    b'"x"',
    b'""',
    b'"a b~!"',
    b'"a\\"b"',
    b'"\\u00e9"',
    '"é"'.encode(),
    b'"\x01"',
    b'"\x7f"',
    b"true",
    b"null",
    b"[]",
    b"{}",
    b'"unterminated',
    b"1 2",
    b"",
]


@pytest.mark.parametrize("template", TEMPLATES)
def test_a_body_with_another_id_gets_what_a_fresh_dispatch_gives(
    store: Store, template: bytes
) -> None:
    methods = health_methods(Answers(store))
    rpc = JsonRpc(methods, version=lambda: store.version, pure=frozenset(methods))
    rng = random.Random(template)
    for first in (b"1", b'"first"'):
        for token in [first, *rng.sample(ID_TOKENS, len(ID_TOKENS)), *ID_TOKENS]:
            sent = template.replace(b"{ID}", token)
            assert rpc.handle(sent) == rpc.dispatch(sent), sent
        store.record("node", Outcome(), 1_700_000_000_000_000_000, 5)  # the memo starts afresh

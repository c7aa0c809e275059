"""Every example of the JSON-RPC 2.0 specification (section 7), over HTTP, word for word."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from jsonrpcserver import Success

from healthd.rpc import JsonRpc
from healthd.server import JsonRpcEndpoint


def subtract(*args: Any, **kwargs: Any) -> Any:
    if args:
        return Success(args[0] - args[1])
    return Success(kwargs["minuend"] - kwargs["subtrahend"])


SPEC_METHODS = {
    "subtract": subtract,
    "sum": lambda *numbers: Success(sum(numbers)),
    "update": lambda *args: Success(None),
    "notify_hello": lambda *args: Success(None),
    "get_data": lambda: Success(["hello", 5]),
}

EXAMPLES = [
    (
        "positional parameters 1",
        '{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}',
        {"jsonrpc": "2.0", "result": 19, "id": 1},
    ),
    (
        "positional parameters 2",
        '{"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2}',
        {"jsonrpc": "2.0", "result": -19, "id": 2},
    ),
    (
        "named parameters 1",
        '{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}',
        {"jsonrpc": "2.0", "result": 19, "id": 3},
    ),
    (
        "named parameters 2",
        '{"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4}',
        {"jsonrpc": "2.0", "result": 19, "id": 4},
    ),
    ("a notification", '{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}', None),
    ("a notification of a missing method", '{"jsonrpc": "2.0", "method": "foobar"}', None),
    (
        "non-existent method",
        '{"jsonrpc": "2.0", "method": "foobar", "id": "1"}',
        {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "1"},
    ),
    (
        "invalid JSON",
        '{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]',
        {"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": None},
    ),
    (
        "invalid Request object",
        '{"jsonrpc": "2.0", "method": 1, "params": "bar"}',
        {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": None},
    ),
    (
        "batch, invalid JSON",
        '[\n  {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},\n'
        '  {"jsonrpc": "2.0", "method"\n]',
        {"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": None},
    ),
    (
        "an empty Array",
        "[]",
        {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": None},
    ),
    (
        "an invalid Batch (but not empty)",
        "[1]",
        [{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": None}],
    ),
    (
        "an invalid Batch",
        "[1,2,3]",
        [{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": None}]
        * 3,
    ),
    (
        "a Batch",
        """[
        {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
        {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
        {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
    ]""",
        [
            {"jsonrpc": "2.0", "result": 7, "id": "1"},
            {"jsonrpc": "2.0", "result": 19, "id": "2"},
            {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": None},
            {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "5"},
            {"jsonrpc": "2.0", "result": ["hello", 5], "id": "9"},
        ],
    ),
    (
        "a Batch of notifications",
        '[\n  {"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},\n'
        '  {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}\n]',
        None,
    ),
]


@pytest.fixture
async def client(aiohttp_client: Any) -> TestClient[Any, Any]:
    # The spec's own methods behind the endpoint healthd serves its methods with.
    app = web.Application()
    app.router.add_post("/ext/health", JsonRpcEndpoint(JsonRpc(SPEC_METHODS)).handle)
    return await aiohttp_client(app)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("title", "request_text", "expected"), EXAMPLES, ids=[e[0] for e in EXAMPLES]
)
async def test_spec_example(
    client: TestClient[Any, Any], title: str, request_text: str, expected: Any
) -> None:
    response = await client.post(
        "/ext/health", data=request_text, headers={"Content-Type": "application/json"}
    )
    body = await response.read()
    if expected is None:
        assert response.status == 204
        assert body == b""
    else:
        assert response.status == 200
        assert response.content_type == "application/json"
        assert json.loads(body) == expected

"""The HTTP surface: GET status codes, HEAD, tag filters, JSON-RPC health methods, limits."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient

from healthd.answers import Answers
from healthd.config import ConfigError, parse_config
from healthd.paths import RESERVED
from healthd.result import Outcome
from healthd.rpc import parse
from healthd.server import create_app
from healthd.store import Entry, Store

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def store() -> Store:
    return Store(
        [
            Entry("node.rpc", "health", frozenset({"node"})),
            Entry("db", "health", frozenset({"db"})),
            Entry("disk", "health", frozenset()),
            Entry("synced", "readiness", frozenset()),
        ]
    )


@pytest.fixture
async def client(aiohttp_client: Any, store: Store) -> TestClient[Any, Any]:
    return await aiohttp_client(create_app(store, max_body_bytes=1024))  # type: ignore[no-any-return]


def pass_all(store: Store) -> None:
    for name in store.names():
        store.record(name, Outcome(message=b'{"ok":true}'), 1_600_000_000_000_000_000, 1000)


async def rpc(client: TestClient[Any, Any], payload: Any, **kw: Any) -> tuple[int, Any]:
    response = await client.post("/ext/health", data=json.dumps(payload), headers=JSON, **kw)
    body = await response.read()
    return response.status, (json.loads(body) if body else None)


async def test_get_is_503_before_any_run_and_200_once_all_pass(
    client: TestClient[Any, Any], store: Store
) -> None:
    response = await client.get("/ext/health")
    assert response.status == 503
    assert response.content_type == "application/json"
    body = await response.json()
    assert body["healthy"] is False
    assert body["checks"]["disk"]["error"] == {"message": "not yet run"}
    pass_all(store)
    for path in ("/ext/health", "/ext/health/health"):
        response = await client.get(path)
        assert response.status == 200
        assert (await response.json())["healthy"] is True


async def test_get_serves_the_stored_bytes_and_runs_nothing(
    client: TestClient[Any, Any], store: Store
) -> None:
    pass_all(store)
    runs: list[str] = []
    store.listen(lambda name, record: runs.append(name))
    response = await client.get("/ext/health")
    assert await response.read() == Answers(store).get("health").body
    assert runs == []


async def test_readiness_and_liveness_paths_report_their_own_kind(
    client: TestClient[Any, Any], store: Store
) -> None:
    response = await client.get("/ext/health/readiness")
    assert response.status == 503
    assert list((await response.json())["checks"]) == ["synced"]
    response = await client.get("/ext/health/liveness")
    assert response.status == 200
    assert await response.json() == {"checks": {}, "healthy": True}


async def test_head_gives_the_status_without_a_body(
    client: TestClient[Any, Any], store: Store
) -> None:
    response = await client.head("/ext/health")
    assert response.status == 503
    assert await response.read() == b""
    pass_all(store)
    assert (await client.head("/ext/health/health")).status == 200


async def test_tag_query_filters_and_keeps_global_checks(
    client: TestClient[Any, Any], store: Store
) -> None:
    pass_all(store)
    store.record("db", Outcome(error="down"), 1, 1)
    response = await client.get("/ext/health?tag=node")
    assert response.status == 200
    assert set((await response.json())["checks"]) == {"node.rpc", "disk"}
    response = await client.get("/ext/health?tag=node&tag=db")
    assert response.status == 503
    assert set((await response.json())["checks"]) == {"node.rpc", "db", "disk"}


@pytest.mark.parametrize(
    ("params", "names"),
    [
        (None, {"node.rpc", "db", "disk"}),
        ({"tags": ["db"]}, {"db", "disk"}),
        ([["node"]], {"node.rpc", "disk"}),
        ({"tags": []}, {"node.rpc", "db", "disk"}),
    ],
)
async def test_health_health_takes_tags_by_name_or_position(
    client: TestClient[Any, Any], store: Store, params: Any, names: set[str]
) -> None:
    pass_all(store)
    request: dict[str, Any] = {"jsonrpc": "2.0", "id": 7, "method": "health.health"}
    if params is not None:
        request["params"] = params
    status, body = await rpc(client, request)
    assert status == 200 and body["id"] == 7
    assert set(body["result"]["checks"]) == names
    assert body["result"]["healthy"] is True


async def test_readiness_and_liveness_methods(client: TestClient[Any, Any]) -> None:
    _, body = await rpc(client, {"jsonrpc": "2.0", "id": 1, "method": "health.readiness"})
    assert list(body["result"]["checks"]) == ["synced"]
    _, body = await rpc(client, {"jsonrpc": "2.0", "id": 2, "method": "health.liveness"})
    assert body["result"] == {"checks": {}, "healthy": True}


@pytest.mark.parametrize(
    "params",
    [
        {"tags": "node"},
        {"tags": [1]},
        {"tag": ["node"]},
        [["a"], ["b"]],
        [5],
        {"tags": None, "x": 1},
    ],
)
async def test_bad_params_are_invalid_params(client: TestClient[Any, Any], params: Any) -> None:
    status, body = await rpc(
        client, {"jsonrpc": "2.0", "id": 3, "method": "health.health", "params": params}
    )
    assert status == 200
    assert body["error"]["code"] == -32602 and body["error"]["message"] == "Invalid params"
    assert body["id"] == 3


async def test_content_type_with_charset_or_trailing_semicolon_is_accepted(
    client: TestClient[Any, Any],
) -> None:
    for content_type in (
        "application/json; charset=utf-8",
        "application/json;",
        "application/json-rpc",
        "application/jsonrequest",
        "Application/JSON",
    ):
        response = await client.post(
            "/ext/health",
            data=b'{"jsonrpc":"2.0","id":1,"method":"health.health"}',
            headers={"Content-Type": content_type},
        )
        assert response.status == 200
        assert "result" in await response.json()


async def test_a_request_without_content_type_is_read_as_json(
    client: TestClient[Any, Any],
) -> None:
    request = client.post(
        "/ext/health",
        data=b'{"jsonrpc":"2.0","id":1,"method":"health.health"}',
        skip_auto_headers={"Content-Type"},
    )
    response = await request
    assert response.status == 200
    assert "result" in await response.json()


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
async def test_other_content_types_get_a_jsonrpc_error_saying_what_is_expected(
    client: TestClient[Any, Any], content_type: str
) -> None:
    response = await client.post(
        "/ext/health", data=b'{"jsonrpc":"2.0","id":1}', headers={"Content-Type": content_type}
    )
    assert response.status == 415
    error = (await response.json())["error"]
    assert error["code"] == -32600
    assert "application/json" in error["data"] and content_type in error["data"]


async def test_a_body_over_the_limit_is_413_and_the_server_keeps_serving(
    client: TestClient[Any, Any],
) -> None:
    big = {"jsonrpc": "2.0", "id": 1, "method": "health.health", "params": {"tags": ["x" * 2000]}}
    status, body = await rpc(client, big)
    assert status == 413
    assert body["error"]["code"] == -32600
    assert "1024 bytes (max_body_bytes)" in body["error"]["data"]
    status, body = await rpc(client, {"jsonrpc": "2.0", "id": 2, "method": "health.health"})
    assert status == 200 and "result" in body


@pytest.mark.parametrize(
    ("raw", "echoed"),
    [
        (b"", None),
        (b"null", None),
        (b"42", None),
        (b'"text"', None),
        (b"\xff\xfe", None),
        (b'{"jsonrpc":"2.0","method":"health.health","id":{"a":1}}', None),
        (b'{"jsonrpc":"2.0","method":"health.health","id":true}', None),
        # The id is readable: it is echoed even though the request is invalid (contract §13).
        (b'{"jsonrpc":"1.0","method":"health.health","id":1}', 1),
        (b'{"jsonrpc":"2.0","method":"health.health","params":"tags","id":1}', 1),
        (b'{"jsonrpc":"2.0","method":"health.health","params":null,"id":"a"}', "a"),
    ],
)
async def test_malformed_bodies_get_parse_or_invalid_request_errors(
    client: TestClient[Any, Any], raw: bytes, echoed: Any
) -> None:
    response = await client.post("/ext/health", data=raw, headers=JSON)
    assert response.status == 200
    body = await response.json()
    assert body["error"]["code"] in (-32700, -32600)
    assert body["id"] == echoed


async def test_a_batch_of_health_calls_answers_each(client: TestClient[Any, Any]) -> None:
    status, body = await rpc(
        client,
        [
            {"jsonrpc": "2.0", "id": "a", "method": "health.health"},
            {"jsonrpc": "2.0", "method": "health.health"},
            {"jsonrpc": "2.0", "id": "b", "method": "health.nope"},
            {"jsonrpc": "2.0", "id": "c", "method": "health.readiness", "params": {"tags": 1}},
        ],
    )
    assert status == 200
    assert [item["id"] for item in body] == ["a", "b", "c"]
    assert "result" in body[0]
    assert body[1]["error"]["code"] == -32601
    assert body[2]["error"]["code"] == -32602


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/ext/health", "GET, HEAD, POST"),
        ("DELETE", "/ext/health/readiness", "GET, HEAD"),
        ("POST", "/ext/health/liveness", "GET, HEAD"),
    ],
)
async def test_other_methods_are_405_with_allow(
    client: TestClient[Any, Any], method: str, path: str, allow: str
) -> None:
    response = await client.request(method, path)
    assert response.status == 405
    assert response.headers["Allow"] == allow


@pytest.mark.parametrize("path", ["/", "/ext/health/other", "/ext/healthz", "/metricsz"])
async def test_unknown_paths_are_404(client: TestClient[Any, Any], path: str) -> None:
    response = await client.get(path)
    assert response.status == 404


async def test_get_stays_200_when_only_non_critical_checks_fail(aiohttp_client: Any) -> None:
    store = Store(
        [
            Entry("core", "health", frozenset()),
            Entry("optional", "health", frozenset(), critical=False),
        ]
    )
    client = await aiohttp_client(create_app(store))
    store.record("core", Outcome(), 1, 1)
    store.record("optional", Outcome(error="down"), 1, 1)
    response = await client.get("/ext/health")
    assert response.status == 200
    assert (await response.json())["healthy"] is True


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 100_000 + b"18446744073709551617",
        b"[" * 5000 + b"18446744073709551617" + b"]" * 5000,
        b'{"jsonrpc":"2.0","method":"health.health","id":NaN,"x":18446744073709551617}',
        b'{"jsonrpc":"2.0","method":"health.health","id":1e400,"x":18446744073709551617}',
    ],
)
def test_bodies_with_long_numbers_are_refused_as_the_fast_parser_refuses_them(raw: bytes) -> None:
    """Past 64 bits another parser reads the body; too deep or not JSON is still a ValueError."""
    with pytest.raises(ValueError):
        orjson.loads(raw.replace(b"18446744073709551617", b"1"))
    with pytest.raises(ValueError):
        parse(raw)


@pytest.mark.parametrize("encoding", ["x-hostile", "gzip, x-hostile", "compress"])
async def test_a_content_encoding_healthd_cannot_decode_is_a_parse_error(
    client: TestClient[Any, Any], encoding: str
) -> None:
    """aiohttp would pass an unknown coding's bytes through as if they were plain JSON."""
    response = await client.post(
        "/ext/health",
        data=b'{"jsonrpc":"2.0","method":"health.health","id":1}',
        headers={**JSON, "Content-Encoding": encoding},
    )
    assert response.status == 400
    body = await response.json()
    assert body["error"]["code"] == -32700 and body["id"] is None
    assert "Content-Encoding" in body["error"]["data"]
    assert encoding not in body["error"]["data"]


@pytest.mark.parametrize("path", [*RESERVED, "/status", "/badge.svg", "/badge/db.svg"])
async def test_every_path_healthd_serves_is_routed_and_no_view_may_take_it(
    aiohttp_client: Any, store: Store, path: str
) -> None:
    client: TestClient[Any, Any] = await aiohttp_client(create_app(store))
    assert (await client.get(path)).status in (200, 503)
    with pytest.raises(ConfigError) as refused:
        parse_config(f'[[views]]\npath = "{path}"\nformat = "short"\n', "test.toml")
    assert refused.value.problems == [f"views[0].path: {path} is already served"]

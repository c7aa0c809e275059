"""Every limit has a default, a config key and a test: batches, answer size, ids, empty configs."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient

from healthd.answers import Answers
from healthd.config import ConfigError, parse_config
from healthd.methods import health_methods
from healthd.result import Outcome
from healthd.rpc import JsonRpc, Limits
from healthd.server import create_app
from healthd.store import Entry, Store

JSON = {"Content-Type": "application/json"}


def store_with(checks: int) -> Store:
    store = Store(Entry(f"check-{i:04d}", "health", frozenset()) for i in range(checks))
    for i in range(checks):
        store.record(f"check-{i:04d}", Outcome(message=b'{"x":1}'), 1_700_000_000_000_000_000, 1)
    return store


def call(method: str = "health.health", request_id: Any = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": method}


def test_the_server_limits_have_defaults() -> None:
    server = parse_config("[server]\n", "test.toml").server
    assert server.max_batch == 100
    assert server.max_response_bytes == 16 * 1024 * 1024
    assert server.max_connections == 1000
    assert server.header_timeout == 10.0
    assert server.keepalive_timeout == 30.0
    scheduler = parse_config("[server]\n", "test.toml").scheduler
    assert scheduler.worker_threads == 8 and scheduler.user_worker_threads == 8


def test_the_limits_are_configurable() -> None:
    config = parse_config(
        "[server]\nmax_batch = 5\nmax_response_bytes = 4096\nmax_connections = 20\n"
        'header_timeout = "2s"\nkeepalive_timeout = "5s"\n'
        "[scheduler]\nworker_threads = 3\nuser_worker_threads = 2\n",
        "test.toml",
    )
    assert (config.server.max_batch, config.server.max_response_bytes) == (5, 4096)
    assert (config.server.max_connections, config.server.header_timeout) == (20, 2.0)
    assert config.server.keepalive_timeout == 5.0
    assert (config.scheduler.worker_threads, config.scheduler.user_worker_threads) == (3, 2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[server]\nmax_batch = 0\n", "server.max_batch"),
        ("[server]\nmax_response_bytes = 10\n", "server.max_response_bytes"),
        ("[server]\nmax_connections = 0\n", "server.max_connections"),
        ('[server]\nheader_timeout = "0s"\n', "server.header_timeout"),
        ('[server]\nkeepalive_timeout = "-1s"\n', "server.keepalive_timeout"),
        ("[scheduler]\nworker_threads = 0\n", "scheduler.worker_threads"),
        ("[scheduler]\nuser_worker_threads = 5000\n", "scheduler.user_worker_threads"),
    ],
)
def test_out_of_range_limits_name_their_key(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "test.toml")
    assert any(problem.startswith(expected) for problem in caught.value.problems)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "   \n# x\n"])
def test_an_empty_config_file_is_a_bad_config(text: str) -> None:
    """A truncated file must not become "no checks, all healthy"."""
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "/etc/healthd/config.toml")
    assert caught.value.problems == ["the file is empty (no tables and no keys)"]
    assert "/etc/healthd/config.toml" in caught.value.render()


def test_a_batch_over_max_batch_gets_one_invalid_request_naming_the_limit() -> None:
    rpc = JsonRpc(health_methods(Answers(store_with(1))), limits=Limits(max_batch=3))
    assert orjson.loads(rpc.dispatch(orjson.dumps([call()] * 3)) or b"")[2]["id"] == 1
    answer = orjson.loads(rpc.dispatch(orjson.dumps([call()] * 4)) or b"")
    assert answer["id"] is None
    assert answer["error"]["code"] == -32600
    assert (
        answer["error"]["data"] == "a batch may hold at most 3 requests (max_batch); this one has 4"
    )


def test_the_default_max_batch_is_100() -> None:
    rpc = JsonRpc(health_methods(Answers(store_with(1))))
    assert len(orjson.loads(rpc.dispatch(orjson.dumps([call()] * 100)) or b"")) == 100
    assert orjson.loads(rpc.dispatch(orjson.dumps([call()] * 101)) or b"")["error"]["code"] == (
        -32600
    )


def test_an_answer_over_max_response_bytes_is_an_internal_error_not_built() -> None:
    store = store_with(50)
    one = len(Answers(store).get("health").body)
    rpc = JsonRpc(health_methods(Answers(store)), limits=Limits(max_response_bytes=one * 3))
    assert len(orjson.loads(rpc.dispatch(orjson.dumps([call()] * 2)) or b"")) == 2
    answer = orjson.loads(rpc.dispatch(orjson.dumps([call()] * 5)) or b"")
    assert answer["error"]["code"] == -32603
    assert str(one * 3) in answer["error"]["data"]
    assert "max_response_bytes" in answer["error"]["data"]
    single = JsonRpc(health_methods(Answers(store)), limits=Limits(max_response_bytes=one // 2))
    answer = orjson.loads(single.dispatch(orjson.dumps(call(request_id=7))) or b"")
    assert answer["error"]["code"] == -32603 and answer["id"] == 7


@pytest.mark.parametrize(
    "raw_id",
    [
        b"18446744073709551617",
        b"-18446744073709551617",
        b"1234567890123456789012345678901234567890",
        b"9007199254740993",
        b"1.5",
        b'"abc"',
    ],
)
def test_ids_come_back_exactly_as_sent(raw_id: bytes) -> None:
    rpc = JsonRpc(health_methods(Answers(store_with(1))))
    body = b'{"jsonrpc":"2.0","method":"health.health","id":' + raw_id + b"}"
    answer = rpc.dispatch(body) or b""
    assert answer.endswith(b',"id":' + raw_id + b"}")
    error = rpc.dispatch(body.replace(b"health.health", b"nope")) or b""
    assert error.endswith(b',"id":' + raw_id + b"}")
    batch = rpc.dispatch(b"[" + body + b"," + body + b"]") or b""
    assert batch.count(b',"id":' + raw_id + b"}") == 2


async def test_limits_reach_the_http_server(aiohttp_client: Any) -> None:
    app = create_app(store_with(1), limits=Limits(max_batch=2, max_response_bytes=4096))
    client: TestClient[Any, Any] = await aiohttp_client(app)
    response = await client.post("/ext/health", data=orjson.dumps([call()] * 3), headers=JSON)
    assert response.status == 200
    assert (await response.json())["error"]["data"].startswith("a batch may hold at most 2")


def test_a_mistyped_secret_is_never_repeated_in_the_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(
            '[[checks]]\nname = "n"\ntype = "http"\nurl = "http://127.0.0.1:1/"\n'
            "headers = { Authorization = 12345678 }\n",
            "test.toml",
        )
    assert "12345678" not in caught.value.render()
    assert "checks[0] (n).headers.Authorization" in caught.value.render()

"""Maintenance mode (contract §10): a failing `maintenance` check, timed, persisted, authorised."""

from __future__ import annotations

import asyncio
import calendar
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from jsonrpcserver import Success
from structlog.testing import capture_logs

from healthd.answers import Answers
from healthd.cli import describe
from healthd.config import Config, ConfigError
from healthd.maintenance import STATE_FILE, State
from healthd.parts import Parts
from healthd.rpc import JsonRpc
from healthd.store import Entry, Store
from healthd.writes import NO_TOKEN_REFUSAL, TOKEN_REFUSAL, Caller, WriteAccess
from tests.helpers.config import config_of, flag_check, notify_table
from tests.helpers.receiver import Receiver, receiver
from tests.helpers.waiting import PATIENCE, until_async

RPC = {"jsonrpc": "2.0", "id": 7}


def checks(tmp_path: Path) -> list[dict[str, Any]]:
    flag = tmp_path / "ok"
    flag.touch()
    return [
        flag_check("node", flag, tags=["node"]),
        flag_check("gate", flag, kind="readiness"),
        flag_check("alive", flag, kind="liveness"),
    ]


@pytest.fixture
def serve(serve: Callable[[Config], Any]) -> Callable[[Config], Any]:
    """conftest's `serve`, returning once every check passes."""

    async def start(config: Config) -> tuple[Parts, Any]:
        parts, client = await serve(config)
        await until_async(
            lambda: all(parts.store.get(c.name).passed for c in parts.checks), "all passing"
        )
        return parts, client

    return start


async def rpc(client: Any, method: str, params: Any = None, **headers: str) -> Any:
    request = {**RPC, "method": method}
    if params is not None:
        request["params"] = params
    response = await client.post("/ext/health", json=request, headers=headers)
    return await response.json()


async def test_maintenance_fails_health_and_readiness_but_not_liveness(
    tmp_path: Path, serve: Callable[[Config], Any]
) -> None:
    config = config_of(
        *checks(tmp_path),
        extra='[[views]]\npath = "/short"\nformat = "short"\n',
    )
    parts, client = await serve(config)
    answer = await rpc(client, "healthd.maintenance", {"enable": True, "reason": "upgrade"})
    assert answer["result"] == {"enabled": True, "reason": "upgrade", "until": None}

    for path in ("/ext/health", "/ext/health/readiness", "/ext/health?tag=node"):
        response = await client.get(path)
        body = await response.json()
        assert response.status == 503, path
        assert body["checks"]["maintenance"]["error"] == {"message": "maintenance: upgrade"}
        assert body["healthy"] is False
    health = (await rpc(client, "health.health"))["result"]
    assert list(health["checks"]) == ["maintenance", "node"]  # in name order, as always
    assert health["checks"]["maintenance"]["contiguousFailures"] == 1
    liveness = await client.get("/ext/health/liveness")
    assert liveness.status == 200 and "maintenance" not in (await liveness.json())["checks"]
    short = await client.get("/short")
    assert short.status == 503 and (await short.json())["maintenance"] == "FAIL"
    metrics = await (await client.get("/metrics")).text()
    assert "healthd_maintenance 1.0" in metrics
    assert 'healthd_healthy{kind="health"} 0.0' in metrics
    assert 'healthd_healthy{kind="liveness"} 1.0' in metrics
    assert 'check="maintenance"' not in metrics  # no per-check series for it

    answer = await rpc(client, "healthd.maintenance", {"enable": False})
    assert answer["result"] == {"enabled": False, "reason": "", "until": None}
    assert (await client.get("/ext/health")).status == 200
    metrics = await (await client.get("/metrics")).text()
    assert "healthd_maintenance 0.0" in metrics and 'healthd_healthy{kind="health"} 1.0' in metrics
    assert parts.store.maintenance is None


async def test_timed_maintenance_says_until_when_and_ends_on_time(
    tmp_path: Path, serve: Callable[[Config], Any]
) -> None:
    _, client = await serve(config_of(*checks(tmp_path)))
    answer = await rpc(
        client, "healthd.maintenance", {"enable": True, "reason": "reboot", "duration": "700ms"}
    )
    until_text = answer["result"]["until"]
    assert until_text.endswith("Z")
    body = await (await client.get("/ext/health")).json()
    assert (
        body["checks"]["maintenance"]["error"]["message"]
        == f"maintenance: reboot until {until_text}"
    )

    until_ns = calendar.timegm(time.strptime(until_text[:19], "%Y-%m-%dT%H:%M:%S")) * 10**9
    until_ns += int((until_text[20:-1] or "0").ljust(9, "0")) if "." in until_text else 0

    deadline = time.monotonic() + PATIENCE  # guards a hang; asserts nothing about speed
    while (await client.get("/ext/health")).status != 200:
        assert time.monotonic() < deadline, "gave up waiting for maintenance to end"
        await asyncio.sleep(0.02)
    # It ended by its timer, and not before its time (the clock read once it answered 200).
    assert time.time_ns() >= until_ns


@pytest.mark.parametrize(
    ("params", "data"),
    [
        ({"enable": "yes"}, "enable must be true or false"),
        ({"enable": True, "reason": 5}, "reason must be a string of at most 500 characters"),
        ({"enable": True, "duration": "soon"}, "duration: invalid duration 'soon'"),
        ({"enable": True, "duration": "0s"}, "duration must be longer than 0s"),
        ({"enable": True, "duration": 1e300}, "duration: a duration must be at most"),
        ({"enable": False, "duration": "1m"}, "duration applies only when enabling maintenance"),
    ],
)
async def test_bad_params_are_invalid_params_saying_why(
    tmp_path: Path, serve: Callable[[Config], Any], params: Any, data: str
) -> None:
    _, client = await serve(config_of(*checks(tmp_path)))
    error = (await rpc(client, "healthd.maintenance", params))["error"]
    assert error["code"] == -32602 and error["data"].startswith(data)
    missing = (await rpc(client, "healthd.maintenance", {"reason": "x"}))["error"]
    assert missing["code"] == -32602


async def test_rpc_discover_lists_the_new_methods(
    tmp_path: Path, serve: Callable[[Config], Any]
) -> None:
    _, client = await serve(config_of(*checks(tmp_path)))
    document = (await rpc(client, "rpc.discover"))["result"]
    names = {method["name"] for method in document["methods"]}
    assert {"healthd.history", "healthd.maintenance"} <= names


async def test_with_a_token_a_write_needs_it(
    tmp_path: Path, serve: Callable[[Config], Any]
) -> None:
    token = tmp_path / "token"
    token.write_text("s3cret-token\n")
    config = config_of(*checks(tmp_path), extra=f'[server]\ntoken_file = "{token}"\n')
    _, client = await serve(config)
    refused = await rpc(client, "healthd.maintenance", {"enable": True})
    assert refused["error"]["code"] == -32001 and refused["id"] == 7
    allowed = await rpc(
        client, "healthd.maintenance", {"enable": True}, Authorization="Bearer s3cret-token"
    )
    assert allowed["result"]["enabled"] is True


def test_without_a_token_only_loopback_clients_may_write() -> None:
    calls: list[bool] = []

    def write(enable: bool) -> Any:
        calls.append(enable)
        return Success({"ok": 1})

    rpc_ = JsonRpc(
        {"healthd.maintenance": write},
        writes={"healthd.maintenance": WriteAccess(None).authorize},
    )
    body = orjson.dumps({**RPC, "method": "healthd.maintenance", "params": {"enable": True}})
    far = orjson.loads(rpc_.handle(body, lambda: Caller("192.0.2.10")) or b"")
    assert far["error"] == {"code": -32001, "message": "unauthorized", "data": NO_TOKEN_REFUSAL}
    assert "token_file" in NO_TOKEN_REFUSAL
    assert calls == []
    near = orjson.loads(rpc_.handle(body, lambda: Caller("127.0.0.1")) or b"")
    assert "error" not in near and calls == [True]
    # The same bytes again from afar: never answered from a cache.
    assert "error" in orjson.loads(rpc_.handle(body, lambda: Caller("192.0.2.10")) or b"")
    notification = orjson.dumps(
        {"jsonrpc": "2.0", "method": "healthd.maintenance", "params": [True]}
    )
    assert rpc_.handle(notification, lambda: Caller("192.0.2.10")) is None and calls == [True]


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("10.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("2001:db8::1", False),
        (None, False),
        ("not an address", False),
    ],
)
def test_loopback_is_127_8_and_ipv6_one(address: str | None, loopback: bool) -> None:
    assert Caller(address).loopback is loopback


def test_a_token_allows_a_write_from_anywhere_and_a_wrong_one_does_not() -> None:
    access = WriteAccess("tok-123")
    assert access.refusal(Caller("192.0.2.1", "tok-123")) is None
    assert access.refusal(Caller("127.0.0.1", None)) == TOKEN_REFUSAL
    assert access.refusal(Caller("127.0.0.1", "wrong")) == TOKEN_REFUSAL
    # A push check's own token (the push-checks issue) is accepted through `also`.
    assert access.refusal(Caller("192.0.2.1", "own"), also=["own"]) is None
    assert WriteAccess(None).refusal(Caller("192.0.2.1", "own"), also=["own"]) is None
    assert WriteAccess(None).refusal(Caller("192.0.2.1", "x"), also=["own"]) == TOKEN_REFUSAL


async def test_maintenance_survives_a_restart_with_a_state_dir(
    tmp_path: Path, serve: Callable[[Config], Any]
) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    config = config_of(*checks(tmp_path), extra=f'[server]\nstate_dir = "{state_dir}"\n')
    first, client = await serve(config)
    await rpc(client, "healthd.maintenance", {"enable": True, "reason": "upgrade"})
    assert f"state: {state_dir}" in describe(config)
    saved = State.from_json((state_dir / STATE_FILE).read_bytes())
    assert saved.enabled and saved.reason == "upgrade"
    assert [p.name for p in state_dir.iterdir()] == [STATE_FILE]  # no temp file left behind
    await first.close()

    second = Parts(config)
    with capture_logs() as logs:
        second.maintenance.restore()
    assert Answers(second.store).get("health").healthy is False
    assert any(e["event"] == "maintenance restored" for e in logs)
    second.maintenance.disable()
    assert not State.from_json((state_dir / STATE_FILE).read_bytes()).enabled


async def test_a_timed_maintenance_that_ended_while_stopped_is_not_restored(
    tmp_path: Path,
) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    past = time.time_ns() - 10**9
    (state_dir / STATE_FILE).write_bytes(State(True, "old", past - 10**9, past).to_json())
    parts = Parts(config_of(*checks(tmp_path), extra=f'[server]\nstate_dir = "{state_dir}"\n'))
    parts.maintenance.restore()
    assert parts.store.maintenance is None


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"[1, 2]", b'{"enabled": "yes"}', b'{"enabled": true, "until_ns": "x"}'],
)
async def test_a_corrupt_state_file_is_logged_and_ignored(tmp_path: Path, content: bytes) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    (state_dir / STATE_FILE).write_bytes(content)
    parts = Parts(config_of(*checks(tmp_path), extra=f'[server]\nstate_dir = "{state_dir}"\n'))
    with capture_logs() as logs:
        parts.maintenance.restore()
    assert parts.store.maintenance is None
    [event] = [e for e in logs if e["event"] == "the maintenance state file is corrupt; ignored"]
    assert event["log_level"] == "warning" and event["path"].endswith(STATE_FILE)


@pytest.mark.parametrize(
    ("state_dir", "expected"),
    [
        ("/nonexistent/healthd", "server.state_dir: /nonexistent/healthd does not exist"),
        ("/proc", "server.state_dir: /proc is not writable"),
        ("/etc/hostname", "server.state_dir: /etc/hostname is not a directory"),
    ],
)
def test_a_state_dir_that_cannot_hold_state_is_a_config_error(
    state_dir: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        config_of({"name": "m", "type": "memory"}, extra=f'[server]\nstate_dir = "{state_dir}"\n')
    assert any(p.startswith(expected) for p in caught.value.problems), caught.value.problems


def test_systemds_state_directory_is_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATE_DIRECTORY", f"{tmp_path}:/elsewhere")
    assert config_of({"name": "m", "type": "memory"}).state_dir == str(tmp_path)
    monkeypatch.setenv("STATE_DIRECTORY", "/nonexistent/x")
    with pytest.raises(ConfigError, match=r"\$STATE_DIRECTORY \(server.state_dir\)"):
        config_of({"name": "m", "type": "memory"})


def test_no_check_may_be_named_maintenance() -> None:
    with pytest.raises(ConfigError, match="maintenance mode's own check"):
        config_of({"name": "maintenance", "type": "memory"})


def test_the_store_shows_maintenance_as_a_global_check() -> None:
    store = Store([Entry("a", "health", frozenset({"x"})), Entry("z", "readiness", frozenset())])
    version = store.version
    store.set_maintenance(State(True, "r", 1, None).record())
    assert store.version != version
    assert [e.name for e, _ in store.select("health", ["y"], maintenance=True)] == ["maintenance"]
    assert [e.name for e, _ in store.select("readiness", maintenance=True)] == ["maintenance", "z"]
    assert store.select("liveness", maintenance=True) == []
    assert [e.name for e, _ in store.select("health")] == ["a"]


async def test_notifications_are_held_back_during_maintenance(
    tmp_path: Path, serve: Callable[[Config], Any]
) -> None:
    flag = tmp_path / "ok"
    flag.touch()
    async with receiver() as hook:
        config = config_of(
            flag_check("node", flag), extra=notify_table(type="webhook", url=hook.url)
        )
        parts, client = await serve(config)
        await rpc(client, "healthd.maintenance", {"enable": True, "reason": "upgrade"})
        flag.unlink()
        await until_async(lambda: not parts.store.get("node").passed, "the check to fail")
        flag.touch()
        await until_async(lambda: parts.store.get("node").passed, "the check to pass")
        await rpc(client, "healthd.maintenance", {"enable": False})
        assert hook.attempts == 0  # neither change was announced, nor is it later
        flag.unlink()
        [body] = await hook.wait(1)
        assert (body["from"], body["to"]) == ("passing", "failing")
        assert isinstance(hook, Receiver)

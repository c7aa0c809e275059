"""Bearer-token access: without a valid token, GETs keep their status but say only healthy or not."""

from __future__ import annotations

import hmac
from typing import Any

import jsonschema
import pytest
from aiohttp.test_utils import TestClient

from healthd import server
from healthd.config import ViewConfig
from healthd.result import Outcome
from healthd.server import create_app
from healthd.store import Entry, Store

TOKEN = "t0ken-for-tests"
GET_PATHS = [
    "/ext/health",
    "/ext/health/health",
    "/ext/health/readiness",
    "/ext/health/liveness",
    "/v/components",
    "/v/simple",
]
RPC = {"jsonrpc": "2.0", "id": 1, "method": "health.health"}


def make_store() -> Store:
    store = Store([Entry("node", "health", frozenset()), Entry("gate", "readiness", frozenset())])
    store.record("node", Outcome(message=b'{"secret":"internal detail"}'), 1, 1)
    return store


async def client_for(aiohttp_client: Any, token: str | None) -> TestClient[Any, Any]:
    store = make_store()
    views = [
        ViewConfig(path="/v/components", format="components", instance_id="n"),
        ViewConfig(path="/v/simple", format="simple"),
    ]
    return await aiohttp_client(create_app(store, views=views, token=token))  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "header", [None, "Bearer wrong-token", f"Basic {TOKEN}", TOKEN, f"Bearer {TOKEN}x"]
)
async def test_without_a_valid_token_every_get_keeps_its_status_and_hides_detail(
    aiohttp_client: Any, header: str | None
) -> None:
    client = await client_for(aiohttp_client, TOKEN)
    headers = {"Authorization": header} if header else {}
    for path in GET_PATHS:
        response = await client.get(path, headers=headers)
        expected_status = 503 if path == "/ext/health/readiness" else 200
        assert response.status == expected_status, path
        assert await response.json() == {"healthy": expected_status == 200}, path
    response = await client.post("/ext/health", json=RPC, headers=headers)
    assert response.status == 401
    reason = "the bearer token was rejected" if header else "a bearer token is required"
    answer = await response.json()
    assert answer["id"] == RPC["id"]  # echoed: the id could be read (contract §13)
    assert answer["error"]["code"] == -32001
    assert answer["error"]["message"] == "unauthorized"
    assert answer["error"]["data"].startswith(reason)
    assert TOKEN not in await response.text()
    response = await client.get("/metrics", headers=headers)
    assert response.status == 401
    assert "healthd_check_up" not in await response.text()


async def test_with_the_token_everything_answers_in_full(aiohttp_client: Any) -> None:
    client = await client_for(aiohttp_client, TOKEN)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    response = await client.get("/ext/health", headers=headers)
    assert (await response.json())["checks"]["node"]["message"] == {"secret": "internal detail"}
    response = await client.get("/v/components", headers=headers)
    assert (await response.json())["details"] == {"node": "OPERATIONAL"}
    response = await client.post("/ext/health", json=RPC, headers=headers)
    assert (await response.json())["result"]["healthy"] is True
    response = await client.get("/metrics", headers=headers)
    assert response.status == 200 and "healthd_check_up" in await response.text()


async def test_without_a_token_configured_there_is_no_access_control(aiohttp_client: Any) -> None:
    client = await client_for(aiohttp_client, None)
    response = await client.get("/ext/health")
    assert "checks" in await response.json()
    assert (await client.get("/metrics")).status == 200
    assert "result" in await (await client.post("/ext/health", json=RPC)).json()


async def test_the_token_is_compared_in_constant_time(
    aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(server.hmac, "compare_digest", spy)
    client = await client_for(aiohttp_client, TOKEN)
    await client.get("/ext/health", headers={"Authorization": "Bearer guess"})
    await client.get("/ext/health", headers={"Authorization": f"Bearer {TOKEN}"})
    assert compared == [(b"guess", TOKEN.encode()), (TOKEN.encode(), TOKEN.encode())]


async def test_rpc_discover_answers_an_openrpc_document_that_fits_the_answers(
    aiohttp_client: Any,
) -> None:
    client = await client_for(aiohttp_client, None)
    response = await client.post("/ext/health", json={**RPC, "method": "rpc.discover"})
    document = (await response.json())["result"]
    assert document["openrpc"].startswith("1.")
    methods = {method["name"]: method for method in document["methods"]}
    assert {"health.health", "health.readiness", "health.liveness", "healthd.checks"} <= set(
        methods
    )
    assert methods["health.health"]["params"][0]["name"] == "tags"
    assert document["servers"] == [{"name": "healthd", "url": "/ext/health"}]
    for name in ("health.health", "health.readiness", "healthd.checks"):
        answer = await (await client.post("/ext/health", json={**RPC, "method": name})).json()
        jsonschema.validate(answer["result"], methods[name]["result"]["schema"])


async def test_healthd_checks_lists_kind_tags_criticality_and_degradation(
    aiohttp_client: Any,
) -> None:
    store = Store(
        [
            Entry("a", "health", frozenset({"x", "y"}), critical=False),
            Entry("b", "liveness", frozenset()),
            Entry("c", "health", frozenset()),
        ]
    )
    store.record("a", Outcome(error="down"), 1_700_000_000_000_000_000, 1)
    store.record("b", Outcome(error="down"), 1_700_000_000_000_000_000, 1)
    store.record("c", Outcome(error="WARNING: x", degraded=True), 1_700_000_000_000_000_000, 1)
    client = await aiohttp_client(create_app(store))
    response = await client.post("/ext/health", json={**RPC, "method": "healthd.checks"})
    assert (await response.json())["result"] == [
        {"name": "a", "kind": "health", "tags": ["x", "y"], "critical": False, "degraded": True},
        {"name": "c", "kind": "health", "tags": [], "critical": True, "degraded": True},
        {"name": "b", "kind": "liveness", "tags": [], "critical": True, "degraded": False},
    ]

"""Every view format: its body and status for all-pass, non-critical-fail, critical-fail, not-yet-run."""

from __future__ import annotations

import json
from typing import Any, get_args

import pytest
from aiohttp.test_utils import TestClient

from healthd.answers import Answers
from healthd.config import ViewConfig
from healthd.formats import FORMATS, FormatName
from healthd.result import Outcome
from healthd.server import create_app
from healthd.store import Entry, Store

T = 1_700_000_000_123_456_789
STAMP = "2023-11-14T22:13:20.123456789Z"


def store_in(scenario: str) -> Store:
    store = Store(
        [
            Entry("core", "health", frozenset()),
            Entry("extra", "health", frozenset(), critical=False),
        ]
    )
    if scenario == "not-yet-run":
        return store
    ok = Outcome(message=b'{"latencyMs":1.5}')
    down = Outcome(error="connection refused")
    store.record("core", down if scenario == "critical-fail" else ok, T, 10)
    store.record("extra", down if scenario == "non-critical-fail" else ok, T - 1000, 10)
    return store


def render(fmt: FormatName, scenario: str) -> tuple[Any, int, str]:
    instance_id = "n1" if fmt == "components" else None
    answer = Answers(store_in(scenario)).get("health", None, fmt, instance_id)
    return json.loads(answer.body), answer.status, answer.content_type


EXPECTED: dict[tuple[str, str], tuple[Any, int]] = {
    ("simple", "all-pass"): ({"status": "ok", "timestamp": STAMP}, 200),
    ("simple", "non-critical-fail"): (
        {"status": "ok", "timestamp": STAMP, "error": "extra: connection refused"},
        200,
    ),
    ("simple", "critical-fail"): (
        {"status": "error", "timestamp": STAMP, "error": "core: connection refused"},
        503,
    ),
    ("components", "all-pass"): (
        {
            "instance_id": "n1",
            "status": "OPERATIONAL",
            "details": {"core": "OPERATIONAL", "extra": "OPERATIONAL"},
        },
        200,
    ),
    ("components", "non-critical-fail"): (
        {
            "instance_id": "n1",
            "status": "DEGRADED",
            "details": {"core": "OPERATIONAL", "extra": "DEGRADED"},
        },
        200,
    ),
    ("components", "critical-fail"): (
        {
            "instance_id": "n1",
            "status": "DEGRADED",
            "details": {"core": "FAILED", "extra": "OPERATIONAL"},
        },
        503,
    ),
    ("components", "not-yet-run"): (
        {
            "instance_id": "n1",
            "status": "DEGRADED",
            "details": {"core": "FAILED", "extra": "DEGRADED"},
        },
        503,
    ),
    ("short", "all-pass"): ({"core": "PASS", "extra": "PASS"}, 200),
    ("short", "non-critical-fail"): ({"core": "PASS", "extra": "FAIL"}, 200),
    ("short", "critical-fail"): ({"core": "FAIL", "extra": "PASS"}, 503),
    ("short", "not-yet-run"): ({"core": "FAIL", "extra": "FAIL"}, 503),
}


@pytest.mark.parametrize(("fmt", "scenario"), list(EXPECTED), ids=[f"{f}-{s}" for f, s in EXPECTED])
def test_format_body_and_status(fmt: str, scenario: str) -> None:
    body, status, content_type = render(fmt, scenario)
    assert (body, status) == EXPECTED[(fmt, scenario)]
    assert content_type == "application/json"


def test_simple_not_yet_run_names_the_critical_check() -> None:
    body, status, _ = render("simple", "not-yet-run")
    assert status == 503
    assert body["status"] == "error" and body["error"] == "core: not yet run"


@pytest.mark.parametrize(
    ("scenario", "overall", "status", "core", "extra"),
    [
        ("all-pass", "pass", 200, "pass", "pass"),
        ("non-critical-fail", "warn", 200, "pass", "warn"),
        ("critical-fail", "fail", 503, "fail", "pass"),
        ("not-yet-run", "fail", 503, "fail", "warn"),
    ],
)
def test_health_json(scenario: str, overall: str, status: int, core: str, extra: str) -> None:
    body, code, content_type = render("health+json", scenario)
    assert content_type == "application/health+json"
    assert (body["status"], code) == (overall, status)
    assert body["checks"]["core"][0]["status"] == core
    assert body["checks"]["extra"][0]["status"] == extra
    if scenario == "all-pass":
        assert body["checks"]["core"] == [
            {"status": "pass", "time": STAMP, "observedValue": 1.5, "observedUnit": "ms"}
        ]
    if scenario == "critical-fail":
        assert body["checks"]["core"] == [
            {"status": "fail", "time": STAMP, "output": "connection refused"}
        ]
    if scenario == "not-yet-run":
        assert body["checks"]["core"] == [{"status": "fail", "output": "not yet run"}]


def test_a_view_rerenders_after_a_change_only() -> None:
    store = store_in("all-pass")
    answers = Answers(store)
    first = answers.get("health", None, "short")
    assert answers.get("health", None, "short") is first
    store.record("core", Outcome(error="x"), T + 1, 1)
    assert json.loads(answers.get("health", None, "short").body) == {
        "core": "FAIL",
        "extra": "PASS",
    }


def test_every_format_the_config_names_has_a_renderer() -> None:
    assert set(FORMATS) == set(get_args(FormatName))
    assert set(get_args(ViewConfig.model_fields["format"].annotation)) == set(FORMATS)


async def test_views_are_served_on_their_paths(aiohttp_client: Any) -> None:
    store = store_in("non-critical-fail")
    views = [
        ViewConfig(path="/health", format="health+json"),
        ViewConfig(path="/status/short", format="short", tags=("x",)),
        ViewConfig(path="/ready", format="avalanche", kind="readiness"),
    ]
    client: TestClient[Any, Any] = await aiohttp_client(create_app(store, views=views))
    response = await client.get("/health")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/health+json")
    assert (await response.json(content_type=None))["status"] == "warn"
    response = await client.get("/status/short")
    assert await response.json() == {"core": "PASS", "extra": "FAIL"}
    response = await client.get("/ready")
    assert (response.status, await response.json()) == (200, {"checks": {}, "healthy": True})
    assert (await client.head("/health")).status == 200
    response = await client.post("/health")
    assert response.status == 405 and response.headers["Allow"] == "GET, HEAD"

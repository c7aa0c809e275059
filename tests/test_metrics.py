"""GET /metrics: the Prometheus text format, parsed with prometheus-client's own parser."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from healthd.checks.base import Check
from healthd.defences import LatenessCollector
from healthd.parts import Parts
from healthd.result import Outcome
from healthd.scheduler import Punctuality
from healthd.server import create_app
from healthd.store import Entry, Store
from tests.helpers.config import config_of
from tests.helpers.processes import require
from tests.helpers.waiting import wait_for

PROMETHEUS = Path(__file__).resolve().parent.parent / "prometheus"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def key(name: str, **labels: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return name, tuple(sorted(labels.items()))


async def test_metrics_describe_every_check_without_running_any(aiohttp_client: Any) -> None:
    store = Store(
        [
            Entry("node.rpc", "health", frozenset({"node"})),
            Entry("db", "health", frozenset({"db"}), critical=False),
            Entry("disk", "health", frozenset()),
            Entry("gate", "readiness", frozenset()),
        ]
    )
    store.record("node.rpc", Outcome(error="down"), 1, 2_000_000)
    store.record("node.rpc", Outcome(error="down"), 2, 3_000_000)
    store.record("db", Outcome(), 1, 1_000_000)
    store.record("disk", Outcome(error="full"), 1, 500_000)
    runs: list[str] = []
    store.listen(lambda name, record: runs.append(name))
    client = await aiohttp_client(create_app(store))
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    got = samples(await response.text())
    assert runs == []
    rpc = {"check": "node.rpc", "kind": "health", "critical": "true"}
    db = {"check": "db", "kind": "health", "critical": "false"}
    assert got[key("healthd_check_up", **rpc)] == 0
    assert got[key("healthd_check_up", **db)] == 1
    assert got[key("healthd_check_duration_seconds", **rpc)] == pytest.approx(0.003)
    assert got[key("healthd_check_contiguous_failures", **rpc)] == 2
    assert got[key("healthd_check_runs_total", **rpc)] == 2
    assert got[key("healthd_check_failures_total", **rpc)] == 2
    assert got[key("healthd_check_failures_total", **db)] == 0
    # AvalancheGo's semantics: "all", "application" (untagged), each tag plus the untagged.
    assert got[key("healthd_checks_failing", check="health", tag="all")] == 2
    assert got[key("healthd_checks_failing", check="health", tag="application")] == 1
    assert got[key("healthd_checks_failing", check="health", tag="node")] == 2
    assert got[key("healthd_checks_failing", check="health", tag="db")] == 1
    assert got[key("healthd_checks_failing", check="readiness", tag="all")] == 1
    assert any(name == "process_resident_memory_bytes" for name, _ in got)
    assert got[key("healthd_healthy", kind="health")] == 0
    assert got[key("healthd_healthy", kind="readiness")] == 0  # not yet run
    assert got[key("healthd_healthy", kind="liveness")] == 1  # no checks: 200


async def test_healthd_healthy_follows_the_get_status_code(aiohttp_client: Any) -> None:
    store = Store(
        [
            Entry("node.rpc", "health", frozenset()),
            Entry("plugin", "health", frozenset()),
            Entry("optional", "health", frozenset(), critical=False),
        ]
    )
    client = await aiohttp_client(create_app(store))

    async def healthy_and_status() -> tuple[float, int]:
        metrics = samples(await (await client.get("/metrics")).text())
        return metrics[key("healthd_healthy", kind="health")], (
            await client.get("/ext/health")
        ).status

    assert await healthy_and_status() == (0, 503)
    store.record("node.rpc", Outcome(), 1, 1)
    store.record("plugin", Outcome(), 1, 1)
    store.record("optional", Outcome(), 1, 1)
    assert await healthy_and_status() == (1, 200)
    # Degraded: a WARNING and a non-critical failure leave GET at 200, and so the gauge at 1.
    store.record("plugin", Outcome(error="WARNING: slow", degraded=True), 2, 1)
    store.record("optional", Outcome(error="down"), 2, 1)
    assert await healthy_and_status() == (1, 200)
    store.record("node.rpc", Outcome(error="refused"), 2, 1)
    assert await healthy_and_status() == (0, 503)


def test_lateness_counts_each_scheduled_job_in_its_bucket(
    make_check: Callable[..., Check],
) -> None:
    punctuality = Punctuality()
    punctuality.schedule(make_check(name="x", type="command", command=["true"]), first=0.0)
    for late in (0.0005, 0.003, 0.003, 30.0):
        punctuality.fired("x", 1.0, late)
    punctuality.fired("removed", 1.0, 0.5)  # a job no longer scheduled is not counted
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LatenessCollector(punctuality))
    got = samples(generate_latest(registry).decode())
    name = "healthd_scheduler_lateness_seconds"
    cumulative = {le: got[key(f"{name}_bucket", le=le)] for le in ("0.001", "0.005", "10", "+Inf")}
    assert cumulative == {"0.001": 1, "0.005": 3, "10": 3, "+Inf": 4}
    assert got[key(f"{name}_count")] == 4
    assert got[key(f"{name}_sum")] == pytest.approx(30.0065)


async def test_the_scheduler_lateness_shows_in_metrics(aiohttp_client: Any) -> None:
    parts = Parts(
        config_of({"name": "c", "type": "command", "command": ["true"], "interval": "1h"})
    )
    client = await aiohttp_client(parts.app())  # starts the scheduler: c runs at once
    await wait_for(parts.store, lambda: parts.store.get("c").timestamp_ns is not None)
    got = samples(await (await client.get("/metrics")).text())
    fired = got[key("healthd_scheduler_lateness_seconds_count")]
    assert fired >= 1
    assert got[key("healthd_scheduler_lateness_seconds_bucket", le="+Inf")] == fired


@pytest.mark.parametrize(
    "args",
    [
        ("check", "config", "prometheus.yml"),
        ("check", "rules", "healthd-rules.yml"),
        ("test", "rules", "healthd-rules.test.yml"),
    ],
    ids=["config", "rules", "rule-tests"],
)
def test_promtool_accepts_the_examples(args: tuple[str, ...]) -> None:
    result = subprocess.run(
        [require("promtool", "prometheus"), *args],
        cwd=PROMETHEUS,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout

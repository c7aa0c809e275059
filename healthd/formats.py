"""Pure renderers from a view's checks and records to the body and status of each format."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import orjson

from healthd.result import Record, rfc3339nano
from healthd.store import Entry

JSON = "application/json"
HEALTH_JSON = "application/health+json"

Items = Sequence[tuple[Entry, Record]]


@dataclass(frozen=True, slots=True)
class Rendered:
    """A ready answer: body bytes, HTTP status, whether it is healthy, its content type."""

    body: bytes
    status: int
    healthy: bool
    content_type: str = JSON


def state(entry: Entry, record: Record) -> str:
    """pass, warn (a non-critical or WARNING failure) or fail."""
    if record.passed:
        return "pass"
    return "fail" if entry.counts_against(record) else "warn"


def _healthy(items: Items) -> bool:
    return not any(entry.counts_against(record) for entry, record in items)


def _code(healthy: bool) -> int:
    return 200 if healthy else 503


def simple(items: Items, instance_id: str) -> Rendered:
    """{"status": "ok"|"error", "timestamp": ..., "error": "first failing check: its error"}."""
    healthy = _healthy(items)
    stamps = [record.timestamp_ns for _, record in items if record.timestamp_ns is not None]
    body: dict[str, object] = {
        "status": "ok" if healthy else "error",
        "timestamp": rfc3339nano(max(stamps) if stamps else time.time_ns()),
    }
    failing = [(e, r) for e, r in items if not r.passed]
    # The first check that makes it unhealthy, else the first degraded one.
    failing.sort(key=lambda item: not item[0].counts_against(item[1]))
    if failing:
        entry, record = failing[0]
        body["error"] = f"{entry.name}: {record.error}"
    return Rendered(orjson.dumps(body), _code(healthy), healthy)


DETAIL = {"pass": "OPERATIONAL", "warn": "DEGRADED", "fail": "FAILED"}


def components(items: Items, instance_id: str) -> Rendered:
    """{"instance_id", "status": OPERATIONAL|DEGRADED, "details": {check: ...}}."""
    healthy = _healthy(items)
    details = {entry.name: DETAIL[state(entry, record)] for entry, record in items}
    operational = all(record.passed for _, record in items)
    body = {
        "instance_id": instance_id,
        "status": "OPERATIONAL" if operational else "DEGRADED",
        "details": details,
    }
    return Rendered(orjson.dumps(body), _code(healthy), healthy)


# Message fields that carry a measured duration, and their unit.
OBSERVED = {"latencyMs": "ms", "ageSeconds": "s"}


def health_json(items: Items, instance_id: str) -> Rendered:
    """The IETF draft "Health Check Response Format for HTTP APIs" (application/health+json)."""
    checks: dict[str, list[dict[str, object]]] = {}
    states = []
    for entry, record in items:
        status = state(entry, record)
        states.append(status)
        detail: dict[str, object] = {"status": status}
        if record.timestamp_ns is not None:
            detail["time"] = rfc3339nano(record.timestamp_ns)
        message = orjson.loads(record.message) if record.message else None
        if isinstance(message, dict):
            for field, unit in OBSERVED.items():
                if isinstance(message.get(field), int | float):
                    detail["observedValue"] = message[field]
                    detail["observedUnit"] = unit
                    break
        if record.error is not None:
            detail["output"] = record.error
        checks[entry.name] = [detail]
    overall = "fail" if "fail" in states else "warn" if "warn" in states else "pass"
    body = {"status": overall, "checks": checks}
    return Rendered(orjson.dumps(body), _code(overall != "fail"), overall != "fail", HEALTH_JSON)


def short(items: Items, instance_id: str) -> Rendered:
    """{"check": "PASS"|"FAIL"}."""
    healthy = _healthy(items)
    body = {entry.name: "PASS" if record.passed else "FAIL" for entry, record in items}
    return Rendered(orjson.dumps(body), _code(healthy), healthy)


Renderer = Callable[[Items, str], Rendered]
FORMATS: dict[str, Renderer] = {
    "simple": simple,
    "components": components,
    "health+json": health_json,
    "short": short,
}

"""The formats: pure renderers from checks and their records to an answer's body and status.

`avalanche` is AvalancheGo's Health API result object, which GET and `health.*` answer; the
others serve `[[views]]`. `healthd.answers` decides when each is rendered.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import orjson

from healthd.result import Record, rfc3339nano
from healthd.store import Entry

JSON = "application/json"
HEALTH_JSON = "application/health+json"

Items = Sequence[tuple[Entry, Record]]


@dataclass(frozen=True, slots=True)
class Rendered:
    """A ready answer: body bytes, HTTP status, whether it is healthy, its content type, and
    whether it is degraded (healthy, but some check in it fails: non-critical, or a WARNING)."""

    body: bytes
    status: int
    healthy: bool
    content_type: str = JSON
    degraded: bool = False


def state(entry: Entry, record: Record) -> str:
    """pass, warn (a non-critical or WARNING failure) or fail."""
    if record.passed:
        return "pass"
    return "fail" if entry.counts_against(record) else "warn"


def verdict(items: Items) -> tuple[bool, bool]:
    """(healthy, degraded): no check counts against the answer; healthy yet some check fails."""
    healthy = not any(entry.counts_against(record) for entry, record in items)
    return healthy, healthy and not all(record.passed for _, record in items)


def _code(healthy: bool) -> int:
    return 200 if healthy else 503


def simple(items: Items, instance_id: str) -> Rendered:
    """{"status": "ok"|"error", "timestamp": ..., "error": "first failing check: its error"}."""
    healthy, degraded = verdict(items)
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
    return Rendered(orjson.dumps(body), _code(healthy), healthy, degraded=degraded)


DETAIL = {"pass": "OPERATIONAL", "warn": "DEGRADED", "fail": "FAILED"}


def components(items: Items, instance_id: str) -> Rendered:
    """{"instance_id", "status": OPERATIONAL|DEGRADED, "details": {check: ...}}."""
    healthy, degraded = verdict(items)
    details = {entry.name: DETAIL[state(entry, record)] for entry, record in items}
    operational = all(record.passed for _, record in items)
    body = {
        "instance_id": instance_id,
        "status": "OPERATIONAL" if operational else "DEGRADED",
        "details": details,
    }
    return Rendered(orjson.dumps(body), _code(healthy), healthy, degraded=degraded)


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
    healthy = overall != "fail"
    return Rendered(
        orjson.dumps(body), _code(healthy), healthy, HEALTH_JSON, degraded=overall == "warn"
    )


def short(items: Items, instance_id: str) -> Rendered:
    """{"check": "PASS"|"FAIL"}."""
    healthy, degraded = verdict(items)
    body = {entry.name: "PASS" if record.passed else "FAIL" for entry, record in items}
    return Rendered(orjson.dumps(body), _code(healthy), healthy, degraded=degraded)


def record_json(record: Record) -> bytes:
    """One check's result object, in AvalancheGo's field order."""
    fields: dict[str, object] = {}
    if record.message is not None:
        fields["message"] = orjson.Fragment(record.message)
    if record.error is not None:
        fields["error"] = {"message": record.error}
    fields["timestamp"] = None if record.timestamp_ns is None else rfc3339nano(record.timestamp_ns)
    fields["duration"] = record.duration_ns
    fields["contiguousFailures"] = record.contiguous_failures
    fields["timeOfFirstFailure"] = (
        None
        if record.time_of_first_failure_ns is None
        else rfc3339nano(record.time_of_first_failure_ns)
    )
    return orjson.dumps(fields)


def check_entry(name: str, record: Record) -> bytes:
    """`"name":{...}`, the piece of the `checks` object one check contributes."""
    return orjson.dumps(name) + b":" + record_json(record)


def result_body(entries: Iterable[bytes], healthy: bool) -> bytes:
    """The whole result object from ready-made check entries."""
    tail = b'},"healthy":true}' if healthy else b'},"healthy":false}'
    return b'{"checks":{' + b",".join(entries) + tail


class Avalanche:
    """AvalancheGo's `{"checks": {name: result}, "healthy": bool}`, checks in name order.

    Between two renderings most records are unchanged: each check's piece is kept while its
    record stands (records are immutable, so an unchanged one is the same object). A renderer
    serves one set of checks: when checks are added or removed, a new one takes over.
    """

    def __init__(self) -> None:
        self._pieces: dict[str, tuple[Record, bytes]] = {}

    def __call__(self, items: Items, instance_id: str) -> Rendered:
        pieces = self._pieces
        entries = []
        for entry, record in items:
            kept = pieces.get(entry.name)
            if kept is None or kept[0] is not record:
                kept = pieces[entry.name] = (record, check_entry(entry.name, record))
            entries.append(kept[1])
        healthy, degraded = verdict(items)
        return Rendered(result_body(entries, healthy), _code(healthy), healthy, degraded=degraded)


Renderer = Callable[[Items, str], Rendered]


def _stateless(renderer: Renderer) -> Callable[[], Renderer]:
    return lambda: renderer


FormatName = Literal["avalanche", "simple", "components", "health+json", "short"]
# Each format by its config name, as a factory: a renderer may keep state between renderings.
FORMATS: dict[FormatName, Callable[[], Renderer]] = {
    "avalanche": Avalanche,
    "simple": _stateless(simple),
    "components": _stateless(components),
    "health+json": _stateless(health_json),
    "short": _stateless(short),
}

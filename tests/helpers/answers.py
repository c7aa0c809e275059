"""The answers healthd gives, serialised independently (with json, from the store's records),
to compare its own pre-rendered bytes with."""

from __future__ import annotations

import json
from typing import Any

from healthd.result import Record, rfc3339nano
from healthd.store import Store


def reference(store: Store, kind: str, tags: list[str] | None = None) -> bytes:
    """An independent serialisation of the answer, built from the records with json."""
    checks: dict[str, Any] = {}
    for name in sorted(store.names()):
        entry = store.entry(name)
        if entry.kind != kind:
            continue
        if tags and entry.tags and entry.tags.isdisjoint(tags):
            continue
        checks[name] = as_dict(store.get(name))
    healthy = all("error" not in c for c in checks.values())
    return json.dumps(
        {"checks": checks, "healthy": healthy}, separators=(",", ":"), ensure_ascii=False
    ).encode()


def as_dict(record: Record) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if record.message is not None:
        out["message"] = json.loads(record.message)
    if record.error is not None:
        out["error"] = {"message": record.error}
    out["timestamp"] = None if record.timestamp_ns is None else rfc3339nano(record.timestamp_ns)
    out["duration"] = record.duration_ns
    out["contiguousFailures"] = record.contiguous_failures
    first = record.time_of_first_failure_ns
    out["timeOfFirstFailure"] = None if first is None else rfc3339nano(first)
    return out

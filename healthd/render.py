"""Pure functions from records to the bytes of the Health API answer."""

from __future__ import annotations

from collections.abc import Iterable

import orjson

from healthd.result import Record, rfc3339nano


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

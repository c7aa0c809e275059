"""The JSON-RPC methods healthd serves: `health.*`, `healthd.checks`, `healthd.history`,
`rpc.discover`, and the writes `healthd.maintenance` and `healthd.report` (dispatched by
`healthd.rpc`)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import orjson
from jsonrpcserver import InvalidParams, Success

from healthd.answers import Answers
from healthd.checks.base import KINDS, Kind
from healthd.durations import parse_duration
from healthd.maintenance import Maintenance
from healthd.openrpc import document_json
from healthd.reports import ReportRejected, Reports
from healthd.rpc import Method
from healthd.store import Store


def health_methods(answers: Answers, endpoint: str = "/ext/health") -> dict[str, Method]:
    """`health.*`, `healthd.checks` and `healthd.history` over the store, and `rpc.discover`."""
    store = answers.store
    discovered = document_json(endpoint)
    methods = {f"health.{kind}": _kind_method(answers, kind) for kind in KINDS}

    def checks() -> Any:
        return Success(
            [
                {
                    "name": entry.name,
                    "kind": entry.kind,
                    "tags": sorted(entry.tags),
                    "critical": entry.critical,
                    # Failing without making the answer unhealthy (non-critical, or a WARNING).
                    "degraded": not record.passed and not entry.counts_against(record),
                }
                for kind in KINDS
                for entry, record in store.select(kind)
            ]
        )

    def discover() -> Any:
        return Success(orjson.Fragment(discovered))

    methods["healthd.checks"] = checks
    methods["rpc.discover"] = discover
    methods["healthd.history"] = _history_method(store)
    return methods


def _kind_method(answers: Answers, kind: Kind) -> Method:
    def method(tags: Any = None) -> Any:
        if tags is not None and not (
            isinstance(tags, list) and all(isinstance(tag, str) for tag in tags)
        ):
            return InvalidParams("tags must be a list of strings")
        return Success(orjson.Fragment(answers.get(kind, tags).body))

    # jsonrpcserver binds params to the signature on every call; a cached one makes that cheap.
    method.__signature__ = inspect.signature(method)  # type: ignore[attr-defined]
    method.__name__ = f"health_{kind}"
    return method


def _history_method(store: Store) -> Method:
    def history(checks: Any = None, limit: Any = None) -> Any:
        if checks is not None and not (
            isinstance(checks, list) and all(isinstance(name, str) for name in checks)
        ):
            return InvalidParams("checks must be a list of check names")
        if limit is not None and (
            not isinstance(limit, int) or isinstance(limit, bool) or limit < 1
        ):
            return InvalidParams("limit must be a positive integer")
        known = store.names()
        if checks is not None:
            unknown = sorted(set(checks) - set(known))
            if unknown:
                return InvalidParams(f"unknown checks: {', '.join(unknown)}")
        return Success(store.history.answer(known if checks is None else checks, limit))

    return history


MAX_REASON = 500


def maintenance_method(maintenance: Maintenance) -> Callable[..., Any]:
    """JSON-RPC `healthd.maintenance` `{"enable": bool, "reason": str, "duration": str}`."""

    def method(enable: Any, reason: Any = "", duration: Any = None) -> Any:
        if not isinstance(enable, bool):
            return InvalidParams("enable must be true or false")
        if not isinstance(reason, str) or len(reason) > MAX_REASON:
            return InvalidParams(f"reason must be a string of at most {MAX_REASON} characters")
        if duration is not None and not enable:
            return InvalidParams("duration applies only when enabling maintenance")
        seconds = None
        if duration is not None:
            try:
                seconds = parse_duration(duration)
            except ValueError as exc:
                return InvalidParams(f"duration: {exc}")
            if seconds <= 0:
                return InvalidParams("duration must be longer than 0s")
        state = maintenance.enable(_printable(reason), seconds) if enable else maintenance.disable()
        return Success(state.answer())

    return method


def _printable(text: str) -> str:
    """The reason without control characters (it ends up in answers and log lines)."""
    return "".join(ch if ch.isprintable() else " " for ch in text).strip()


def report_method(reports: Reports) -> Method:
    """JSON-RPC `healthd.report` `{"check", "status", "output", "message"}` (contract §11)."""

    def method(check: Any, status: Any, output: Any = "", message: Any = None) -> Any:
        try:
            state = reports.report(check, status, output, message)
        except ReportRejected as exc:
            return InvalidParams(str(exc))
        return Success({"check": check, "state": state})

    return method

"""JSON-RPC 2.0: the health methods, dispatched by jsonrpcserver, answered as the spec says."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import fastjsonschema
import orjson
from jsonrpcserver import InvalidParams, Success, dispatch_to_response
from jsonrpcserver.sentinels import NODATA
from oslash.either import Left

from healthd.checks.base import KINDS, Kind
from healthd.openrpc import document_json
from healthd.store import Store
from healthd.writes import Authorize, Caller

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
UNAUTHORIZED = -32001  # healthd's own: a bearer token is required and none valid was sent

# The specification's own wording (jsonrpcserver writes "Invalid request").
SPEC_MESSAGES = {
    PARSE_ERROR: "Parse error",
    INVALID_REQUEST: "Invalid Request",
    METHOD_NOT_FOUND: "Method not found",
    INVALID_PARAMS: "Invalid params",
    INTERNAL_ERROR: "Internal error",
    UNAUTHORIZED: "unauthorized",
}
# Only these carry `data`: it explains the params; other errors answer as the spec's examples do.
ERRORS_WITH_DATA = {INVALID_PARAMS}

# jsonrpcserver's own request schema (one request; batches are split before validation),
# compiled once: its default jsonschema validator costs more than the rest of a request.
REQUEST_SCHEMA = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "type": "object",
    "required": ["jsonrpc", "method"],
    "properties": {
        "jsonrpc": {"enum": ["2.0"]},
        "method": {"type": "string"},
        "id": {"type": ["string", "number", "null"]},
        "params": {"type": ["array", "object"]},
    },
    "additionalProperties": False,
}
validate_request: Callable[[Any], Any] = fastjsonschema.compile(REQUEST_SCHEMA)

Method = Callable[..., Any]


def health_methods(store: Store, endpoint: str = "/ext/health") -> dict[str, Method]:
    """`health.*` over the store, `healthd.checks`, and `rpc.discover` (OpenRPC)."""
    discovered = document_json(endpoint)
    methods = {f"health.{kind}": _kind_method(store, kind) for kind in KINDS}

    def checks() -> Any:
        return Success(
            [
                {
                    "name": entry.name,
                    "kind": entry.kind,
                    "tags": sorted(entry.tags),
                    "critical": entry.critical,
                }
                for kind in KINDS
                for entry, _ in store.select(kind)
            ]
        )

    def discover() -> Any:
        return Success(orjson.Fragment(discovered))

    methods["healthd.checks"] = checks
    methods["healthd.history"] = _history_method(store)
    methods["rpc.discover"] = discover
    return methods


def _kind_method(store: Store, kind: Kind) -> Method:
    def method(tags: Any = None) -> Any:
        if tags is not None and not (
            isinstance(tags, list) and all(isinstance(tag, str) for tag in tags)
        ):
            return InvalidParams("tags must be a list of strings")
        return Success(orjson.Fragment(store.answer(kind, tags).body))

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


def id_json(request_id: Any) -> bytes:
    """A request id as JSON; integers of any size unchanged (orjson stops at 64 bits)."""
    if isinstance(request_id, int) and not isinstance(request_id, bool):
        return str(request_id).encode()
    return orjson.dumps(request_id)


def readable_id(request: Any) -> Any:
    """The id of a request object if it has one of a valid type, else None (JSON null)."""
    if isinstance(request, dict):
        found = request.get("id")
        if isinstance(found, str | int | float) and not isinstance(found, bool):
            return found
    return None


def error_response(code: int, request_id: Any = None, data: Any = NODATA) -> bytes:
    """A JSON-RPC error response object."""
    error: dict[str, Any] = {"code": code, "message": SPEC_MESSAGES.get(code, "Server error")}
    if data is not NODATA and data is not None:
        error["data"] = data
    return (
        b'{"jsonrpc":"2.0","error":' + orjson.dumps(error) + b',"id":' + id_json(request_id) + b"}"
    )


def success_response(result: Any, request_id: Any) -> bytes:
    """A JSON-RPC success response object."""
    return (
        b'{"jsonrpc":"2.0","result":'
        + orjson.dumps(result)
        + b',"id":'
        + id_json(request_id)
        + b"}"
    )


def parse(body: bytes) -> Any:
    """The request JSON; integers past 64 bits kept exact (orjson would make them floats)."""
    if _LONG_NUMBER.search(body) is None:
        return orjson.loads(body)
    return json.loads(body)


_LONG_NUMBER = re.compile(rb"\d{19,}")

# Identical request bodies (a poller sends the same bytes every time) are answered from a small
# cache that lives until the store records its next run.
CACHE_ENTRIES = 128
CACHE_BODY_LIMIT = 2048
_MISSING = object()


@dataclass(frozen=True, slots=True)
class Limits:
    """What one request may cost: requests in a batch, bytes in the answer."""

    max_batch: int = 100
    max_response_bytes: int = 16 * 1024 * 1024


class JsonRpc:
    """Turns a request body into a response body (None: nothing to answer)."""

    def __init__(
        self,
        methods: dict[str, Method],
        version: Callable[[], int] | None = None,
        limits: Limits | None = None,
        writes: Mapping[str, Authorize] | None = None,
    ) -> None:
        self._methods = methods
        self._version = version
        self._limits = limits or Limits()
        self._cache: dict[bytes, bytes | None] = {}
        self._cache_version = -1
        # Methods that change state: each request is authorised for its caller, never cached.
        self._writes = dict(writes or {})
        self._write_names = tuple(name.encode() for name in self._writes)
        self._caller = Caller()

    def handle(self, body: bytes, caller: Caller | None = None) -> bytes | None:
        """Answer a single request or a batch; the same bytes in the same state, the same answer."""
        if any(name in body for name in self._write_names):
            return self.dispatch(body, caller)
        if self._version is None or len(body) > CACHE_BODY_LIMIT:
            return self.dispatch(body)
        version = self._version()
        if version != self._cache_version:
            self._cache.clear()
            self._cache_version = version
        answer = self._cache.get(body, _MISSING)
        if answer is _MISSING:
            answer = self.dispatch(body)
            if len(self._cache) >= CACHE_ENTRIES:
                del self._cache[next(iter(self._cache))]
            self._cache[body] = answer
        return answer  # type: ignore[return-value]

    def dispatch(self, body: bytes, caller: Caller | None = None) -> bytes | None:
        """Answer through jsonrpcserver, uncached."""
        self._caller = caller or Caller()
        try:
            request = parse(body)
        except ValueError:  # orjson's and json's decode errors alike
            return error_response(PARSE_ERROR)
        if not isinstance(request, list):
            answer = self._one(request)
            if answer is not None and len(answer) > self._limits.max_response_bytes:
                return self._too_large(readable_id(request))
            return answer
        if not request:
            return error_response(INVALID_REQUEST)
        if len(request) > self._limits.max_batch:
            return error_response(
                INVALID_REQUEST,
                data=f"a batch may hold at most {self._limits.max_batch} requests "
                f"(max_batch); this one has {len(request)}",
            )
        # Each element is dispatched alone: jsonrpcserver would reject a whole batch for one
        # bad element, where the spec answers every element on its own.
        answers: list[bytes] = []
        size = 2
        for element in request:
            answer = self._one(element)
            if answer is None:
                continue
            size += len(answer) + 1
            if size > self._limits.max_response_bytes:
                return self._too_large(None)
            answers.append(answer)
        return b"[" + b",".join(answers) + b"]" if answers else None

    def _too_large(self, request_id: Any) -> bytes:
        return error_response(
            INTERNAL_ERROR,
            request_id,
            data=f"the answer would be larger than {self._limits.max_response_bytes} bytes "
            "(max_response_bytes); ask for less in one request",
        )

    def _one(self, request: Any) -> bytes | None:
        if isinstance(request, dict) and request.get("method") in self._writes:
            refusal = self._writes[request["method"]](self._caller, request.get("params"))
            if refusal is not None:
                # A refused notification is not run and, like any notification, not answered.
                if "id" not in request:
                    return None
                return error_response(UNAUTHORIZED, readable_id(request), data=refusal)
        response = dispatch_to_response(
            request,
            self._methods,
            deserializer=_identity,
            validator=validate_request,
        )
        if response is None:
            return None
        if isinstance(response, Left):
            error = response._error
            if error.code == INVALID_REQUEST:
                # jsonrpcserver drops the id of an invalid request; echo it when it is readable.
                return error_response(error.code, readable_id(request))
            data = error.data if error.code in ERRORS_WITH_DATA else NODATA
            return error_response(error.code, error.id, data)
        success = response._value  # type: ignore[union-attr]
        return success_response(success.result, success.id)


def _identity(value: Any) -> Any:
    return value

"""JSON-RPC 2.0 as the spec says: requests parsed, dispatched by jsonrpcserver (the methods are in
`healthd.methods`), read methods' results memoised per store version, batches and limits."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import fastjsonschema
import orjson
from jsonrpcserver import dispatch_to_response
from jsonrpcserver.sentinels import NODATA
from oslash.either import Left

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
    """The request JSON; integers past 64 bits kept exact (orjson would make them floats).

    Whichever parser reads it, the same bodies are refused (ValueError): nesting past the
    parser's depth, NaN and Infinity, numbers too large for a float.
    """
    if _LONG_NUMBER.search(body) is None:
        return orjson.loads(body)
    try:
        return json.loads(body, parse_constant=_not_json, parse_float=_finite)
    except RecursionError:
        raise ValueError("nested too deeply") from None


_LONG_NUMBER = re.compile(rb"\d{19,}")


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _finite(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise ValueError("number out of range")
    return number


# Identical request bodies (a poller sends the same bytes every time) are answered from a small
# cache that lives until the store records its next run. A body is kept from its second time.
CACHE_ENTRIES = 128
CACHE_BODY_LIMIT = 2048
# The results of read methods are a pure function of (method, params, store version): a memo
# of their bytes answers a request with any id by splicing the id in (clients count ids up).
MEMO_ENTRIES = 256
# A body that differs from one the memo answered only in its id is answered without a parse:
# the bytes around the id are the key, and the id goes into the answer as it came. Only ids
# written plainly qualify, whose JSON is the same bytes however the request wrote them: integers,
# and strings of printable ASCII without escapes.
_PLAIN_ID = re.compile(
    rb'"id"[ \t\n\r]*:[ \t\n\r]*'
    rb'(-?[1-9][0-9]*(?![0-9.eE])|0(?![0-9.eE])|"[ !#-\[\]-~]*")'
)
_MISSING = object()
_NOBODY = Caller()  # a caller we know nothing of: no address, no token
_REQUEST_KEYS = frozenset({"jsonrpc", "method", "params", "id"})
_MEMO_ID_TYPES = (int, str, float)  # bool and null ids go to jsonrpcserver
_PARAMS_TYPES = (list, dict)
# A memo entry is an answer's bytes up to its id: the id and `}` follow.
_RESULT_HEAD = b'{"jsonrpc":"2.0","result":'
_ID_HEAD = b',"id":'
_END = b"}"

# An answer in two pieces, the first of which may be shared with other answers (a memo entry):
# the answer is their concatenation. Served as is, a large answer needs no copy per request.
Reply = tuple[bytes, bytes]


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
        pure: frozenset[str] = frozenset(),
        writes: Mapping[str, Authorize] | None = None,
    ) -> None:
        self._methods = methods
        self._version = version
        self._limits = limits or Limits()
        self._pure = pure if version is not None else frozenset()
        self._cache: dict[bytes, Reply | None] = {}
        self._seen: dict[bytes, None] = {}  # bodies answered once, across store versions
        self._memo: dict[tuple[str, bytes], bytes] = {}
        self._spliced: dict[tuple[bytes, bytes], bytes] = {}  # bytes around an id → memo entry
        self._cache_version = -1
        # Methods that change state: each request is authorised for its caller, never cached.
        self._writes = dict(writes or {})
        self._write_names = tuple(name.encode() for name in self._writes)
        # Checked first: most bodies name no method that starts like the writes' names do.
        self._write_prefix = _common_prefix(self._write_names)
        self._caller = _NOBODY

    def handle(self, body: bytes, caller: Callable[[], Caller] = Caller) -> bytes | None:
        """Answer a single request or a batch; the same bytes in the same state, the same answer.

        `caller` says who is asking; it is asked only when the body names a method that
        changes state.
        """
        reply = self.respond(body, caller)
        if reply is None:
            return None
        head, tail = reply
        return head + tail if tail else head

    def respond(self, body: bytes, caller: Callable[[], Caller] = Caller) -> Reply | None:
        """`handle`'s answer in its two pieces (see `Reply`), as the server sends it."""
        if self._write_names and self._write_prefix in body:
            for name in self._write_names:
                if name in body:
                    return _whole(self.dispatch(body, caller=caller()))
        if self._version is None:
            return _whole(self.dispatch(body))
        version = self._version()
        if version != self._cache_version:
            self._cache.clear()
            self._memo.clear()
            self._spliced.clear()
            self._cache_version = version
        if len(body) > CACHE_BODY_LIMIT:
            return _whole(self.dispatch(body, memo=True))
        reply = self._cache.get(body, _MISSING)
        if reply is not _MISSING:
            return reply  # type: ignore[return-value]
        plain_id = _PLAIN_ID.search(body)
        reply = None if plain_id is None else self._from_memo(body, plain_id)
        if reply is None:
            reply = _whole(self.dispatch(body, memo=True))
            if plain_id is not None:
                self._learn(body, plain_id)
        if body in self._seen:
            # Sent before: a poller's bytes, worth keeping. A body seen once (a client counting
            # its ids up) is not kept: holding its answer would only push others out of memory.
            return self._keep(body, reply)
        if len(self._seen) >= CACHE_ENTRIES:
            del self._seen[next(iter(self._seen))]
        self._seen[body] = None
        return reply

    def _from_memo(self, body: bytes, plain_id: re.Match[bytes]) -> Reply | None:
        """The answer to a body that is one the memo answered with another id, else None."""
        start, end = plain_id.span(1)
        head = self._spliced.get((body[:start], body[end:]))
        if head is None or len(head) + end - start >= self._limits.max_response_bytes:
            return None
        return head, plain_id.group(1) + _END

    def _keep(self, body: bytes, reply: Reply | None) -> Reply | None:
        if reply is not None and reply[1]:
            reply = reply[0] + reply[1], b""
        if len(self._cache) >= CACHE_ENTRIES:
            del self._cache[next(iter(self._cache))]
        self._cache[body] = reply
        return reply

    def _learn(self, body: bytes, plain_id: re.Match[bytes]) -> None:
        """Note where the id is in a body the memo answered, so that the same body with another
        id is answered from the memo without a parse.

        Only a body whose one `"id"` is the request's own id (no escapes, no other `"id"`
        anywhere) qualifies; another body matches it only if it is the same bytes around an id.
        """
        if b"\\" in body or body.count(b'"id"') != 1:
            return
        try:
            request = parse(body)
        except ValueError:
            return
        key = self._memo_key(request)
        head = None if key is None else self._memo.get(key)
        if head is None or plain_id.group(1) != id_json(request["id"]):
            return
        if len(self._spliced) >= MEMO_ENTRIES:
            del self._spliced[next(iter(self._spliced))]
        start, end = plain_id.span(1)
        self._spliced[body[:start], body[end:]] = head

    def dispatch(
        self, body: bytes, memo: bool = False, caller: Caller | None = None
    ) -> bytes | None:
        """Answer through jsonrpcserver (with `memo`, read methods' results may come from it)."""
        self._caller = caller or _NOBODY
        one = self._memoised if memo and self._pure else self._one
        try:
            request = parse(body)
        except ValueError:  # orjson's and json's decode errors alike
            return error_response(PARSE_ERROR)
        if not isinstance(request, list):
            answer = one(request)
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
            answer = one(element)
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

    def _memoised(self, request: Any) -> bytes | None:
        """A read method's answer from the memo, the id spliced in; anything else dispatched."""
        key = self._memo_key(request)
        if key is None:
            return self._one(request)
        head = self._memo.get(key)
        if head is None:
            response = self._dispatch(request)
            if isinstance(response, Left) or response is None:
                return self._one(request)
            head = b"".join((_RESULT_HEAD, orjson.dumps(response._value.result), _ID_HEAD))
            if len(self._memo) >= MEMO_ENTRIES:
                del self._memo[next(iter(self._memo))]
            self._memo[key] = head
        return b"".join((head, id_json(request["id"]), _END))

    def _memo_key(self, request: Any) -> tuple[str, bytes] | None:
        """(method, canonical params) of a request the memo may answer; None for any other."""
        if type(request) is not dict:
            return None
        method = request.get("method")
        if (
            type(method) is not str  # a list or object is no method, nor a key to look up
            or method not in self._pure
            or type(request.get("id")) not in _MEMO_ID_TYPES
            or request.get("jsonrpc") != "2.0"
            or not request.keys() <= _REQUEST_KEYS
        ):
            return None
        params = request.get("params", _MISSING)
        if params is _MISSING:
            return method, b""
        if type(params) not in _PARAMS_TYPES:  # `"params": null` and the like: invalid
            return None
        try:
            return method, orjson.dumps(params, option=orjson.OPT_SORT_KEYS)
        except TypeError:  # an integer past 64 bits in the params: not worth a key
            return None

    def _dispatch(self, request: Any) -> Any:
        return dispatch_to_response(
            request, self._methods, deserializer=_identity, validator=validate_request
        )

    def _one(self, request: Any) -> bytes | None:
        if isinstance(request, dict) and _method_of(request) in self._writes:
            refusal = self._writes[request["method"]](self._caller, request.get("params"))
            if refusal is not None:
                # A refused notification is not run and, like any notification, not answered.
                if "id" not in request:
                    return None
                return error_response(UNAUTHORIZED, readable_id(request), data=refusal)
        response = self._dispatch(request)
        if response is None:
            return None
        if isinstance(response, Left):
            error = response._error
            if error.code == INVALID_REQUEST:
                # jsonrpcserver drops the id of an invalid request; echo it when it is readable.
                return error_response(error.code, readable_id(request))
            data = error.data if error.code in ERRORS_WITH_DATA else NODATA
            return error_response(error.code, error.id, data)
        success = response._value
        return success_response(success.result, success.id)


def _method_of(request: dict[str, Any]) -> str | None:
    """The request's method name, if it is a string (anything else is invalid, and unhashable)."""
    method = request.get("method")
    return method if isinstance(method, str) else None


def _identity(value: Any) -> Any:
    return value


def _whole(answer: bytes | None) -> Reply | None:
    return None if answer is None else (answer, b"")


def _common_prefix(names: tuple[bytes, ...]) -> bytes:
    """The bytes all names start with (those of the first and the last in order)."""
    if not names:
        return b""
    first, last = min(names), max(names)
    size = 0
    while size < len(first) and first[size] == last[size]:
        size += 1
    return first[:size]

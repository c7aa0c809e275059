"""Calls to a node over HTTP: JSON-RPC (single, batched, 1.0-style) and plain GETs of JSON."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from yarl import URL

from healthd.checks.base import os_error_text
from healthd.redact import redact_text, redact_url, url_secrets

if TYPE_CHECKING:
    import aiohttp  # the checks import it when they run, not when a config is read

RESPONSE_LIMIT = 4 * 1024 * 1024
_NOT_JSON = object()
_ids = itertools.count(1)


class CallFailed(Exception):
    """A call the node did not answer, or answered with an error; the text names the call."""

    def __init__(self, call: str, reason: str) -> None:
        super().__init__(f"{call} failed: {reason}")
        self.call = call
        self.reason = reason


@dataclass(frozen=True, slots=True)
class RpcError:
    """A JSON-RPC error object one call of a batch answered with."""

    code: int | None
    message: str
    data: Any

    def text(self) -> str:
        """The error as the check's error shows it."""
        return f"JSON-RPC error {self.code}: {self.message}"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where and how to reach one node: its URL, headers (basic auth included), what to hide."""

    url: str
    shown: str
    headers: Mapping[str, str]
    secrets: tuple[str, ...] = ()
    jsonrpc: str = "2.0"

    def request(self, method: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Any:
        """One JSON-RPC request object for this endpoint's protocol version."""
        return {"jsonrpc": self.jsonrpc, "id": next(_ids), "method": method, "params": params}

    def with_login(self, user: str, password: str) -> Endpoint:
        """The endpoint with basic auth for `user` (the password, and its encoding, kept hidden)."""
        value = basic_auth(user, password)
        headers = {**self.headers, "Authorization": value}
        secrets = (*self.secrets, password, value)
        return Endpoint(self.url, self.shown, headers, secrets, self.jsonrpc)


def endpoint(
    url: str,
    headers: Mapping[str, str] | None = None,
    secrets: tuple[str, ...] = (),
    jsonrpc: str = "2.0",
) -> Endpoint:
    """An endpoint for a URL; credentials in it (`http://user:pass@host`) become basic auth."""
    parsed = URL(url)
    found = Endpoint(url, redact_url(url), dict(headers or {}), secrets + url_secrets(url), jsonrpc)
    if parsed.user is None:
        return found
    bare = Endpoint(str(parsed.with_user(None)), found.shown, found.headers, found.secrets, jsonrpc)
    return bare.with_login(parsed.user, parsed.password or "")


def basic_auth(user: str, password: str) -> str:
    """The Authorization header value of HTTP basic auth."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


async def fetch_json(
    session: aiohttp.ClientSession,
    endpoint: Endpoint,
    call: str,
    *,
    url: str | None = None,
    body: Any = None,
) -> Any:
    """POST `body` as JSON (or GET when None) and return the decoded answer; CallFailed if none."""
    headers = dict(endpoint.headers)
    method = "GET"
    data = None
    if body is not None:
        method, data = "POST", orjson.dumps(body)
        headers.setdefault("Content-Type", "application/json")
    try:
        async with session.request(
            method, url or endpoint.url, data=data, headers=headers
        ) as response:
            status = response.status
            raw = await response.content.read(RESPONSE_LIMIT)
    except (TimeoutError, _client_error(), OSError, ValueError) as exc:
        reason = f"{_reason(exc)} ({endpoint.shown})"
        raise CallFailed(call, redact_text(reason, endpoint.secrets)) from None
    if status == 401:
        # bitcoind answers bad credentials with an empty body; say which, never what was sent.
        raise CallFailed(call, "HTTP 401: the node refused the credentials")
    try:
        answer = orjson.loads(raw)
    except orjson.JSONDecodeError:
        answer = _NOT_JSON
    # A JSON-RPC answer may come with any status (bitcoind sends errors with 500): it says more.
    if not 200 <= status < 300 and not _is_jsonrpc(answer):
        raise CallFailed(call, f"HTTP {status}")
    if answer is _NOT_JSON:
        raise CallFailed(call, "the answer is not JSON")
    return answer


async def call(
    session: aiohttp.ClientSession,
    endpoint: Endpoint,
    method: str,
    params: Sequence[Any] | Mapping[str, Any] = (),
    *,
    url: str | None = None,
) -> Any:
    """One JSON-RPC call; its result, or CallFailed naming the method."""
    answer = await fetch_json(
        session, endpoint, method, url=url, body=endpoint.request(method, params)
    )
    return result(answer, method, endpoint.secrets)


async def batch(
    session: aiohttp.ClientSession,
    endpoint: Endpoint,
    calls: Sequence[tuple[str, Sequence[Any]]],
) -> list[Any]:
    """Several JSON-RPC calls in one request; each result in order, or an RpcError in its place."""
    requests = [endpoint.request(method, params) for method, params in calls]
    names = ", ".join(method for method, _ in calls)
    answer = await fetch_json(session, endpoint, names, body=requests)
    if not isinstance(answer, list):
        # A node that refuses batches answers with a single error object.
        result(answer, names, endpoint.secrets)
        raise CallFailed(names, "the answer to a batch is not a list")
    by_id = {item.get("id"): item for item in answer if isinstance(item, dict)}
    found: list[Any] = []
    for request, (method, _) in zip(requests, calls, strict=True):
        item = by_id.get(request["id"])
        if item is None:
            raise CallFailed(method, "no answer in the batch")
        error = rpc_error(item, endpoint.secrets)
        found.append(error if error is not None else _result_field(item, method))
    return found


def result(answer: Any, call: str, secrets: tuple[str, ...] = ()) -> Any:
    """The `result` of one JSON-RPC answer; CallFailed naming the call on an error."""
    error = rpc_error(answer, secrets)
    if error is not None:
        raise CallFailed(call, error.text())
    return _result_field(answer, call)


def unwrap(value: Any, call: str) -> Any:
    """A batch element's result; CallFailed naming the call if it is an error."""
    if isinstance(value, RpcError):
        raise CallFailed(call, value.text())
    return value


def rpc_error(answer: Any, secrets: tuple[str, ...] = ()) -> RpcError | None:
    """The error of a JSON-RPC answer (1.0 answers carry `"error": null` when there is none).

    Its message is the node's own text: cut short, and scrubbed of what we sent it.
    """
    if not isinstance(answer, dict) or answer.get("error") is None:
        return None
    error = answer["error"]
    if not isinstance(error, dict):
        return RpcError(None, redact_text(str(error)[:200], secrets), None)
    code = error.get("code")
    message = redact_text(str(error.get("message", ""))[:200], secrets)
    return RpcError(code if isinstance(code, int) else None, message, error.get("data"))


def _result_field(answer: Any, call: str) -> Any:
    if not isinstance(answer, dict) or "result" not in answer:
        raise CallFailed(call, "the answer is not a JSON-RPC response")
    return answer["result"]


def _is_jsonrpc(answer: Any) -> bool:
    return isinstance(answer, dict) and ("result" in answer or "error" in answer)


def _client_error() -> type[Exception]:
    import aiohttp

    return aiohttp.ClientError


def _reason(exc: BaseException) -> str:
    import aiohttp

    if isinstance(exc, aiohttp.ClientConnectorError):
        return os_error_text(exc.os_error)
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the server closed the connection"
    if isinstance(exc, OSError):
        return os_error_text(exc)
    return str(exc) or type(exc).__name__


def at_path(url: str, path: str) -> str:
    """The URL with `path` appended to its own path (its query, such as an API key, kept)."""
    parsed = URL(url)
    return str(parsed.with_path(parsed.path.rstrip("/") + path).with_query(parsed.query))

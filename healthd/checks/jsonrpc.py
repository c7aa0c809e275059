"""`jsonrpc`: calls a JSON-RPC method over HTTP; passes without an error and matching `expect`."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any, Literal

import orjson

from healthd.checks.base import CheckEnv, CheckFailed, Probe
from healthd.checks.http import HttpTarget, request_error

if TYPE_CHECKING:  # aiohttp is imported when a check runs: `healthd validate` stays quick
    import aiohttp

MESSAGE_LIMIT = 4096  # bytes of JSON; a larger result is cut down to a preview
RESPONSE_LIMIT = 4 * 1024 * 1024
_ids = itertools.count(1)


class JsonRpcSpec(HttpTarget):
    """Keys of a `jsonrpc` check."""

    type: Literal["jsonrpc"]
    method: str
    params: list[Any] | dict[str, Any] | None = None
    expect: dict[str, Any] = {}

    def target(self) -> str:
        return f"{self.method} at {self.shown_url()}"


def mismatch(expected: Any, actual: Any, path: str = "result") -> str | None:
    """Where `actual` departs from `expected` (every key given must be equal, nested)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{path} is {orjson.dumps(actual).decode()[:80]}, expected an object"
        for key, value in expected.items():
            if key not in actual:
                return f"{path}.{key} is missing"
            found = mismatch(value, actual[key], f"{path}.{key}")
            if found:
                return found
        return None
    if expected != actual or (
        type(expected) is not type(actual) and not _both_numbers(expected, actual)
    ):
        shown = orjson.dumps(actual).decode()[:80]
        return f"{path} is {shown}, expected {orjson.dumps(expected).decode()[:80]}"
    return None


def _both_numbers(a: Any, b: Any) -> bool:
    return all(isinstance(x, int | float) and not isinstance(x, bool) for x in (a, b))


def trimmed(result: Any) -> Any:
    """The result itself if small; else a preview of its JSON text."""
    text = orjson.dumps(result)
    if len(text) <= MESSAGE_LIMIT:
        return result
    return {
        "truncated": True,
        "bytes": len(text),
        "preview": text[:MESSAGE_LIMIT].decode(errors="ignore"),
    }


def build(spec: JsonRpcSpec, env: CheckEnv) -> Probe:
    """Return a probe that makes one call."""
    secrets = spec.secrets()
    shown = spec.shown_url()

    import aiohttp

    async def probe() -> Any:
        request: dict[str, Any] = {"jsonrpc": "2.0", "id": next(_ids), "method": spec.method}
        if spec.params is not None:
            request["params"] = spec.params
        headers = {"Content-Type": "application/json", **spec.headers}
        session: aiohttp.ClientSession = env.http.session()
        try:
            async with session.post(
                spec.url, data=orjson.dumps(request), headers=headers
            ) as response:
                status = response.status
                body = await response.content.read(RESPONSE_LIMIT)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise CheckFailed(request_error("POST", shown, exc, secrets)) from None
        try:
            answer = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise CheckFailed(f"HTTP {status}: the answer is not JSON") from None
        if not isinstance(answer, dict) or not ("result" in answer or "error" in answer):
            raise CheckFailed(f"HTTP {status}: the answer is not a JSON-RPC response")
        if "error" in answer:
            error = answer["error"] if isinstance(answer["error"], dict) else {}
            raise CheckFailed(
                f"JSON-RPC error {error.get('code')}: {error.get('message')}",
                {"error": answer["error"]},
            )
        result = answer["result"]
        problem = mismatch(spec.expect, result) if spec.expect else None
        if problem:
            raise CheckFailed(problem, trimmed(result))
        return trimmed(result)

    return probe

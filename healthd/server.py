"""aiohttp routes: GET answers from ready-made bytes, POST is JSON-RPC; limits, access, status."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

from aiohttp import web
from prometheus_client.registry import Collector

from healthd import bad_requests, paths
from healthd.answers import Answers
from healthd.checks.base import KINDS, Kind
from healthd.config import ViewConfig
from healthd.methods import health_methods
from healthd.metrics import exposition, registry_for
from healthd.page.routes import StatusPage
from healthd.page.sources import History, Since
from healthd.rpc import (
    INVALID_REQUEST,
    UNAUTHORIZED,
    JsonRpc,
    Limits,
    error_response,
    parse,
    readable_id,
)
from healthd.store import Store
from healthd.transport import Corkable
from healthd.writes import Caller, WriteAccess, WriteMethod, bearer, matches_any

DEFAULT_LIMITS = Limits()
JSON = "application/json"
# What JSON-RPC clients send: JSON under its own names, or no Content-Type at all.
JSON_TYPES = frozenset({JSON, "application/json-rpc", "application/jsonrequest", ""})
# Our metric and label names are all legacy-valid, so the text is format 0.0.4, which every
# Prometheus version reads.
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
JSON_HEADERS = {"Content-Type": JSON}
NO_BODY = frozenset({204, 304})  # statuses whose answers carry no body
LIMITED = {True: b'{"healthy":true}', False: b'{"healthy":false}'}

ANSWERS = web.AppKey("answers", Answers)
BAD_REQUESTS = web.AppKey("bad_requests", bad_requests.BadRequests)

Background = Callable[[web.Application], AsyncIterator[None]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Access:
    """Bearer-token access to detail; without a token configured, everyone has it."""

    def __init__(self, token: str | None) -> None:
        self._token = None if token is None else token.encode()

    def allows(self, request: web.Request) -> bool:
        """True when no token is set, or the request carries it (compared in constant time)."""
        if self._token is None:
            return True
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        # Compared even for a wrong scheme, so the time taken says nothing about the token.
        matches = hmac.compare_digest(given.strip().encode(), self._token)
        return matches and scheme.lower() == "bearer"

    @staticmethod
    def refusal(request: web.Request) -> str:
        """Why a request was not allowed, for the error's `data`."""
        if "Authorization" in request.headers:
            return "the bearer token was rejected"
        return "a bearer token is required (Authorization: Bearer <token>)"


def create_app(
    store: Store,
    *,
    max_body_bytes: int = 65536,
    background: Background | None = None,
    views: Sequence[ViewConfig] = (),
    token: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    body_timeout: float = 10.0,
    origin: str = "",
    collectors: Sequence[Collector] = (),
    write_methods: Mapping[str, WriteMethod] | None = None,
    history: History | None = None,
    since: Since | None = None,
    malformed: bad_requests.BadRequests | None = None,
) -> web.Application:
    """The health application; `background` (the scheduler) lives as long as the app.

    `write_methods` change state: only callers the write rule allows may call them (§10). A
    caller holding only a write method's own token (a push check's) reaches that method alone.
    `history` and `since` feed the status page (see healthd.page.sources).
    """
    app = web.Application(client_max_size=max_body_bytes)
    answers = app[ANSWERS] = Answers(store)
    app[BAD_REQUESTS] = malformed or bad_requests.BadRequests()
    reads = health_methods(answers, f"{origin}{paths.HEALTH}")
    writes = WriteAccess(token)
    written = dict(write_methods or {})
    authorizers = {name: method.authorizer(writes) for name, method in written.items()}
    rpc = JsonRpc(
        {**reads, **{n: m.method for n, m in written.items()}},
        version=lambda: store.version,
        limits=limits,
        pure=frozenset(reads),
        writes=authorizers,
    )
    # For callers with a method's own token only: those methods, nothing else.
    own = {name: method for name, method in written.items() if method.tokens is not None}
    narrow = JsonRpc(
        {name: method.method for name, method in own.items()},
        limits=limits,
        writes={name: authorizers[name] for name in own},
    )
    access = Access(token)
    if background is not None:
        app.cleanup_ctx.append(background)
    post = JsonRpcEndpoint(
        rpc, access, max_body_bytes, body_timeout, narrow, own, app[BAD_REQUESTS]
    )
    for path in paths.HEALTH_PATHS:
        base = app.router.add_resource(path)
        _add_get(base, _kind_handler(kind="health", access=access))
        base.add_route("POST", post.handle)
        base.add_route("*", _not_allowed("GET, HEAD, POST"))
    for kind in KINDS:
        resource = app.router.add_resource(paths.kind_path(kind))
        _add_get(resource, _kind_handler(kind=kind, access=access))
        resource.add_route("*", _not_allowed("GET, HEAD"))
    for view in views:
        _add_get(app.router.add_resource(view.path), _view_handler(view, access))
        app.router.add_route("*", view.path, _not_allowed("GET, HEAD"))
    _add_get(app.router.add_resource(paths.METRICS), _metrics_handler(answers, access, collectors))
    app.router.add_route("*", paths.METRICS, _not_allowed("GET, HEAD"))
    page = StatusPage(answers, history, since)
    for path, handler in page.routes(access.allows, _not_found).items():
        _add_get(app.router.add_resource(path), handler)
        app.router.add_route("*", path, _not_allowed("GET, HEAD"))
    app.router.add_route("*", "/{path:.*}", _not_found)
    return app


def _add_get(resource: web.Resource, handler: Handler) -> None:
    resource.add_route("GET", handler)
    resource.add_route("HEAD", handler)


def json_response(body: bytes, status: int = 200, **headers: str) -> web.Response:
    """A response with an application/json body."""
    return web.Response(body=body, status=status, content_type=JSON, headers=headers or None)


def _kind_handler(kind: Kind, access: Access) -> Handler:
    async def get(request: web.Request) -> web.StreamResponse:
        tags = request.query.getall("tag", None) if request.query_string else None
        answer = request.app[ANSWERS].get(kind, tags)
        if not access.allows(request):
            return json_response(LIMITED[answer.healthy], answer.status)
        return await send_json(request, answer.body, status=answer.status)

    return get


def _view_handler(view: ViewConfig, access: Access) -> Handler:
    tags = view.tags or None

    async def get(request: web.Request) -> web.Response:
        answer = request.app[ANSWERS].get(view.kind, tags, view.format, view.instance_id)
        if not access.allows(request):
            return json_response(LIMITED[answer.healthy], answer.status)
        return web.Response(
            body=answer.body, status=answer.status, content_type=answer.content_type
        )

    return get


def _metrics_handler(answers: Answers, access: Access, collectors: Sequence[Collector]) -> Handler:
    registry = registry_for(answers, collectors)

    async def metrics(request: web.Request) -> web.Response:
        if not access.allows(request):
            return json_response(b'{"error":"unauthorized"}', 401, **{"WWW-Authenticate": "Bearer"})
        return web.Response(
            body=exposition(registry), headers={"Content-Type": METRICS_CONTENT_TYPE}
        )

    return metrics


class JsonRpcEndpoint:
    """POST: JSON-RPC 2.0 over HTTP. Content types, the body's size and deadline, and access
    are checked here; `rpc` answers the body (`narrow` for callers holding only the token of
    one of the `own` methods)."""

    def __init__(
        self,
        rpc: JsonRpc,
        access: Access | None = None,
        max_body_bytes: int = 65536,
        body_timeout: float = 10.0,
        narrow: JsonRpc | None = None,
        own: Mapping[str, WriteMethod] | None = None,
        malformed: bad_requests.BadRequests | None = None,
    ) -> None:
        self._rpc = rpc
        self._malformed = malformed or bad_requests.BadRequests()
        self._access = access or Access(None)
        self._body_timeout = body_timeout
        self._max_body_bytes = max_body_bytes
        self._narrow = narrow or rpc
        self._own = dict(own or {})
        self._accepted = ", ".join(sorted(t for t in JSON_TYPES if t))
        self._too_large = error_response(
            INVALID_REQUEST,
            data=f"the request body is larger than {max_body_bytes} bytes (max_body_bytes)",
        )
        self._too_slow = error_response(
            INVALID_REQUEST, data=f"the request body did not arrive within {body_timeout:g}s"
        )

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Answer one POST."""
        given = request.headers.get("Content-Type", "")
        if given not in JSON_TYPES and given.partition(";")[0].strip().lower() not in JSON_TYPES:
            data = f"expected Content-Type {self._accepted} (or none), got {given[:100]}"
            return json_response(error_response(INVALID_REQUEST, data=data), 415)
        why = bad_requests.unknown_encoding(request)
        if why is not None:
            self._malformed.note(why, request.remote)
            return bad_requests.answer(why)
        try:
            content = request.content
            if content.is_eof():
                # The whole body came with the header (every small request): it is all there.
                body = content.read_nowait()
                if len(body) > self._max_body_bytes:
                    raise web.HTTPRequestEntityTooLarge(self._max_body_bytes, len(body))
            else:
                async with asyncio.timeout(self._body_timeout):
                    body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return json_response(self._too_large, 413)
        except TimeoutError:
            return json_response(self._too_slow, 408, Connection="close")
        except web.RequestPayloadError as exc:  # broken chunked framing or Content-Encoding
            why = bad_requests.reason(exc)
            self._malformed.note(why, request.remote)
            return bad_requests.answer(why)
        dispatcher = self._rpc
        if not self._access.allows(request):
            if not _holds_own_token(_caller(request), body, self._own):
                return json_response(
                    error_response(UNAUTHORIZED, _id_of(body), data=self._access.refusal(request)),
                    401,
                    **{"WWW-Authenticate": "Bearer"},
                )
            dispatcher = self._narrow
        reply = dispatcher.respond(body, lambda: _caller(request))
        if reply is None:
            return web.Response(status=204)
        return await send_json(request, *reply)


async def send_json(
    request: web.Request, head: bytes, tail: bytes = b"", status: int = 200
) -> web.StreamResponse:
    """A JSON answer made of two pieces (the first often shared: a memo entry, a ready answer).

    On a corkable connection, the header aiohttp writes is held and leaves with both pieces in
    one system call, neither copied; elsewhere (and for HEAD, 204 and 304, which carry no
    body) the answer is joined into one and goes through aiohttp's own path.
    """
    transport = request.transport
    if not isinstance(transport, Corkable) or request.method == "HEAD" or status in NO_BODY:
        return json_response(head + tail if tail else head, status)
    response = web.StreamResponse(status=status, headers=JSON_HEADERS)
    response.content_length = len(head) + len(tail)
    transport.cork()
    try:
        await response.prepare(request)
    except BaseException:
        transport.discard()  # no header went out: nor may the body
        raise
    transport.uncork(head, tail)
    writer = request.writer
    writer.output_size += len(head) + len(tail)  # what aiohttp would have counted itself
    # Back-pressure, as aiohttp's own write does: a client that sends and never reads makes
    # the next request wait here, not pile answers up in memory.
    with contextlib.suppress(ConnectionError):
        await writer.drain()
    return response


def _caller(request: web.Request) -> Caller:
    return Caller(request.remote, bearer(request.headers.get("Authorization", "")))


def _holds_own_token(caller: Caller, body: bytes, own: Mapping[str, WriteMethod]) -> bool:
    """True if the caller's token is one a write method admits for some call in the body."""
    if caller.bearer is None or not own:
        return False
    try:
        request = parse(body)
    except ValueError:
        return False
    for one in request if isinstance(request, list) else [request]:
        method = one.get("method") if isinstance(one, dict) else None
        if isinstance(method, str) and method in own:
            tokens = own[method].tokens
            if tokens is not None and matches_any(caller.bearer, tokens(one.get("params"))):
                return True
    return False


def _id_of(body: bytes) -> Any:
    """The id of a single request, if the body is one and its id can be read."""
    try:
        return readable_id(parse(body))
    except ValueError:
        return None


def _not_allowed(allow: str) -> Handler:
    body = b'{"error":"method not allowed"}'

    async def not_allowed(request: web.Request) -> web.Response:
        return json_response(body, 405, Allow=allow)

    return not_allowed


async def _not_found(request: web.Request) -> web.Response:
    return json_response(b'{"error":"not found"}', 404)

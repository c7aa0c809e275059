"""aiohttp routes: GET answers from the store's bytes, POST is JSON-RPC; limits and status codes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

from aiohttp import web

from healthd.checks.base import Kind
from healthd.rpc import INVALID_REQUEST, JsonRpc, Method, error_response, health_methods
from healthd.store import Store

DEFAULT_PREFIX = "/ext/health"
JSON = "application/json"

STORE = web.AppKey("store", Store)
RPC = web.AppKey("rpc", JsonRpc)

Background = Callable[[web.Application], AsyncIterator[None]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def create_app(
    store: Store,
    *,
    prefix: str = DEFAULT_PREFIX,
    max_body_bytes: int = 65536,
    background: Background | None = None,
    extra_methods: Mapping[str, Method] | None = None,
) -> web.Application:
    """The health application; `background` (the scheduler) lives as long as the app."""
    app = web.Application(client_max_size=max_body_bytes)
    app[STORE] = store
    app[RPC] = JsonRpc(
        {**health_methods(store), **(extra_methods or {})}, version=lambda: store.version
    )
    if background is not None:
        app.cleanup_ctx.append(background)
    base = app.router.add_resource(prefix)
    base.add_route("GET", _get_handler("health"))
    base.add_route("HEAD", _get_handler("health"))
    base.add_route("POST", _post_handler(app[RPC], max_body_bytes))
    base.add_route("*", _not_allowed("GET, HEAD, POST"))
    for kind in ("health", "readiness", "liveness"):
        resource = app.router.add_resource(f"{prefix}/{kind}")
        resource.add_route("GET", _get_handler(kind))
        resource.add_route("HEAD", _get_handler(kind))
        resource.add_route("*", _not_allowed("GET, HEAD"))
    app.router.add_route("*", "/{path:.*}", _not_found)
    return app


def json_response(body: bytes, status: int = 200, **headers: str) -> web.Response:
    """A response with an application/json body."""
    return web.Response(body=body, status=status, content_type=JSON, headers=headers or None)


def _get_handler(kind: Kind) -> Handler:
    async def get(request: web.Request) -> web.Response:
        tags = request.query.getall("tag", None) if request.query_string else None
        answer = request.app[STORE].answer(kind, tags)
        return json_response(answer.body, 200 if answer.healthy else 503)

    return get


def _post_handler(rpc: JsonRpc, max_body_bytes: int) -> Handler:
    async def post(request: web.Request) -> web.Response:
        if request.content_type != JSON:
            return json_response(error_response(INVALID_REQUEST), 415)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return json_response(error_response(INVALID_REQUEST), 413)
        answer = rpc.handle(body)
        if answer is None:
            return web.Response(status=204)
        return json_response(answer)

    return post


def _not_allowed(allow: str) -> Handler:
    body = b'{"error":"method not allowed"}'

    async def not_allowed(request: web.Request) -> web.Response:
        return json_response(body, 405, Allow=allow)

    return not_allowed


async def _not_found(request: web.Request) -> web.Response:
    return json_response(b'{"error":"not found"}', 404)

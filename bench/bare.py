"""The baseline: a bare aiohttp server answering constant bytes, on the same event loop policy."""

from __future__ import annotations

import sys
from pathlib import Path

from aiohttp import web


def main() -> None:
    """bare.py PORT GET_BODY_FILE POST_BODY_FILE"""
    port, get_file, post_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    get_body, post_body = Path(get_file).read_bytes(), Path(post_file).read_bytes()

    async def get(request: web.Request) -> web.Response:
        return web.Response(body=get_body, content_type="application/json")

    async def post(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=post_body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/ext/health", get)
    app.router.add_post("/ext/health", post)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    main()

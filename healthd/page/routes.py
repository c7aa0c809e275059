"""/status and the badges over HTTP: each page rendered once per store version, tags and access."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from aiohttp import web

from healthd.answers import Answers
from healthd.page import BADGE_PATH, CHECK_BADGE_PATH, STATUS_PATH, badge, html, model
from healthd.page.sources import History, Since, store_history, store_since

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Allows = Callable[[web.Request], bool]

CACHED_PAGES = 64
PAGE_HEADERS = {
    "Content-Security-Policy": html.CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
BADGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": "default-src 'none'",
    "X-Content-Type-Options": "nosniff",
}
# Without the token a check badge says nothing about the check, not even whether it exists:
# the same bytes for every name (an answer per name would tell names apart by 404 or state).
RESTRICTED_BADGE = ("check", "token required")


class StatusPage:
    """The page and badges of a store; `history` and `since` as `healthd.page.sources` says."""

    def __init__(
        self,
        answers: Answers,
        history: History | None = None,
        since: Since | None = None,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self._answers = answers
        self._store = store = answers.store
        self._history = history or store_history(store)
        self._since = since or store_since(store)
        self._clock = clock
        # (tags, limited) -> (store version, second, page): "3m ago" must move on even while
        # nothing runs, so a page is kept for at most the second it was rendered in.
        self._pages: OrderedDict[tuple[frozenset[str], bool], tuple[int, int, bytes]] = (
            OrderedDict()
        )

    def page(self, tags: list[str] | None, limited: bool) -> bytes:
        """The HTML of /status for these tags, with check detail unless `limited`."""
        now = self._clock()
        key = (frozenset(tags or ()), limited)
        stamp = (self._store.version, now // 1_000_000_000)
        cached = self._pages.get(key)
        if cached is not None and cached[:2] == stamp:
            self._pages.move_to_end(key)
            return cached[2]
        view = model.snapshot(self._answers, self._history, self._since, tags, limited, now)
        body = html.render(view)
        self._pages[key] = (*stamp, body)
        self._pages.move_to_end(key)
        if len(self._pages) > CACHED_PAGES:
            self._pages.popitem(last=False)
        return body

    def health_badge(self, tags: list[str] | None) -> bytes:
        """The badge of kind health's overall state, as its GET answer has it."""
        return badge.badge("health", badge.overall(self._answers.get("health", tags)))

    def check_badge(self, name: str, limited: bool) -> bytes | None:
        """A check's badge; None for a name the store does not know (unless `limited`)."""
        if limited:
            return badge.badge(*RESTRICTED_BADGE)
        try:
            entry = self._store.entry(name)
        except KeyError:
            return None
        return badge.badge(name, badge.of_check(entry, self._store.get(name)))

    def routes(self, allows: Allows, not_found: Handler) -> dict[str, Handler]:
        """GET (and HEAD) handlers by path; `allows(request)` is true for full detail."""

        async def status(request: web.Request) -> web.Response:
            body = self.page(_tags(request), limited=not allows(request))
            return web.Response(
                body=body, content_type="text/html", charset="utf-8", headers=PAGE_HEADERS
            )

        async def health(request: web.Request) -> web.Response:
            return _svg(self.health_badge(_tags(request)))

        async def check(request: web.Request) -> web.StreamResponse:
            body = self.check_badge(request.match_info["check"], limited=not allows(request))
            return await not_found(request) if body is None else _svg(body)

        return {STATUS_PATH: status, BADGE_PATH: health, CHECK_BADGE_PATH: check}


def _tags(request: web.Request) -> list[str] | None:
    return request.query.getall("tag", None) if request.query_string else None


def _svg(body: bytes) -> web.Response:
    return web.Response(body=body, content_type="image/svg+xml", headers=BADGE_HEADERS)

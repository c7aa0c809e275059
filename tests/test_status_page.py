"""/status and the badges over HTTP: content, escaping, tags, token mode, headers and caching."""

from __future__ import annotations

import base64
import hashlib
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bench.status_page import MAX_BYTES, fleet
from healthd.answers import Answers
from healthd.config import ConfigError, parse_config
from healthd.page import humane
from healthd.page.html import render
from healthd.page.model import MAX_CELLS, snapshot
from healthd.page.routes import StatusPage
from healthd.page.sources import Run
from healthd.result import Outcome
from healthd.server import create_app
from healthd.store import Entry, Store

TOKEN = "page-t0ken"
S = 1_000_000_000
NOW = time.time_ns()  # for what does not depend on the clock the app reads
SCRIPT = "<script>alert(1)</script>"


def make_store() -> Store:
    """Checks that ran a while ago by the real clock (the app's), each half a unit past a
    whole number of them: "3m ago" stays "3m ago" however slow the machine."""
    now = time.time_ns()
    store = Store(
        [
            Entry("node.rpc", "health", frozenset({"node", '<img src=x onerror="alert(2)">'})),
            Entry("pg.main", "health", frozenset({"db"})),
            Entry("disk", "health", frozenset(), critical=False),
            Entry("synced", "readiness", frozenset()),
            Entry("loop", "liveness", frozenset()),
        ]
    )
    store.record("node.rpc", Outcome(error=SCRIPT), now - 210 * S, 38_912_345)
    store.record("pg.main", Outcome(), now - 330 * S, 1_234_000)
    store.record("disk", Outcome(error="92% used"), now - 90 * S, 2_000_000)
    store.record("loop", Outcome(), now - 9000 * S, 50_000)
    return store


def runs(name: str) -> Sequence[Run]:
    """Thirty runs, every third failed, ten seconds apart (more than a strip shows)."""
    return [Run(NOW - (30 - i) * 10 * S, passed=i % 3 != 0) for i in range(30)]


async def client_for(
    aiohttp_client: Any, store: Store, token: str | None = None, **kw: Any
) -> TestClient[Any, Any]:
    return await aiohttp_client(create_app(store, token=token, **kw))  # type: ignore[no-any-return]


def text_of(html: str) -> str:
    """The page's text without tags, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]*>", " ", html).split())


async def test_the_page_shows_each_kinds_state_and_every_check(aiohttp_client: Any) -> None:
    client = await client_for(aiohttp_client, make_store(), history=runs)
    response = await client.get("/status")
    assert response.status == 200
    assert response.content_type == "text/html" and response.charset == "utf-8"
    html = await response.text()
    text = text_of(html)
    # Overall: health fails (node.rpc is critical), readiness has not run, liveness passes.
    assert "health FAIL readiness FAIL liveness PASS" in text
    for row in (
        "node.rpc FAIL 3m ago",
        "pg.main PASS 5m ago",  # since its first run: the record knows when it began passing
        "disk DEGRADED 1m ago",
        "synced not yet run",
        "loop PASS 2h ago",
    ):
        assert row in text, row
    assert "38.9 ms" in text and "1.23 ms" in text and "92% used" in text
    assert "<meta http-equiv=refresh content=10>" in html
    assert re.search(r"<time datetime=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ>3m ago", html)


async def test_the_page_is_self_contained_under_a_strict_policy(aiohttp_client: Any) -> None:
    store = Store([Entry("plain", "health", frozenset({"a"}))])
    store.record("plain", Outcome(error="refused"), NOW, 1)
    client = await client_for(aiohttp_client, store, history=runs)
    response = await client.get("/status")
    html = await response.text()
    policy = response.headers["Content-Security-Policy"]
    style = re.search(r"<style>(.*?)</style>", html, re.S)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in policy
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "<script" not in html and " src=" not in html and "<link" not in html
    assert "http://" not in html and "https://" not in html
    assert " style=" not in html  # inline style attributes would break the policy


async def test_errors_tags_and_names_come_out_escaped(aiohttp_client: Any) -> None:
    client = await client_for(aiohttp_client, make_store())
    html = await (await client.get("/status")).text()
    assert SCRIPT not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in html
    # Config allows no "<" in a name; the page does not rely on that.
    hostile = Store([Entry(SCRIPT, "health", frozenset())])
    hostile.record(SCRIPT, Outcome(error="x"), NOW, 1)
    page = await client_for(aiohttp_client, hostile)
    html = await (await page.get("/status")).text()
    assert SCRIPT not in html and "<th>&lt;script&gt;alert(1)&lt;/script&gt;<td>" in html


async def test_the_history_strip_shows_the_last_runs_oldest_first(aiohttp_client: Any) -> None:
    client = await client_for(aiohttp_client, make_store(), history=runs)
    html = await (await client.get("/status?tag=db")).text()
    strip = re.search(r"<tr class=pass><th>pg.main<td>.*?<ol>(.*?)</ol>", html)
    assert strip is not None
    cells = re.findall(r"<li( class=f)?>([^<]*)", strip.group(1))
    assert len(cells) == MAX_CELLS
    newest = runs("pg.main")[-MAX_CELLS:]
    assert [title for _, title in cells] == [
        f"{humane.clock(run.timestamp_ns, time.time_ns())} {'ok' if run.passed else 'failed'}"
        for run in newest
    ]
    assert [bool(failed) for failed, _ in cells] == [not run.passed for run in newest]


async def test_since_is_the_providers_last_state_change_when_it_knows(
    aiohttp_client: Any,
) -> None:
    def since(name: str) -> int | None:
        return time.time_ns() - 9000 * S if name == "pg.main" else None

    client = await client_for(aiohttp_client, make_store(), since=since)
    text = text_of(await (await client.get("/status")).text())
    assert "pg.main PASS 2h ago" in text and "loop PASS last run 2h ago" in text


async def test_tag_filter_keeps_tagged_and_untagged_checks(aiohttp_client: Any) -> None:
    client = await client_for(aiohttp_client, make_store())
    text = text_of(await (await client.get("/status?tag=db")).text())
    assert "pg.main PASS" in text and "disk DEGRADED" in text and "synced" in text
    assert "node.rpc" not in text
    # Without the failing node.rpc, health is degraded only (disk is not critical).
    assert "health DEGRADED" in text and "tags: db" in text


async def test_without_the_token_the_page_shows_only_overall_states(aiohttp_client: Any) -> None:
    client = await client_for(aiohttp_client, make_store(), token=TOKEN)
    html = await (await client.get("/status", headers={"Authorization": "Bearer nope"})).text()
    text = text_of(html)
    assert "health FAIL readiness FAIL liveness PASS" in text
    for secret in ("node.rpc", "pg.main", "disk", ">db<", "alert", "img", "92%", "38.9"):
        assert secret not in html, secret
    full = await client.get("/status", headers={"Authorization": f"Bearer {TOKEN}"})
    assert "node.rpc" in await full.text()


async def test_badges_answer_200_with_the_state_and_no_cache(aiohttp_client: Any) -> None:
    store = make_store()
    client = await client_for(aiohttp_client, store)
    expected = {
        "/badge.svg": "health: failing",
        "/badge.svg?tag=db": "health: degraded",
        "/badge/node.rpc.svg": "node.rpc: failing",
        "/badge/pg.main.svg": "pg.main: passing",
        "/badge/disk.svg": "disk: degraded",
        "/badge/synced.svg": "synced: not yet run",
    }
    for path, title in expected.items():
        response = await client.get(path)
        assert response.status == 200, path
        assert response.content_type == "image/svg+xml"
        assert response.headers["Cache-Control"] == "no-cache"
        svg = ET.fromstring(await response.read())
        assert svg.findtext("{http://www.w3.org/2000/svg}title") == title, path
    store.record("node.rpc", Outcome(), NOW, 1)
    assert "health: degraded" in await (await client.get("/badge.svg")).text()


async def test_an_unknown_checks_badge_is_404(aiohttp_client: Any) -> None:
    client = await client_for(aiohttp_client, make_store())
    response = await client.get("/badge/nope.svg")
    assert response.status == 404
    assert await response.json() == {"error": "not found"}


async def test_badge_labels_are_escaped_xml(aiohttp_client: Any) -> None:
    store = Store([Entry('a<b>&"c', "health", frozenset())])
    client = await client_for(aiohttp_client, store)
    response = await client.get("/badge/a%3Cb%3E%26%22c.svg")
    body = await response.text()
    assert "<b>" not in body and "a&lt;b&gt;&amp;&#34;c" in body
    svg = ET.fromstring(body)
    assert svg.findtext("{http://www.w3.org/2000/svg}title") == 'a<b>&"c: not yet run'


async def test_without_the_token_every_check_badge_is_the_same(aiohttp_client: Any) -> None:
    client = await client_for(aiohttp_client, make_store(), token=TOKEN)
    known = await client.get("/badge/node.rpc.svg")
    unknown = await client.get("/badge/no-such-check.svg")
    assert known.status == unknown.status == 200
    assert await known.read() == await unknown.read()
    assert "token required" in await known.text()
    overall = await client.get("/badge.svg")
    assert "health: failing" in await overall.text()
    with_token = await client.get(
        "/badge/no-such-check.svg", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert with_token.status == 404


@pytest.mark.parametrize("path", ["/status", "/badge.svg", "/badge/pg.main.svg"])
async def test_head_and_other_methods(aiohttp_client: Any, path: str) -> None:
    client = await client_for(aiohttp_client, make_store())
    head = await client.head(path)
    assert head.status == 200 and await head.read() == b""
    post = await client.post(path)
    assert post.status == 405 and post.headers["Allow"] == "GET, HEAD"


def test_a_page_is_rendered_once_per_store_version_and_second() -> None:
    store = make_store()
    now = [NOW]
    page = StatusPage(Answers(store), clock=lambda: now[0])
    first = page.page(None, limited=False)
    assert page.page(None, limited=False) is first
    assert page.page(["db"], limited=False) is not first
    now[0] += S  # "3m ago" may have to move on
    second = page.page(None, limited=False)
    assert second is not first and page.page(None, limited=False) is second
    store.record("pg.main", Outcome(error="down"), now[0], 1)
    assert b"down" in page.page(None, limited=False)


def test_a_hundred_checks_with_twenty_runs_fit_in_60_kb() -> None:
    store, history = fleet(NOW)
    body = render(
        snapshot(Answers(store), history.__getitem__, lambda name: None, None, False, NOW)
    )
    assert body.count(b"<li") == 100 * MAX_CELLS
    assert len(body) <= MAX_BYTES


@pytest.mark.parametrize("path", ["/status", "/badge.svg", "/badge/x.svg"])
def test_views_cannot_take_the_pages_paths(path: str) -> None:
    with pytest.raises(ConfigError, match=f"views\\[0\\].path: {re.escape(path)} is already"):
        parse_config(f"[[views]]\npath = '{path}'\nformat = 'short'\n", "t.toml")


async def test_without_a_history_provider_the_strip_is_the_last_run(aiohttp_client: Any) -> None:
    client = await client_for(aiohttp_client, make_store())
    html = await (await client.get("/status")).text()
    strips = dict(re.findall(r"<tr class=\w+><th>([^<]+)<td>.*?<td>(?:<ol>(.*?)</ol>)?<td>", html))
    time_of_day = r"(\w{3} \d\d )?\d\d:\d\d:\d\d"  # dated just after midnight
    assert re.fullmatch(rf"<li class=f>{time_of_day} failed", strips["node.rpc"])
    assert re.fullmatch(rf"<li>{time_of_day} ok", strips["pg.main"])
    assert strips["synced"] == ""  # not yet run: nothing to draw


async def test_by_default_the_strip_draws_the_stores_history(aiohttp_client: Any) -> None:
    """Wired to the store: every kept run is a cell, oldest first, failures marked."""
    store = Store([Entry("job", "health", frozenset())], history=20)
    now = time.time_ns()
    for i, outcome in enumerate([Outcome(), Outcome(error="x"), Outcome(), Outcome()]):
        store.record("job", outcome, now - (4 - i) * 60 * S, 1)
    client = await client_for(aiohttp_client, store)
    html = await (await client.get("/status")).text()
    strip = re.search(r"<th>job<td>.*?<ol>(.*?)</ol>", html)
    assert strip is not None
    cells = re.findall(r"<li( class=f)?>([^<]*)", strip.group(1))
    assert [bool(failed) for failed, _ in cells] == [False, True, False, False]
    assert "job PASS 2m ago" in text_of(html)  # passing again since its third run

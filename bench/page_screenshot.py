"""The README's picture of /status: a small demo store served on 127.0.0.1, shot by Chromium.

Run from the repository root:  python bench/status_page.py --screenshot docs/status-page.png
"""

from __future__ import annotations

import asyncio
import socket
import tempfile
import threading
import time
from pathlib import Path

from aiohttp import web

from healthd.checks.base import Kind
from healthd.page.sources import Run
from healthd.result import Outcome
from healthd.server import create_app
from healthd.store import Entry, Store
from tests.helpers.browser import chromium, full_page

S = 1_000_000_000
WIDTH = 1280
# name, kind, tags, critical, error of the last run (None: passed), runs that failed (of 20)
DEMO: tuple[tuple[str, Kind, tuple[str, ...], bool, str | None, set[int]], ...] = (
    ("node.rpc", "health", ("node",), True, None, {6}),
    ("node.synced", "health", ("node",), True, None, set()),
    ("node.peers", "health", ("node",), False, "12 peers connected, want 16", {17, 18, 19}),
    ("postgres", "health", ("db",), True, "connection refused: 10.0.4.7:5432", {16, 17, 18, 19}),
    ("redis", "health", ("db",), True, None, set()),
    ("disk.root", "health", (), True, None, set()),
    ("tls.expiry", "health", ("edge",), True, None, set()),
    ("bootstrapped", "readiness", (), True, None, set()),
    ("scheduler", "liveness", (), True, None, set()),
)
DURATIONS = {"node.rpc": 38_912_345, "postgres": 2_000_870_000, "tls.expiry": 212_400_000}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def demo_store(now_ns: int) -> tuple[Store, dict[str, list[Run]], dict[str, int]]:
    """The demo's store, each check's last 20 runs, and when each check's state last changed."""
    store = Store(
        Entry(name, kind, frozenset(tags), critical) for name, kind, tags, critical, *_ in DEMO
    )
    history: dict[str, list[Run]] = {}
    since: dict[str, int] = {}
    for index, (name, _, _, _, error, failed) in enumerate(DEMO):
        runs = [Run(now_ns - (20 - i) * 15 * S - index * S, i not in failed) for i in range(20)]
        history[name] = runs
        if error:  # failing since its first failed run of this streak
            since[name] = runs[min(failed)].timestamp_ns
        elif failed:  # passing since the run after its last failure
            since[name] = runs[max(failed) + 1].timestamp_ns
        else:  # passing for longer than the history goes back
            since[name] = now_ns - (3 * 3600 + index * 600) * S
        store.record(
            name, Outcome(error=error), runs[-1].timestamp_ns, DURATIONS.get(name, 1_234_567)
        )
    return store, history, since


def screenshot(path: Path) -> None:
    """Serve the demo on 127.0.0.1 and save a PNG of /status, the whole page at WIDTH px."""
    store, history, since = demo_store(time.time_ns())
    app = create_app(store, history=history.__getitem__, since=since.get)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    port = free_port()
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    with tempfile.TemporaryDirectory() as profile:
        driver = chromium(Path(profile))
        try:
            driver.set_window_size(WIDTH, 800)
            driver.get(f"http://127.0.0.1:{port}/status")
            full_page(driver)
            path.parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(path))
        finally:
            driver.quit()
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result()
    loop.call_soon_threadsafe(loop.stop)
    thread.join()

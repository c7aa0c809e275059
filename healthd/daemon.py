"""The running daemon: builds checks from the config, serves them, stops cleanly on a signal."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator

import structlog
from aiohttp import web

from healthd.checks import build_check
from healthd.checks.base import Check, CheckEnv
from healthd.checks.http import SharedSession
from healthd.config import Config
from healthd.runner import Runner
from healthd.scheduler import Progress, Scheduler
from healthd.server import create_app
from healthd.store import Entry, Store

log = structlog.get_logger("healthd")

SHUTDOWN_GRACE = 3.0


class StartError(Exception):
    """The daemon cannot start (the port is taken, …); the text says why."""


class Daemon:
    """Checks, store, runner and scheduler for one configuration."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.progress = Progress()
        self.http = SharedSession()
        env = CheckEnv(progress=self.progress, http=self.http)
        self.checks: list[Check] = [build_check(c.spec, c.timing, env) for c in config.checks]
        self.store = Store(Entry(c.name, c.kind, c.tags) for c in self.checks)
        self.runner = Runner(self.store)
        self.scheduler = Scheduler(self.runner, self.progress)

    async def run_once(self) -> None:
        """Run every check once, concurrently (for `healthd check`)."""
        try:
            await asyncio.gather(*(self.runner.run(check) for check in self.checks))
        finally:
            await self.close()

    async def lifecycle(self, app: web.Application) -> AsyncIterator[None]:
        """aiohttp cleanup context: the scheduler runs exactly as long as the app."""
        self.scheduler.start(self.checks)
        yield
        await self.close()

    async def close(self) -> None:
        """Stop scheduling, cancel runs under way, close shared clients."""
        self.scheduler.stop()
        await self.runner.close()
        await self.http.close()

    def app(self) -> web.Application:
        """The HTTP application serving this daemon's store."""
        return create_app(
            self.store,
            max_body_bytes=self.config.server.max_body_bytes,
            background=self.lifecycle,
        )


async def serve(config: Config) -> int:
    """Serve until SIGTERM or SIGINT; return the exit code."""
    daemon = Daemon(config)
    runner = web.AppRunner(
        daemon.app(), access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_GRACE
    )
    host, port = config.server.host, config.server.port
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        reason = exc.strerror or str(exc)
        raise StartError(f"cannot listen on {_address(host, port)}: {reason}") from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log.info(
        "healthd started",
        address=_address(host, _bound_port(runner, port)),
        config=config.source,
        checks=[f"{c.name} ({c.kind}, {c.spec.type})" for c in daemon.checks],
    )
    await stop.wait()
    await runner.cleanup()
    log.info("healthd stopped")
    return 0


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _bound_port(runner: web.AppRunner, configured: int) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return configured

"""`healthd serve` under systemd: readiness, status, watchdog, reload on SIGHUP, clean stop."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import stat
import sys
import threading
import time
from typing import Any

import structlog
from aiohttp import web

from healthd import log as logging_setup
from healthd.bad_requests import BadRequests, Handler
from healthd.checks.base import host_port
from healthd.children import become_subreaper
from healthd.config import Config, ConfigError, load_config
from healthd.defences import ConnectionsCollector
from healthd.listener import AcceptErrors, Limiter, Listener, raise_fd_limit
from healthd.parts import Parts
from healthd.sd_notify import Notifier, watchdog_interval
from healthd.server import BAD_REQUESTS

log = structlog.get_logger("healthd")

SHUTDOWN_GRACE = 3.0  # for requests in flight; the whole stop stays within systemd's 5 s
FD_HEADROOM = 256  # files beyond the connections: checks' sockets and pipes, logs, the loop
SWEEP_EVERY = 5.0


class StartError(Exception):
    """The daemon cannot start (the port is taken, …); the text says why."""


class Service:
    """One run of the daemon, from listening to a clean stop."""

    def __init__(self, config: Config, config_path: str | None) -> None:
        self.parts = Parts(config)
        self.config_path = config_path
        self.notifier = Notifier()
        self._stop = asyncio.Event()
        self._reload_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._status = ""

    async def run(self) -> int:
        """Serve until SIGTERM or SIGINT; return the exit code."""
        config = self.parts.config
        server = config.server
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(AcceptErrors())
        raise_fd_limit(server.max_connections + FD_HEADROOM)
        listener = Listener(Limiter(server.max_connections, server.header_timeout))
        try:
            # Bound before anything else starts: a taken port fails at once, no check has run.
            await listener.bind(server.host, server.port)
        except OSError as exc:
            # asyncio's own text repeats the address; the errno's text is the reason alone.
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            raise StartError(
                f"cannot listen on {host_port(server.host, server.port)}: {reason}"
            ) from None
        log.info(
            "healthd started",
            address=host_port(server.host, listener.port()),
            config=config.source,
            checks=[f"{c.name} ({c.kind}, {c.spec.type})" for c in self.parts.checks],
        )
        if become_subreaper():
            log.debug("healthd adopts orphaned processes of its checks (child subreaper)")
        malformed = BadRequests()
        app = self.parts.app(
            listener.port(), [ConnectionsCollector(listener.limiter, malformed)], malformed
        )
        runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_GRACE
        )
        await runner.setup()  # starts the scheduler: every check is scheduled from here on
        manager = runner.server
        assert manager is not None
        await listener.serve(
            functools.partial(
                Handler,
                manager,
                loop=loop,
                access_log=None,
                keepalive_timeout=server.keepalive_timeout,
                bad_requests=app[BAD_REQUESTS],
            )
        )
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._stop.set)
        loop.add_signal_handler(signal.SIGHUP, self._spawn_reload)
        warn_if_readable(config.server.token_file)
        self.parts.store.listen(lambda name, record: self._update_status())
        self._status = self.parts.status()
        self.notifier.ready(self._status)
        interval = watchdog_interval()
        if interval is not None and self.notifier.enabled:
            self._spawn(self._watchdog(interval))
        self._spawn(self._sweep_children())
        await self._stop.wait()
        self.notifier.stopping()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        listener.close()
        await runner.cleanup()
        self.notifier.close()
        log.info("healthd stopped")
        return 0

    async def _sweep_children(self) -> None:
        """Reap orphans that checks' processes left (healthd is their subreaper)."""
        while True:
            await asyncio.sleep(SWEEP_EVERY)
            self.parts.children.sweep()

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _spawn_reload(self) -> None:
        if not self._stop.is_set():
            self._spawn(self.reload())

    def _update_status(self) -> None:
        status = self.parts.status()
        if status != self._status:
            self._status = status
            self.notifier.status(status)

    async def _watchdog(self, interval: float) -> None:
        """Ping systemd every half period, only while the scheduler is really making progress."""
        stalled = False
        while True:
            if self.parts.scheduler.making_progress(time.monotonic()):
                self.notifier.watchdog()
                stalled = False
            elif not stalled:
                stalled = True
                log.error("scheduler is not making progress; withholding watchdog pings")
            await asyncio.sleep(interval)

    async def reload(self) -> None:
        """Re-read the config; keep running the old one if the new one is not valid."""
        async with self._reload_lock:
            self.notifier.reloading()
            try:
                await self._reload()
            finally:
                self.notifier.ready(self.parts.status())

    async def _reload(self) -> None:
        try:
            new = await asyncio.to_thread(load_config, self.config_path)
        except ConfigError as exc:
            log.error("config reload failed; keeping the running configuration", error=exc.render())
            return
        old = self.parts.config
        logging_setup.REDACTOR.update([*old.secrets(), *new.secrets()])
        if new.logging != old.logging:
            logging_setup.configure(new.logging.level, new.logging.format)
        threads = ("worker_threads", "user_worker_threads")
        if (
            new.server != old.server
            or new.views != old.views
            or new.token != old.token
            or new.notify != old.notify
            or new.state_dir != old.state_dir
            or any(getattr(new.scheduler, k) != getattr(old.scheduler, k) for k in threads)
        ):
            # Only that access settings changed is logged, never the token itself.
            log.warning(
                "[server], [[views]], [[notify]], access or worker thread settings changed; "
                "restart healthd to apply them",
                running=old.server.model_dump(),
                configured=new.server.model_dump(),
            )
        try:
            changes = await self.parts.apply(new)
        except Exception as exc:  # a check that validates but cannot be built
            log.error(
                "config reload failed; keeping the running configuration",
                error=f"{type(exc).__name__}: {exc}",
            )
            return
        log.info(
            "config reloaded",
            config=new.source,
            added=changes.added,
            changed=changes.changed,
            removed=changes.removed,
            kept=len(changes.kept),
        )
        self._update_status()


def warn_if_readable(token_file: str | None) -> None:
    """Warn when the token file can be read by users other than its owner."""
    if token_file is None:
        return
    try:
        mode = os.stat(token_file).st_mode
    except OSError:
        return
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning(
            "the token file is readable by other users; chmod 600 it",
            token_file=token_file,
            mode=f"{stat.S_IMODE(mode):04o}",
        )


def serve(config: Config, config_path: str | None) -> int:
    """Run the service to its end; return the exit code (never waits on a wedged check thread)."""
    code = asyncio.run(Service(config, config_path).run())
    # A blocking check stuck in its worker thread must not hold the process after a clean stop:
    # the interpreter would join that thread at exit, for as long as the check hangs.
    if threading.active_count() > 1:
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)
    return code

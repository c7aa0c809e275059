"""The daemon's parts for one configuration, and how a new configuration replaces it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import structlog
from aiohttp import web
from prometheus_client.registry import Collector

from healthd.bad_requests import BadRequests
from healthd.checks import build_check
from healthd.checks.base import Check, CheckEnv, host_port
from healthd.checks.http import SharedSession
from healthd.children import Children
from healthd.config import Config
from healthd.defences import LatenessCollector, WorkersCollector
from healthd.maintenance import Maintenance
from healthd.methods import maintenance_method, report_method
from healthd.notify.notifications import Notifications, NotificationsCollector, build_sinks
from healthd.paths import HEALTH
from healthd.reports import Reports
from healthd.rpc import Limits
from healthd.runner import Runner
from healthd.scheduler import Punctuality, Scheduler
from healthd.server import create_app
from healthd.store import Entry, Store
from healthd.writes import WriteMethod

log = structlog.get_logger("healthd")


@dataclass(frozen=True, slots=True)
class Changes:
    """What applying a new configuration did, by check name."""

    added: list[str]
    changed: list[str]
    removed: list[str]
    kept: list[str]


class Parts:
    """Checks, store, runner and scheduler for one configuration."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.punctuality = Punctuality()
        self.http = SharedSession()
        self.children = Children()
        self._env = CheckEnv(schedule=self.punctuality, http=self.http, children=self.children)
        self.checks: list[Check] = [
            build_check(c.spec, c.timing, self._env, c.thresholds) for c in config.checks
        ]
        self.store = Store((_entry(c) for c in self.checks), config.scheduler.history)
        self.runner = Runner(
            self.store, config.scheduler.worker_threads, config.scheduler.user_worker_threads
        )
        self.scheduler = Scheduler(self.runner, self.punctuality)
        self.notifications = Notifications(self.store, build_sinks(config.notify))
        self.maintenance = Maintenance(
            self.store.set_maintenance, config.state_dir, self.notifications.hold
        )
        self.reports = Reports(self.store, self.checks)

    def status(self) -> str:
        """One line for systemd's STATUS=: how many checks, how many passing."""
        total, passing = self.store.counts()
        return f"{total} checks, {passing} passing"

    async def run_once(self) -> None:
        """Run every check once, concurrently (for `healthd check`)."""
        try:
            # Push checks have nothing to run: without a report they stay "not yet run".
            runs = [self.runner.run(check) for check in self.checks if not check.push]
            await asyncio.gather(*runs)
        finally:
            await self.close()

    async def lifecycle(self, app: web.Application) -> AsyncIterator[None]:
        """aiohttp cleanup context: the scheduler runs exactly as long as the app."""
        self.notifications.start()
        self.maintenance.restore()
        self.scheduler.start(self.checks)
        yield
        self.maintenance.close()
        await self.close()

    async def apply(self, new: Config) -> Changes:
        """Switch to a new configuration; unchanged checks keep their records and schedules."""
        old = {item.spec.name: item for item in self.config.checks}
        fresh = {item.spec.name: item for item in new.checks}
        kept = [name for name, item in fresh.items() if old.get(name) == item]
        changed = [name for name in fresh if name in old and name not in kept]
        added = [name for name in fresh if name not in old]
        removed = [name for name in old if name not in fresh]
        current = {check.name: check for check in self.checks}
        # Build everything first: if a check cannot be built, nothing has changed yet.
        checks = [
            current[name]
            if name in kept
            else build_check(item.spec, item.timing, self._env, item.thresholds)
            for name, item in fresh.items()
        ]
        for name in removed + changed:
            self.scheduler.remove(name)
        await self.runner.cancel(set(removed + changed))
        self.notifications.forget(removed)
        self.store.set_entries((_entry(check) for check in checks), keep=kept)
        self.store.history.resize(new.scheduler.history)
        self.reports.set_checks(checks, keep=kept)
        by_name = {check.name: check for check in checks}
        for name in changed + added:
            self.scheduler.add(by_name[name])
        self.checks = checks
        # Routes, the listening socket and the sinks are not rebuilt: [server], [[views]], the
        # token and [[notify]] keep their running values until a restart.
        running = self.config
        self.config = replace(
            new,
            server=running.server,
            views=running.views,
            token=running.token,
            notify=running.notify,
            state_dir=running.state_dir,
        )
        return Changes(added=added, changed=changed, removed=removed, kept=kept)

    async def close(self) -> None:
        """Stop scheduling, cancel runs under way, kill what checks started, close clients."""
        self.scheduler.stop()
        self.reports.close()
        await self.notifications.stop()
        await self.runner.close()
        await self.children.close()
        await self.http.close()

    def app(
        self,
        port: int | None = None,
        collectors: Sequence[Collector] = (),
        malformed: BadRequests | None = None,
    ) -> web.Application:
        """The HTTP application serving this daemon's store (on `port` if not the configured).

        `collectors` add metrics of the serving side (connections); `malformed` counts bad HTTP.
        """
        server = self.config.server
        origin = f"http://{host_port(server.host, server.port if port is None else port)}"
        self.notifications.set_generator_url(f"{origin}{HEALTH}")
        return create_app(
            self.store,
            max_body_bytes=self.config.server.max_body_bytes,
            background=self.lifecycle,
            views=self.config.views,
            token=self.config.token,
            limits=Limits(
                max_batch=self.config.server.max_batch,
                max_response_bytes=self.config.server.max_response_bytes,
            ),
            body_timeout=self.config.server.header_timeout,
            origin=origin,
            collectors=[
                NotificationsCollector(self.notifications),
                WorkersCollector(self.runner),
                LatenessCollector(self.punctuality),
                *collectors,
            ],
            malformed=malformed,
            write_methods={
                "healthd.maintenance": WriteMethod(maintenance_method(self.maintenance)),
                "healthd.report": WriteMethod(
                    report_method(self.reports),
                    lambda params: self.reports.tokens(_check_of(params)),
                ),
            },
        )


def _check_of(params: Any) -> Any:
    """The `check` a healthd.report call names, by name or by position."""
    if isinstance(params, dict):
        return params.get("check")
    return params[0] if isinstance(params, list) and params else None


def _entry(check: Check) -> Entry:
    return Entry(check.name, check.kind, check.tags, check.critical, check.thresholds)

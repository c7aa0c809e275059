"""Every sink of a configuration: fed from the store's state changes, held during maintenance."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Iterator, Sequence

import structlog
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from healthd.history import Transition
from healthd.notify.alertmanager import AlertmanagerSink
from healthd.notify.config import AlertmanagerConfig, NotifyConfig
from healthd.notify.delivery import Sink
from healthd.notify.webhook import WebhookSink
from healthd.store import Store

log = structlog.get_logger("healthd.notify")


def build_sinks(configs: Sequence[NotifyConfig]) -> list[Sink]:
    """One sink per `[[notify]]` table."""
    sinks: list[Sink] = []
    for index, config in enumerate(configs):
        name = config.label(index)
        if isinstance(config, AlertmanagerConfig):
            sinks.append(AlertmanagerSink(name, config))
        else:
            sinks.append(WebhookSink(name, config))
    return sinks


class Notifications:
    """Announces each state change to the sinks that want it, each on its own task."""

    def __init__(self, store: Store, sinks: Sequence[Sink]) -> None:
        self._store = store
        self.sinks = list(sinks)
        self._tasks: list[asyncio.Task[None]] = []
        self._stop_listening: Callable[[], None] = lambda: None
        self.held = False

    def set_generator_url(self, url: str) -> None:
        """The base URL Alertmanager alerts link back to (healthd's endpoint prefix)."""
        for sink in self.sinks:
            if isinstance(sink, AlertmanagerSink):
                sink.generator_url = url

    def start(self) -> None:
        """Listen to the store and start a task per sink (within the running event loop)."""
        if self._tasks or not self.sinks:
            return
        self._stop_listening = self._store.on_transition(self._announce)
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._run(sink)) for sink in self.sinks]

    async def stop(self) -> None:
        """Stop listening and end the sinks' tasks (what is still queued is not sent)."""
        if not self._tasks:
            return
        self._stop_listening()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    def hold(self, held: bool) -> None:
        """Hold announcements back (maintenance), or resume them.

        Changes while held are not announced later; on resuming, stateful sinks (Alertmanager)
        catch up with the current state so none of their alerts stays wrong.
        """
        if held == self.held:
            return
        self.held = held
        if not held:
            for sink in self.sinks:
                sink.resume([t for t in self._current() if sink.wants(t)])

    def _announce(self, transition: Transition) -> None:
        if self.held:
            return
        for sink in self.sinks:
            if sink.wants(transition):
                sink.announce(transition)

    def forget(self, names: Iterable[str]) -> None:
        """These checks are gone (a reload removed or changed them): end what sinks hold."""
        gone = set(names)
        if gone:
            for sink in self.sinks:
                sink.forget(gone)

    def _current(self) -> Iterator[Transition]:
        now = time.time_ns()
        for name in self._store.names():
            entry, record = self._store.entry(name), self._store.get(name)
            if record.timestamp_ns is None:
                continue  # not yet run: nothing to say
            state = entry.state(record)
            yield Transition(
                check=name,
                kind=entry.kind,
                tags=entry.tags,
                from_state=state,
                to_state=state,
                at_ns=record.time_of_first_failure_ns or now,
                error=record.error,
                contiguous_failures=record.contiguous_failures,
            )

    @staticmethod
    async def _run(sink: Sink) -> None:
        try:
            await sink.run()
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug in one sink must not take the daemon down
            log.exception("notification sink stopped", sink=sink.name)


class NotificationsCollector(Collector):
    """`healthd_notifications_{sent,failed}_total{sink}` and the queue length per sink."""

    def __init__(self, notifications: Notifications) -> None:
        self._notifications = notifications

    def collect(self) -> Iterator[Metric]:
        if not self._notifications.sinks:
            return
        sent = CounterMetricFamily(
            "healthd_notifications_sent", "Notifications the sink accepted", labels=["sink"]
        )
        failed = CounterMetricFamily(
            "healthd_notifications_failed",
            "Notifications dropped: not delivered within retry_for, refused, or pushed out of "
            "a full queue",
            labels=["sink"],
        )
        queued = GaugeMetricFamily(
            "healthd_notifications_queued", "Notifications waiting to be sent", labels=["sink"]
        )
        for sink in self._notifications.sinks:
            sent.add_metric([sink.name], sink.sent)
            failed.add_metric([sink.name], sink.failed)
            queued.add_metric([sink.name], sink.queued)
        yield from (sent, failed, queued)

"""Delivery to one sink: a bounded queue, retries with backoff and jitter, one log per outage."""

from __future__ import annotations

import asyncio
import random
from collections import deque
from typing import Any

import aiohttp
import structlog

from healthd.history import Transition
from healthd.notify.config import SinkConfig
from healthd.redact import redact_text

log = structlog.get_logger("healthd.notify")

FIRST_RETRY = 0.25  # seconds before the first retry; doubled each time, with jitter
LONGEST_RETRY = 30.0
# 4xx answers that a retry may fix; any other 4xx means the request itself is wrong.
RETRYABLE_4XX = frozenset({408, 425, 429})


class DeliveryFailed(Exception):
    """One attempt failed; `permanent` when retrying cannot help (the receiver refused it)."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


def backoff(attempt: int) -> float:
    """Seconds to wait before retry number `attempt` (0-based): exponential, with jitter."""
    ceiling = min(LONGEST_RETRY, FIRST_RETRY * 2**attempt)
    return random.uniform(ceiling / 2, ceiling)


class Sink:
    """Posts queued items to one URL on its own task; never blocks whoever queues them.

    The queue is bounded: when full, the oldest item is dropped. An item that cannot be
    delivered within `retry_for` is dropped too. Both count as failed.
    """

    def __init__(self, name: str, config: SinkConfig) -> None:
        self.name = name
        self.config = config
        self.sent = 0
        self.failed = 0
        self._queue: deque[Any] = deque()
        self._wake = asyncio.Event()
        self._secrets = config.secrets()
        self._outage = False
        self._dropped_in_outage = 0
        self.sending = False  # an item is being delivered (or retried)

    @property
    def queued(self) -> int:
        """Items waiting to be sent."""
        return len(self._queue)

    def wants(self, transition: Transition) -> bool:
        """True when the sink's `checks`, `tags` and `kinds` filters let this check through."""
        config = self.config
        if config.checks and transition.check not in config.checks:
            return False
        if config.kinds and transition.kind not in config.kinds:
            return False
        # As in answers (§4): an untagged check is global and passes every tag filter.
        return not config.tags or not transition.tags or not transition.tags.isdisjoint(config.tags)

    def announce(self, transition: Transition) -> None:
        """Queue what this state change means for the sink."""
        raise NotImplementedError

    def resume(self, current: list[Transition]) -> None:
        """Maintenance ended: `current` holds the state of every check the sink wants."""

    def forget(self, checks: set[str]) -> None:
        """These checks no longer exist as they were (a reload removed or changed them)."""

    def payload(self, item: Any) -> bytes:
        """The request body for a queued item, built when it is sent."""
        raise NotImplementedError

    def endpoint(self) -> str:
        """Where items are posted."""
        return self.config.url

    def put(self, item: Any) -> None:
        """Queue an item, dropping the oldest when the queue is full."""
        if len(self._queue) >= self.config.queue:
            self._queue.popleft()
            self._drop()
        self._queue.append(item)
        self._wake.set()

    async def run(self) -> None:
        """Send queued items in order, for as long as the daemon runs."""
        timeout = aiohttp.ClientTimeout(total=self.config.timeout)
        headers = {"Content-Type": "application/json", **self.config.headers}
        async with aiohttp.ClientSession(timeout=timeout, headers=headers) as session:
            while True:
                while not self._queue:
                    self._wake.clear()
                    await self._wake.wait()
                self.sending = True
                try:
                    await self._deliver(session, self._queue.popleft())
                finally:
                    self.sending = False

    async def _deliver(self, session: aiohttp.ClientSession, item: Any) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.retry_for
        attempt = 0
        while True:
            try:
                await self._post(session, self.payload(item))
            except DeliveryFailed as exc:
                self._failing(str(exc))
                delay = backoff(attempt)
                if exc.permanent or loop.time() + delay > deadline:
                    self._drop()
                    return
                await asyncio.sleep(delay)
                attempt += 1
                continue
            self.sent += 1
            if self._outage:
                self._outage = False
                log.info(
                    "notifications delivered again", sink=self.name, dropped=self._dropped_in_outage
                )
                self._dropped_in_outage = 0
            return

    async def _post(self, session: aiohttp.ClientSession, body: bytes) -> None:
        try:
            async with session.post(self.endpoint(), data=body) as response:
                if response.status < 300:
                    return
                permanent = 400 <= response.status < 500 and response.status not in RETRYABLE_4XX
                text = (await response.text(errors="replace"))[:200].strip()
                reason = f"HTTP {response.status}" + (f": {text}" if text else "")
                raise DeliveryFailed(reason, permanent=permanent)
        except TimeoutError:
            raise DeliveryFailed(f"no answer within {self.config.timeout:g}s") from None
        except aiohttp.ClientError as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from None
        except ValueError as exc:  # aiohttp refuses the request itself: retrying cannot help
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}", permanent=True) from None

    def _failing(self, reason: str) -> None:
        if not self._outage:
            self._outage = True
            log.warning(
                "notifications are failing; retrying",
                sink=self.name,
                url=self.config.shown_url(),
                error=redact_text(reason, self._secrets),
                retry_for=self.config.retry_for,
            )

    def _drop(self) -> None:
        self.failed += 1
        if self._outage:
            self._dropped_in_outage += 1

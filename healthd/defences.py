"""Metrics of healthd's own defences: worker threads, connections, malformed requests, lateness.

What the limits of the Reliability section did, and how late the scheduler starts checks (what
the watchdog and the `scheduler` check judge), read at scrape time, so saturation shows on a
dashboard and not only in a log line.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import accumulate
from typing import TYPE_CHECKING

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from healthd.bad_requests import BadRequests
    from healthd.listener import Limiter
    from healthd.runner import Runner
    from healthd.scheduler import Punctuality


class WorkersCollector(Collector):
    """`healthd_worker_threads{pool,state}` (running, stuck) and `healthd_worker_slots{pool}`."""

    def __init__(self, runner: Runner) -> None:
        self._runner = runner

    def collect(self) -> Iterator[Metric]:
        threads = GaugeMetricFamily(
            "healthd_worker_threads",
            "Threads of blocking probes: running in a slot, or stuck past their check's timeout",
            labels=["pool", "state"],
        )
        slots = GaugeMetricFamily(
            "healthd_worker_slots", "Blocking probes that may run at once", labels=["pool"]
        )
        for pool in self._runner.pools():
            threads.add_metric([pool.name, "running"], pool.held)
            threads.add_metric([pool.name, "stuck"], pool.stuck)
            slots.add_metric([pool.name], pool.size)
        yield from (threads, slots)


class ConnectionsCollector(Collector):
    """Open connections, and those refused, evicted or cut off at the header deadline."""

    def __init__(self, limiter: Limiter, bad_requests: BadRequests) -> None:
        self._limiter = limiter
        self._bad_requests = bad_requests

    def collect(self) -> Iterator[Metric]:
        limiter = self._limiter
        yield GaugeMetricFamily(
            "healthd_connections_open", "HTTP connections open now", value=limiter.open
        )
        yield GaugeMetricFamily(
            "healthd_connections_max", "[server] max_connections", value=limiter.max_connections
        )
        for name, value, text in (
            ("refused", limiter.refused, "refused with 503: max_connections reached"),
            ("evicted", limiter.evicted, "silent ones closed to make room for a newcomer"),
            ("timed_out", limiter.timed_out, "closed: no whole request within header_timeout"),
        ):
            yield CounterMetricFamily(
                f"healthd_connections_{name}", f"HTTP connections {text}", value=value
            )
        yield CounterMetricFamily(
            "healthd_bad_requests",
            "Malformed HTTP requests answered 400 (broken framing, encoding, oversize header)",
            value=self._bad_requests.total,
        )


class LatenessCollector(Collector):
    """`healthd_scheduler_lateness_seconds`: how late each check's job started, a histogram."""

    def __init__(self, punctuality: Punctuality) -> None:
        self._punctuality = punctuality

    def collect(self) -> Iterator[Metric]:
        lateness = self._punctuality.lateness
        counts = accumulate(lateness.counts)
        bounds = [f"{bound:g}" for bound in lateness.bounds] + ["+Inf"]
        yield HistogramMetricFamily(
            "healthd_scheduler_lateness_seconds",
            "How late each check's job started after the time it was scheduled for",
            buckets=list(zip(bounds, counts, strict=True)),
            sum_value=lateness.sum,
        )

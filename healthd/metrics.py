"""Prometheus metrics read from the store at scrape time (a scrape never runs a check)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from healthd.answers import Answers
from healthd.checks.base import KINDS

LABELS = ["check", "kind", "critical"]


class StoreCollector(Collector):
    """Per-kind health, per-check gauges and counters, and AvalancheGo's failing-checks gauge."""

    def __init__(self, answers: Answers) -> None:
        self._answers = answers
        self._store = answers.store

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "healthd_check_up", "1 if the check's last run passed, else 0", labels=LABELS
        )
        duration = GaugeMetricFamily(
            "healthd_check_duration_seconds", "How long the check's last run took", labels=LABELS
        )
        contiguous = GaugeMetricFamily(
            "healthd_check_contiguous_failures", "Failed runs of the check in a row", labels=LABELS
        )
        runs = CounterMetricFamily("healthd_check_runs", "Runs of the check", labels=LABELS)
        failures = CounterMetricFamily(
            "healthd_check_failures", "Failed runs of the check", labels=LABELS
        )
        failing = GaugeMetricFamily(
            "healthd_checks_failing",
            'Failing checks of a kind (label "check"): tag "all" counts all of them, '
            '"application" the untagged ones, any other tag its own plus the untagged ones',
            labels=["check", "tag"],
        )
        for kind in KINDS:
            items = self._store.select(kind)
            by_tag: dict[str, int] = {}
            untagged = sum(1 for entry, record in items if not record.passed and not entry.tags)
            for entry, record in items:
                labels = [entry.name, kind, "true" if entry.critical else "false"]
                up.add_metric(labels, 1.0 if record.passed else 0.0)
                duration.add_metric(labels, record.duration_ns / 1e9)
                contiguous.add_metric(labels, record.contiguous_failures)
                total, failed = self._store.totals(entry.name)
                runs.add_metric(labels, total)
                failures.add_metric(labels, failed)
                for tag in entry.tags:
                    by_tag[tag] = by_tag.get(tag, 0) + (0 if record.passed else 1)
            failing.add_metric([kind, "all"], sum(1 for _, r in items if not r.passed))
            failing.add_metric([kind, "application"], untagged)
            for tag, count in sorted(by_tag.items()):
                failing.add_metric([kind, tag], count + untagged)
        yield from answer_metrics(self._answers)
        yield from (up, duration, contiguous, runs, failures, failing)


def answer_metrics(answers: Answers) -> Iterator[Metric]:
    """`healthd_healthy{kind}` (1 exactly when that kind's GET answers 200) and
    `healthd_maintenance` (1 while maintenance mode is on)."""
    healthy = GaugeMetricFamily(
        "healthd_healthy",
        "1 exactly when GET on the kind's path answers 200 (degraded counts as healthy)",
        labels=["kind"],
    )
    for kind in KINDS:
        healthy.add_metric([kind], 1.0 if answers.get(kind).healthy else 0.0)
    yield healthy
    yield GaugeMetricFamily(
        "healthd_maintenance",
        "1 while maintenance mode is on (health and readiness answer 503)",
        value=0.0 if answers.store.maintenance is None else 1.0,
    )


def registry_for(answers: Answers, collectors: Sequence[Collector] = ()) -> CollectorRegistry:
    """A registry of the store's metrics (and `collectors`), plus process, platform and GC ones."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(answers))
    for collector in collectors:
        registry.register(collector)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    """The Prometheus text format of everything in the registry."""
    return generate_latest(registry)

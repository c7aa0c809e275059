"""`type = "alertmanager"`: an alert per failing or degraded check, kept alive, then resolved."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace
from typing import Any

import orjson

from healthd.history import Transition
from healthd.notify.config import AlertmanagerConfig
from healthd.notify.delivery import Sink
from healthd.result import rfc3339nano

ALERTNAME = "HealthCheckFailing"
SEVERITY = {"failing": "critical", "degraded": "warning"}
# A firing alert's endsAt lies this many resend periods ahead: Alertmanager resolves it on its
# own only when healthd has missed that many resends (healthd stopped, or the network is down).
ENDS_AFTER_RESENDS = 3


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert as Alertmanager's API v2 takes it; `ends_ns` is None while it fires."""

    labels: dict[str, str]
    description: str
    starts_ns: int
    generator_url: str
    ends_ns: int | None = None

    def as_json(self, ends_ns: int) -> dict[str, Any]:
        """The alert object, with `endsAt` as given unless it has ended."""
        out: dict[str, Any] = {
            "labels": self.labels,
            "annotations": {"description": self.description},
            "startsAt": rfc3339nano(self.starts_ns),
            "endsAt": rfc3339nano(self.ends_ns if self.ends_ns is not None else ends_ns),
        }
        if self.generator_url:
            out["generatorURL"] = self.generator_url
        return out


class AlertmanagerSink(Sink):
    """Fires, re-sends every `resend` and resolves alerts through `{url}/api/v2/alerts`."""

    config: AlertmanagerConfig

    def __init__(self, name: str, config: AlertmanagerConfig, generator_url: str = "") -> None:
        super().__init__(name, config)
        self.generator_url = generator_url
        self.firing: dict[str, Alert] = {}

    def endpoint(self) -> str:
        return self.config.url.rstrip("/") + "/api/v2/alerts"

    def announce(self, transition: Transition) -> None:
        self._apply(transition, transition.at_ns)

    def resume(self, current: list[Transition]) -> None:
        """After maintenance: fire for checks failing now, resolve those that recovered."""
        now = time.time_ns()
        for state in current:
            self._apply(state, now)

    def forget(self, checks: set[str]) -> None:
        """Resolve the alerts of checks a reload removed or changed (they start afresh)."""
        now = time.time_ns()
        ended = [replace(self.firing.pop(name), ends_ns=now) for name in checks & set(self.firing)]
        if ended:
            self.put(ended)

    def _apply(self, transition: Transition, now_ns: int) -> None:
        old = self.firing.get(transition.check)
        new = self._alert(transition)
        if old is not None and new is not None and old.labels == new.labels:
            if old.description != new.description:
                self.firing[transition.check] = replace(old, description=new.description)
            return
        changed: list[Alert] = []
        if old is not None:
            del self.firing[transition.check]
            changed.append(replace(old, ends_ns=now_ns))
        if new is not None:
            self.firing[transition.check] = new
            changed.append(new)
        if changed:
            self.put(changed)

    def _alert(self, transition: Transition) -> Alert | None:
        state = transition.to_state
        if state == "passing" or state not in self.config.on:
            return None
        labels = {
            "alertname": ALERTNAME,
            "check": transition.check,
            "kind": transition.kind,
            "instance": self.config.instance,
            "severity": SEVERITY[state],
        }
        url = f"{self.generator_url}/{transition.kind}" if self.generator_url else ""
        return Alert(labels, transition.error or state, transition.at_ns, url)

    def payload(self, item: Any) -> bytes:
        ends = time.time_ns() + int(ENDS_AFTER_RESENDS * self.config.resend * 1e9)
        return orjson.dumps([alert.as_json(ends) for alert in item])

    async def run(self) -> None:
        """Deliver, and re-send every firing alert each `resend` so none expires early."""
        async with asyncio.TaskGroup() as group:
            group.create_task(super().run())
            group.create_task(self._resend())

    async def _resend(self) -> None:
        while True:
            await asyncio.sleep(self.config.resend)
            # Something still queued carries the news (and retries); no need to pile up more.
            if self.firing and not self.queued and not self.sending:
                self.put(list(self.firing.values()))

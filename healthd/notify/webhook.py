"""`type = "webhook"`: one JSON object per announced state change."""

from __future__ import annotations

from typing import Any

import orjson

from healthd.history import Transition
from healthd.notify.delivery import Sink
from healthd.result import rfc3339nano


def body(transition: Transition, instance: str) -> dict[str, Any]:
    """The webhook's JSON object (contract §10, plus `instance`)."""
    return {
        "check": transition.check,
        "kind": transition.kind,
        "tags": sorted(transition.tags),
        "from": transition.from_state,
        "to": transition.to_state,
        "at": rfc3339nano(transition.at_ns),
        "error": transition.error,
        "contiguousFailures": transition.contiguous_failures,
        "instance": instance,
    }


class WebhookSink(Sink):
    """POSTs every state change whose new state is in `on`."""

    def announce(self, transition: Transition) -> None:
        if transition.first and transition.to_state == "passing":
            return  # a check that starts out passing is no news
        if transition.to_state in self.config.on:
            self.put(body(transition, self.config.instance))

    def payload(self, item: Any) -> bytes:
        return orjson.dumps(item)

"""[[views]]: a path serving one format over the store, rendered once per change."""

from __future__ import annotations

import socket

from healthd.config import ViewConfig
from healthd.formats import FORMATS, Rendered
from healthd.store import Store


class View:
    """A configured view; its answer is re-rendered only when the store has changed."""

    def __init__(self, store: Store, config: ViewConfig) -> None:
        self.config = config
        self.path = config.path
        self._store = store
        self._instance_id = config.instance_id or socket.gethostname()
        self._tags = list(config.tags) or None
        self._cached: tuple[int, Rendered] | None = None

    def answer(self) -> Rendered:
        """The current answer of this view."""
        version = self._store.version
        if self._cached is None or self._cached[0] != version:
            self._cached = (version, self._render())
        return self._cached[1]

    def _render(self) -> Rendered:
        kind, fmt = self.config.kind, self.config.format
        if fmt == "avalanche":
            answer = self._store.answer(kind, self._tags)
            return Rendered(answer.body, 200 if answer.healthy else 503, answer.healthy)
        items = self._store.select(kind, self._tags, maintenance=True)
        return FORMATS[fmt](items, self._instance_id)

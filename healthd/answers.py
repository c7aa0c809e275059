"""Every answer made of the store's records: GET, `[[views]]`, `health.*`, the page and metrics.

An answer is a pure function of (format, kind, tag filter) and the store's records, so each is
rendered once per store version and served as ready-made bytes until the store changes. This is
the only place that decides when to render; `healthd.formats` decides how.
"""

from __future__ import annotations

import socket
from collections import OrderedDict
from collections.abc import Iterable

from healthd.checks.base import Kind
from healthd.formats import FORMATS, FormatName, Rendered, Renderer
from healthd.store import Store

# Distinct (format, kind, tags) answers kept within one store version; the least recently
# asked for goes first (tag filters come from requests, so their number is not ours to choose).
CACHED_ANSWERS = 64
NO_TAGS: frozenset[str] = frozenset()

Key = tuple[FormatName, Kind, frozenset[str], str]


class Answers:
    """The store's answers, rendered on first request after each change and kept until the next."""

    def __init__(self, store: Store, instance_id: str | None = None) -> None:
        self.store = store
        self._instance_id = instance_id or socket.gethostname()
        self._renderers: dict[FormatName, Renderer] = {}
        self._checks_version = -1
        self._version = -1
        self._cache: OrderedDict[Key, Rendered] = OrderedDict()

    def get(
        self,
        kind: Kind,
        tags: Iterable[str] | None = None,
        fmt: FormatName = "avalanche",
        instance_id: str | None = None,
    ) -> Rendered:
        """The answer of `kind` in format `fmt`, with only the checks carrying one of `tags`
        (and the untagged, global ones); `instance_id` for formats that name the instance."""
        store = self.store
        if store.version != self._version:
            self._cache.clear()
            self._version = store.version
            if store.checks_version != self._checks_version:
                # Other checks: renderers that keep pieces of the old ones start afresh.
                self._renderers = {name: make() for name, make in FORMATS.items()}
                self._checks_version = store.checks_version
        key = (fmt, kind, frozenset(tags) if tags else NO_TAGS, instance_id or self._instance_id)
        cache = self._cache
        found = cache.get(key)
        if found is not None:
            cache.move_to_end(key)
            return found
        items = store.select(kind, key[2], maintenance=True)
        found = cache[key] = self._renderers[fmt](items, key[3])
        if len(cache) > CACHED_ANSWERS:
            cache.popitem(last=False)
        return found

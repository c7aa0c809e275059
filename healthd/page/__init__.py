"""The status page and badges people look at: /status, /badge.svg and /badge/{check}.svg.

This module only names the paths (config reserves them); the rest lives in its modules:
`sources` (the history seam), `humane` (times and durations for people), `model` (what the
page shows), `html` and `badge` (pure renderers), `routes` (caching and aiohttp handlers).
"""

from __future__ import annotations

STATUS_PATH = "/status"
BADGE_PATH = "/badge.svg"
CHECK_BADGE_PREFIX = "/badge/"
CHECK_BADGE_PATH = CHECK_BADGE_PREFIX + "{check}.svg"
PATHS = (STATUS_PATH, BADGE_PATH)


def is_page_path(path: str) -> bool:
    """True for a path the page or a badge answers (a `[[views]]` path must not be one)."""
    return path in PATHS or (path.startswith(CHECK_BADGE_PREFIX) and path.endswith(".svg"))

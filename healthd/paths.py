"""The paths healthd answers itself: the router is built from them, and `[[views]]` may not
take one."""

from __future__ import annotations

from healthd.checks.base import KINDS, Kind
from healthd.page import is_page_path

HEALTH = "/ext/health"  # AvalancheGo's Health API: GET (kind health) and JSON-RPC
METRICS = "/metrics"


def kind_path(kind: Kind) -> str:
    """The GET path of one kind's answer."""
    return f"{HEALTH}/{kind}"


HEALTH_PATHS = (HEALTH, f"{HEALTH}/")  # with and without the trailing slash
RESERVED = (*HEALTH_PATHS, *(kind_path(kind) for kind in KINDS), METRICS)


def is_reserved(path: str) -> bool:
    """True for a path healthd serves itself: the health paths, metrics, the page and badges."""
    return path in RESERVED or is_page_path(path)

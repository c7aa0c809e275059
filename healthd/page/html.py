"""The status page as HTML: a pure function of a snapshot, through an autoescaping template."""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from collections.abc import Sequence
from html import escape as _escape
from importlib.resources import files

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from healthd.page.model import Cell, Snapshot

REFRESH_SECONDS = 10

_env = Environment(
    loader=PackageLoader("healthd.page", "templates"),
    autoescape=select_autoescape(["html", "svg"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

# Each run's cell: the words are its accessible name (and show on hover); a class marks the
# outcomes that are not "ok", for their colour and shape. Up to 2000 cells make up most of a
# page, so each is as short as HTML allows (</li> is implied by the next <li>).
_CELL_OPEN = {"ok": "<li>", "degraded": "<li class=d>", "failed": "<li class=f>"}


def strip(cells: Sequence[Cell]) -> Markup:
    """The <li> cells of a history strip, their titles escaped."""
    return Markup("".join([_cell(cell) for cell in cells]))


# Nearly every cell is one drawn a moment ago: remembered, as str, rather than escaped as
# Markup one by one (that was most of a page's rendering time).
@functools.lru_cache(maxsize=16384)
def _cell(cell: Cell) -> str:
    return _CELL_OPEN[cell.outcome] + _escape(cell.title)


_env.filters["strip"] = strip
_template = _env.get_template("status.html")


def _minified(css: str) -> str:
    """The stylesheet without line breaks and indentation (it is sent with every page)."""
    return re.sub(r"\n\s*", "", css).strip()


CSS = _minified(files("healthd.page").joinpath("templates/status.css").read_text("utf-8"))
_STYLE_HASH = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
# Nothing but the one inline stylesheet may load or run; the page is not to be framed.
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def render(page: Snapshot) -> bytes:
    """The HTML of the status page (UTF-8)."""
    health = page.kinds[0]
    text = _template.render(page=page, health=health, css=Markup(CSS), refresh=REFRESH_SECONDS)
    return text.encode()

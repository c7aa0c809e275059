"""Shields-style flat SVG badges ("health | passing"): a pure function of label and state."""

from __future__ import annotations

import functools
from typing import Literal

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from healthd.formats import Rendered, state
from healthd.result import Record
from healthd.store import Entry

Message = Literal["passing", "degraded", "failing", "not yet run", "token required"]
COLORS: dict[Message, str] = {
    "passing": "#4c1",
    "degraded": "#dfb317",
    "failing": "#e05d44",
    "not yet run": "#9f9f9f",
    "token required": "#9f9f9f",
}
_STATES: dict[str, Message] = {"pass": "passing", "warn": "degraded", "fail": "failing"}

# Advance widths of Verdana at 11 px, the font shields.io measures with; others count as "m"
# would not, so unknown characters take a wide 7.5 px (a badge a little wide beats clipped text).
_NARROW = dict.fromkeys("ijlI|!.,:;'`", 3.0) | dict.fromkeys("frt()[]{}/\\- ", 4.3)
_WIDE = dict.fromkeys("mwMW", 10.3) | dict.fromkeys("%@&", 9.5)
_WIDTHS = _NARROW | _WIDE | dict.fromkeys("ABCDEFGHJKLNOPQRSTUVXYZ", 7.6)
_WIDTHS |= dict.fromkeys('abcdeghknopqsuvxyz0123456789_#?=+<>"', 6.6)
HORIZONTAL_PADDING = 5

_template = Environment(
    loader=PackageLoader("healthd.page", "templates"),
    autoescape=select_autoescape(["svg"]),
    undefined=StrictUndefined,
).get_template("badge.svg")


def text_width(text: str) -> int:
    """Roughly how wide `text` is in Verdana 11 px, rounded up to whole pixels."""
    return int(-(-sum(_WIDTHS.get(char, 7.5) for char in text) // 1))


@functools.lru_cache(maxsize=1024)
def badge(label: str, message: Message) -> bytes:
    """The SVG of a two-part badge: a grey label and a message coloured by state."""
    label_width = text_width(label) + 2 * HORIZONTAL_PADDING
    message_width = text_width(message) + 2 * HORIZONTAL_PADDING
    return _template.render(
        label=label,
        message=message,
        color=COLORS[message],
        width=label_width + message_width,
        left=label_width,
        right=message_width,
        # shields writes text at 10x scale (transform="scale(.1)") for sub-pixel placement.
        label_x=label_width * 5,
        label_length=(label_width - 2 * HORIZONTAL_PADDING) * 10,
        message_x=label_width * 10 + message_width * 5,
        message_length=(message_width - 2 * HORIZONTAL_PADDING) * 10,
    ).encode()


def overall(answer: Rendered) -> Message:
    """A kind's state as its GET answer has it."""
    if not answer.healthy:
        return "failing"
    return "degraded" if answer.degraded else "passing"


def of_check(entry: Entry, record: Record) -> Message:
    """One check's state, "not yet run" before its first run."""
    if record.timestamp_ns is None:
        return "not yet run"
    return _STATES[state(entry, record)]

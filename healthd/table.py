"""The checks table of `healthd status` and `healthd check`: fits the terminal, plain when piped."""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

PASS, DEGRADED, FAIL, NOT_RUN = "PASS", "DEGRADED", "FAIL", "NOT RUN"
STATES = (PASS, DEGRADED, FAIL, NOT_RUN)
_COLORS = {PASS: "32", DEGRADED: "33", FAIL: "1;31", NOT_RUN: "2"}  # ANSI SGR codes
_GAP = "  "
MIN_DETAIL_WIDTH = 30  # narrower than this, optional columns give way to the error text
MAX_DETAIL_LINES = 3  # on a terminal a long error wraps to at most this many lines, then "…"


@dataclass(frozen=True, slots=True)
class Row:
    """One check as the table shows it; every cell already text."""

    name: str
    kind: str
    state: str
    duration: str
    failures: str = "0"
    since: str = ""  # how long it has been failing; "" everywhere drops the column
    tags: str = "-"
    detail: str = ""


def state_of(*, failing: bool, ran: bool, critical: bool, degraded: bool) -> str:
    """PASS, DEGRADED (a non-critical or WARNING failure), FAIL, or NOT RUN."""
    if not failing:
        return PASS
    if not ran:
        return NOT_RUN
    return DEGRADED if degraded or not critical else FAIL


# (header, Row attribute, optional): optional columns are dropped, last first, when space is short.
_COLUMNS = (
    ("CHECK", "name", False),
    ("KIND", "kind", True),
    ("STATE", "state", False),
    ("DURATION", "duration", False),
    ("FAILS", "failures", True),
    ("FAILING FOR", "since", True),
    ("TAGS", "tags", True),
)


def render(
    rows: Sequence[Row], *, width: int | None, color: bool, detail_header: str = "ERROR"
) -> list[str]:
    """The table's lines. `width` None: one line per check, nothing cut (for pipes and files)."""
    columns = [c for c in _COLUMNS if not c[2] or any(getattr(r, c[1]) for r in rows)]
    widths = {
        attr: max([len(head), *(len(getattr(r, attr)) for r in rows)]) for head, attr, _ in columns
    }

    def fixed() -> int:
        return sum(widths[attr] + len(_GAP) for _, attr, _ in columns)

    if width is not None:
        optional = [c for c in columns if c[2]]
        while width - fixed() < MIN_DETAIL_WIDTH and optional:
            columns.remove(optional.pop())
    detail_width = None if width is None else max(width - fixed(), 10)

    def line(cells: Sequence[str], detail: str, state: str | None = None) -> str:
        parts = [
            cell.ljust(widths[attr]) for cell, (_, attr, _) in zip(cells, columns, strict=True)
        ]
        if color and state is not None:
            index = [attr for _, attr, _ in columns].index("state")
            parts[index] = f"\x1b[{_COLORS[state]}m{parts[index]}\x1b[0m"
        return (_GAP.join(parts) + _GAP + detail).rstrip()

    header = line([head for head, _, _ in columns], detail_header)
    lines = [f"\x1b[1m{header}\x1b[0m" if color else header]
    indent = " " * fixed()
    for row in rows:
        cells = [getattr(row, attr) for _, attr, _ in columns]
        detail = " ".join(row.detail.split())  # one line of text whatever the check wrote
        if detail_width is None:
            lines.append(line(cells, detail, row.state))
            continue
        wrapped = textwrap.wrap(detail, detail_width, break_on_hyphens=False) or [""]
        if len(wrapped) > MAX_DETAIL_LINES:
            wrapped = wrapped[:MAX_DETAIL_LINES]
            wrapped[-1] = wrapped[-1][: detail_width - 1] + "…"
        lines.append(line(cells, wrapped[0], row.state))
        lines += [(indent + more).rstrip() for more in wrapped[1:]]
    return lines


def summary(rows: Sequence[Row], healthy: bool) -> str:
    """One line: how many checks in each state, and the verdict of the `health` kind."""
    counts = Counter(row.state for row in rows)
    parts = [f"{counts[state]} {state.lower()}" for state in STATES if counts[state]]
    verdict = "healthy" if healthy else "unhealthy"  # of the kind GET /ext/health answers
    noun = "check" if len(rows) == 1 else "checks"
    return f"{len(rows)} {noun}: {', '.join(parts) or 'none'}; health: {verdict}"

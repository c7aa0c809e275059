"""`healthd check`: run every configured check once and print the table or the result object."""

from __future__ import annotations

import json
import shutil
import sys

import orjson

from healthd import table
from healthd.answers import Answers
from healthd.checks.base import Check
from healthd.config import Config
from healthd.durations import human_duration
from healthd.parts import Parts
from healthd.result import Record


async def check_once(config: Config, *, as_json: bool) -> bool:
    """Run the checks once, print what they gave; True when the `health` answer is healthy."""
    parts = Parts(config)
    await parts.run_once()
    answer = Answers(parts.store).get("health")
    if as_json:
        text = orjson.dumps(orjson.loads(answer.body), option=orjson.OPT_INDENT_2).decode()
        sys.stdout.write(text + "\n")
        return answer.healthy
    rows = [row(check, parts.store.get(check.name)) for check in parts.checks]
    terminal = sys.stdout.isatty()
    width = shutil.get_terminal_size().columns if terminal else None
    lines = table.render(rows, width=width, color=terminal, detail_header="DETAIL")
    lines.append(table.summary(rows, answer.healthy))
    print("\n".join(lines))
    return answer.healthy


def row(check: Check, record: Record) -> table.Row:
    """A check and its record as a table row."""
    return table.Row(
        name=check.name,
        kind=check.kind,
        state=table.state_of(
            failing=not record.passed,
            ran=record.timestamp_ns is not None,
            critical=check.critical,
            degraded=record.degraded,
        ),
        duration=human_duration(record.duration_ns / 1e9),
        failures=str(record.contiguous_failures),
        tags=",".join(sorted(check.tags)) or "-",
        detail=detail(record),
    )


def detail(record: Record) -> str:
    """The error of a failing run, else the message it returned."""
    if record.error is not None:
        return record.error
    # Spaces after commas let a long message wrap between its fields.
    return json.dumps(orjson.loads(record.message)) if record.message is not None else ""

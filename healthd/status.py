"""`healthd status`: ask a running daemon over JSON-RPC and show its checks as a table."""

from __future__ import annotations

import shutil
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson

from healthd import table
from healthd.durations import format_duration, human_duration
from healthd.remote import Refused, endpoint, read_token

EXIT_HEALTHY, EXIT_UNHEALTHY, EXIT_UNREACHABLE = 0, 1, 2
KINDS = ("health", "readiness", "liveness")
WATCH_EVERY = 2.0  # seconds between refreshes of --watch


Unreachable = Refused  # the daemon could not be asked: the text says why


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the daemon said: every check's facts and last result, and overall health."""

    rows: list[dict[str, Any]]
    healthy: bool
    health: bytes  # the `health.health` result object exactly as the daemon sent it


def fetch(url: str, token: str | None, timeout: float = 5.0) -> Snapshot:
    """One JSON-RPC batch: the checks' facts and the results of every kind."""
    batch = [{"jsonrpc": "2.0", "id": 0, "method": "healthd.checks"}] + [
        {"jsonrpc": "2.0", "id": i, "method": f"health.{kind}"} for i, kind in enumerate(KINDS, 1)
    ]
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=orjson.dumps(batch), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answers = {item["id"]: item for item in orjson.loads(response.read())}
    except urllib.error.HTTPError as exc:
        raise Unreachable(f"{url}: HTTP {exc.code} {_http_reason(exc, token)}") from None
    except (urllib.error.URLError, OSError) as exc:
        cause = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise Unreachable(f"cannot reach {url}: {_reason(cause)}") from None
    except (orjson.JSONDecodeError, TypeError, KeyError):
        raise Unreachable(f"{url} did not answer as healthd does") from None
    for answer in answers.values():
        if "error" in answer:
            raise Unreachable(f"{url}: {answer['error'].get('message')}")
    facts = {check["name"]: check for check in answers[0]["result"]}
    rows = []
    for i, kind in enumerate(KINDS, 1):
        for name, result in answers[i]["result"]["checks"].items():
            rows.append(
                {
                    **facts.get(name, {"name": name, "tags": [], "critical": True}),
                    "kind": kind,
                    **result,
                }
            )
    health = orjson.dumps(answers[1]["result"])
    return Snapshot(rows, bool(answers[1]["result"]["healthy"]), health)


def _reason(cause: object) -> str:
    """An OS error in a few words ("connection refused"), as the checks say it."""
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused"
    if isinstance(cause, TimeoutError):
        return "timed out"
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    return str(cause)


def _http_reason(exc: urllib.error.HTTPError, token: str | None) -> str:
    if exc.code != 401:
        return str(exc.reason)
    if token:
        return "the daemon rejected the token"
    return "the daemon needs a token: give it with --token-file or $HEALTHD_TOKEN"


def state(row: dict[str, Any]) -> str:
    """The row's state; a Monitoring Plugins WARNING is degraded like a non-critical failure.

    The answer says `degraded` only if the daemon sends it; else a WARNING is recognised by the
    `nagios` check's own message ({"status", "text", "perfdata"}).
    """
    message = row.get("message")
    warning = (
        isinstance(message, dict)
        and message.keys() == {"status", "text", "perfdata"}
        and message["status"] == "WARNING"
    )
    return table.state_of(
        failing="error" in row,
        ran=row.get("timestamp") is not None,
        critical=bool(row.get("critical", True)),
        degraded=bool(row.get("degraded", False)) or warning,
    )


def failing_for(stamp: str | None, now: datetime) -> str:
    """How long ago an RFC 3339 timestamp was, to the second ("-" for none)."""
    if not stamp:
        return "-"
    # Python before 3.12 reads at most microseconds; Go writes up to nanoseconds.
    head, _, fraction = stamp.rstrip("Z").partition(".")
    moment = datetime.fromisoformat(head + ("." + fraction[:6] if fraction else "") + "+00:00")
    return format_duration(max(0, round((now - moment).total_seconds())))


def rows_of(snapshot: Snapshot, now: datetime | None = None) -> list[table.Row]:
    """The snapshot as table rows."""
    now = now or datetime.now(UTC)
    return [
        table.Row(
            name=row["name"],
            kind=row["kind"],
            state=state(row),
            duration=human_duration(row.get("duration", 0) / 1e9),
            failures=str(row.get("contiguousFailures", 0)),
            since=failing_for(row.get("timeOfFirstFailure"), now),
            tags=",".join(row.get("tags", [])) or "-",
            detail=(row.get("error") or {}).get("message", ""),
        )
        for row in snapshot.rows
    ]


def text(snapshot: Snapshot, url: str, *, width: int | None, color: bool) -> str:
    """The whole screen: the table, then the summary line."""
    rows = rows_of(snapshot)
    lines = [f"healthd at {url}", *table.render(rows, width=width, color=color)]
    lines.append(table.summary(rows, snapshot.healthy))
    return "\n".join(lines)


def run(
    url: str, token_file: str | None, *, watch: bool, as_json: bool, out: TextIO | None = None
) -> int:
    """Show the daemon's checks once, or refreshed in place with --watch; return the exit code."""
    out = out or sys.stdout
    url = endpoint(url)
    try:
        token = read_token(token_file)
        snapshot = fetch(url, token)
    except Unreachable as exc:
        print(f"healthd: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    if as_json:
        out.write(orjson.dumps(orjson.loads(snapshot.health), option=orjson.OPT_INDENT_2).decode())
        out.write("\n")
        return EXIT_HEALTHY if snapshot.healthy else EXIT_UNHEALTHY
    terminal = out.isatty()
    if not watch:
        width = shutil.get_terminal_size().columns if terminal else None
        print(text(snapshot, url, width=width, color=terminal), file=out)
        return EXIT_HEALTHY if snapshot.healthy else EXIT_UNHEALTHY
    return _watch(url, token, snapshot, out, terminal)


def _watch(url: str, token: str | None, snapshot: Snapshot | None, out: TextIO, tty: bool) -> int:
    """Redraw the whole screen every WATCH_EVERY seconds until Ctrl-C."""
    code = EXIT_HEALTHY
    problem = ""
    try:
        while True:
            width = shutil.get_terminal_size().columns if tty else None
            if snapshot is not None:
                code = EXIT_HEALTHY if snapshot.healthy else EXIT_UNHEALTHY
                screen = text(snapshot, url, width=width, color=tty)
            else:
                code = EXIT_UNREACHABLE
                screen = f"healthd: {problem}"
            stamp = datetime.now().astimezone().strftime("%H:%M:%S")
            screen += f"\nrefreshed {stamp}, every {format_duration(WATCH_EVERY)}; Ctrl-C to stop"
            # Home and clear the screen: nothing of the previous drawing (old errors) survives.
            out.write(("\x1b[H\x1b[2J" if tty else "\n") + screen + "\n")
            out.flush()
            time.sleep(WATCH_EVERY)
            try:
                snapshot = fetch(url, token)
            except Unreachable as exc:
                snapshot, problem = None, str(exc)
    except KeyboardInterrupt:
        return code

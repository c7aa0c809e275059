"""`healthd status`: ask a running daemon and show its checks as a colored table."""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from rich.console import Console
from rich.live import Live
from rich.table import Table

from healthd.durations import format_duration

EXIT_HEALTHY, EXIT_UNHEALTHY, EXIT_UNREACHABLE = 0, 1, 2
DEFAULT_URL = "http://127.0.0.1:9660/ext/health"
KINDS = ("health", "readiness", "liveness")
STYLES = {"PASS": "green", "DEGRADED": "yellow", "FAIL": "bold red", "NOT RUN": "dim"}


class Unreachable(Exception):
    """The daemon could not be asked: the text says why."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the daemon said: every check's facts and last result, and overall health."""

    rows: list[dict[str, Any]]
    healthy: bool


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
        reason = "unauthorized: give the token with --token-file" if exc.code == 401 else exc.reason
        raise Unreachable(f"{url}: HTTP {exc.code} {reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        cause = exc.reason if isinstance(exc, urllib.error.URLError) else exc.strerror or exc
        raise Unreachable(f"cannot reach {url}: {cause}") from None
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
    return Snapshot(rows, bool(answers[1]["result"]["healthy"]))


def state(row: dict[str, Any]) -> str:
    if "error" not in row:
        return "PASS"
    if row.get("timestamp") is None:
        return "NOT RUN"
    return "FAIL" if row.get("critical", True) else "DEGRADED"


def since(stamp: str | None) -> str:
    if not stamp:
        return "-"
    moment = datetime.fromisoformat(
        stamp.replace("Z", "+00:00")[:26] + "+00:00"
        if "." in stamp
        else stamp.replace("Z", "+00:00")
    )
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def table(snapshot: Snapshot, url: str) -> Table:
    """The checks as a rich table."""
    verdict = "[green]healthy[/]" if snapshot.healthy else "[bold red]unhealthy[/]"
    grid = Table(title=f"healthd at {url}: {verdict}", title_justify="left")
    for column in ("check", "kind", "tags", "state", "duration", "failures", "since", "error"):
        grid.add_column(column, overflow="fold")
    for row in snapshot.rows:
        label = state(row)
        grid.add_row(
            row["name"],
            row["kind"],
            ",".join(row.get("tags", [])) or "-",
            f"[{STYLES[label]}]{label}[/]",
            format_duration(row.get("duration", 0) / 1e9),
            str(row.get("contiguousFailures", 0)),
            since(row.get("timeOfFirstFailure")),
            (row.get("error") or {}).get("message", ""),
        )
    return grid


def read_token(token_file: str | None) -> str | None:
    """The token from --token-file, else $HEALTHD_TOKEN."""
    if token_file:
        with open(token_file, encoding="utf-8") as handle:
            return handle.read().strip() or None
    return os.environ.get("HEALTHD_TOKEN", "").strip() or None


def run(url: str, token_file: str | None, watch: bool, console: Console | None = None) -> int:
    """Show the daemon's checks once, or refreshed in place with --watch; return the exit code."""
    console = console or Console()
    try:
        token = read_token(token_file)
    except OSError as exc:
        console.print(f"healthd: cannot read the token file: {exc.strerror}", style="red")
        return EXIT_UNREACHABLE
    try:
        snapshot = fetch(url, token)
    except Unreachable as exc:
        console.print(f"healthd: {exc}", style="red")
        return EXIT_UNREACHABLE
    if not watch:
        console.print(table(snapshot, url))
        return EXIT_HEALTHY if snapshot.healthy else EXIT_UNHEALTHY
    code = EXIT_HEALTHY if snapshot.healthy else EXIT_UNHEALTHY
    try:
        with Live(table(snapshot, url), console=console, auto_refresh=False) as live:
            while True:
                time.sleep(2.0)
                try:
                    snapshot = fetch(url, token)
                    code = EXIT_HEALTHY if snapshot.healthy else EXIT_UNHEALTHY
                    live.update(table(snapshot, url), refresh=True)
                except Unreachable as exc:
                    code = EXIT_UNREACHABLE
                    live.update(f"[red]healthd: {exc}[/]", refresh=True)
    except KeyboardInterrupt:
        return code

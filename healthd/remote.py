"""Talking to a running daemon: its endpoint, the token, one JSON-RPC call; `maintenance`.

Kept light on purpose (urllib and orjson only): `healthd status`, `maintenance` and `report`
run from shell scripts, cron and upgrade hooks.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, TextIO

import orjson

EXIT_OK, EXIT_REFUSED = 0, 2
DEFAULT_URL = "http://127.0.0.1:9660/ext/health"
HEALTH_PATH = "/ext/health"
ENV_TOKEN = "HEALTHD_TOKEN"


class Refused(Exception):
    """The daemon could not be asked, or said no: the text says why."""


def endpoint(text: str) -> str:
    """The JSON-RPC URL from `host:port`, `http://host:port`, either with the path or a slash."""
    text = text.strip()
    if "://" not in text:
        text = "http://" + text
    parts = urllib.parse.urlsplit(text)
    path = parts.path.rstrip("/") or HEALTH_PATH
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def read_token(token_file: str | None) -> str | None:
    """The token from --token-file, else $HEALTHD_TOKEN; Refused naming the file if unreadable."""
    if token_file:
        try:
            with open(token_file, encoding="utf-8") as handle:
                return handle.read().strip() or None
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or "not UTF-8 text"
            raise Refused(f"cannot read the token file {token_file}: {reason}") from None
    return os.environ.get(ENV_TOKEN, "").strip() or None


def call(url: str, method: str, params: Any, token: str | None, timeout: float = 10.0) -> Any:
    """One JSON-RPC request; its result, or Refused naming the reason."""
    body = orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = orjson.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            answer = orjson.loads(exc.read())
        except orjson.JSONDecodeError:
            raise Refused(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        cause = exc.reason if isinstance(exc, urllib.error.URLError) else exc.strerror or exc
        raise Refused(f"cannot reach {url}: {cause}") from None
    except orjson.JSONDecodeError:
        raise Refused(f"{url} did not answer as healthd does") from None
    if not isinstance(answer, dict):
        raise Refused(f"{url} did not answer as healthd does")
    if "error" in answer:
        error = answer["error"]
        data = error.get("data")
        raise Refused(f"{error.get('message')}" + (f": {data}" if data else ""))
    return answer.get("result")


def report(
    url: str,
    token_file: str | None,
    check: str,
    status: str,
    output: str | None = None,
    out: TextIO = sys.stdout,
) -> int:
    """`healthd report NAME STATUS`: exit 0 when the daemon took it, else 2 with one line why."""
    word: str | int = int(status) if status.isdigit() else status
    params: dict[str, Any] = {"check": check, "status": word}
    if output is not None:
        params["output"] = output
    answer = _write(url, token_file, "healthd.report", params)
    if answer is None:
        return EXIT_REFUSED
    print(f"{check}: {answer.get('state') if isinstance(answer, dict) else answer}", file=out)
    return EXIT_OK


def _write(url: str, token_file: str | None, method: str, params: dict[str, Any]) -> Any:
    """One write call; its result, or None once the reason it failed is on stderr."""
    try:
        return call(endpoint(url), method, params, read_token(token_file))
    except Refused as exc:
        print(f"healthd: {exc}", file=sys.stderr)
        return None


def maintenance(
    url: str,
    token_file: str | None,
    enable: bool,
    reason: str | None = None,
    duration: str | None = None,
    out: TextIO = sys.stdout,
) -> int:
    """`healthd maintenance on|off`: prints the resulting state; exit 0, or 2 with the reason."""
    params: dict[str, Any] = {"enable": enable}
    if reason is not None:
        params["reason"] = reason
    if duration is not None:
        params["duration"] = duration
    state = _write(url, token_file, "healthd.maintenance", params)
    if state is None:
        return EXIT_REFUSED
    if not state.get("enabled"):
        print("maintenance off", file=out)
    else:
        text = "maintenance on"
        if state.get("reason"):
            text += f": {state['reason']}"
        if state.get("until"):
            text += f" (until {state['until']})"
        print(text, file=out)
    return EXIT_OK

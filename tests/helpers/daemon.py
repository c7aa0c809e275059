"""A real `healthd serve` subprocess, JSON-RPC and raw HTTP over sockets to it, for tests from
outside."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from jsonrpcclient import Error, Ok, parse, request

from tests.helpers.cli import ROOT, environment
from tests.helpers.config import toml_value
from tests.helpers.net import free_port
from tests.helpers.waiting import PATIENCE, until

JSON_HEADERS = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Answer:
    """One HTTP response as it came over the wire."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def section(name: str, keys: Mapping[str, Any]) -> str:
    """A TOML table."""
    return f"[{name}]\n" + "".join(f"{key} = {toml_value(value)}\n" for key, value in keys.items())


class Served:
    """A running `healthd serve`: its process, its port, its log files."""

    def __init__(self, proc: subprocess.Popen[bytes], port: int, config: Path) -> None:
        self.proc = proc
        self.port = port
        self.config = config
        self.stdout = config.with_suffix(".out")
        self.stderr = config.with_suffix(".err")
        self.process = psutil.Process(proc.pid)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/ext/health"

    def get(self, path: str = "", headers: Mapping[str, str] | None = None) -> Answer:
        """GET over urllib (a fresh connection, closed after the answer)."""
        request = urllib.request.Request(self.base + path, headers=dict(headers or {}))
        return _urlopen(request)

    def post(self, body: bytes, headers: Mapping[str, str] | None = None) -> Answer:
        """POST a body to the JSON-RPC endpoint over urllib."""
        given = JSON_HEADERS if headers is None else headers
        request = urllib.request.Request(self.base, data=body, headers=dict(given))
        return _urlopen(request)

    def call(self, method: str, params: Any = None) -> Any:
        """A JSON-RPC call, written and read by jsonrpcclient: its result (an error fails)."""
        answer = self.post(json.dumps(request(method, params=params)).encode())
        parsed = parse(answer.json())
        if isinstance(parsed, Error):
            raise AssertionError(f"JSON-RPC error {parsed.code}: {parsed.message}")
        assert isinstance(parsed, Ok)
        return parsed.result

    def connect(self) -> socket.socket:
        """A raw TCP connection to the daemon; reads give up after PATIENCE."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=PATIENCE)
        return sock

    def exchange(self, data: bytes, method: str = "POST") -> Answer:
        """Send raw bytes on a fresh connection and read one HTTP response."""
        with self.connect() as sock:
            sock.sendall(data)
            return read_answer(sock, method)

    def raw_post(self, body: bytes, headers: Mapping[str, str] | None = None) -> Answer:
        """A POST written by hand with Content-Length, so no client library rewrites anything."""
        lines = [b"POST /ext/health HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close"]
        for key, value in {**JSON_HEADERS, **(headers or {})}.items():
            lines.append(f"{key}: {value}".encode())
        lines.append(b"Content-Length: %d" % len(body))
        return self.exchange(b"\r\n".join(lines) + b"\r\n\r\n" + body)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def rss(self) -> int:
        """The daemon's resident memory in bytes (from /proc)."""
        return int(self.process.memory_info().rss)

    def open_files(self) -> int:
        """How many file descriptors the daemon holds (from /proc)."""
        return self.process.num_fds()

    def connections(self) -> int:
        """Established TCP connections the daemon holds on its port (from /proc)."""
        return sum(
            1
            for conn in self.process.net_connections("tcp")
            if conn.status == psutil.CONN_ESTABLISHED
            and conn.laddr
            and conn.laddr.port == self.port
        )

    def log_lines(self) -> list[str]:
        """Every line the daemon wrote so far, stdout then stderr."""
        lines: list[str] = []
        for path in (self.stdout, self.stderr):
            lines += path.read_text(errors="replace").splitlines()
        return lines

    def events(self) -> list[dict[str, Any]]:
        """The JSON log lines on stdout, parsed (every line there must be JSON)."""
        text = self.stdout.read_text(errors="replace")
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def wait_for_event(self, event: str) -> dict[str, Any]:
        """The first logged event whose text starts with `event`, polling until it appears."""

        def found() -> dict[str, Any] | None:
            return next((e for e in self.events() if str(e["event"]).startswith(event)), None)

        result: dict[str, Any] = until(found, f"the log line {event!r}")
        return result


def read_answer(sock: socket.socket, method: str = "POST") -> Answer:
    """One HTTP response from a socket (http.client parses the framing)."""
    response = http.client.HTTPResponse(sock, method=method)
    response.begin()
    body = response.read()
    return Answer(response.status, dict(response.getheaders()), body)


def read_until_closed(sock: socket.socket, limit: int = 1 << 20) -> bytes:
    """Everything the peer sends until it closes (at most `limit` bytes)."""
    received = b""
    while len(received) < limit:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        received += chunk
    return received


def _urlopen(request: urllib.request.Request) -> Answer:
    try:
        with urllib.request.urlopen(request, timeout=PATIENCE) as response:
            return Answer(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, dict(exc.headers), exc.read())


class Daemons:
    """Starts daemons from config text in a directory, and kills what is left at the end."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.started: list[subprocess.Popen[bytes]] = []

    def write_config(
        self,
        text: str,
        *,
        server: Mapping[str, Any] | None = None,
        logging: Mapping[str, Any] | None = None,
        name: str = "healthd",
        port: int | None = None,
    ) -> tuple[Path, int]:
        """The config file `name`.toml with JSON logs and a port in [server] (a fresh one unless
        given: a daemon's own to rewrite its config); returns the file and the port."""
        port = port or free_port()
        path = self.directory / f"{name}.toml"
        head = section("server", {"port": port, **(server or {})})
        head += section("logging", {"format": "json", **(logging or {})})
        path.write_text(head + text)
        return path, port

    def spawn(
        self, args: list[str], config: Path, env: Mapping[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """`python -m healthd ARGS --config FILE` in environment(**env), output to files beside
        the config."""
        stdout = config.with_suffix(".out").open("wb")
        stderr = config.with_suffix(".err").open("wb")
        with stdout, stderr:
            proc = subprocess.Popen(
                [sys.executable, "-m", "healthd", *args, "--config", str(config)],
                stdout=stdout,
                stderr=stderr,
                env=environment(**(env or {})),
                cwd=ROOT,
            )
        self.started.append(proc)
        return proc

    def serve(
        self,
        text: str = "",
        *,
        server: Mapping[str, Any] | None = None,
        logging: Mapping[str, Any] | None = None,
        name: str = "healthd",
        env: Mapping[str, str] | None = None,
    ) -> Served:
        """`healthd serve` with this config, just started: it may not listen yet."""
        config, port = self.write_config(text, server=server, logging=logging, name=name)
        return Served(self.spawn(["serve"], config, env), port, config)

    def start(self, text: str = "", **options: Any) -> Served:
        """`healthd serve` (options as for `serve`), once it answers GET /ext/health/liveness."""
        served = self.serve(text, **options)

        def answering() -> bool:
            return not served.alive() or served.get("/liveness").status in (200, 503)

        until(answering, "the daemon to listen")
        assert served.alive(), served.stderr.read_text()
        return served

    def close(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                proc.kill()
            proc.wait()

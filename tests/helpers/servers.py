"""Real PostgreSQL and Redis servers on free loopback ports, in temporary directories."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.net import free_port
from tests.helpers.processes import require, stop_process
from tests.helpers.waiting import until


@dataclass
class Server:
    port: int
    password: str
    proc: subprocess.Popen[bytes]

    def stop(self) -> None:
        stop_process(self.proc)


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def postgres_accepting(port: int) -> bool:
    """Past "the database system is starting up": pg_isready says it accepts connections."""
    pg_isready = require("pg_isready", "postgresql")
    argv = [pg_isready, "-q", "-h", "127.0.0.1", "-p", str(port)]
    return subprocess.run(argv, check=False).returncode == 0


def wait_until_ready(
    port: int, proc: subprocess.Popen[bytes], ready: Callable[[int], bool] = port_open
) -> None:
    until(lambda: proc.poll() is not None or ready(port), f"the server on port {port}")
    if proc.poll() is not None:
        raise RuntimeError(f"server exited with {proc.returncode}")


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    return Path(found[-1]).parent if found else None


@contextmanager
def postgres_server() -> Iterator[Server]:
    """initdb + postgres as an unprivileged user (PostgreSQL refuses to run as root)."""
    bindir = postgres_bin()
    if bindir is None:
        pytest.fail("PostgreSQL server not installed: run tests/system-deps.sh (postgresql)")
    base = Path(tempfile.mkdtemp(prefix="healthd-pg-"))
    password = "pg-s3cret-pass"
    (base / "pw").write_text(password + "\n")
    prefix: list[str] = []
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail("running as root and no postgres user to run PostgreSQL as")
        os.chmod(base, 0o755)
        for path in (base, base / "pw"):
            os.chown(path, owner.pw_uid, owner.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [
            *prefix,
            str(bindir / "initdb"),
            "-D",
            str(base / "data"),
            "-U",
            "healthd",
            f"--pwfile={base / 'pw'}",
            "--auth=scram-sha-256",
            "-E",
            "UTF8",
        ],
        check=True,
        capture_output=True,
    )
    port = free_port()
    argv = [
        *prefix,
        str(bindir / "postgres"),
        "-D",
        str(base / "data"),
        "-p",
        str(port),
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        f"unix_socket_directories={base}",
    ]
    with running(argv, port, password, base, postgres_accepting) as server:
        yield server


@contextmanager
def redis_server() -> Iterator[Server]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("Redis server not installed: run tests/system-deps.sh (redis-server)")
    base = Path(tempfile.mkdtemp(prefix="healthd-redis-"))
    port, password = free_port(), "redis-s3cret-pass"
    argv = [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(base),
        "--requirepass",
        password,
    ]
    with running(argv, port, password, base) as server:
        yield server


@contextmanager
def running(
    argv: list[str],
    port: int,
    password: str,
    base: Path,
    ready: Callable[[int], bool] = port_open,
) -> Iterator[Server]:
    """Run a server until the block ends, then stop it and remove its directory."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Server(port, password, proc)
    try:
        wait_until_ready(port, proc, ready)
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)

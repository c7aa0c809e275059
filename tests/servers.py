"""Real PostgreSQL and Redis servers on free loopback ports, in temporary directories."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import PATIENCE, free_port


@dataclass
class Server:
    port: int
    password: str
    proc: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=PATIENCE)


def wait_for_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not start listening")


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    return Path(found[-1]).parent if found else None


@contextmanager
def postgres_server() -> Iterator[Server]:
    """initdb + postgres as an unprivileged user (PostgreSQL refuses to run as root)."""
    bindir = postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server not installed: apt-get install postgresql")
    base = Path(tempfile.mkdtemp(prefix="healthd-pg-"))
    password = "pg-s3cret-pass"
    (base / "pw").write_text(password + "\n")
    prefix: list[str] = []
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and no postgres user to run PostgreSQL as")
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
    with running(argv, port, password, base) as server:
        yield server


@contextmanager
def redis_server() -> Iterator[Server]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("Redis server not installed: apt-get install redis-server")
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
def running(argv: list[str], port: int, password: str, base: Path) -> Iterator[Server]:
    """Run a server until the block ends, then stop it and remove its directory."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Server(port, password, proc)
    try:
        wait_for_port(port, proc)
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)

"""A real EVM node for the tests: ganache 7 from tests/node_modules (tests/system-deps.sh)."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.net import free_port
from tests.helpers.processes import stop_process
from tests.helpers.waiting import until

BINARY = Path(__file__).resolve().parent.parent / "node_modules" / ".bin" / "ganache"


def rpc(url: str, method: str, params: list[Any] | None = None) -> Any:
    """One JSON-RPC call to ganache, from the test's side."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
    request = urllib.request.Request(
        url, data=body.encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        answer = json.loads(response.read())
    if "error" in answer:
        raise RuntimeError(f"ganache: {method}: {answer['error']}")
    return answer["result"]


def height(url: str) -> int:
    """The node's block number, asked from the test's side."""
    return int(rpc(url, "eth_blockNumber"), 16)


@contextmanager
def ganache() -> Iterator[str]:
    """Start ganache mining a block a second on a free loopback port; yield its URL."""
    if not os.access(BINARY, os.X_OK):
        pytest.fail(
            "ganache is not installed: run tests/system-deps.sh "
            "(it installs tests/package.json's npm packages into tests/node_modules)"
        )
    port = free_port()
    argv = [
        str(BINARY),
        "--server.host", "127.0.0.1",
        "--server.port", str(port),
        "--miner.blockTime", "1",
        "--logging.quiet",
    ]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        until(lambda: proc.poll() is not None or height(url) >= 0, "ganache to answer")
        if proc.poll() is not None:
            raise RuntimeError(f"ganache exited with {proc.returncode}")
        yield url
    finally:
        stop_process(proc)

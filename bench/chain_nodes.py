"""Fake chain nodes for the chain benchmark, in their own process: one node of each type and
three references each, on loopback. Prints their URLs as one JSON line, serves until SIGTERM."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.chains.avalanchego import FakeAvalancheGo
from tests.chains.bitcoind import FakeBitcoind
from tests.chains.cometbft import FakeCometBft
from tests.chains.evm import FakeEvm
from tests.chains.fake import FakeServer
from tests.chains.solana import FakeSolana

USER, PASSWORD = "bench", "bench-pass"


def bitcoind_reference() -> FakeBitcoind:
    """A reference bitcoind with the benchmark's login."""
    return FakeBitcoind(user=USER, password=PASSWORD)


async def main() -> None:
    """Start every fake, print their URLs, serve until SIGTERM."""
    nodes: dict[str, FakeServer] = {
        "evm": FakeEvm(),
        "cosmos": FakeCometBft(),
        "solana": FakeSolana(),
        "bitcoin": FakeBitcoind(user=USER, password=PASSWORD),
        "avalanche": FakeAvalancheGo(height=1000),
    }
    references: dict[str, list[FakeServer]] = {
        "evm": [FakeEvm() for _ in range(3)],
        "cosmos": [FakeCometBft() for _ in range(3)],
        "solana": [FakeSolana() for _ in range(3)],
        "bitcoin": [bitcoind_reference() for _ in range(3)],
        "avalanche": [FakeEvm() for _ in range(3)],
    }
    everything = [*nodes.values(), *(r for group in references.values() for r in group)]
    for fake in everything:
        await fake.start()
    urls: dict[str, Any] = {}
    for kind, node in nodes.items():
        refs = [r.url for r in references[kind]]
        if kind == "bitcoin":
            refs = [f"http://{USER}:{PASSWORD}@127.0.0.1:{r.port}/" for r in references[kind]]
        urls[kind] = {"node": node.url, "references": refs}
    urls["bitcoin"]["login"] = {"username": USER, "password": PASSWORD}
    print(json.dumps(urls), flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    for fake in everything:
        await fake.stop()


if __name__ == "__main__":
    asyncio.run(main())

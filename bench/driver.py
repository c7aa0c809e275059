"""healthd in-process with N checks on a short interval, reporting how late each run started."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from healthd import log
from healthd.config import parse_config
from healthd.parts import Parts
from healthd.scheduler import Punctuality


def config(checks: int, interval: str, port: int) -> str:
    """A config of `checks` instantly passing checks on one interval."""
    head = f'[server]\nport = {port}\n[scheduler]\ninterval = "{interval}"\ntimeout = "500ms"\n'
    body = "".join(
        f'[[checks]]\nname = "c{i:05d}"\ntype = "python"\ncallable = "bench.probes:ok"\n'
        for i in range(checks)
    )
    return head + body


def note_lateness(punctuality: Punctuality) -> list[float]:
    """From now on, how late each check's job starts, as the scheduler tells `punctuality`."""
    samples: list[float] = []
    fired = punctuality.fired

    def noted(name: str, now: float, lateness: float = 0.0, next_in: float | None = None) -> None:
        samples.append(lateness)
        fired(name, now, lateness, next_in)

    punctuality.fired = noted  # type: ignore[method-assign]
    return samples


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--checks", type=int, default=1000)
    parser.add_argument("--interval", default="1s")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--duration", type=float, default=30.0)
    args = parser.parse_args()
    log.configure("warning", "json", sys.stderr)
    parts = Parts(parse_config(config(args.checks, args.interval, args.port), "bench"))
    runner = web.AppRunner(parts.app(), access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", args.port).start()
    print(json.dumps({"event": "listening"}), flush=True)
    await asyncio.sleep(args.warmup)
    lateness = note_lateness(parts.punctuality)
    print(json.dumps({"event": "measuring"}), flush=True)
    await asyncio.sleep(args.duration)
    print(json.dumps({"event": "done", "lateness": sorted(lateness)}), flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())

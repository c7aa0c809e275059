"""Resident memory of the daemon's parts for N checks with full run histories.

Run from the repository root:  python bench/history_memory.py [--checks 10000] [--history 20]
Each variant runs in a fresh interpreter: it builds the daemon (checks, store, runner, HTTP app,
scheduler with every job) from a config of N checks, records `history` runs of every check —
each run with its own message and, every fourth run, an error, as real runs make them —
renders every answer, and reports RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def config_text(checks: int, history: int) -> str:
    """N python checks (as bench/run.py's memory measure uses) with the given history size."""
    head = f'[logging]\nlevel = "warning"\n[scheduler]\ninterval = "1h"\nhistory = {history}\n'
    return head + "".join(
        f'[[checks]]\nname = "c{i:05d}"\ntype = "python"\ncallable = "bench.probes:ok"\n'
        for i in range(checks)
    )


def measure(config_path: str, runs: int) -> dict[str, float]:
    """In this interpreter: the daemon with its scheduler started, `runs` runs per check."""
    return asyncio.run(_measure(config_path, runs))


async def _measure(config_path: str, runs: int) -> dict[str, float]:
    import psutil

    from healthd import log
    from healthd.answers import Answers
    from healthd.config import load_config
    from healthd.parts import Parts
    from healthd.result import Outcome

    log.configure("error", "json", sys.stderr)
    parts = Parts(load_config(config_path))
    parts.app()
    parts.scheduler.start(parts.checks)  # its jobs cost memory too (interval 1h: none runs)
    store = parts.store
    started = time.perf_counter()
    now = time.time_ns()
    for run in range(runs):
        for index, name in enumerate(store.names()):
            message = b'{"availableDiskBytes":%d,"percentFree":%d.5}' % (now + index, run)
            error = f"timed out after 2s (run {run})" if run % 4 == 3 else None
            store.record(name, Outcome(message=message, error=error), now + run, 1_234_567)
    recording = time.perf_counter() - started
    for kind in ("health", "readiness", "liveness"):
        Answers(store).get(kind)
    rss = psutil.Process().memory_info().rss / 2**20
    await parts.close()
    return {
        "rss_mb": round(rss, 1),
        "record_us_per_run": round(recording / max(1, runs * len(store.names())) * 1e6, 2),
    }


def variant(checks: int, history: int, runs: int, work: Path) -> dict[str, float]:
    """One measurement in a fresh interpreter."""
    path = work / f"history-{history}.toml"
    path.write_text(config_text(checks, history))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, __file__, "--measure", str(path), "--runs", str(runs)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {"checks": checks, "history": history, **json.loads(out)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=10_000)
    parser.add_argument("--history", type=int, default=20)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.runs)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        for history in (0, args.history):
            result = variant(args.checks, history, max(args.history, 1), Path(tmp))
            print(json.dumps(result))


if __name__ == "__main__":
    main()

"""The status page's cost: its size and render time for 100 checks with 20 runs of history each.

Run from the repository root:  python bench/status_page.py
Limits (issue 14): at most 60 KB (61,440 bytes) and 5 ms per render. It exits 1 if either is
exceeded. `--screenshot PATH` instead saves the README's picture of a small demo page (needs
chromium and chromedriver: tests/system-deps.sh).
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from healthd.answers import Answers
from healthd.checks.base import Kind
from healthd.page import html, model
from healthd.page.html import render
from healthd.page.model import snapshot
from healthd.page.sources import Run
from healthd.result import Outcome
from healthd.store import Entry, Store

MAX_BYTES = 60 * 1024
MAX_RENDER_MS = 5.0
S = 1_000_000_000


def fleet(now_ns: int, checks: int = 100, runs: int = 20) -> tuple[Store, dict[str, list[Run]]]:
    """A store of `checks` checks (one in ten failing, one in twenty degraded) with history."""
    entries = []
    for index in range(checks):
        kind: Kind = "readiness" if index % 10 == 8 else "liveness" if index % 10 == 9 else "health"
        tags = frozenset({("node", "db", "edge")[index % 3]}) if index % 2 else frozenset()
        entries.append(Entry(f"check-{index:03d}.example", kind, tags, critical=index % 20 != 5))
    store = Store(entries)
    history: dict[str, list[Run]] = {}
    for index, entry in enumerate(entries):
        failing = index % 10 == 3 or index % 20 == 5
        history[entry.name] = [
            Run(now_ns - (runs - i) * 10 * S - index * S // 7, not (failing and i > runs - 4))
            for i in range(runs)
        ]
        outcome = Outcome(error=f"connection refused: 10.0.{index}.1:9650 (attempt {index})")
        store.record(entry.name, outcome if failing else Outcome(), now_ns - S, 38_912_345)
    return store, history


def measure(rounds: int = 200) -> dict[str, float]:
    """Size in bytes, gzip size, and render times in ms: warm (the runs' cells as drawn the
    last time, as every rendering but the first) and cold (every cell formatted afresh)."""
    now = time.time_ns()
    store, history = fleet(now)
    runs = history.__getitem__

    def once() -> bytes:
        return render(snapshot(Answers(store), runs, lambda name: None, None, False, now))

    body = once()
    result: dict[str, float] = {"bytes": len(body), "gzip_bytes": len(gzip.compress(body))}
    for name, forget in (("warm", False), ("cold", True)):
        times = []
        for _ in range(rounds):
            if forget:  # as after a start: no cell drawn yet
                model._cell.cache_clear()
                html._cell.cache_clear()
            # CPU time of this thread: the other processes on a shared machine do not count.
            start = time.thread_time_ns()
            once()
            times.append((time.thread_time_ns() - start) / 1e6)
        times.sort()
        result[f"{name}_ms_median"] = statistics.median(times)
        result[f"{name}_ms_p95"] = times[int(len(times) * 0.95)]
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--screenshot", type=Path, help="save a PNG of the demo page here")
    args = parser.parse_args(argv)
    if args.screenshot:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench/ and tests/
        from bench.page_screenshot import screenshot

        screenshot(args.screenshot)
        print(f"saved {args.screenshot} ({args.screenshot.stat().st_size} bytes)")
        return 0
    result = measure()
    print(
        f"status page, 100 checks x 20 runs: {result['bytes']:,} bytes "
        f"({result['bytes'] / 1024:.1f} KB; gzip {result['gzip_bytes'] / 1024:.1f} KB; "
        f"limit {MAX_BYTES / 1024:.0f} KB)"
    )
    for name in ("warm", "cold"):
        print(
            f"render, {name} (snapshot + template, CPU time): "
            f"median {result[f'{name}_ms_median']:.2f} ms, "
            f"p95 {result[f'{name}_ms_p95']:.2f} ms (limit {MAX_RENDER_MS} ms)"
        )
    ok = result["bytes"] <= MAX_BYTES and result["warm_ms_median"] <= MAX_RENDER_MS
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""healthd's chain-check benchmark: CPU per run (node + 3 references on loopback) and the CPU
share of a daemon running 200 chain checks every 10 s.

Run from the repository root, with healthd and its test extras installed:
    python bench/chains.py
It writes bench/results/chains.md and bench/results/chains.json. The fake nodes (tests/chains/)
run in a process of their own, so only healthd's side is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import free_port, healthd_serve, http, process, wait_until
from healthd import log
from healthd.checks import build_check
from healthd.checks.base import CheckEnv
from healthd.checks.chains.references import ReferenceHeights
from healthd.checks.http import SharedSession
from healthd.config import parse_config
from healthd.runner import Runner
from healthd.scheduler import Punctuality
from healthd.store import Entry, Store

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
KINDS = ("evm", "cosmos", "solana", "bitcoin", "avalanche")


@contextmanager
def fake_nodes() -> Iterator[dict[str, Any]]:
    """The fake nodes' process; yields their URLs by chain type."""
    argv = [sys.executable, str(ROOT / "bench" / "chain_nodes.py")]
    with process(argv, stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        yield json.loads(proc.stdout.readline())


def check_table(kind: str, urls: dict[str, Any], name: str, extra: str = "") -> str:
    """One [[checks]] table of `kind` against the fake node and its three references."""
    site = urls[kind]
    lines = [
        "[[checks]]",
        f'name = "{name}"',
        f'type = "{kind}"',
        f'url = "{site["node"]}"',
        "references = [" + ", ".join(f'"{url}"' for url in site["references"]) + "]",
    ]
    if kind == "bitcoin":
        lines += [f'{key} = "{value}"' for key, value in site["login"].items()]
    return "\n".join(lines) + "\n" + extra


async def per_run(urls: dict[str, Any], runs: int) -> dict[str, dict[str, float]]:
    """Process CPU per run of one check of each type, references asked every run and cached."""
    found: dict[str, dict[str, float]] = {}
    for kind in KINDS:
        config = parse_config(
            '[scheduler]\ninterval = "10s"\ntimeout = "5s"\n' + check_table(kind, urls, kind),
            "bench",
        )
        item = config.checks[0]
        found[kind] = {}
        for mode in ("fresh", "cached"):
            # "fresh": a clock that leaps an hour per reading, so every run asks all references.
            leaps = functools.partial(next, itertools.count(0.0, 3600.0))
            clock: Callable[[], float] = leaps if mode == "fresh" else time.monotonic
            session = SharedSession()
            env = CheckEnv(Punctuality(), session, ReferenceHeights(clock))
            check = build_check(item.spec, item.timing, env)
            store = Store([Entry(check.name, check.kind, check.tags)])
            runner = Runner(store, workers=1)
            for _ in range(max(10, runs // 10)):  # warm up: connections, caches, imports
                record = await runner.run(check)
                assert record.error is None, (kind, record.error)
            started = time.process_time()
            for _ in range(runs):
                await runner.run(check)
            spent = time.process_time() - started
            await runner.close()
            await session.close()
            found[kind][mode] = round(1000 * spent / runs, 3)
        print(
            f"  {kind:<10} {found[kind]['fresh']:.3f} ms per run with 3 references asked, "
            f"{found[kind]['cached']:.3f} ms with them cached"
        )
    return found


def daemon_share(urls: dict[str, Any], checks: int, seconds: int, work: Path) -> dict[str, Any]:
    """CPU share of `healthd serve` running `checks` chain checks (all five types) every 10 s."""
    port = free_port()
    head = f'[server]\nport = {port}\n[logging]\nlevel = "warning"\n'
    head += '[scheduler]\ninterval = "10s"\ntimeout = "5s"\n'
    tables = [check_table(KINDS[i % len(KINDS)], urls, f"chain{i:04d}") for i in range(checks)]
    config = work / "chains.toml"
    config.write_text(head + "".join(tables))
    url = f"http://127.0.0.1:{port}/ext/health"
    with process(healthd_serve(config), stdout=subprocess.DEVNULL) as proc:
        wait_until(lambda: http(url)[0] == 200, step=0.2)
        time.sleep(12)  # past the first runs: from here on the scheduler spreads them
        cpu = psutil.Process(proc.pid)
        before, started = cpu.cpu_times(), time.monotonic()
        time.sleep(seconds)
        after, elapsed = cpu.cpu_times(), time.monotonic() - started
        status, body = http(url)
    share = (after.user + after.system - before.user - before.system) / elapsed
    result = {
        "checks": checks,
        "interval_s": 10,
        "seconds": round(elapsed, 1),
        "cpu_share_percent": round(100 * share, 2),
        "healthy": status == 200 and json.loads(body)["healthy"],
    }
    print(f"  daemon: {result}")
    return result


def markdown(report: dict[str, Any]) -> str:
    """The report as README shows it."""
    runs = report["per_run"]
    d = report["daemon"]
    lines = [
        f"Measured {report['date']} on {report['machine']} with `{report['command']}`.",
        "",
        "| chain check | CPU per run, node + 3 references asked | CPU per run, references cached |",
        "|---|---:|---:|",
    ]
    for kind, figures in runs.items():
        lines.append(f"| `{kind}` | {figures['fresh']:.2f} ms | {figures['cached']:.2f} ms |")
    lines += [
        "",
        f"{d['checks']} chain checks (all five types, each against a node and 3 references) "
        f"every {d['interval_s']} s: `healthd serve` used {d['cpu_share_percent']:.2f} % of one "
        f"core over {d['seconds']:.0f} s (all passing: {str(d['healthy']).lower()}).",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Measure, write bench/results/chains.{md,json}, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300, help="measured runs per check type")
    parser.add_argument("--checks", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=30, help="length of the CPU-share window")
    args = parser.parse_args()
    log.configure("warning", "json", sys.stderr)
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "command": "python bench/chains.py",
    }
    with fake_nodes() as urls, tempfile.TemporaryDirectory() as tmp:
        print("CPU per chain check run:")
        report["per_run"] = asyncio.run(per_run(urls, args.runs))
        print("daemon:")
        report["daemon"] = daemon_share(urls, args.checks, args.seconds, Path(tmp))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "chains.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "chains.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()

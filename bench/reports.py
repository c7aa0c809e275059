"""Push-check reports: 1,000 `healthd.report` calls a second over HTTP, and GET latency meanwhile.

Run from the repository root, with healthd installed:  python bench/reports.py
It starts `healthd serve` with 100 ttl checks and 20 command checks on 127.0.0.1, measures the
p50/p99 latency of GET /ext/health idle, then again while another process sends reports at a
paced 1,000 per second (keep-alive connections), and writes bench/results/reports.{md,json}.
Every loop is bounded in count and time.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import multiprocessing
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
TTL_CHECKS = 100
RATE = 1000  # reports per second
SECONDS = 15.0
PROBES = 600  # GET requests per measurement, paced over the measurement


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def config(port: int) -> str:
    text = f'[server]\nport = {port}\n[logging]\nlevel = "warning"\nformat = "json"\n'
    for i in range(TTL_CHECKS):
        text += f'[[checks]]\nname = "job{i:03d}"\ntype = "ttl"\nttl = "1h"\n'
    for i in range(20):
        text += (
            f'[[checks]]\nname = "cmd{i:02d}"\ntype = "command"\ncommand = ["true"]\n'
            'interval = "5s"\ntimeout = "2s"\n'
        )
    return text


def get_latencies(port: int, count: int, seconds: float) -> list[float]:
    """GET /ext/health `count` times over `seconds` on one keep-alive connection (ms each)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    latencies = []
    gap = seconds / count
    start = time.perf_counter()
    for i in range(count):
        pause = start + i * gap - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        began = time.perf_counter()
        connection.request("GET", "/ext/health")
        connection.getresponse().read()
        latencies.append((time.perf_counter() - began) * 1000)
    connection.close()
    return latencies


def reporter(port: int, seconds: float, rate: int, out: Any) -> None:
    """Send paced reports from 8 keep-alive connections; put (sent, accepted) on `out`."""

    async def run() -> tuple[int, int]:
        import aiohttp

        url = f"http://127.0.0.1:{port}/ext/health"
        total = int(seconds * rate)
        accepted = 0
        connector = aiohttp.TCPConnector(limit=8)
        async with aiohttp.ClientSession(connector=connector) as session:
            loop = asyncio.get_running_loop()
            start = loop.time()

            async def one(i: int) -> None:
                nonlocal accepted
                body = {
                    "jsonrpc": "2.0",
                    "id": i,
                    "method": "healthd.report",
                    "params": {"check": f"job{i % TTL_CHECKS:03d}", "status": "pass"},
                }
                async with session.post(url, json=body) as response:
                    answer = await response.json()
                    accepted += "result" in answer

            tasks = []
            for i in range(total):
                delay = start + i / rate - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(i)))
            await asyncio.gather(*tasks)
        return total, accepted

    out.put(asyncio.run(run()))


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def main() -> None:
    port = free_port()
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "healthd.toml"
        path.write_text(config(port))
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("HEALTHD_CONFIG", None)
        proc = subprocess.Popen(
            [sys.executable, "-m", "healthd", "serve", "--config", str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    get_latencies(port, 1, 0.01)
                    break
                except OSError:
                    time.sleep(0.05)
            idle = get_latencies(port, PROBES, SECONDS)
            queue: Any = multiprocessing.Queue()
            sender = multiprocessing.Process(target=reporter, args=(port, SECONDS, RATE, queue))
            started = time.perf_counter()
            sender.start()
            busy = get_latencies(port, PROBES, SECONDS)
            sent, accepted = queue.get(timeout=SECONDS + 60)
            elapsed = time.perf_counter() - started
            sender.join(timeout=30)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{machine}, Python {platform.python_version()}",
        "reports_sent": sent,
        "reports_accepted": accepted,
        "reports_per_second": round(accepted / elapsed, 1),
        "get_idle_p50_ms": round(statistics.median(idle), 3),
        "get_idle_p99_ms": round(percentile(idle, 99), 3),
        "get_busy_p50_ms": round(statistics.median(busy), 3),
        "get_busy_p99_ms": round(percentile(busy, 99), 3),
    }
    result["p99_ratio"] = round(result["get_busy_p99_ms"] / result["get_idle_p99_ms"], 2)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "reports.json").write_text(json.dumps(result, indent=2) + "\n")
    table = (
        "| measure | result |\n|---|---|\n"
        f"| reports accepted | {accepted} of {sent} ({result['reports_per_second']}/s) |\n"
        f"| GET /ext/health p50 / p99, idle | {result['get_idle_p50_ms']} / "
        f"{result['get_idle_p99_ms']} ms |\n"
        f"| GET /ext/health p50 / p99, while reporting | {result['get_busy_p50_ms']} / "
        f"{result['get_busy_p99_ms']} ms (p99 x{result['p99_ratio']}) |\n"
    )
    (RESULTS / "reports.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()

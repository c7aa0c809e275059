"""healthd's benchmark: throughput against bare aiohttp, scheduler lateness, memory, cold start.

Run from the repository root, with healthd installed:  python bench/run.py
It writes bench/results/latest.md and bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
RPC_BODY = '{"jsonrpc":"2.0","id":1,"method":"health.health"}'
POST_LUA = f"""wrk.method = "POST"
wrk.body = '{RPC_BODY}'
wrk.headers["Content-Type"] = "application/json"
"""
# Every request with its own id: no two bodies alike, so no answer comes from the cache.
POST_DISTINCT_LUA = """counter = 0
request = function()
  counter = counter + 1
  local body = '{"jsonrpc":"2.0","id":' .. counter .. ',"method":"health.health"}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
"""
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
ENV.pop("HEALTHD_CONFIG", None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_wrk() -> str:
    """wrk from PATH, else from the distribution's packages when we are root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk not found; installing the distribution's package (apt-get install wrk)")
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False)
        found = shutil.which("wrk")
        if found:
            return found
    sys.exit(
        "bench: wrk is required and could not be found or installed; "
        "install it (Debian/Ubuntu: sudo apt-get install wrk) and run again"
    )


def checks_config(n: int, port: int, interval: str = "30s") -> str:
    head = f'[server]\nport = {port}\n[logging]\nlevel = "warning"\n'
    head += f'[scheduler]\ninterval = "{interval}"\ntimeout = "5s"\n'
    return head + "".join(
        f'[[checks]]\nname = "c{i:05d}"\ntype = "python"\ncallable = "bench.probes:ok"\n'
        for i in range(n)
    )


def http(url: str, data: bytes | None = None) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json"} if data is not None else {}
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_until(predicate: Callable[[], bool], limit: float = 120.0, step: float = 0.01) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(step)
    raise RuntimeError("bench: gave up waiting for a server")


@contextmanager
def process(argv: list[str], **kwargs: Any) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(argv, env=ENV, text=True, **kwargs)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def healthd_serve(config: Path) -> list[str]:
    return [sys.executable, "-m", "healthd", "serve", "--config", str(config)]


def wrk(
    wrk_bin: str,
    url: str,
    seconds: int,
    connections: int,
    lua: Path | None,
    server: int | None = None,
) -> dict[str, float]:
    """One wrk run; with `server` (a pid), also the server's CPU time per request."""
    argv = [wrk_bin, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if lua is not None:
        argv[1:1] = ["-s", str(lua)]
    cpu_before = _cpu_seconds(server)
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    cpu = _cpu_seconds(server) - cpu_before
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "rps": rps,
        "cpu_us": cpu / requests * 1e6 if server is not None else 0.0,
        "p50_ms": latency_ms(out, "50%"),
        "p99_ms": latency_ms(out, "99%"),
        "errors": float(non2xx.group(1)) if non2xx else 0.0,
    }


def _cpu_seconds(pid: int | None) -> float:
    """User plus system CPU time of a process so far (0 without a pid)."""
    if pid is None:
        return 0.0
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def latency_ms(out: str, label: str) -> float:
    match = re.search(rf"^\s+{re.escape(label)}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    if match is None:
        raise RuntimeError(f"bench: no {label} latency in wrk output:\n{out}")
    return float(match.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def throughput(
    wrk_bin: str, sizes: list[int], rounds: int, seconds: int, conns: int, work: Path
) -> list[dict[str, Any]]:
    """GET and POST requests/s of healthd and bare aiohttp, alternating, for each size."""
    lua = work / "post.lua"
    lua.write_text(POST_LUA)
    distinct = work / "post-distinct.lua"
    distinct.write_text(POST_DISTINCT_LUA)
    rows = []
    for n in sizes:
        port, bare_port = free_port(), free_port()
        config = work / f"checks-{n}.toml"
        config.write_text(checks_config(n, port))
        base = f"http://127.0.0.1:{port}/ext/health"
        with process(healthd_serve(config), stdout=subprocess.DEVNULL) as ours_proc:
            wait_until(lambda: http(base)[0] == 200)  # noqa: B023
            get_body = http(base)[1]
            post_body = http(base, RPC_BODY.encode())[1]
            (work / "get.json").write_bytes(get_body)
            (work / "post.json").write_bytes(post_body)
            bare_argv = [
                sys.executable,
                str(ROOT / "bench" / "bare.py"),
                str(bare_port),
                str(work / "get.json"),
                str(work / "post.json"),
            ]
            with process(bare_argv) as bare_proc:
                bare = f"http://127.0.0.1:{bare_port}/ext/health"
                wait_until(lambda: http(bare)[0] == 200)  # noqa: B023
                for endpoint, script in (
                    ("GET", None),
                    ("POST", lua),
                    ("POST, distinct ids", distinct),
                ):
                    results: dict[str, list[dict[str, float]]] = {"healthd": [], "bare": []}
                    for _ in range(rounds):
                        results["bare"].append(
                            wrk(wrk_bin, bare, seconds, conns, script, bare_proc.pid)
                        )
                        results["healthd"].append(
                            wrk(wrk_bin, base, seconds, conns, script, ours_proc.pid)
                        )
                    ours, theirs = median_of(results["healthd"]), median_of(results["bare"])
                    row = {
                        "checks": n,
                        "endpoint": endpoint,
                        "body_bytes": len(get_body),
                        "healthd": ours,
                        "bare": theirs,
                        "ratio": round(ours["rps"] / theirs["rps"], 3),
                        # Server CPU per request, bare over ours: what each request costs,
                        # less swayed by wrk sharing the machine's cores than req/s is.
                        "cpu_ratio": round(theirs["cpu_us"] / ours["cpu_us"], 3),
                    }
                    print(
                        f"  {n:>5} checks {endpoint:<18} healthd {ours['rps']:>9.0f} rps  "
                        f"bare {theirs['rps']:>9.0f} rps  ratio {row['ratio']:.3f}  "
                        f"CPU/request {ours['cpu_us']:.1f} / {theirs['cpu_us']:.1f} us "
                        f"(ratio {row['cpu_ratio']:.3f})"
                    )
                    rows.append(row)
    return rows


def scheduler(wrk_bin: str, checks: int, seconds: int, work: Path) -> dict[str, Any]:
    """Lateness and CPU share with `checks` checks on a 1 s interval; p99 busy against idle."""
    port = free_port()
    driver = [
        sys.executable,
        str(ROOT / "bench" / "driver.py"),
        "--port",
        str(port),
        "--checks",
        str(checks),
        "--interval",
        "1s",
        "--duration",
        str(seconds),
    ]
    url = f"http://127.0.0.1:{port}/ext/health"
    with process(driver, stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        lines = iter(proc.stdout.readline, "")
        next(line for line in lines if '"measuring"' in line)
        cpu = psutil.Process(proc.pid)
        before, started = cpu.cpu_times(), time.monotonic()
        done = json.loads(next(line for line in lines if '"done"' in line))
        after, elapsed = cpu.cpu_times(), time.monotonic() - started
        share = (after.user + after.system - before.user - before.system) / elapsed
        busy = wrk(wrk_bin, url, 10, 10, None)
    lateness = [x * 1000 for x in done["lateness"]]
    idle_port = free_port()
    idle_config = work / "idle.toml"
    idle_config.write_text(checks_config(checks, idle_port, interval="1h"))
    idle_url = f"http://127.0.0.1:{idle_port}/ext/health"
    with process(healthd_serve(idle_config), stdout=subprocess.DEVNULL):
        wait_until(lambda: http(idle_url)[0] == 200)
        idle = wrk(wrk_bin, idle_url, 10, 10, None)
    result = {
        "checks": checks,
        "runs": len(lateness),
        "lateness_p50_ms": percentile(lateness, 50),
        "lateness_p99_ms": percentile(lateness, 99),
        "lateness_max_ms": max(lateness),
        "cpu_share_percent": round(100 * share, 1),
        "p99_busy_ms": busy["p99_ms"],
        "p99_idle_ms": idle["p99_ms"],
        "p99_ratio": round(busy["p99_ms"] / idle["p99_ms"], 2),
    }
    print(f"  scheduler: {result}")
    return result


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return round(ordered[index], 3)


def memory(checks: int, work: Path) -> dict[str, Any]:
    """Resident memory of `healthd serve` with `checks` registered checks, once they all passed."""
    port = free_port()
    config = work / "memory.toml"
    config.write_text(checks_config(checks, port, interval="1h"))
    url = f"http://127.0.0.1:{port}/ext/health"
    with process(healthd_serve(config), stdout=subprocess.DEVNULL) as proc:
        wait_until(lambda: http(url)[0] == 200, step=0.2)
        http(url, RPC_BODY.encode())
        rss = psutil.Process(proc.pid).memory_info().rss
    result = {"checks": checks, "rss_mb": round(rss / 2**20, 1)}
    print(f"  memory: {result}")
    return result


def cold_start(times: int) -> dict[str, Any]:
    """Seconds from exec of `healthd serve` (embedded default) to its first 200 on GET."""
    samples = []
    for _ in range(times):
        port = free_port()
        url = f"http://127.0.0.1:{port}/ext/health"
        started = time.monotonic()
        argv = [sys.executable, "-m", "healthd", "serve", "--port", str(port)]
        with process(argv, stdout=subprocess.DEVNULL):
            wait_until(lambda: http(url)[0] == 200, step=0.002)  # noqa: B023
            samples.append(time.monotonic() - started)
    result = {
        "median_s": round(statistics.median(samples), 3),
        "max_s": round(max(samples), 3),
        "runs": times,
    }
    print(f"  cold start: {result}")
    return result


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"Measured {report['date']} on {report['machine']} with `{report['command']}`.",
        "",
        "| checks | endpoint | healthd req/s | bare aiohttp req/s | ratio "
        "| CPU µs per request, healthd / bare | CPU ratio | healthd p50 / p99 ms "
        "| bare p50 / p99 ms |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in report["throughput"]:
        ours, theirs = row["healthd"], row["bare"]
        lines.append(
            f"| {row['checks']} | {row['endpoint']} | {ours['rps']:.0f} | {theirs['rps']:.0f} "
            f"| {row['ratio']:.2f} | {ours['cpu_us']:.1f} / {theirs['cpu_us']:.1f} "
            f"| {row['cpu_ratio']:.2f} | {ours['p50_ms']:.2f} / {ours['p99_ms']:.2f} "
            f"| {theirs['p50_ms']:.2f} / {theirs['p99_ms']:.2f} |"
        )
    s = report["scheduler"]
    m, c = report["memory"], report["cold_start"]
    lines += [
        "",
        "| measure | result |",
        "|---|---|",
        f"| scheduler: {s['checks']} checks every 1 s, start lateness p50 / p99 / max "
        f"| {s['lateness_p50_ms']:.2f} / {s['lateness_p99_ms']:.2f} / "
        f"{s['lateness_max_ms']:.2f} ms "
        f"({s['runs']} runs) |",
        f"| scheduler: process CPU share | {s['cpu_share_percent']:.1f} % of one core |",
        f"| request p99 while checks run / idle "
        f"| {s['p99_busy_ms']:.2f} / {s['p99_idle_ms']:.2f} ms "
        f"(x{s['p99_ratio']:.2f}) |",
        f"| resident memory, {m['checks']} checks | {m['rss_mb']:.1f} MB |",
        f"| cold start to first 200 (median / max of {c['runs']}) "
        f"| {c['median_s']:.3f} / {c['max_s']:.3f} s |",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="wrk runs per server and endpoint")
    parser.add_argument("--seconds", type=int, default=5, help="length of one wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--sizes", default="10,100,1000", help="check counts for throughput")
    parser.add_argument("--scheduler-seconds", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="a short smoke run (not for README)")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.seconds, args.scheduler_seconds = 1, 2, 5
    wrk_bin = find_wrk()
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "command": "python bench/run.py"
        + (" --quick" if args.quick else "")
        + (f" --rounds {args.rounds}" if not args.quick and args.rounds != 3 else ""),
    }
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print("throughput (median of alternating wrk runs):")
        sizes = [int(n) for n in args.sizes.split(",")]
        report["throughput"] = throughput(
            wrk_bin, sizes, args.rounds, args.seconds, args.connections, work
        )
        print("scheduler:")
        report["scheduler"] = scheduler(wrk_bin, 1000, args.scheduler_seconds, work)
        report["memory"] = memory(10_000, work)
        report["cold_start"] = cold_start(5)
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "quick" if args.quick else "latest"
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()

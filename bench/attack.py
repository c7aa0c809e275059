"""Attack run: healthd's memory and liveness latency under a batch flood, idle sockets, hung checks.

Run from the repository root, with healthd installed:  python bench/attack.py
It writes bench/results/attack.md and bench/results/attack.json and prints the table. Everything
stays on 127.0.0.1, and every loop is bounded in count as well as in time (about a minute in all).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import http.client
import json
import math
import multiprocessing
import os
import platform
import resource
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
ENV.pop("HEALTHD_CONFIG", None)
ENV.pop("HEALTHD_TOKEN", None)
MB = 1 << 20
LIVENESS = "/ext/health/liveness"
CALL = b'{"jsonrpc":"2.0","method":"health.health","id":1}'
# A batch just under the default max_body_bytes (65536): refused by max_batch as one -32600.
FLOOD_BATCH = b"[" + b",".join([CALL] * (65000 // (len(CALL) + 1))) + b"]"
FULL_BATCH = b"[" + b",".join([CALL] * 100) + b"]"  # exactly max_batch: answered in full


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def checks_config(port: int, hung: int = 0) -> str:
    """About 50 checks: built-in disk, memory and scheduler, `hung` stuck ones, the rest trivial."""
    text = f'[server]\nport = {port}\n[logging]\nlevel = "warning"\nformat = "json"\n'
    text += '[scheduler]\ninterval = "2s"\ntimeout = "1s"\n'
    text += '[[checks]]\nname = "diskspace"\ntype = "disk"\npath = "/"\nmin_free_percent = 1\n'
    text += '[[checks]]\nname = "memory"\ntype = "memory"\nmax_used_percent = 99\n'
    text += '[[checks]]\nname = "scheduler"\ntype = "scheduler"\nkind = "liveness"\n'
    python = '[[checks]]\nname = "{}"\ntype = "python"\ncallable = "bench.probes:{}"\n'
    text += "".join(python.format(f"hung{i:02d}", "blocks") for i in range(hung))
    text += "".join(python.format(f"ok{i:02d}", "ok") for i in range(47 - hung))
    return text


@contextlib.contextmanager
def healthd(config_text: str, workdir: Path, name: str) -> Iterator[tuple[psutil.Process, int]]:
    """`healthd serve` with this config, once it answers liveness; stopped (or killed) after."""
    port = int(config_text.split("port = ", 1)[1].split("\n", 1)[0])
    config = workdir / f"{name}.toml"
    config.write_text(config_text)
    with (workdir / f"{name}.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "healthd", "serve", "--config", str(config)],
            env=ENV,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while get(port, LIVENESS)[0] not in (200, 503):
            if proc.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"bench: healthd did not start; see {workdir / name}.log")
            time.sleep(0.05)
        yield psutil.Process(proc.pid), port
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def get(port: int, path: str, timeout: float = 10.0) -> tuple[int | str, bytes]:
    """One GET on a fresh connection, as a load balancer's probe does it."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException) as exc:
        return type(exc).__name__, b""
    finally:
        conn.close()


def probe_liveness(port: int, count: int, pause: float) -> dict[str, Any]:
    """`count` liveness GETs `pause` apart (run in a process of its own); latencies in seconds."""
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    for _ in range(count):
        started = time.perf_counter()
        status, _ = get(port, LIVENESS)
        latencies.append(time.perf_counter() - started)
        statuses[str(status)] += 1
        time.sleep(pause)
    return {"latencies": latencies, "statuses": dict(statuses)}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


class Sampler:
    """Samples the daemon's RSS and open files every 100 ms in a thread; keeps the maxima."""

    def __init__(self, process: psutil.Process) -> None:
        self.process = process
        self.max_rss = process.memory_info().rss
        self.max_fds = process.num_fds()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            with contextlib.suppress(psutil.Error):
                self.max_rss = max(self.max_rss, self.process.memory_info().rss)
                self.max_fds = max(self.max_fds, self.process.num_fds())


def measure(
    pool: concurrent.futures.Executor,
    process: psutil.Process,
    port: int,
    attack: Callable[[float], dict[str, Any]],
    seconds: float,
    probes: int = 200,
) -> dict[str, Any]:
    """Run `attack` for `seconds` while liveness is probed from another process."""
    rss_before = process.memory_info().rss
    with Sampler(process) as sampler:
        probing = pool.submit(probe_liveness, port, probes, seconds / probes)
        details = attack(seconds)
        probed = probing.result()
    latencies = probed["latencies"]
    ok = probed["statuses"].get("200", 0)
    return {
        "rss_before_mb": round(rss_before / MB, 1),
        "rss_max_mb": round(sampler.max_rss / MB, 1),
        "rss_after_mb": round(process.memory_info().rss / MB, 1),
        "open_files_max": sampler.max_fds,
        "liveness_p50_ms": round(statistics.median(latencies) * 1000, 1),
        "liveness_p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "liveness_max_ms": round(max(latencies) * 1000, 1),
        "liveness_200": f"{ok}/{len(latencies)}",
        "liveness_statuses": probed["statuses"],
        **details,
    }


def idle(seconds: float) -> dict[str, Any]:
    """Nothing but the probes: the baseline."""
    time.sleep(seconds)
    return {}


def batch_flood(port: int, clients: int = 10) -> Callable[[float], dict[str, Any]]:
    """`clients` threads on keep-alive connections, alternating a 64 KB batch and 100 calls."""

    def attack(seconds: float) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        counts: Counter[str] = Counter()
        largest = [0]
        lock = threading.Lock()

        def client() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            headers = {"Content-Type": "application/json"}
            for n in range(100_000):
                if time.monotonic() > deadline:
                    break
                body = FLOOD_BATCH if n % 2 == 0 else FULL_BATCH
                try:
                    conn.request("POST", "/ext/health", body=body, headers=headers)
                    response = conn.getresponse()
                    answer = response.read()
                    # One error object: refused as a whole; an array: every call answered.
                    kind = "answered" if answer.startswith(b"[") else "refused"
                    sent = "64KB" if body is FLOOD_BATCH else "100 calls"
                    key = f"{sent} {response.status} {kind}"
                except (OSError, http.client.HTTPException) as exc:
                    key, answer = type(exc).__name__, b""
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                with lock:
                    counts[key] += 1
                    largest[0] = max(largest[0], len(answer))
            conn.close()

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return {
            "requests": dict(counts),
            "largest_answer_kb": round(largest[0] / 1024, 1),
            "batch_bytes": len(FLOOD_BATCH),
        }

    return attack


def raise_open_files(needed: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(needed, soft)), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def idle_connections(port: int, count: int = 2000) -> Callable[[float], dict[str, Any]]:
    """`count` sockets that never send a byte; each one the server drops is opened a second later.

    That keeps the cap full, as an attacker would: refused sockets come back every second and
    take the places that the header deadline frees.
    """

    def attack(seconds: float) -> dict[str, Any]:
        limit = raise_open_files(count + 256)
        if limit < count + 64:
            return {"error": f"cannot hold {count} sockets: open-file limit {limit}"}
        selector = selectors.DefaultSelector()
        counts: Counter[str] = Counter()

        def open_one() -> None:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            except OSError as exc:
                counts[f"connect {type(exc).__name__}"] += 1
                return
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)
            counts["opened"] += 1

        deadline = time.monotonic() + seconds
        for _ in range(count):
            open_one()
        due: list[float] = []  # when each dropped socket is opened again
        reopened = 0
        while time.monotonic() < deadline and reopened < 20_000:
            for key, _ in selector.select(timeout=0.1):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    data = sock.recv(4096)
                except OSError:
                    data = b""
                counts["refused (503)" if data.startswith(b"HTTP/1.1 503") else "closed"] += 1
                selector.unregister(sock)
                sock.close()
                due.append(time.monotonic() + 1.0)
            now = time.monotonic()
            for _ in range(sum(1 for when in due if when <= now)):
                open_one()
                reopened += 1
            due = [when for when in due if when > now]
        held = len(selector.get_map())
        for key in list(selector.get_map().values()):
            selector.unregister(key.fileobj)
            key.fileobj.close()  # type: ignore[union-attr]
        selector.close()
        return {"sockets": count, "held_at_end": held, "events": dict(counts)}

    return attack


def hung_checks(port: int) -> Callable[[float], dict[str, Any]]:
    """Nothing more than the config's stuck checks; reads health.health every second."""

    def attack(seconds: float) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        samples = 0
        builtin_passing = 0
        stamps: dict[str, set[str]] = {"diskspace": set(), "memory": set()}
        errors: Counter[str] = Counter()
        while time.monotonic() < deadline and samples < 1000:
            time.sleep(1.0)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                conn.request("POST", "/ext/health", body=CALL.replace(b"1}", b"2}"))
                checks = json.loads(conn.getresponse().read())["result"]["checks"]
            except (OSError, http.client.HTTPException, ValueError, KeyError) as exc:
                errors[type(exc).__name__] += 1
                continue
            finally:
                conn.close()
            samples += 1
            if all("error" not in checks[name] for name in stamps):
                builtin_passing += 1
            for name in stamps:
                stamps[name].add(str(checks[name]["timestamp"]))
            for name, check in checks.items():
                if name.startswith("hung") and "error" in check:
                    errors[check["error"]["message"]] += 1
        return {
            "builtin_passing": f"{builtin_passing}/{samples}",
            "builtin_runs_seen": {name: len(seen) for name, seen in stamps.items()},
            "hung_errors": dict(errors.most_common(3)),
        }

    return attack


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "# healthd under attack",
        "",
        f"{results['when']}, {results['machine']}, Python {results['python']}. "
        "About 50 checks (disk, memory, scheduler built in; the rest python); default limits "
        "(max_batch 100, max_response_bytes 16 MiB, max_connections 1000, header_timeout 10s, "
        "max_body_bytes 65536). Liveness probed from a separate process, 200 GETs per run, "
        "each on a fresh connection.",
        "",
        "| scenario | RSS before | RSS max during | open files max | liveness p50 | "
        "liveness p99 | liveness 200s | what happened |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, row in results["runs"].items():
        lines.append(
            f"| {name} | {row['rss_before_mb']} MB | {row['rss_max_mb']} MB | "
            f"{row['open_files_max']} | {row['liveness_p50_ms']} ms | "
            f"{row['liveness_p99_ms']} ms | {row['liveness_200']} | {row['summary']} |"
        )
    return "\n".join(lines) + "\n"


def summary(name: str, row: dict[str, Any]) -> str:
    if name.startswith("batch flood"):
        requests = ", ".join(f"{k}: {v}" for k, v in sorted(row["requests"].items()))
        return f"{requests}; largest answer {row['largest_answer_kb']} KB"
    if name.startswith("idle"):
        if "error" in row:
            return str(row["error"])
        events = ", ".join(f"{k}: {v}" for k, v in sorted(row["events"].items()))
        return f"{events}; held at end {row['held_at_end']}"
    if name.startswith("hung"):
        return (
            f"disk and memory passing in {row['builtin_passing']} reads, "
            f"runs seen {row['builtin_runs_seen']}; stuck checks: {row['hung_errors']}"
        )
    return "no attack"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each attack")
    args = parser.parse_args()
    seconds = min(max(args.seconds, 1.0), 60.0)
    runs: dict[str, dict[str, Any]] = {}
    context = multiprocessing.get_context("spawn")
    with (
        tempfile.TemporaryDirectory(prefix="healthd-attack-") as tmp,
        concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool,
    ):
        workdir = Path(tmp)
        with healthd(checks_config(free_port()), workdir, "healthd") as (process, port):
            time.sleep(1.0)  # every check has run once
            runs["baseline"] = measure(pool, process, port, idle, 4.0)
            runs["batch flood (10 clients)"] = measure(
                pool, process, port, batch_flood(port), seconds
            )
            runs["idle connections (2000)"] = measure(
                pool, process, port, idle_connections(port), seconds
            )
        with healthd(checks_config(free_port(), hung=20), workdir, "hung") as (process, port):
            time.sleep(1.0)
            runs["hung checks (20 blocked forever)"] = measure(
                pool, process, port, hung_checks(port), seconds
            )
    for name, row in runs.items():
        row["summary"] = summary(name, row)
    results = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "python": platform.python_version(),
        "attack_seconds": seconds,
        "runs": runs,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "attack.json").write_text(json.dumps(results, indent=2) + "\n")
    table = markdown(results)
    (RESULTS / "attack.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())

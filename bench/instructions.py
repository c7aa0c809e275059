"""User-space instructions per request, healthd against bare aiohttp: a measure that does not
move with the machine's load, where requests per second and CPU time do.

Run from the repository root:  python bench/instructions.py [--sizes 10,100,1000] [--requests 800]
Each server runs under valgrind's cachegrind (installed with apt-get when run as root and
missing) twice, answering `requests` and then twice as many from four keep-alive
connections; the difference of the two totals, divided by `requests`, is what one request costs
with start-up and shutdown taken out. Kernel time (the system calls) is not counted: bench/run.py
measures that side. Takes about a minute per server and size.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from http.client import HTTPConnection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import ENV, ROOT, RPC_BODY, checks_config, free_port, http, wait_until

KINDS = ("GET", "POST", "POST, distinct ids")


def find_valgrind() -> str:
    found = shutil.which("valgrind")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        print("valgrind not found; installing the distribution's package (valgrind)")
        subprocess.run(["apt-get", "install", "-y", "-qq", "valgrind"], check=False)
        found = shutil.which("valgrind")
    if found is None:
        sys.exit("bench: valgrind is required (Debian/Ubuntu: sudo apt-get install valgrind)")
    return found


def ask(port: int, kind: str, count: int, first_id: int) -> None:
    """`count` requests of one kind on one keep-alive connection."""
    conn = HTTPConnection("127.0.0.1", port, timeout=600)
    for i in range(count):
        if kind == "GET":
            conn.request("GET", "/ext/health")
        else:
            request_id = first_id + i if kind == "POST, distinct ids" else 1
            body = RPC_BODY.replace('"id":1', f'"id":{request_id}').encode()
            conn.request("POST", "/ext/health", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"bench: {kind} answered {response.status}")
    conn.close()


def total(valgrind: str, argv: list[str], port: int, kind: str, requests: int, work: Path) -> int:
    """Instructions the server ran, start to exit, having answered `requests` requests."""
    out = work / f"cachegrind-{port}.txt"
    command = [valgrind, "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]
    with out.open("w") as err:
        proc = subprocess.Popen(
            command + argv, env=ENV, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT
        )
    try:
        url = f"http://127.0.0.1:{port}/ext/health"
        wait_until(lambda: http(url)[0] == 200, limit=600)
        ask(port, kind, 20, 10**6)  # warm: the memo and the caches filled, as in service
        threads = [
            threading.Thread(target=ask, args=(port, kind, requests // 4, 10**7 * (n + 1)))
            for n in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(600)
    found = re.search(r"I\s+refs:\s+([\d,]+)", out.read_text())
    if found is None:
        raise RuntimeError(f"bench: no instruction count in {out}")
    return int(found.group(1).replace(",", ""))


def per_request(
    valgrind: str, argv_for: Callable[[int], list[str]], kind: str, requests: int, work: Path
) -> float:
    counts = []
    for n in (requests, 2 * requests):
        port = free_port()
        counts.append(total(valgrind, argv_for(port), port, kind, n, work))
    return (counts[1] - counts[0]) / requests


def healthd_argv(work: Path, size: int, port: int) -> list[str]:
    config = work / f"checks-{size}-{port}.toml"
    config.write_text(checks_config(size, port, interval="1h"))
    return [sys.executable, "-m", "healthd", "serve", "--config", str(config)]


def bare_argv(work: Path, port: int) -> list[str]:
    files = [str(work / "get.json"), str(work / "post.json")]
    return [sys.executable, str(ROOT / "bench" / "bare.py"), str(port), *files]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000", help="check counts")
    parser.add_argument("--requests", type=int, default=800)
    args = parser.parse_args()
    valgrind = find_valgrind()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print("| checks | request | healthd | bare aiohttp | healthd / bare |")
        print("|---:|---|---:|---:|---:|")
        for size in (int(n) for n in args.sizes.split(",")):
            # The bytes bare aiohttp answers: healthd's own, taken from a healthd run once.
            port = free_port()
            config = work / f"checks-{size}.toml"
            config.write_text(checks_config(size, port, interval="1h"))
            serve = [sys.executable, "-m", "healthd", "serve", "--config", str(config)]
            with subprocess.Popen(serve, env=ENV, stdout=subprocess.DEVNULL) as proc:
                url = f"http://127.0.0.1:{port}/ext/health"
                wait_until(lambda: http(url)[0] == 200)  # noqa: B023
                (work / "get.json").write_bytes(http(url)[1])
                (work / "post.json").write_bytes(http(url, RPC_BODY.encode())[1])
                proc.terminate()

            ours = functools.partial(healthd_argv, work, size)
            bare = functools.partial(bare_argv, work)
            for kind in KINDS:
                healthd = per_request(valgrind, ours, kind, args.requests, work)
                baseline = per_request(valgrind, bare, kind, args.requests, work)
                print(
                    f"| {size} | {kind} | {healthd:,.0f} | {baseline:,.0f} "
                    f"| {healthd / baseline:.2f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()

"""Wall time of `healthd --version` and `healthd status` against a running daemon (median of N).

Run from the repository root, with healthd installed:  python bench/cli_startup.py [--runs 10]
Uses hyperfine when it is installed, else times the runs itself.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TARGET = 0.3  # seconds, on the machine the README's figures come from


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def daemon() -> Iterator[str]:
    """A `healthd serve` with a few checks; yields its host:port."""
    port = free_port()
    with tempfile.TemporaryDirectory() as scratch:
        config = Path(scratch) / "config.toml"
        config.write_text(
            f'[server]\nport = {port}\n[scheduler]\ninterval = "1s"\ntimeout = "500ms"\n'
            '[[checks]]\nname = "node.rpc"\ntype = "tcp"\nhost = "127.0.0.1"\nport = 1\n'
            '[[checks]]\nname = "memory"\ntype = "memory"\n'
            '[[checks]]\nname = "scheduler"\ntype = "scheduler"\nkind = "liveness"\n'
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "healthd", "serve", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/ext/health/liveness")
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            yield f"127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait()


def median_seconds(argv: list[str], runs: int) -> tuple[float, str]:
    """The median wall time of running argv to its end, and the tool that measured it."""
    hyperfine = shutil.which("hyperfine")
    if hyperfine is not None:
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            command = " ".join(argv)
            options = ["--runs", str(runs), "--warmup", "2", "-N", "-i", "--export-json", out.name]
            subprocess.run([hyperfine, *options, command], check=True, capture_output=True)
            return float(
                json.loads(Path(out.name).read_text())["results"][0]["median"]
            ), "hyperfine"
    for _ in range(2):  # warm the page cache as hyperfine's --warmup does
        subprocess.run(argv, capture_output=True, check=False)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=False)
        times.append(time.perf_counter() - started)
    return statistics.median(times), "subprocess"


def main() -> int:
    """Measure and print one line per command."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    healthd = shutil.which("healthd", path=os.path.dirname(sys.executable)) or "healthd"
    with daemon() as address:
        for name, argv in (
            ("healthd --version", [healthd, "--version"]),
            ("healthd status", [healthd, "status", "--url", address]),
        ):
            seconds, tool = median_seconds(argv, args.runs)
            verdict = "met" if seconds <= TARGET else "NOT met"
            print(
                f"{name}: median {seconds:.3f} s of {args.runs} runs ({tool}); "
                f"target {TARGET} s {verdict}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

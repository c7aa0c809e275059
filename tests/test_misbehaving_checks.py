"""Checks that misbehave fail only themselves: chatty or escaping commands, stuck threads, leaks."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import orjson
import pytest
from aiohttp import web

from healthd.checks.base import Check, CheckEnv
from healthd.children import MARKER, Children, become_subreaper
from healthd.parts import Parts
from healthd.runner import Runner
from tests.helpers import probes
from tests.helpers.config import config_of
from tests.helpers.runs import run_once, store_for
from tests.helpers.waiting import wait_for


def marked_processes(marker_prefix: str = "") -> list[int]:
    """PIDs of live processes whose environment carries a healthd run marker."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        prefix = f"{MARKER}={marker_prefix}".encode()
        if state != "Z" and any(item.startswith(prefix) for item in environ.split(b"\0")):
            found.append(int(entry.name))
    return found


async def test_a_chatty_command_times_out_and_its_next_run_starts(
    make_check: Callable[..., Check],
) -> None:
    """`yes` fills any pipe: the timeout is recorded every run, never "still in progress"."""
    check = make_check(type="command", command=["yes"], interval="1s", timeout="300ms")
    store = store_for(check)
    runner = Runner(store)
    try:
        for run in range(1, 5):  # each run after the first shows the one before is over
            record = await runner.due(check)
            assert record.error == "timed out after 300ms"
            assert record.contiguous_failures == run
    finally:
        await runner.close()


async def test_command_output_kept_is_one_clean_bounded_line(
    make_check: Callable[..., Check],
) -> None:
    script = (
        "import sys;"
        "sys.stdout.write('a\\x00b\\x1b[31mc\\x07' + 'x' * 5000 + '\\nsecond line\\n');"
        "sys.stderr.write('first\\n' + 'e\\x01' * 3000 + '\\n');"
        "sys.exit(4)"
    )
    check = make_check(
        type="command", command=[sys.executable, "-c", script], timeout="5s", interval="10s"
    )
    record = await run_once(check)
    message = orjson.loads(record.message or b"{}")
    assert message["exitCode"] == 4
    assert message["output"].startswith("ab[31mc") and len(message["output"]) == 1024
    assert "\x00" not in message["output"] and "\x1b" not in message["output"]
    error = record.error or ""
    assert error.startswith("exit code 4: ")
    detail = error.removeprefix("exit code 4: ")
    assert set(detail) == {"e"} and len(detail) == 1024


async def test_processes_that_escape_the_group_are_killed_when_the_run_ends(
    make_check: Callable[..., Check], env: CheckEnv, tmp_path: Path
) -> None:
    """`setsid sleep &` leaves the process group; healthd adopts and kills it."""
    assert become_subreaper()
    pidfile = tmp_path / "escaped"
    check = make_check(
        type="command",
        command=[
            "sh",
            "-c",
            f"setsid sh -c 'echo $$ > {pidfile}; exec sleep 3600' & "
            f"while [ ! -s {pidfile} ]; do sleep 0.01; done",
        ],
        timeout="5s",
        interval="10s",
    )
    record = await run_once(check)
    assert record.passed, record.error
    escaped = int(pidfile.read_text())
    for _ in range(200):  # the kill lands asynchronously; polls, asserts nothing about time
        if escaped not in marked_processes():
            break
        await asyncio.sleep(0.02)
        env.children.sweep()  # as the daemon's periodic sweep does (a process mid-exec)
    assert escaped not in marked_processes()


async def test_leftovers_of_a_run_are_swept_but_running_runs_are_not() -> None:
    children = Children()
    running = children.start_run("running")
    ended = children.start_run("ended")
    procs = [
        subprocess.Popen(
            ["sleep", "600"], env={**os.environ, MARKER: marker}, start_new_session=True
        )
        for marker in (running, ended)
    ]
    try:
        # A process caught mid-exec shows no environment yet; the periodic sweep gets it later.
        while not all(proc.pid in marked_processes() for proc in procs):
            await asyncio.sleep(0.01)
        children.end_run(ended)  # sweeps
        assert procs[1].wait(timeout=30) == -9
        assert procs[0].poll() is None
        await children.close()
        # Killed at shutdown and reaped by close() itself: no zombie is left behind either.
        assert not Path(f"/proc/{procs[0].pid}").exists()
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


async def test_blocked_user_checks_cannot_starve_builtin_ones(
    make_check: Callable[..., Check], tmp_path: Path
) -> None:
    """Twelve python checks that never return; the disk check still runs every time."""
    probes.release.clear()
    stuck = [
        make_check(
            name=f"stuck{i}",
            type="python",
            callable="tests.helpers.probes:blocks_until_released",
            timeout="1s",
            interval="2s",
        )
        for i in range(12)
    ]
    disk = make_check(
        name="disk", type="disk", path=str(tmp_path), min_free_bytes=1, timeout="2s", interval="3s"
    )
    store = store_for(*stuck, disk)
    runner = Runner(store, workers=2, user_workers=2)
    try:
        results = await asyncio.gather(*(runner.run(check) for check in stuck))
        errors = {record.error for record in results}
        # Two ran and timed out; the others timed out waiting, and say why.
        assert "timed out after 1s" in errors
        assert (
            "timed out after 1s waiting for a worker thread: all 2 user-check threads are busy"
            in errors
        )
        for _ in range(3):
            assert (await runner.run(disk)).passed
        # A check whose thread is stuck holds that thread only: its next run is refused.
        started = zip(stuck, results, strict=True)  # a thread: timed out, not waiting for one
        busy = [check for check, record in started if record.error == "timed out after 1s"]
        assert busy and len(busy) <= 2
        assert runner.workers(busy[0]).stuck == len(busy)
        assert (await runner.due(busy[0])).error == "previous run still in progress"
    finally:
        probes.release.set()
        await runner.close()


async def test_a_stuck_thread_gives_its_slot_back(make_check: Callable[..., Check]) -> None:
    probes.release.clear()
    stuck = make_check(
        name="stuck", type="python", callable="tests.helpers.probes:blocks_until_released"
    )
    other = make_check(name="other", type="python", callable="tests.helpers.probes:returns")
    store = store_for(stuck, other)
    runner = Runner(store, workers=1, user_workers=1)
    try:
        assert (await runner.run(stuck)).error == "timed out after 500ms"
        assert (await runner.run(other)).passed
        assert runner.workers(stuck).stuck == 1
    finally:
        probes.release.set()
        await runner.close()


async def test_a_check_result_never_carries_its_configured_secrets(
    make_check: Callable[..., Check], aiohttp_server: Callable[..., object]
) -> None:
    """A remote that echoes the Authorization header in its error gets it scrubbed."""

    async def echo(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "error": {"code": -1, "message": f"bad auth {request.headers['Authorization']}"},
            }
        )

    app = web.Application()
    app.router.add_post("/", echo)
    server = await aiohttp_server(app)  # type: ignore[misc]
    check = make_check(
        type="jsonrpc",
        url=f"http://127.0.0.1:{server.port}/",  # type: ignore[attr-defined]
        method="eth_blockNumber",
        headers={"Authorization": "Bearer sup3r-secret-value", "X-Api": "another-secret"},
    )
    record = await run_once(check)
    shown = (record.error or "") + (record.message or b"").decode()
    assert "bad auth" in shown
    assert "sup3r-secret-value" not in shown and "another-secret" not in shown


@pytest.fixture
async def parts_of() -> AsyncIterator[Callable[..., Parts]]:
    made: list[Parts] = []

    def make(*checks: dict[str, object], extra: str = "") -> Parts:
        made.append(Parts(config_of(*checks, extra=extra)))
        return made[-1]

    yield make
    for parts in made:
        await parts.close()


async def test_worker_thread_counts_come_from_the_config(
    parts_of: Callable[..., Parts],
) -> None:
    probes.release.clear()
    parts = parts_of(
        *[
            {
                "name": f"stuck{i}",
                "type": "python",
                "callable": "tests.helpers.probes:blocks_until_released",
                "interval": "10s",
                "timeout": "300ms",
            }
            for i in range(3)
        ],
        extra="[scheduler]\nuser_worker_threads = 1\n",
    )
    try:
        parts.scheduler.start(parts.checks)
        names = [f"stuck{i}" for i in range(3)]
        await wait_for(parts.store, lambda: all(parts.store.get(n).timestamp_ns for n in names))
        waited = [parts.store.get(n).error for n in names]
        assert any("waiting for a worker thread: all 1 user-check" in (e or "") for e in waited)
    finally:
        probes.release.set()

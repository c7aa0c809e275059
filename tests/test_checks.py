"""The built-in check types, each against the real thing on this machine."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp import web

from healthd.checks.base import Check, CheckFailed
from tests.helpers.net import free_port
from tests.helpers.processes import ends
from tests.helpers.runs import outcome

# --- tcp -------------------------------------------------------------------------------------


async def test_tcp_passes_while_a_listener_accepts_and_fails_once_it_closes(
    make_check: Callable[..., Check],
) -> None:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    check = make_check(type="tcp", host="127.0.0.1", port=port)
    assert await outcome(check) == (f'{{"address":"127.0.0.1:{port}"}}', None)
    server.close()
    await server.wait_closed()
    message, error = await outcome(check)
    assert message is None
    assert error == f"cannot connect to 127.0.0.1:{port}: connection refused"


async def test_tcp_names_a_host_that_does_not_resolve(make_check: Callable[..., Check]) -> None:
    check = make_check(
        type="tcp", host="no-such-host.invalid", port=80, timeout="2s", interval="5s"
    )
    _, error = await outcome(check)
    assert error is not None and error.startswith("cannot resolve no-such-host.invalid")


# --- http ------------------------------------------------------------------------------------


@pytest.fixture
async def http_server() -> AsyncIterator[str]:
    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="all systems go")

    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=500, text="oops")

    async def echo_auth(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != "Bearer s3cret-token":
            return web.Response(status=401)
        return web.Response(text="authorized")

    async def hang_up(request: web.Request) -> web.Response:
        assert request.transport is not None
        request.transport.close()  # no answer at all: the client sees the server disconnect
        return web.Response()

    app = web.Application()
    app.router.add_get("/hang-up", hang_up)
    app.router.add_get("/ok", ok)
    app.router.add_get("/broken", broken)
    app.router.add_get("/auth", echo_auth)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_http_passes_on_2xx_and_reports_the_status(
    make_check: Callable[..., Check], http_server: str
) -> None:
    check = make_check(type="http", url=f"{http_server}/ok", body_contains="systems go")
    assert await outcome(check) == ('{"status":200}', None)


async def test_http_fails_on_500_unless_expected(
    make_check: Callable[..., Check], http_server: str
) -> None:
    check = make_check(type="http", url=f"{http_server}/broken")
    assert await outcome(check) == ('{"status":500}', "unexpected status 500 (expected 2xx)")
    listed = make_check(type="http", url=f"{http_server}/broken", expect_status=[500, 503])
    assert await outcome(listed) == ('{"status":500}', None)


async def test_http_fails_when_the_body_lacks_the_text(
    make_check: Callable[..., Check], http_server: str
) -> None:
    check = make_check(type="http", url=f"{http_server}/ok", body_contains="maintenance")
    _, error = await outcome(check)
    assert error == "response body does not contain 'maintenance'"


async def test_http_sends_headers(make_check: Callable[..., Check], http_server: str) -> None:
    check = make_check(
        type="http", url=f"{http_server}/auth", headers={"Authorization": "Bearer s3cret-token"}
    )
    assert await outcome(check) == ('{"status":200}', None)


async def test_http_connection_errors_never_show_the_password(
    make_check: Callable[..., Check],
) -> None:
    port = free_port()
    url = f"http://admin:hunter2secret@127.0.0.1:{port}/health"
    check = make_check(type="http", url=url)
    _, error = await outcome(check)
    # Said as the tcp check says it, without aiohttp's internals (ssl:default, Connect call).
    assert error == f"cannot connect to 127.0.0.1:{port}: connection refused"
    assert "hunter2secret" not in check.spec.target()


@pytest.mark.parametrize("kind", ["http", "jsonrpc"])
async def test_http_speaking_checks_explain_failed_connections_plainly(
    make_check: Callable[..., Check], kind: str
) -> None:
    port = free_port()
    keys = {"method": "health.health"} if kind == "jsonrpc" else {}
    refused = make_check(type=kind, url=f"http://127.0.0.1:{port}/", **keys)
    assert (await outcome(refused))[1] == f"cannot connect to 127.0.0.1:{port}: connection refused"
    refused6 = make_check(type=kind, url=f"http://[::1]:{port}/", **keys)
    error6 = (await outcome(refused6))[1]
    assert error6 is not None and error6.startswith(f"cannot connect to [::1]:{port}: ")
    unknown = make_check(type=kind, url="http://no-such-host.invalid/", **keys)
    error = (await outcome(unknown))[1]
    assert error is not None and error.startswith("cannot resolve no-such-host.invalid: ")


async def test_http_failures_after_connecting_never_show_the_password(
    make_check: Callable[..., Check], http_server: str
) -> None:
    url = http_server.replace("http://", "http://admin:hunter2secret@") + "/hang-up"
    check = make_check(type="http", url=url)
    _, error = await outcome(check)
    assert error is not None and error.startswith("GET http://admin:***@127.0.0.1")
    assert "hunter2secret" not in error
    assert "hunter2secret" not in check.spec.target()


# --- command ---------------------------------------------------------------------------------


async def test_command_true_passes_and_false_fails(make_check: Callable[..., Check]) -> None:
    assert await outcome(make_check(type="command", command=["true"])) == (
        '{"exitCode":0,"output":""}',
        None,
    )
    assert await outcome(make_check(type="command", command=["false"])) == (
        '{"exitCode":1,"output":""}',
        "exit code 1",
    )


async def test_command_reports_first_stdout_line_and_last_stderr_line(
    make_check: Callable[..., Check],
) -> None:
    script = "echo first; echo second; echo oops >&2; echo 'real reason' >&2; exit 3"
    check = make_check(type="command", command=["sh", "-c", script])
    assert await outcome(check) == ('{"exitCode":3,"output":"first"}', "exit code 3: real reason")


async def test_command_gets_its_env_without_a_shell(make_check: Callable[..., Check]) -> None:
    check = make_check(
        type="command", command=["printenv", "NODE_ROLE"], env={"NODE_ROLE": "validator; rm -rf /"}
    )
    assert await outcome(check) == ('{"exitCode":0,"output":"validator; rm -rf /"}', None)


async def test_command_does_not_pass_the_daemons_secrets_on(
    make_check: Callable[..., Check], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEALTHD_TOKEN", "do-not-leak")
    check = make_check(type="command", command=["printenv", "HEALTHD_TOKEN"])
    assert await outcome(check) == ('{"exitCode":1,"output":""}', "exit code 1")


async def test_command_that_does_not_exist_fails_clearly(
    make_check: Callable[..., Check],
) -> None:
    check = make_check(type="command", command=["/nonexistent/healthd-probe"])
    _, error = await outcome(check)
    assert error == "cannot run /nonexistent/healthd-probe: No such file or directory"


async def test_command_timeout_kills_the_whole_process_group(
    make_check: Callable[..., Check], tmp_path: Path
) -> None:
    pidfile = tmp_path / "child.pid"
    script = f"sleep 60 & echo $! > {pidfile}; wait"
    check = make_check(type="command", command=["sh", "-c", script], timeout="2s", interval="3s")
    _, error = await outcome(check)
    assert error == "timed out after 2s"
    child = int(pidfile.read_text())
    assert ends(child)


async def test_command_output_floods_are_bounded(make_check: Callable[..., Check]) -> None:
    script = "head -c 5000000 /dev/zero | tr '\\0' 'x'; head -c 3000000 /dev/urandom >&2; exit 1"
    check = make_check(type="command", command=["sh", "-c", script], timeout="5s", interval="10s")
    message, error = await outcome(check)
    assert message is not None and len(message) < 2000
    assert error is not None and error.startswith("exit code 1") and len(error) < 5000


# --- disk, memory ----------------------------------------------------------------------------


async def test_disk_reports_free_space_and_fails_above_the_threshold(
    make_check: Callable[..., Check], tmp_path: Path
) -> None:
    ok = make_check(type="disk", path=str(tmp_path), min_free_bytes=1)
    message, error = await outcome(ok)
    assert error is None and message is not None
    assert '"availableDiskBytes":' in message and '"percentFree":' in message
    too_much = make_check(type="disk", path=str(tmp_path), min_free_percent=100)
    _, error = await outcome(too_much)
    assert error is not None and "below the minimum 100%" in error
    too_many_bytes = make_check(type="disk", path=str(tmp_path), min_free_bytes="1PB")
    _, error = await outcome(too_many_bytes)
    assert error is not None and error.endswith(f"free on {tmp_path}, below the minimum 1PB")


async def test_disk_on_a_missing_path_fails(make_check: Callable[..., Check]) -> None:
    check = make_check(type="disk", path="/nonexistent/mount", min_free_percent=1)
    assert await outcome(check) == (
        None,
        "cannot stat /nonexistent/mount: No such file or directory",
    )


async def test_memory_reports_use_and_fails_over_the_threshold(
    make_check: Callable[..., Check],
) -> None:
    message, error = await outcome(make_check(type="memory", max_used_percent=100))
    assert error is None and message is not None and '"usedPercent":' in message
    _, error = await outcome(make_check(type="memory", max_used_percent=0.001))
    assert error is not None and "above the maximum" in error


# --- scheduler -------------------------------------------------------------------------------


async def test_scheduler_check_fails_when_a_job_is_overdue(
    make_check: Callable[..., Check],
) -> None:
    from healthd.checks.base import CheckEnv
    from healthd.scheduler import Punctuality

    punctuality = Punctuality()
    late = make_check(type="tcp", host="127.0.0.1", port=1, name="late")
    punctuality.schedule(late, first=0.0)  # expected to fire at monotonic 0: long overdue
    watcher = make_check(type="scheduler", name="sched")
    env = CheckEnv(schedule=punctuality, http=None)  # type: ignore[arg-type]
    from healthd.checks import on_schedule

    probe = on_schedule.build(watcher.spec, env)  # type: ignore[arg-type]
    with pytest.raises(CheckFailed, match="1 checks overdue: late"):
        await probe()  # type: ignore[misc]
    import time

    punctuality.fired("late", time.monotonic())
    assert await probe() == {"checks": 1, "overdue": []}  # type: ignore[misc]


def test_python_sync_callables_are_marked_blocking(make_check: Callable[..., Check]) -> None:
    assert make_check(type="python", callable="tests.helpers.probes:returns").blocking
    assert not make_check(type="python", callable="tests.helpers.probes:returns_async").blocking

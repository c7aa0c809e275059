"""The check library, each type against the real thing: servers, processes, files, plugins."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import psutil
import pytest
from aiohttp import web

from healthd.answers import Answers
from healthd.checks import CheckType, check_types
from healthd.checks.base import Check
from healthd.checks.postgres import PostgresSpec
from healthd.checks.postgres import build as build_postgres
from healthd.config import ConfigError, parse_config
from healthd.result import Outcome
from healthd.server import create_app
from healthd.store import Entry, Store
from tests.helpers.cli import ROOT, healthd
from tests.helpers.config import config_file, config_text
from tests.helpers.net import free_port
from tests.helpers.processes import require
from tests.helpers.runs import outcome, run, run_once
from tests.helpers.servers import postgres_server, redis_server

PLUGINS = ROOT / "tests" / "plugins"
NAGIOS = Path("/usr/lib/nagios/plugins")


# --- load ------------------------------------------------------------------------------------


async def test_load_reports_averages_and_cpus(make_check: Callable[..., Check]) -> None:
    message, error = await run(make_check(type="load", max_load1_per_cpu=1000))
    assert error is None
    assert message["cpus"] == psutil.cpu_count()
    assert set(message) == {"load1", "load5", "load15", "cpus"}


async def test_load_fails_above_the_threshold(make_check: Callable[..., Check]) -> None:
    load1 = os.getloadavg()[0] / (psutil.cpu_count() or 1)
    if load1 < 0.002:
        pytest.skip("the load average here is 0: nothing to be above")
    _, error = await outcome(make_check(type="load", max_load1_per_cpu=load1 / 2))
    assert error is not None and error.startswith("load1 is ") and "above the maximum" in error


def test_load_needs_a_threshold() -> None:
    with pytest.raises(ConfigError, match=r"checks\[0\] \(l\): set max_load1_per_cpu"):
        parse_config(config_text({"name": "l", "type": "load"}), "t")


# --- process ---------------------------------------------------------------------------------


@pytest.fixture
def sleeper(tmp_path: Path) -> Any:
    binary = tmp_path / f"healthd-sleeper-{os.getpid()}"
    shutil.copy(shutil.which("sleep") or "/bin/sleep", binary)
    proc = subprocess.Popen([str(binary), "60"])
    yield binary.name, proc
    proc.kill()
    proc.wait()


async def test_process_by_name_passes_while_it_runs(
    make_check: Callable[..., Check], sleeper: Any
) -> None:
    name, proc = sleeper
    check = make_check(type="process", process_name=name)
    message, error = await run(check)
    assert error is None and message["pid"] == proc.pid
    proc.kill()
    proc.wait()
    assert await outcome(check) == (None, f"no process named {name} is running")


async def test_process_by_pidfile_and_zombies_fail(
    make_check: Callable[..., Check], tmp_path: Path
) -> None:
    proc = subprocess.Popen(["sleep", "60"])
    pidfile = tmp_path / "node.pid"
    pidfile.write_text(f"{proc.pid}\n")
    check = make_check(type="process", pidfile=str(pidfile))
    assert await run(check) == ({"pid": proc.pid}, None)
    proc.send_signal(signal.SIGKILL)  # not reaped: a zombie until wait()
    while psutil.Process(proc.pid).status() != psutil.STATUS_ZOMBIE:
        time.sleep(0.01)
    _, error = await outcome(check)
    assert error == f"process {proc.pid} from {pidfile} is a zombie"
    proc.wait()
    _, error = await outcome(check)
    assert error == f"process {proc.pid} from {pidfile} is not running"


def test_process_takes_process_name_or_pidfile_not_both() -> None:
    both = {"name": "p", "type": "process", "process_name": "x", "pidfile": "/run/x.pid"}
    with pytest.raises(ConfigError, match="exactly one of process_name and pidfile"):
        parse_config(config_text(both), "t")


# --- file ------------------------------------------------------------------------------------


async def test_file_passes_while_fresh_and_fails_when_stale_or_gone(
    make_check: Callable[..., Check], tmp_path: Path
) -> None:
    heartbeat = tmp_path / "heartbeat"
    heartbeat.write_text("")
    check = make_check(type="file", path=str(heartbeat), max_age="1h")
    message, error = await run(check)
    assert error is None and 0 <= message["ageSeconds"] < 3600
    old = time.time() - 7200
    os.utime(heartbeat, (old, old))
    message, error = await run(check)
    assert message["ageSeconds"] >= 7200
    assert error is not None and "more than 1h0m0s" in error
    heartbeat.unlink()
    assert (await outcome(check))[1] == f"cannot stat {heartbeat}: No such file or directory"


# --- dns -------------------------------------------------------------------------------------


async def test_dns_resolves_through_the_system_resolver(make_check: Callable[..., Check]) -> None:
    message, error = await run(make_check(type="dns", host="localhost"))
    assert error is None and "127.0.0.1" in message["addresses"]
    _, error = await outcome(make_check(type="dns", host="localhost", min_results=50))
    assert error is not None and "fewer than 50" in error
    _, error = await outcome(
        make_check(type="dns", host="no-such-name.invalid", timeout="2s", interval="5s")
    )
    assert error is not None and error.startswith("cannot resolve no-such-name.invalid")


# --- jsonrpc (against healthd itself) --------------------------------------------------------


@pytest.fixture
async def healthd_api() -> AsyncIterator[tuple[str, Store]]:
    store = Store([Entry("node", "health", frozenset()), Entry("db", "health", frozenset())])
    runner = web.AppRunner(create_app(store))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}/ext/health", store
    await runner.cleanup()


async def test_jsonrpc_matches_expected_keys_nested(
    make_check: Callable[..., Check], healthd_api: tuple[str, Store]
) -> None:
    url, store = healthd_api
    want = {"healthy": True, "checks": {"node": {"contiguousFailures": 0}}}
    check = make_check(type="jsonrpc", url=url, method="health.health", expect=want)
    message, error = await run(check)
    assert error == "result.healthy is false, expected true"
    assert message["checks"]["node"]["error"] == {"message": "not yet run"}
    store.record("node", Outcome(), 1, 1)
    store.record("db", Outcome(), 1, 1)
    message, error = await run(check)
    assert error is None and message["healthy"] is True


async def test_jsonrpc_errors_and_params(
    make_check: Callable[..., Check], healthd_api: tuple[str, Store]
) -> None:
    url, _ = healthd_api
    missing = make_check(type="jsonrpc", url=url, method="health.nope")
    assert (await outcome(missing))[1] == "JSON-RPC error -32601: Method not found"
    bad = make_check(type="jsonrpc", url=url, method="health.health", params={"tags": 5})
    assert (await outcome(bad))[1] == "JSON-RPC error -32602: Invalid params"
    tagged = make_check(
        type="jsonrpc",
        url=url,
        method="health.health",
        params={"tags": ["x"]},
        expect={"checks": {"node": {}}},
    )
    assert (await outcome(tagged))[1] is None


async def test_jsonrpc_trims_a_large_result(make_check: Callable[..., Check]) -> None:
    async def big(request: web.Request) -> web.Response:
        payload = await request.json()
        return web.json_response(
            {"jsonrpc": "2.0", "id": payload["id"], "result": {"blob": "x" * 100_000}}
        )

    app = web.Application()
    app.router.add_post("/", big)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        check = make_check(type="jsonrpc", url=f"http://127.0.0.1:{port}/", method="get")
        message, error = await run(check)
    finally:
        await runner.cleanup()
    assert error is None
    assert message["truncated"] is True and message["bytes"] > 100_000
    assert len(json.dumps(message)) < 5000


# --- postgres and redis: real servers --------------------------------------------------------


async def test_postgres_passes_while_the_server_runs_and_fails_once_stopped(
    make_check: Callable[..., Check],
) -> None:
    with postgres_server() as server:
        dsn = f"postgresql://healthd:{server.password}@127.0.0.1:{server.port}/postgres"
        check = make_check(
            type="postgres",
            dsn=dsn,
            query="SELECT count(*) FROM pg_class",
            timeout="5s",
            interval="10s",
        )
        message, error = await run(check)
        assert error is None and message["latencyMs"] > 0
        server.stop()
        message, error = await run(check)
    assert message is None
    assert error is not None and error.startswith("postgres: ")
    assert server.password not in error
    assert server.password not in check.spec.target()


async def test_postgres_wrong_password_and_bad_query_fail_without_leaking(
    make_check: Callable[..., Check],
) -> None:
    with postgres_server() as server:
        wrong = "not-the-password-42"
        dsn = f"postgresql://healthd:{wrong}@127.0.0.1:{server.port}/postgres"
        _, error = await outcome(make_check(type="postgres", dsn=dsn, timeout="5s", interval="10s"))
        assert error is not None and "password authentication failed" in error
        assert wrong not in error
        assert wrong not in PostgresSpec(name="p", type="postgres", dsn=dsn).target()
        good = f"postgresql://healthd:{server.password}@127.0.0.1:{server.port}/postgres"
        _, error = await outcome(
            make_check(type="postgres", dsn=good, query="SELECT nope", timeout="5s", interval="10s")
        )
        assert error is not None and 'column "nope" does not exist' in error


async def test_redis_passes_while_the_server_runs_and_fails_once_stopped(
    make_check: Callable[..., Check],
) -> None:
    with redis_server() as server:
        url = f"redis://:{server.password}@127.0.0.1:{server.port}/0"
        check = make_check(type="redis", url=url, timeout="5s", interval="10s")
        message, error = await run(check)
        assert error is None and message["latencyMs"] > 0
        wrong = make_check(
            type="redis",
            url=f"redis://:bad-pass-77@127.0.0.1:{server.port}/0",
            timeout="5s",
            interval="10s",
            name="wrong",
        )
        _, error = await outcome(wrong)
        assert error is not None and error.startswith("redis: ") and "bad-pass-77" not in error
        server.stop()
        _, error = await outcome(check)
    assert error is not None and error.startswith("redis: ")
    assert server.password not in error and server.password not in check.spec.target()


def test_a_type_whose_extra_is_missing_names_the_pip_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    missing = CheckType(PostgresSpec, build_postgres, ("healthd_no_such_module", "postgres"))
    monkeypatch.setitem(check_types(), "postgres", missing)
    with pytest.raises(ConfigError) as caught:
        parse_config(
            config_text({"name": "db", "type": "postgres", "dsn": "postgresql://x"}), "t.toml"
        )
    assert caught.value.problems == [
        "checks[0] (db).type: the postgres check type needs the healthd_no_such_module package: "
        "pip install 'healthd[postgres]'"
    ]


# --- nagios ----------------------------------------------------------------------------------


def plugin(tmp_path: Path, code: int, output: str) -> str:
    script, text = tmp_path / f"check_{code}", tmp_path / f"output_{code}"
    text.write_text(output + "\n")
    script.write_text(f"#!/bin/sh\ncat '{text}'\nexit {code}\n")
    script.chmod(0o755)
    return str(script)


@pytest.mark.parametrize(
    ("code", "status", "passed", "degraded"),
    [
        (0, "OK", True, False),
        (1, "WARNING", False, True),
        (2, "CRITICAL", False, False),
        (3, "UNKNOWN", False, False),
    ],
)
async def test_nagios_exit_codes(
    make_check: Callable[..., Check],
    tmp_path: Path,
    code: int,
    status: str,
    passed: bool,
    degraded: bool,
) -> None:
    output = f"DISK {status} - free space: / 3326 MB (56%)|/=2643MB;5948;5958;0;5968 'in use'=44%;;"
    check = make_check(type="nagios", command=[plugin(tmp_path, code, output)])
    store = Store([Entry("c", "health", frozenset())])
    from healthd.runner import Runner

    runner = Runner(store)
    record = await runner.run(check)
    await runner.close()
    message = json.loads(record.message or b"null")
    assert message["status"] == status
    assert message["text"] == f"DISK {status} - free space: / 3326 MB (56%)"
    assert message["perfdata"] == {
        "/": {
            "value": 2643.0,
            "uom": "MB",
            "warn": "5948",
            "crit": "5958",
            "min": "0",
            "max": "5968",
        },
        "in use": {"value": 44.0, "uom": "%"},
    }
    assert record.passed is passed
    assert record.degraded is degraded
    if not passed:  # the plugin names its state itself: the error says it once
        assert record.error == message["text"]
    answer = Answers(store).get("health")
    assert answer.healthy is (passed or degraded)
    assert answer.degraded is degraded


@pytest.mark.parametrize(
    ("output", "error"),
    [
        ("WARNING: pretend warning", "WARNING: pretend warning"),
        ("pretend warning", "WARNING: pretend warning"),
        ("", "WARNING: exit code 1"),
    ],
)
async def test_nagios_error_names_the_state_once(
    make_check: Callable[..., Check], tmp_path: Path, output: str, error: str
) -> None:
    check = make_check(type="nagios", command=[plugin(tmp_path, 1, output)])
    record = await run_once(check)
    assert record.error == error
    assert record.degraded


async def test_real_monitoring_plugins_work_unchanged(
    make_check: Callable[..., Check],
) -> None:
    require(str(NAGIOS / "check_tcp"), "monitoring-plugins-basic")
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        tcp = make_check(
            type="nagios",
            command=[str(NAGIOS / "check_tcp"), "-H", "127.0.0.1", "-p", str(port)],
            timeout="5s",
            interval="10s",
        )
        message, error = await run(tcp)
    assert error is None and message["status"] == "OK"
    assert "time" in message["perfdata"] and message["perfdata"]["time"]["uom"] == "s"
    _, error = await outcome(tcp)
    assert error is not None and error.startswith("CRITICAL: ")
    disk = make_check(
        type="nagios",
        command=[str(NAGIOS / "check_disk"), "-w", "0%", "-c", "0%", "-p", "/"],
        timeout="5s",
        interval="10s",
    )
    message, error = await run(disk)
    assert error is None and message["status"] == "OK" and message["perfdata"]
    procs = make_check(
        type="nagios",
        command=[str(NAGIOS / "check_procs"), "-w", "0:0", "-C", "init-no-such-proc"],
        timeout="5s",
        interval="10s",
    )
    message, error = await run(procs)
    assert error is None and message["status"] == "OK"


# --- plugins and secrets in `healthd validate` ------------------------------------------------


def test_a_package_can_register_its_own_check_type(tmp_path: Path) -> None:
    value = tmp_path / "value"
    value.write_text("7")
    config = config_file(
        tmp_path,
        config_text({"name": "queue", "type": "threshold", "path": str(value), "maximum": 10}),
    )
    path = f"{PLUGINS}{os.pathsep}{ROOT}"
    result = healthd("check", "--json", "--config", config, env={"PYTHONPATH": path})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["checks"]["queue"]["message"] == {"value": 7.0}
    value.write_text("12")
    result = healthd("check", "--json", "--config", config, env={"PYTHONPATH": path})
    assert result.returncode == 1
    assert json.loads(result.stdout)["checks"]["queue"]["error"] == {"message": "12 is above 10"}
    # Without the package installed, the type is unknown, and said so.
    result = healthd("validate", "--config", config)
    assert result.returncode == 2 and "unknown type 'threshold'" in result.stderr


def test_validate_never_shows_secrets(tmp_path: Path) -> None:
    config = config_file(
        tmp_path,
        config_text(
            {"name": "db", "type": "postgres", "dsn": "postgresql://u:pg-pass-1@127.0.0.1/db"},
            {
                "name": "db2",
                "type": "postgres",
                "dsn": "postgres://u:kv-pass-2@h/d?sslmode=require",
            },
            {"name": "cache", "type": "redis", "url": "redis://:redis-pass-3@127.0.0.1:6379/0"},
            {
                "name": "api",
                "type": "http",
                "url": "https://u:http-pass-4@127.0.0.1/?token=tok-5",
                "headers": {"Authorization": "Bearer hdr-6"},
            },
        ),
    )
    result = healthd("validate", "--config", config)
    assert result.returncode == 0, result.stderr
    for secret in ("pg-pass-1", "kv-pass-2", "redis-pass-3", "http-pass-4", "tok-5", "hdr-6"):
        assert secret not in result.stdout + result.stderr
    assert "postgresql://u:***@127.0.0.1/db" in result.stdout

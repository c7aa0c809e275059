"""The command line, as a user runs it: exit codes and readable errors, never a traceback."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from tests.helpers.cli import ROOT, healthd
from tests.helpers.config import config_file, config_text
from tests.helpers.net import free_port


def test_validate_the_embedded_default() -> None:
    result = healthd("validate")
    assert result.returncode == 0, result.stderr
    assert "listen: 127.0.0.1:9660" in result.stdout
    for name in ("diskspace", "memory", "scheduler"):
        assert f"  {name}:" in result.stdout


def test_validate_the_example_config() -> None:
    result = healthd("validate", "--config", str(ROOT / "config.example.toml"))
    assert result.returncode == 0, result.stderr


def test_a_bad_config_names_file_key_path_and_expectation(tmp_path: Path) -> None:
    path = config_file(
        tmp_path,
        config_text(
            {"name": "ok", "type": "tcp", "host": "127.0.0.1", "port": 1},
            {"name": "ok2", "type": "disk", "min_free_percent": 5},
            {"name": "bad", "type": "tcp", "host": "127.0.0.1", "port": "many"},
        ),
    )
    for command in ("validate", "check", "serve"):
        result = healthd(command, "--config", path)
        assert result.returncode == 2, (command, result.stderr)
        assert path in result.stderr
        assert "checks[2] (bad).port: input should be a valid integer" in result.stderr
        assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[server]\nport = 9660\nhots = 'x'\n", "server.hots: unknown key"),
        (
            "[[checks]]\nname = 'a'\ntype = 'tcp'\nhost = 'h'\nport = 1\nintervall = '5s'\n",
            'checks[0] (a).intervall: unknown key; did you mean "interval"?',
        ),
        (
            "[[checks]]\nname = 'a'\ntype = 'tcp'\nhost = 'h'\nport = 1\n"
            "[[checks]]\nname = 'a'\ntype = 'tcp'\nhost = 'h'\nport = 2\n",
            "checks[1] (a).name: duplicate check name 'a'",
        ),
        ("[scheduler]\ninterval = '5s'\ntimeout = '10s'\n", "scheduler.timeout: the timeout (10s)"),
        (
            "[[checks]]\nname = 'a'\ntype = 'tcp'\nhost = 'h'\nport = 1\ntimeout = '1m'\n",
            "checks[0] (a).timeout: the timeout (1m0s) must be longer than 0s and shorter than the interval",
        ),
        ("[[checks]]\nname = 'a'\ntype = 'smtp'\n", "checks[0] (a).type: unknown type 'smtp'"),
        ("[server\n", "not valid TOML"),
        ("[logging]\nlevel = 'loud'\n", "logging.level: input should be 'debug', 'info'"),
        (
            "[[views]]\npath = '/metrics'\nformat = 'short'\n",
            "views[0].path: /metrics is already served",
        ),
        (
            "[[views]]\npath = '/a'\nformat = 'short'\n[[views]]\npath = '/a'\nformat = 'simple'\n",
            "views[1].path: /a is already served",
        ),
        (
            "[[views]]\npath = '/a'\nformat = 'xml'\n",
            "views[0].format: input should be 'avalanche'",
        ),
        (
            "[[views]]\npath = '/a'\nformat = 'short'\ninstance_id = 'n'\n",
            "views[0]: instance_id applies only to the components format",
        ),
        (
            "[server]\ntoken_file = '/nonexistent/token'\n",
            "server.token_file: cannot read /nonexistent/token: No such file or directory",
        ),
        (
            "[[checks]]\nname = 'a'\ntype = 'process'\nname2 = 1\n",
            'checks[0] (a).name2: unknown key; did you mean "name"?',
        ),
    ],
)
def test_config_mistakes_are_explained(tmp_path: Path, text: str, expected: str) -> None:
    result = healthd("validate", "--config", config_file(tmp_path, text))
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_config_file_is_a_bad_config(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.toml")
    for command in ("validate", "check", "serve"):
        result = healthd(command, "--config", missing)
        assert result.returncode == 2
        assert f"{missing}" in result.stderr and "No such file or directory" in result.stderr


def test_healthd_config_environment_variable_names_the_file(tmp_path: Path) -> None:
    path = config_file(
        tmp_path, config_text({"name": "from-env", "type": "tcp", "host": "127.0.0.1", "port": 1})
    )
    result = healthd("validate", env={"HEALTHD_CONFIG": path})
    assert result.returncode == 0
    assert "from-env" in result.stdout


def test_check_exits_0_when_healthy_and_prints_a_table(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        path = config_file(
            tmp_path,
            config_text(
                {"name": "node.rpc", "type": "tcp", "host": "127.0.0.1", "port": port},
                {"name": "gate", "type": "command", "command": ["false"], "kind": "readiness"},
            ),
        )
        result = healthd("check", "--config", path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["CHECK", "KIND", "STATE", "DURATION", "FAILS", "TAGS", "DETAIL"]
    assert any(line.startswith("node.rpc") and " PASS " in line for line in lines)
    assert any(line.startswith("gate") and " FAIL " in line for line in lines)
    assert lines[-1] == "2 checks: 1 pass, 1 fail; health: healthy"


def test_check_json_prints_the_result_object_and_exits_1_when_failing(tmp_path: Path) -> None:
    path = config_file(
        tmp_path,
        config_text(
            {"name": "down", "type": "tcp", "host": "127.0.0.1", "port": free_port()},
            {"name": "up", "type": "command", "command": ["true"]},
        ),
    )
    result = healthd("check", "--json", "--config", path)
    assert result.returncode == 1
    answer = json.loads(result.stdout)
    assert answer["healthy"] is False
    assert answer["checks"]["down"]["contiguousFailures"] == 1
    assert answer["checks"]["up"]["message"] == {"exitCode": 0, "output": ""}


def test_serve_on_a_busy_port_exits_1_naming_the_address(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = healthd("serve", "--port", str(port))
    assert result.returncode == 1
    # One line, naming the address and the reason once; no check ran before it.
    assert result.stderr.strip().splitlines() == [
        f"healthd: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]
    assert "check started" not in result.stdout


def test_serve_rejects_a_bad_port_on_the_command_line() -> None:
    result = healthd("serve", "--port", "70000")
    assert result.returncode == 2
    assert "--port" in result.stderr


def test_serve_on_an_address_it_cannot_resolve_exits_1_without_a_traceback() -> None:
    result = healthd("serve", "--host", "no-such-host.invalid", "--port", str(free_port()))
    assert result.returncode == 1
    assert "cannot listen on no-such-host.invalid" in result.stderr
    assert "Traceback" not in result.stderr


def test_data_commands_keep_log_lines_off_stdout(tmp_path: Path) -> None:
    # A plugin that cannot load is logged while the config is read: on stderr, never in the data.
    dist = tmp_path / "broken_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[healthd.checks]\nbroken = no_such_module_here\n")
    config = config_file(
        tmp_path, config_text({"name": "up", "type": "command", "command": ["true"]})
    )
    env = {"PYTHONPATH": f"{ROOT}{os.pathsep}{tmp_path}"}
    validate = healthd("validate", "--config", config, env=env)
    assert validate.returncode == 0
    assert "cannot load check type plugin" in validate.stderr
    assert validate.stdout.startswith("config: ") and "plugin" not in validate.stdout
    check = healthd("check", "--json", "--config", config, env=env)
    assert check.returncode == 0
    assert "cannot load check type plugin" in check.stderr
    assert json.loads(check.stdout)["healthy"] is True

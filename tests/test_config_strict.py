"""Config values are taken as written: no coercion, lists called lists, errors that name the check."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest

from healthd.checks.base import CheckSpec
from healthd.config import ConfigError, parse_config
from tests.helpers.cli import healthd
from tests.helpers.config import config_file, config_text

TCP = {"name": "node.rpc", "type": "tcp", "host": "127.0.0.1", "port": 9651}


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "t.toml")
    return caught.value.problems


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[server]\nport = "9661"\n', "server.port: input should be a valid integer (got '9661')"),
        ("[server]\nport = 80.0\n", "server.port: input should be a valid integer (got 80.0)"),
        (
            config_text({**TCP, "port": "9661"}),
            "checks[0] (node.rpc).port: input should be a valid integer (got '9661')",
        ),
        (
            config_text({**TCP, "critical": "no"}),
            "checks[0] (node.rpc).critical: input should be a valid boolean (got 'no')",
        ),
        (
            config_text({"name": "d", "type": "disk", "min_free_percent": "5"}),
            "checks[0] (d).min_free_percent: input should be a valid number (got '5')",
        ),
        ("[logging]\nlevel = 1\n", "logging.level: input should be 'debug', 'info'"),
    ],
)
def test_values_of_the_wrong_type_are_errors_not_coerced(text: str, expected: str) -> None:
    assert any(problem.startswith(expected) for problem in problems(text)), problems(text)


def test_lists_are_called_lists_never_tuples() -> None:
    found = problems(
        config_text(
            {**TCP, "tags": "node"},
            {"name": "c", "type": "command", "command": "true"},
            {"name": "h", "type": "http", "url": "http://x", "expect_status": 200},
            {"name": "e", "type": "command", "command": []},
        )
        + '[[views]]\npath = "/v"\nformat = "short"\ntags = "x"\n'
    )
    assert "checks[0] (node.rpc).tags: input should be a list (got 'node')" in found
    assert "checks[1] (c).command: input should be a list (got 'true')" in found
    assert "checks[2] (h).expect_status: input should be a list (got 200)" in found
    assert any(
        p.startswith("checks[3] (e).command: value should have at least 1 item") for p in found
    )
    assert "views[0].tags: input should be a list (got 'x')" in found
    assert not any("tuple" in problem.lower() for problem in found), found


def test_lists_and_numbers_of_seconds_still_work() -> None:
    config = parse_config(
        config_text(
            {**TCP, "tags": ["node", "p2p"], "interval": 5, "timeout": 0.5},
            {"name": "h", "type": "http", "url": "http://x", "expect_status": [200, 204]},
            {"name": "c", "type": "command", "command": ["true"], "interval": "1m30s"},
        ),
        "t.toml",
    )
    tcp, http, command = (item.spec for item in config.checks)
    assert tcp.tags == ("node", "p2p") and config.checks[0].timing.interval == 5.0
    assert http.expect_status == (200, 204)  # type: ignore[attr-defined]
    assert command.command == ("true",)  # type: ignore[attr-defined]
    assert config.checks[2].timing.interval == 90.0


def test_a_check_without_a_name_is_named_by_position() -> None:
    found = problems(config_text({"type": "tcp", "host": "h", "port": "1"}))
    assert "checks[0].name: required key is missing" in found
    assert "checks[0].port: input should be a valid integer (got '1')" in found


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            config_text({**TCP, "prot": 1}),
            'checks[0] (node.rpc).prot: unknown key; did you mean "port"?',
        ),
        (
            config_text({**TCP, "critcal": False}),
            'checks[0] (node.rpc).critcal: unknown key; did you mean "critical"?',
        ),
        ("[server]\nprot = 1\n", 'server.prot: unknown key; did you mean "port"?'),
        ("[sever]\nport = 1\n", 'sever: unknown key; did you mean "server"?'),
        (
            "[scheduler]\ninterva = '5s'\n",
            'scheduler.interva: unknown key; did you mean "interval"?',
        ),
        (config_text({**TCP, "zzz": 1}), "checks[0] (node.rpc).zzz: unknown key"),
    ],
)
def test_an_unknown_key_suggests_the_closest_known_one(text: str, expected: str) -> None:
    assert expected in problems(text)


def test_check_types_of_plugins_are_strict_too() -> None:
    class Spec(CheckSpec):
        type: Literal["threshold"]
        maximum: float
        paths: list[str] = []

    with pytest.raises(ValueError, match="valid number"):
        Spec.model_validate({"name": "t", "type": "threshold", "maximum": "5"})
    assert Spec.model_validate({"name": "t", "type": "threshold", "maximum": 5}).maximum == 5.0


def test_validate_warns_when_no_health_check_is_configured(tmp_path: Path) -> None:
    only_liveness = config_text({"name": "s", "type": "scheduler", "kind": "liveness"})
    result = healthd("validate", "--config", config_file(tmp_path, only_liveness))
    assert result.returncode == 0
    assert "warning: no check of kind health is configured" in result.stderr
    assert "warning" not in result.stdout
    result = healthd("validate", "--config", config_file(tmp_path, config_text(TCP)))
    assert result.returncode == 0 and result.stderr == ""


def test_validate_shows_sizes_in_the_unit_written(tmp_path: Path) -> None:
    disk = {"name": "disk", "type": "disk", "min_free_bytes": "1GB", "min_free_percent": 5}
    binary = {"name": "disk2", "type": "disk", "min_free_bytes": "512MiB"}
    result = healthd("validate", "--config", config_file(tmp_path, config_text(disk, binary)))
    assert result.returncode == 0, result.stderr
    assert "/ free >= 5% and 1GB" in result.stdout
    assert "/ free >= 512MiB" in result.stdout

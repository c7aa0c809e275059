"""Commands import only what they need: `--version` and `status` never load the daemon."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.helpers.cli import environment
from tests.helpers.net import free_port

HEAVY = ("aiohttp", "apscheduler", "jsonrpcserver", "prometheus_client", "rich")

# Runs a command in-process, then reports which of the heavy modules it imported.
PROBE = """
import contextlib, io, json, sys
from healthd.cli import main
with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()), \\
        contextlib.redirect_stderr(io.StringIO()):
    main(sys.argv[1:])
print(json.dumps(sorted(m for m in HEAVY if m in sys.modules)))
"""


def imported(*argv: str) -> list[str]:
    code = f"HEAVY = {HEAVY!r}\n{PROBE}"
    result = subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True,
        text=True,
        env=environment(),
        check=True,
    )
    return list(json.loads(result.stdout))


def test_importing_the_cli_loads_none_of_the_daemon() -> None:
    assert imported("--help") == []


def test_version_loads_none_of_the_daemon() -> None:
    assert imported("--version") == []


def test_status_loads_none_of_the_daemon() -> None:
    assert imported("status", "--url", f"127.0.0.1:{free_port()}") == []


def test_maintenance_loads_none_of_the_daemon() -> None:
    assert imported("maintenance", "off", "--url", f"127.0.0.1:{free_port()}") == []


@pytest.mark.parametrize("heavy", ["aiohttp", "apscheduler", "jsonrpcserver", "prometheus_client"])
def test_validate_loads_only_the_config_and_the_check_types(heavy: str) -> None:
    assert heavy not in imported("validate")

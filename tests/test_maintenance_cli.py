"""`healthd maintenance on|off` against a real `healthd serve`, across a restart."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

from tests.helpers.cli import healthd
from tests.helpers.config import config_text
from tests.helpers.waiting import PATIENCE, until
from tests.test_end_to_end import Daemon
from tests.test_end_to_end import start_daemon as start_daemon  # the fixture


def test_maintenance_on_and_off_from_the_command_line_survives_a_restart(
    start_daemon: Callable[[str], Daemon], tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    text = f'state_dir = "{state_dir}"\n' + config_text(
        {
            "name": "ok",
            "type": "command",
            "command": ["true"],
            "interval": "300ms",
            "timeout": "250ms",
        },
        {"name": "alive", "type": "command", "command": ["true"], "kind": "liveness"},
    )
    daemon = start_daemon(text)
    until(lambda: daemon.get()[0] == 200, "healthy")

    on = healthd(
        "maintenance", "on", "--reason", "kernel upgrade", "--for", "1h", "--url", daemon.base
    )
    assert on.returncode == 0, on.stderr
    assert on.stdout.startswith("maintenance on: kernel upgrade (until 2")
    status, body = daemon.get()
    assert status == 503
    error = body["checks"]["maintenance"]["error"]["message"]
    assert error.startswith("maintenance: kernel upgrade until 2") and error.endswith("Z")
    assert daemon.get("/liveness")[0] == 200

    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=PATIENCE) == 0
    again = start_daemon(text)
    status, body = again.get()
    assert status == 503 and body["checks"]["maintenance"]["error"]["message"] == error

    off = healthd("maintenance", "off", "--url", again.base)
    assert (off.returncode, off.stdout) == (0, "maintenance off\n")
    until(lambda: again.get()[0] == 200, "healthy after maintenance")


def test_a_refused_or_unreachable_maintenance_exits_2_with_one_line(
    start_daemon: Callable[[str], Daemon], tmp_path: Path
) -> None:
    token = tmp_path / "token"
    token.write_text("tok-abc-123\n")
    daemon = start_daemon(
        f'token_file = "{token}"\n'
        + config_text({"name": "ok", "type": "command", "command": ["true"]})
    )
    refused = healthd("maintenance", "on", "--url", daemon.base)
    assert refused.returncode == 2
    assert refused.stderr.startswith("healthd: unauthorized") and refused.stderr.count("\n") == 1
    allowed = healthd("maintenance", "on", "--url", daemon.base, "--token-file", str(token))
    assert (allowed.returncode, allowed.stdout) == (0, "maintenance on\n")
    bad = healthd(
        "maintenance", "on", "--for", "soon", "--url", daemon.base, "--token-file", str(token)
    )
    assert bad.returncode == 2 and "invalid duration" in bad.stderr
    gone = healthd("maintenance", "off", "--url", "http://127.0.0.1:9/ext/health")
    assert gone.returncode == 2 and gone.stderr.startswith("healthd: cannot reach")

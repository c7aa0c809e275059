"""`healthd maintenance on|off` against a real `healthd serve`, across a restart."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.helpers.cli import healthd
from tests.helpers.config import config_text
from tests.helpers.daemon import Daemons
from tests.helpers.waiting import PATIENCE, until


def test_maintenance_on_and_off_from_the_command_line_survives_a_restart(
    daemons: Daemons, tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    text = config_text(
        {
            "name": "ok",
            "type": "command",
            "command": ["true"],
            "interval": "300ms",
            "timeout": "250ms",
        },
        {"name": "alive", "type": "command", "command": ["true"], "kind": "liveness"},
    )
    server = {"state_dir": str(state_dir)}
    daemon = daemons.start(text, server=server)
    until(lambda: daemon.get().status == 200, "healthy")

    on = healthd(
        "maintenance", "on", "--reason", "kernel upgrade", "--for", "1h", "--url", daemon.base
    )
    assert on.returncode == 0, on.stderr
    assert on.stdout.startswith("maintenance on: kernel upgrade (until 2")
    answer = daemon.get()
    assert answer.status == 503
    error = answer.json()["checks"]["maintenance"]["error"]["message"]
    assert error.startswith("maintenance: kernel upgrade until 2") and error.endswith("Z")
    assert daemon.get("/liveness").status == 200

    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=PATIENCE) == 0
    again = daemons.start(text, server=server)
    answer = again.get()
    assert (
        answer.status == 503 and answer.json()["checks"]["maintenance"]["error"]["message"] == error
    )

    off = healthd("maintenance", "off", "--url", again.base)
    assert (off.returncode, off.stdout) == (0, "maintenance off\n")
    until(lambda: again.get().status == 200, "healthy after maintenance")


def test_a_refused_or_unreachable_maintenance_exits_2_with_one_line(
    daemons: Daemons, tmp_path: Path
) -> None:
    token = tmp_path / "token"
    token.write_text("tok-abc-123\n")
    daemon = daemons.start(
        config_text({"name": "ok", "type": "command", "command": ["true"]}),
        server={"token_file": str(token)},
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

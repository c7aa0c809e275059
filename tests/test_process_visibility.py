"""The process check sees other users' processes, and says so when /proc hides them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from healthd.checks.process import hidden_by
from tests.helpers.cli import environment
from tests.helpers.processes import require

NOBODY = "65534"

PROC = "45 43 0:21 / /proc rw,relatime - proc proc rw"
HIDDEN = "63 45 0:39 / /proc rw,relatime - proc proc rw,hidepid=invisible"


@pytest.mark.parametrize(
    ("mountinfo", "option"),
    [
        (PROC, None),
        (HIDDEN, "invisible"),
        (f"{PROC}\n{HIDDEN}", "invisible"),  # the mount on top is the one seen through
        (f"{HIDDEN}\n{PROC}", None),
        ("63 45 0:39 / /proc rw,nosuid - proc proc rw,hidepid=2", "2"),
        ("63 45 0:39 / /proc rw,nosuid - proc proc rw,hidepid=0", None),
        ("63 45 0:39 / /proc/sys ro - proc proc rw,hidepid=2", None),
        ("24 1 0:22 / / rw - ext4 /dev/sda1 rw", None),
    ],
)
def test_hidepid_is_read_from_mountinfo(mountinfo: str, option: str | None) -> None:
    assert hidden_by(mountinfo) == option


PROBE = """
import json, sys
from healthd.checks.base import CheckFailed
from healthd.checks.process import by_name, by_pidfile
find = by_pidfile if sys.argv[1].startswith("/") else by_name
try:
    print(json.dumps({"message": find(sys.argv[1])}))
except CheckFailed as exc:
    print(json.dumps({"error": exc.error}))
"""


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory user nobody can read (pytest's tmp_path is root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="healthd-proc-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


@pytest.fixture
def root_process(shared_dir: Path) -> Iterator[tuple[str, int, Path]]:
    """A process of root's, with a unique name and a pidfile."""
    binary = shared_dir / f"healthd-node-{os.getpid()}"
    shutil.copy(shutil.which("sleep") or "/bin/sleep", binary)
    proc = subprocess.Popen([str(binary), "60"])
    pidfile = shared_dir / "node.pid"
    pidfile.write_text(f"{proc.pid}\n")
    pidfile.chmod(0o644)
    yield binary.name, proc.pid, pidfile
    proc.kill()
    proc.wait()


def probe_as_nobody(target: str, hidepid: str | None) -> dict[str, object]:
    """Run the process check as user nobody, on a private /proc mounted with `hidepid`."""
    if os.geteuid() != 0:
        pytest.skip("needs root: it mounts a private /proc and runs the check as another user")
    unshare = require("unshare", "util-linux")
    setpriv = require("setpriv", "util-linux")
    as_nobody = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    command = [*as_nobody, sys.executable, "-c", PROBE, target]
    if hidepid is not None:
        mount = f'mount -t proc -o hidepid={hidepid} proc /proc && exec "$@"'
        command = [unshare, "--mount", "--propagation", "private", "sh", "-c", mount, "-", *command]
    result = subprocess.run(command, capture_output=True, text=True, env=environment(), timeout=60)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_another_users_process_is_found_when_proc_shows_it(
    root_process: tuple[str, int, Path],
) -> None:
    # What the shipped unit gives healthd (ProtectProc=default): other users' processes visible.
    name, pid, pidfile = root_process
    assert probe_as_nobody(name, None) == {"message": {"pid": pid, "count": 1}}
    assert probe_as_nobody(str(pidfile), None) == {"message": {"pid": pid}}


@pytest.mark.parametrize("hidepid", ["invisible", "noaccess"])
def test_a_hidden_process_is_reported_as_hidden_not_as_gone(
    root_process: tuple[str, int, Path], hidepid: str
) -> None:
    # What ProtectProc=invisible (or noaccess) with DynamicUser=yes does to healthd.
    name, pid, pidfile = root_process
    reason = f"cannot see other users' processes: /proc is mounted with hidepid={hidepid}"
    assert probe_as_nobody(name, hidepid) == {
        "error": f"{reason}; no process named {name} among those visible"
    }
    assert probe_as_nobody(str(pidfile), hidepid) == {
        "error": f"{reason}; process {pid} from {pidfile} may be running unseen"
    }


def test_a_process_that_really_is_gone_is_still_not_running(shared_dir: Path) -> None:
    assert probe_as_nobody("healthd-no-such-process", None) == {
        "error": "no process named healthd-no-such-process is running"
    }

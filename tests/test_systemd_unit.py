"""The unit file in systemd/: it verifies and rates 2.0 or better in systemd's security audit."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from healthd.config import ServerConfig
from healthd.service import FD_HEADROOM
from tests.helpers.cli import ROOT
from tests.helpers.processes import require

UNIT = ROOT / "systemd" / "healthd.service"


def installed_healthd() -> str:
    script = Path(sys.executable).with_name("healthd")
    return str(script) if script.exists() else shutil.which("healthd") or "/usr/bin/true"


def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    # Verified as installed: ExecStart pointing at this environment's healthd.
    unit = tmp_path / "healthd.service"
    unit.write_text(UNIT.read_text().replace("/opt/healthd/bin/healthd", installed_healthd()))
    result = subprocess.run(
        [require("systemd-analyze", "systemd"), "verify", str(unit)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "healthd.service" not in result.stderr, result.stderr


def test_unit_rates_ok_in_the_security_audit() -> None:
    result = subprocess.run(
        [require("systemd-analyze", "systemd"), "security", "--offline=true", str(UNIT)],
        capture_output=True,
        text=True,
        check=False,
    )
    match = re.search(r"Overall exposure level for healthd\.service: (\d+\.\d+)", result.stdout)
    assert match is not None, result.stdout + result.stderr
    assert float(match.group(1)) <= 2.0, result.stdout


def test_unit_is_notify_with_watchdog_reload_and_restart() -> None:
    text = UNIT.read_text()
    for line in (
        "Type=notify",
        "Restart=on-failure",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "DynamicUser=yes",
        "--config /etc/healthd/config.toml",
    ):
        assert line in text
    assert re.search(r"^WatchdogSec=\d+s$", text, re.M)


def test_unit_gives_healthd_a_state_directory() -> None:
    text = UNIT.read_text()
    assert "StateDirectory=healthd" in text.splitlines()


def test_drop_in_example_only_names_service_settings() -> None:
    text = (ROOT / "systemd" / "command-checks.conf.example").read_text()
    assert text.count("[Service]") == 1
    keys = re.findall(r"^([A-Za-z]+)=", text, re.M)
    assert keys and set(keys) <= {
        "ProtectProc",
        "PrivateUsers",
        "RestrictAddressFamilies",
        "MemoryDenyWriteExecute",
        "ReadWritePaths",
        "ProtectHome",
    }


def setting(text: str, key: str) -> str | None:
    """The last value the unit gives `key` (as systemd reads it), or None."""
    values = re.findall(rf"^{key}=(.*)$", text, re.M)
    return values[-1].strip() if values else None


def test_unit_lets_the_process_check_see_other_users_processes() -> None:
    # With DynamicUser=yes, ProtectProc=invisible or noaccess hides (or closes) every process of
    # another user: a `process` check could never see the node. ptraceable needs ptrace rights
    # over the node, which an unprivileged dynamic user never has.
    text = UNIT.read_text()
    assert setting(text, "DynamicUser") == "yes"
    assert setting(text, "ProtectProc") in (None, "default")
    assert setting(text, "ProcSubset") in (None, "all")  # memory and load read /proc files


def test_each_relaxation_is_explained_in_a_comment() -> None:
    comments = "\n".join(line for line in UNIT.read_text().splitlines() if line.startswith("#"))
    for relaxed in ("ProtectProc=default", "ProcSubset=", "PrivateNetwork="):
        assert relaxed in comments, relaxed


def test_unit_gives_the_open_files_the_default_connection_cap_needs() -> None:
    """The unit's syscall filter refuses setrlimit, so healthd cannot raise the limit itself."""
    text = UNIT.read_text()
    assert "@resources" in text
    match = re.search(r"^LimitNOFILE=(\d+)$", text, re.M)
    assert match is not None, "the unit must set LimitNOFILE"
    listen_backlog = 1024  # accepted by asyncio before the cap refuses them
    needed = ServerConfig().max_connections + listen_backlog + FD_HEADROOM
    assert int(match.group(1)) >= needed

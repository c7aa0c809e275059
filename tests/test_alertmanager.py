"""A real Alertmanager receives healthd's alerts: the right labels, re-sent, then resolved."""

from __future__ import annotations

import subprocess
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from healthd.config import Config
from tests.helpers.config import config_of, flag_check, notify_table
from tests.helpers.net import free_port
from tests.helpers.processes import require, stop_process
from tests.helpers.waiting import until, until_async

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
MINIMAL_CONFIG = """\
route:
  receiver: nobody
  group_by: [check, instance]
receivers:
  - name: nobody
"""


class Alertmanager:
    """A running Alertmanager and its API v2."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"

    def ready(self) -> bool:
        with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:
            return bool(response.status == 200)

    def alerts(self) -> list[dict[str, Any]]:
        """The active alerts (resolved ones are not listed)."""
        with urllib.request.urlopen(f"{self.url}/api/v2/alerts", timeout=5) as response:
            found: list[dict[str, Any]] = orjson.loads(response.read())
        return found

    def alert(self, check: str) -> dict[str, Any] | None:
        return next((a for a in self.alerts() if a["labels"].get("check") == check), None)


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[Alertmanager]:
    binary = require(ALERTMANAGER, "prometheus-alertmanager")
    config = tmp_path / "alertmanager.yml"
    config.write_text(MINIMAL_CONFIG)
    port = free_port()
    proc = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.path={tmp_path / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    manager = Alertmanager(port)
    try:
        until(lambda: proc.poll() is not None or manager.ready(), "Alertmanager to be ready")
        if proc.poll() is not None:
            stderr = proc.stderr.read().decode() if proc.stderr else ""
            pytest.fail(f"Alertmanager did not become ready: {stderr[-2000:]}")
        yield manager
    finally:
        stop_process(proc)


async def test_alerts_fire_with_labels_are_resent_and_resolve(
    tmp_path: Path, alertmanager: Alertmanager, serve: Callable[[Config], Any]
) -> None:
    flag = tmp_path / "ok"
    config = config_of(
        flag_check("node.rpc", flag, tags=["node"]),
        flag_check("optional", tmp_path / "never", critical=False),
        extra=notify_table(
            type="alertmanager", url=alertmanager.url, resend="1s", instance="node-1"
        ),
    )
    parts, _ = await serve(config)
    alert = await until_async(lambda: alertmanager.alert("node.rpc"), "the alert to fire")
    assert alert["labels"] == {
        "alertname": "HealthCheckFailing",
        "check": "node.rpc",
        "kind": "health",
        "instance": "node-1",
        "severity": "critical",
    }
    assert "exit code 1" in alert["annotations"]["description"]
    assert alert["generatorURL"].startswith("http://127.0.0.1:")
    assert alert["generatorURL"].endswith("/ext/health/health")
    assert alert["status"]["state"] == "active"
    warning = await until_async(lambda: alertmanager.alert("optional"), "the degraded alert")
    assert warning["labels"]["severity"] == "warning"

    first_update, first_end = alert["updatedAt"], alert["endsAt"]
    resent = await until_async(
        lambda: (a := alertmanager.alert("node.rpc")) and a["endsAt"] != first_end and a,
        "a re-send to move endsAt",
    )
    assert resent["updatedAt"] != first_update
    assert resent["startsAt"] == alert["startsAt"]

    flag.touch()
    await until_async(lambda: alertmanager.alert("node.rpc") is None, "the alert to resolve")
    assert parts.store.get("node.rpc").passed
    assert alertmanager.alert("optional") is not None
    assert "node.rpc" not in parts.notifications.sinks[0].firing  # type: ignore[attr-defined]


async def test_during_maintenance_firing_alerts_stay_and_catch_up_after(
    tmp_path: Path, alertmanager: Alertmanager, serve: Callable[[Config], Any]
) -> None:
    flag = tmp_path / "ok"
    config = config_of(
        flag_check("db", flag),
        flag_check("cache", tmp_path / "cache-ok"),
        extra=notify_table(type="alertmanager", url=alertmanager.url, resend="1s"),
    )
    parts, _ = await serve(config)
    (tmp_path / "cache-ok").touch()
    alert = await until_async(lambda: alertmanager.alert("db"), "the alert to fire")
    await until_async(lambda: parts.store.get("cache").passed, "cache to pass")
    parts.maintenance.enable("upgrade")
    flag.touch()  # db recovers during maintenance: no resolve is sent yet …
    (tmp_path / "cache-ok").unlink()  # … and cache fails: no alert yet
    await until_async(lambda: parts.store.get("db").passed, "db to pass")
    await until_async(lambda: not parts.store.get("cache").passed, "cache to fail")
    resent = await until_async(
        lambda: (a := alertmanager.alert("db")) and a["endsAt"] != alert["endsAt"] and a,
        "the firing alert to be re-sent during maintenance",
    )
    assert resent["status"]["state"] == "active"
    assert alertmanager.alert("cache") is None
    parts.maintenance.disable()
    await until_async(lambda: alertmanager.alert("db") is None, "db's alert to resolve")
    await until_async(lambda: alertmanager.alert("cache"), "cache's alert to fire")

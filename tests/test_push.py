"""Push checks (`ttl`): reports over real HTTP to a real daemon, their expiry, tokens, the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from healthd.config import ConfigError, parse_config
from healthd.reports import ReportRejected, clean_output, outcome_of
from tests.helpers.cli import healthd
from tests.helpers.config import config_text
from tests.helpers.daemon import Daemons, Served
from tests.helpers.waiting import until

GLOBAL = "gl0bal-t0ken-for-tests"
OWN = "backup-0wn-t0ken"

BACKUP = {"name": "backup", "type": "ttl", "ttl": "1h", "tags": ["jobs"]}
SIGNER = {"name": "signer", "type": "ttl", "ttl": "1s", "tags": ["signer"]}
SLOW = {"name": "slow", "type": "ttl", "ttl": "1h", "failures_before_critical": 2, "tags": ["x"]}
NODE = {"name": "node", "type": "command", "command": ["true"], "interval": "10s", "timeout": "5s"}


@pytest.fixture(scope="module")
def open_daemon(module_daemons: Daemons) -> Served:
    """No token: loopback clients may report."""
    return module_daemons.start(config_text(BACKUP, SIGNER, SLOW, NODE), name="open")


@pytest.fixture(scope="module")
def guarded(module_daemons: Daemons) -> Served:
    """A global token, and a ttl check with a token of its own."""
    own = module_daemons.directory / "backup.token"
    own.write_text(OWN + "\n")
    own.chmod(0o600)
    token = module_daemons.directory / "global.token"
    token.write_text(GLOBAL)
    token.chmod(0o600)
    other = {**BACKUP, "name": "other"}
    text = config_text({**BACKUP, "token_file": str(own)}, other, NODE)
    return module_daemons.start(text, server={"token_file": str(token)}, name="guarded")


def rpc(served: Served, method: str, params: Any = None, token: str | None = None) -> Any:
    request: dict[str, Any] = {"jsonrpc": "2.0", "id": 7, "method": method}
    if params is not None:
        request["params"] = params
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return served.post(json.dumps(request).encode(), headers).json()


def result_of(served: Served, name: str, token: str | None = None) -> dict[str, Any]:
    answer = rpc(served, "health.health", token=token)["result"]
    return answer["checks"][name]  # type: ignore[no-any-return]


def test_a_ttl_check_not_yet_reported_is_not_yet_run(open_daemon: Served) -> None:
    check = result_of(open_daemon, "slow")
    assert check["error"] == {"message": "not yet run"}
    assert check["timestamp"] is None


def test_pass_then_expiry_on_time_then_pass_again(open_daemon: Served) -> None:
    answer = rpc(open_daemon, "healthd.report", {"check": "signer", "status": "pass"})
    assert answer["result"] == {"check": "signer", "state": "passing"}
    assert "error" not in result_of(open_daemon, "signer")
    # Expired after its 1 s ttl: polled, with a generous limit (no timing asserted).
    expired = until(
        lambda: "error" in (c := result_of(open_daemon, "signer")) and c, "the ttl to expire"
    )
    assert expired["error"] == {"message": "no report for 1s"}
    assert expired["contiguousFailures"] >= 1
    rpc(open_daemon, "healthd.report", {"check": "signer", "status": 0})
    assert "error" not in result_of(open_daemon, "signer")


def test_warn_is_degraded_and_fail_fails_with_its_output(open_daemon: Served) -> None:
    answer = rpc(
        open_daemon,
        "healthd.report",
        {"check": "backup", "status": "warn", "output": "backup took\x00 3h", "message": {"n": 1}},
    )
    assert answer["result"]["state"] == "degraded"
    check = result_of(open_daemon, "backup")
    assert check["error"] == {"message": "backup took 3h"}
    assert check["message"] == {"n": 1}
    assert open_daemon.get("?tag=jobs").status == 200  # degraded: GET stays 200
    rpc(open_daemon, "healthd.report", ["backup", "fail", "disk full"])  # params by position
    assert result_of(open_daemon, "backup")["error"] == {"message": "disk full"}
    assert open_daemon.get("?tag=jobs").status == 503
    rpc(open_daemon, "healthd.report", {"check": "backup", "status": "pass"})
    assert open_daemon.get("?tag=jobs").status == 200


@pytest.mark.parametrize(
    ("code", "state"), [(0, "passing"), (1, "degraded"), (2, "failing"), (3, "failing")]
)
def test_monitoring_plugins_codes(open_daemon: Served, code: int, state: str) -> None:
    answer = rpc(open_daemon, "healthd.report", {"check": "backup", "status": code})
    assert answer["result"]["state"] == state
    rpc(open_daemon, "healthd.report", {"check": "backup", "status": "pass"})


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"check": "nope", "status": "pass"}, "no check named nope"),
        ({"check": "node", "status": "pass"}, "node is not a ttl check"),
        ({"check": "backup", "status": "ok"}, "status must be"),
        ({"check": "backup", "status": True}, "status must be"),
        ({"check": "backup", "status": 4}, "status must be"),
        ({"check": "backup", "status": "pass", "message": "x" * 5000}, "at most 4096 bytes"),
        ({"check": "backup", "status": "pass", "output": 5}, "output must be a string"),
    ],
)
def test_bad_reports_are_invalid_params_naming_why(
    open_daemon: Served, params: dict[str, Any], named: str
) -> None:
    answer = rpc(open_daemon, "healthd.report", params)
    assert answer["error"]["code"] == -32602
    assert named in answer["error"]["data"]
    assert answer["id"] == 7


def test_reports_in_a_batch_are_each_answered(open_daemon: Served) -> None:
    batch = [
        {"jsonrpc": "2.0", "id": i, "method": "healthd.report", "params": params}
        for i, params in enumerate(
            [
                {"check": "backup", "status": "pass"},
                {"check": "nope", "status": "pass"},
                {"check": "signer", "status": "pass"},
            ]
        )
    ]
    answers = {a["id"]: a for a in open_daemon.post(json.dumps(batch).encode()).json()}
    assert answers[0]["result"]["state"] == "passing"
    assert answers[1]["error"]["code"] == -32602
    assert answers[2]["result"]["check"] == "signer"


def test_hysteresis_applies_to_reports(open_daemon: Served) -> None:
    rpc(open_daemon, "healthd.report", {"check": "slow", "status": "pass"})
    rpc(open_daemon, "healthd.report", {"check": "slow", "status": "fail", "output": "x"})
    below = result_of(open_daemon, "slow")
    assert "error" not in below and below["contiguousFailures"] == 1
    rpc(open_daemon, "healthd.report", {"check": "slow", "status": "fail", "output": "y"})
    assert result_of(open_daemon, "slow")["error"] == {"message": "y"}


def test_history_lists_reports(open_daemon: Served) -> None:
    rpc(open_daemon, "healthd.report", {"check": "backup", "status": "fail", "output": "h"})
    rpc(open_daemon, "healthd.report", {"check": "backup", "status": "pass"})
    runs = rpc(open_daemon, "healthd.history", {"checks": ["backup"], "limit": 2})["result"]
    assert [run["passed"] for run in runs["checks"]["backup"]] == [True, False]


def test_a_checks_own_token_reports_to_that_check_only(guarded: Served) -> None:
    mine = rpc(guarded, "healthd.report", {"check": "backup", "status": "pass"}, token=OWN)
    assert mine["result"]["state"] == "passing"
    other = rpc(guarded, "healthd.report", {"check": "other", "status": "pass"}, token=OWN)
    assert other["error"]["code"] == -32001
    read = rpc(guarded, "health.health", token=OWN)
    assert "result" not in read  # the check's token reads nothing
    maintenance = rpc(guarded, "healthd.maintenance", {"enable": True}, token=OWN)
    assert "result" not in maintenance


def test_the_global_token_reports_to_any_check(guarded: Served) -> None:
    answer = rpc(guarded, "healthd.report", {"check": "other", "status": "pass"}, token=GLOBAL)
    assert answer["result"]["state"] == "passing"
    refused = guarded.post(
        json.dumps(
            {"jsonrpc": "2.0", "id": 1, "method": "healthd.report", "params": ["other", "pass"]}
        ).encode()
    )
    assert refused.status == 401 and refused.json()["id"] == 1
    assert OWN not in guarded.stdout.read_text() and GLOBAL not in guarded.stdout.read_text()


def report_cli(served: Served, *args: str, token_file: Path | None = None) -> Any:
    argv = ["report", *args, "--url", f"127.0.0.1:{served.port}"]
    if token_file is not None:
        argv += ["--token-file", str(token_file)]
    return healthd(*argv)


def test_the_report_command_exits_0_when_taken_and_2_with_a_reason(
    open_daemon: Served, guarded: Served, module_daemons: Daemons
) -> None:
    taken = report_cli(open_daemon, "backup", "2", "--output", "nightly backup failed")
    assert taken.returncode == 0, taken.stderr
    assert result_of(open_daemon, "backup")["error"] == {"message": "nightly backup failed"}
    assert report_cli(open_daemon, "backup", "pass").returncode == 0
    unknown = report_cli(open_daemon, "nope", "pass")
    assert unknown.returncode == 2
    assert unknown.stderr.strip().splitlines() == ["healthd: Invalid params: no check named nope"]
    own = module_daemons.directory / "backup.token"
    assert report_cli(guarded, "backup", "pass", token_file=own).returncode == 0
    assert report_cli(guarded, "other", "pass", token_file=own).returncode == 2


def test_outcomes_of_reports() -> None:
    assert outcome_of("pass", "", None).passed
    assert outcome_of(1, "", None).degraded
    assert outcome_of("fail", "", None).error == "reported fail"
    with pytest.raises(ReportRejected):
        outcome_of(False, "", None)
    assert clean_output("a\tb\nc\x07" + "x" * 5000) == ("a b c" + "x" * 5000)[:4096]


def test_ttl_config_errors_name_their_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(config_text({"name": "t", "type": "ttl"}), "t.toml")
    assert "checks[0] (t).ttl: required key is missing" in caught.value.problems
    missing = tmp_path / "absent"
    with pytest.raises(ConfigError) as caught:
        parse_config(
            config_text({"name": "t", "type": "ttl", "ttl": "1m", "token_file": str(missing)}),
            "t.toml",
        )
    assert f"cannot read {missing}" in caught.value.render()

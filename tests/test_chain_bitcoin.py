"""`bitcoin` against a fake bitcoind (JSON-RPC 1.0 style, basic auth, 401 with an empty body);
its credentials never appear in an error, a message, a log line or `healthd validate`."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import structlog

from healthd.config import ConfigError, parse_config
from tests.chains.bitcoind import FakeBitcoind
from tests.chains.harness import chains, serving
from tests.helpers.cli import healthd
from tests.helpers.config import config_file, config_text
from tests.helpers.runs import run

PASSWORD = "s3cret-rpc-pass"


async def test_a_synced_node_passes() -> None:
    node = FakeBitcoind(password=PASSWORD)
    async with serving(node), chains() as c:
        check = c.check(type="bitcoin", url=node.url, username="healthd", password=PASSWORD)
        message, error = await run(check)
    assert error is None and message is not None
    assert message["height"] == 870_000 and message["peers"] == 10
    assert message["referenceHeight"] == 870_000  # the node's own headers count
    assert message["lag"] == 0 and message["state"] == "synced"
    assert node.requests == {
        "getblockchaininfo": 1,
        "getbestblockhash": 1,
        "getconnectioncount": 1,
        "getblockheader": 1,
    }


async def test_wrong_credentials_are_refused_and_never_echoed() -> None:
    node = FakeBitcoind(password="the-right-one")
    async with serving(node), chains() as c:
        check = c.check(type="bitcoin", url=node.url, username="healthd", password=PASSWORD)
        with structlog.testing.capture_logs() as logs:
            message, error = await run(check)
    assert error == (
        "getblockchaininfo, getbestblockhash, getconnectioncount failed: "
        "HTTP 401: the node refused the credentials"
    )
    assert node.requests == {"unauthorized": 1}
    assert PASSWORD not in error and PASSWORD not in str(message)
    assert logs and PASSWORD not in str(logs)
    assert PASSWORD not in repr(check.spec) and PASSWORD not in check.spec.target()


def test_validate_never_shows_the_password(tmp_path: Path) -> None:
    entry = {"name": "btc", "type": "bitcoin", "url": "http://127.0.0.1:8332"}
    config = config_file(
        tmp_path, config_text(entry | {"username": "healthd", "password": PASSWORD})
    )
    validate = healthd("validate", "--config", config)
    assert validate.returncode == 0, validate.stderr
    assert "btc: bitcoin" in validate.stdout and "(user healthd)" in validate.stdout
    assert PASSWORD not in validate.stdout + validate.stderr


async def test_a_cookie_file_is_read_again_when_bitcoind_rewrites_it(tmp_path: Path) -> None:
    cookie = tmp_path / ".cookie"
    cookie.write_text("__cookie__:first-cookie-secret")
    node = FakeBitcoind(user="__cookie__", password="first-cookie-secret")
    async with serving(node), chains() as c:
        check = c.check(type="bitcoin", url=node.url, cookie_file=str(cookie))
        assert (await run(check))[1] is None
        # bitcoind restarted: a new secret on its side and in a new file.
        node.password = "second-cookie-secret"
        _, error = await run(check)
        assert error is not None and "HTTP 401" in error
        assert "first-cookie-secret" not in error
        replacement = tmp_path / ".cookie.tmp"
        replacement.write_text("__cookie__:second-cookie-secret")
        replacement.replace(cookie)
        message, error = await run(check)
    assert error is None and message is not None and message["state"] == "synced"


async def test_a_missing_cookie_file_is_named() -> None:
    node = FakeBitcoind()
    async with serving(node), chains() as c:
        check = c.check(type="bitcoin", url=node.url, cookie_file="/nonexistent/.cookie")
        message, error = await run(check)
    assert (
        error == "cookie_file failed: cannot read /nonexistent/.cookie: No such file or directory"
    )
    assert message is not None and message["state"] == "unreachable"


async def test_initial_block_download_is_syncing() -> None:
    node = FakeBitcoind(password=PASSWORD)
    node.blocks, node.headers, node.ibd = 300_000, 870_000, True
    async with serving(node), chains() as c:
        check = c.check(type="bitcoin", url=node.url, username="healthd", password=PASSWORD)
        message, error = await run(check)
    assert error == "syncing: initial block download at block 300000 of 870000"
    assert message is not None and message["state"] == "syncing"


async def test_its_own_headers_are_a_reference() -> None:
    node = FakeBitcoind(password=PASSWORD)
    node.blocks, node.headers = 870_000, 870_003
    async with serving(node), chains() as c:
        check = c.check(type="bitcoin", url=node.url, username="healthd", password=PASSWORD)
        message, error = await run(check)
    assert error == "behind by 3 blocks (reference 870003)"
    assert message is not None and message["referenceHeight"] == 870_003


async def test_references_answer_getblockcount_with_credentials_in_their_url() -> None:
    node = FakeBitcoind(password=PASSWORD)
    reference = FakeBitcoind(user="ref", password="ref-pass-123")
    reference.blocks = 870_010
    async with serving(node, reference), chains() as c:
        check = c.check(
            type="bitcoin",
            url=node.url,
            username="healthd",
            password=PASSWORD,
            references=[f"http://ref:ref-pass-123@127.0.0.1:{reference.port}/"],
        )
        message, error = await run(check)
    assert reference.requests == {"getblockcount": 1}
    # The median of the reference (870010) and the node's own headers (870000).
    assert error == "behind by 5 blocks (reference 870005)"
    assert message is not None and "ref-pass-123" not in check.spec.target()


async def test_a_head_older_than_two_hours_fails() -> None:
    node = FakeBitcoind(password=PASSWORD)
    node.block_time = time.time() - 3 * 3600
    async with serving(node), chains() as c:
        check = c.check(type="bitcoin", url=node.url, username="healthd", password=PASSWORD)
        _, error = await run(check)
    assert error is not None and error.startswith("newest block is 3h")  # "3h" or "3h1s"


async def test_a_warming_up_node_fails_naming_the_call() -> None:
    node = FakeBitcoind(password=PASSWORD)
    node.warming_up = True
    async with serving(node), chains() as c:
        check = c.check(type="bitcoin", url=node.url, username="healthd", password=PASSWORD)
        _, error = await run(check)
    assert error == "getblockchaininfo failed: JSON-RPC error -28: Loading block index…"


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ({"username": "u"}, "set both username and password, or neither"),
        ({"password": "p"}, "set both username and password, or neither"),
        (
            {"username": "u", "password": "p", "cookie_file": "/c"},
            "set username and password, or cookie_file, not both",
        ),
    ],
)
def test_one_way_to_log_in(keys: dict[str, str], expected: str) -> None:
    entry = {"name": "b", "type": "bitcoin", "url": "http://127.0.0.1:8332"} | keys
    with pytest.raises(ConfigError) as caught:
        parse_config(config_text(entry), "t")
    assert expected in str(caught.value)
    assert 'p"' not in str(caught.value)


def test_a_password_of_the_wrong_type_is_not_echoed() -> None:
    entry = {"name": "b", "type": "bitcoin", "url": "http://127.0.0.1:8332", "username": "u"}
    with pytest.raises(ConfigError) as caught:
        parse_config(config_text(entry | {"password": 80868086}), "t")
    assert "checks[0] (b).password: expected a string" in str(caught.value)
    assert "80868086" not in str(caught.value)

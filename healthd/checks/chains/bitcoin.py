"""`bitcoin`: a Bitcoin Core node over its JSON-RPC 1.0-style interface, with basic auth."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BeforeValidator, Field, SecretStr, model_validator

from healthd.checks.base import CheckEnv, Duration, Probe
from healthd.checks.chains.calls import CallFailed, Endpoint, batch, call, endpoint, unwrap
from healthd.checks.chains.heights import parse_height
from healthd.checks.chains.probe import Chain, answer_of, build_probe
from healthd.checks.chains.spec import Blocks, HeadAndPeers
from healthd.checks.chains.verdict import Reading

if TYPE_CHECKING:
    import aiohttp  # the checks import it when they run, not when a config is read

NonEmpty = Annotated[str, Field(min_length=1)]


def _text_only(value: object) -> object:
    # A value error names no input, so a mistyped password is never echoed in a config error.
    if not isinstance(value, str | SecretStr):
        raise ValueError("expected a string")
    return value


Password = Annotated[SecretStr, BeforeValidator(_text_only)]
COOKIE_LIMIT = 4096


class BitcoinSpec(HeadAndPeers):
    """Keys of a `bitcoin` check: `username` and `password`, or `cookie_file`, or neither."""

    type: Literal["bitcoin"]
    max_lag: Blocks = 2
    max_head_age: Duration = 7200.0
    username: NonEmpty | None = None
    password: Password | None = None
    cookie_file: NonEmpty | None = None

    @model_validator(mode="after")
    def _one_way_to_log_in(self) -> BitcoinSpec:
        if (self.username is None) != (self.password is None):
            raise ValueError("set both username and password, or neither")
        if self.cookie_file is not None and self.username is not None:
            raise ValueError("set username and password, or cookie_file, not both")
        return self

    def secrets(self) -> tuple[str, ...]:
        password = () if self.password is None else (self.password.get_secret_value(),)
        return super().secrets() + password

    def target(self) -> str:
        if self.cookie_file is not None:
            return f"{super().target()} (cookie {self.cookie_file})"
        if self.username is not None:
            return f"{super().target()} (user {self.username})"
        return super().target()


class Cookie:
    """bitcoind's `.cookie` (`__cookie__:secret`), read again whenever bitcoind rewrites it."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._seen: tuple[int, int, int] | None = None
        self._login: tuple[str, str] | None = None

    def login(self) -> tuple[str, str]:
        """The user and password the file holds now (bitcoind writes a new one at every start)."""
        try:
            stat = os.stat(self._path)
            seen = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
            if self._login is None or seen != self._seen:
                with open(self._path, encoding="utf-8") as file:
                    text = file.read(COOKIE_LIMIT).strip()
                self._login, self._seen = self._parse(text), seen
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or "not UTF-8 text"
            raise CallFailed("cookie_file", f"cannot read {self._path}: {reason}") from None
        return self._login

    def _parse(self, text: str) -> tuple[str, str]:
        user, colon, secret = text.partition(":")
        if not colon or not user:
            raise CallFailed("cookie_file", f"{self._path} is not a user:password cookie")
        return user, secret


async def read_bitcoin(
    session: aiohttp.ClientSession, node: Endpoint, cookie: Cookie | None
) -> Reading:
    """Blocks, headers and IBD; the best block's time; connections — two round trips."""
    if cookie is not None:
        node = node.with_login(*cookie.login())
    info, best, connections = await batch(
        session,
        node,
        [("getblockchaininfo", []), ("getbestblockhash", []), ("getconnectioncount", [])],
    )
    info = unwrap(info, "getblockchaininfo")
    with answer_of("getblockchaininfo"):
        height = parse_height(info["blocks"], "blocks")
        headers = parse_height(info["headers"], "headers")
        ibd = info["initialblockdownload"] is True
    with answer_of("getconnectioncount"):
        peers = parse_height(unwrap(connections, "getconnectioncount"), "connection count")
    header = await call(session, node, "getblockheader", [unwrap(best, "getbestblockhash"), True])
    with answer_of("getblockheader"):
        head_time = float(parse_height(header["time"], "time"))
    syncing = f"initial block download at block {height} of {headers}" if ibd else None
    return Reading(
        height=height, head_time=head_time, peers=peers, syncing=syncing, own_reference=headers
    )


async def block_count(session: aiohttp.ClientSession, url: str) -> int:
    """A reference's height: getblockcount (credentials, if any, in the reference's URL)."""
    reference = endpoint(url, jsonrpc="1.0")
    return parse_height(await call(session, reference, "getblockcount"), "block count")


def build(spec: BitcoinSpec, env: CheckEnv) -> Probe:
    """Return the probe of a `bitcoin` check."""
    node = endpoint(spec.url, spec.headers, spec.secrets(), jsonrpc="1.0")
    if spec.username is not None and spec.password is not None:
        node = node.with_login(spec.username, spec.password.get_secret_value())
    cookie = None if spec.cookie_file is None else Cookie(spec.cookie_file)

    async def read(session: aiohttp.ClientSession) -> Reading:
        return await read_bitcoin(session, node, cookie)

    calls = "getblockchaininfo, getbestblockhash, getconnectioncount, getblockheader"
    return build_probe(spec, env, Chain(calls, read, "getblockcount", block_count))

"""Who may change healthd's state over JSON-RPC (maintenance, reports): contract §10 and §11."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

NO_TOKEN_REFUSAL = (
    "writes are accepted only from loopback clients while no token is configured; "
    "set [server] token_file (or $HEALTHD_TOKEN) to allow them from elsewhere"
)
TOKEN_REFUSAL = "this method needs the bearer token (Authorization: Bearer <token>)"


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent a request: the client's address and the bearer token it carried, if any."""

    address: str | None = None
    bearer: str | None = field(default=None, repr=False)

    @property
    def loopback(self) -> bool:
        """True for 127.0.0.0/8 and ::1 (an IPv4-mapped loopback address included)."""
        if not self.address:
            return False
        try:
            ip = ipaddress.ip_address(self.address.split("%")[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return ip.is_loopback


# Decides one write request: None allows it, a text refuses it and says why.
Authorize = Callable[[Caller, Any], str | None]


class WriteAccess:
    """With a token configured, a write must carry it; without one, only loopback may write."""

    def __init__(self, token: str | None) -> None:
        self._token = None if token is None else token.encode()

    def refusal(self, caller: Caller, also: Iterable[str] = ()) -> str | None:
        """Why the caller may not write (None: it may). `also`: more tokens that allow it,
        such as a push check's own token."""
        if self._token is None and not also:
            return None if caller.loopback else NO_TOKEN_REFUSAL
        given = (caller.bearer or "").encode()
        accepted = [self._token] if self._token is not None else []
        accepted += [token.encode() for token in also]
        # Every token is compared, in constant time, whatever matched before it.
        matches = [hmac.compare_digest(given, token) for token in accepted]
        if any(matches):
            return None
        if self._token is None and caller.loopback:
            return None
        return TOKEN_REFUSAL

    def authorize(self, caller: Caller, params: Any) -> str | None:
        """The plain write rule as an `Authorize` (params do not matter)."""
        return self.refusal(caller)


@dataclass(frozen=True, slots=True)
class WriteMethod:
    """A JSON-RPC method that changes state, and the tokens of its own that it admits.

    `tokens(params)` names more tokens that may call it with these params, beyond the write
    rule's (a push check's own token may report to that check, and nothing else).
    """

    method: Callable[..., Any]
    tokens: Callable[[Any], Iterable[str]] | None = None

    def authorizer(self, access: WriteAccess) -> Authorize:
        """The rule deciding each call."""
        tokens = self.tokens
        if tokens is None:
            return access.authorize
        return lambda caller, params: access.refusal(caller, also=tokens(params))


def matches_any(given: str | None, tokens: Iterable[str]) -> bool:
    """True if `given` is one of `tokens` (each compared in constant time)."""
    if not given:
        return False
    found = [hmac.compare_digest(given.encode(), token.encode()) for token in tokens]
    return any(found)


def bearer(header: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` header value, else None."""
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None

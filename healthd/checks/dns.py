"""`dns`: passes when a name resolves, through the system resolver, to enough addresses."""

from __future__ import annotations

import asyncio
import socket
from typing import Annotated, Any, Literal

from pydantic import Field

from healthd.checks.base import CheckEnv, CheckFailed, CheckSpec, Probe


class DnsSpec(CheckSpec):
    """Keys of a `dns` check."""

    type: Literal["dns"]
    host: Annotated[str, Field(min_length=1)]
    min_results: Annotated[int, Field(ge=1)] = 1

    def target(self) -> str:
        return f"{self.host} resolves to >= {self.min_results} addresses"


def build(spec: DnsSpec, env: CheckEnv) -> Probe:
    """Return a probe that asks getaddrinfo (so /etc/hosts and nsswitch count)."""

    async def probe() -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(spec.host, None, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise CheckFailed(f"cannot resolve {spec.host}: {exc.strerror}") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        message = {"addresses": addresses}
        if len(addresses) < spec.min_results:
            raise CheckFailed(
                f"{spec.host} resolves to {len(addresses)} addresses, "
                f"fewer than {spec.min_results}",
                message,
            )
        return message

    return probe

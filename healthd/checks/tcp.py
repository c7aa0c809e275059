"""`tcp`: passes when a TCP connection to host:port opens within the timeout."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Annotated, Any, Literal

from pydantic import Field

from healthd.checks.base import CheckEnv, CheckFailed, CheckSpec, Probe, host_port, os_error_text


class TcpSpec(CheckSpec):
    """Keys of a `tcp` check."""

    type: Literal["tcp"]
    host: Annotated[str, Field(min_length=1)]
    port: Annotated[int, Field(ge=1, le=65535)]

    def target(self) -> str:
        return host_port(self.host, self.port)


def build(spec: TcpSpec, env: CheckEnv) -> Probe:
    """Return a probe that opens and closes one connection."""
    address = host_port(spec.host, spec.port)

    async def probe() -> dict[str, Any]:
        try:
            _, writer = await asyncio.open_connection(spec.host, spec.port)
        except socket.gaierror as exc:
            raise CheckFailed(f"cannot resolve {spec.host}: {exc.strerror}") from exc
        except OSError as exc:
            raise CheckFailed(f"cannot connect to {address}: {os_error_text(exc)}") from exc
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return {"address": address}

    return probe

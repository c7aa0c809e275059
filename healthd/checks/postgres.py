"""`postgres`: connects and runs a query (default SELECT 1) within the timeout. Needs asyncpg."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from healthd.checks.base import CheckEnv, CheckFailed, CheckSpec, Probe
from healthd.redact import error_text, redact_url, url_secrets


class PostgresSpec(CheckSpec):
    """Keys of a `postgres` check."""

    type: Literal["postgres"]
    dsn: Annotated[str, Field(min_length=1)]
    query: Annotated[str, Field(min_length=1)] = "SELECT 1"

    @field_validator("dsn")
    @classmethod
    def _url_form(cls, value: str) -> str:
        if not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("expected a postgresql://user:password@host:port/database URL")
        return value

    def secrets(self) -> tuple[str, ...]:
        return url_secrets(self.dsn)

    def target(self) -> str:
        return f"{redact_url(self.dsn)}: {self.query}"


def build(spec: PostgresSpec, env: CheckEnv) -> Probe:
    """Return a probe that opens a connection, runs the query and closes it."""
    import asyncpg

    secrets = url_secrets(spec.dsn)

    async def probe() -> dict[str, Any]:
        started = time.perf_counter()
        connection = None
        try:
            connection = await asyncpg.connect(spec.dsn, timeout=None)
            await connection.fetchval(spec.query)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            reason = error_text(exc, secrets)
            raise CheckFailed(f"postgres: {reason}") from None
        finally:
            if connection is not None:
                connection.terminate()  # immediate, and safe while being cancelled
        return {"latencyMs": round((time.perf_counter() - started) * 1000, 3)}

    return probe

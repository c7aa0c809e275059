"""`redis`: passes when PING answers PONG. Needs redis-py (healthd[redis])."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from healthd.checks.base import CheckEnv, CheckFailed, CheckSpec, Probe
from healthd.redact import error_text, redact_url, url_secrets


class RedisSpec(CheckSpec):
    """Keys of a `redis` check."""

    type: Literal["redis"]
    url: Annotated[str, Field(min_length=1)]

    @field_validator("url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("expected a redis://, rediss:// or unix:// URL")
        return value

    def secrets(self) -> tuple[str, ...]:
        return url_secrets(self.url)

    def target(self) -> str:
        return redact_url(self.url)


def build(spec: RedisSpec, env: CheckEnv) -> Probe:
    """Return a probe that connects, sends PING and disconnects."""
    import redis.asyncio
    import redis.exceptions

    secrets = url_secrets(spec.url)

    async def probe() -> dict[str, Any]:
        started = time.perf_counter()
        client = redis.asyncio.Redis.from_url(spec.url, single_connection_client=True)
        try:
            answer = await client.ping()
        except (OSError, redis.exceptions.RedisError) as exc:
            reason = error_text(exc, secrets)
            raise CheckFailed(f"redis: {reason}") from None
        finally:
            await client.aclose()
        if answer is not True:
            raise CheckFailed(f"redis: PING answered {answer!r}, not PONG")
        return {"latencyMs": round((time.perf_counter() - started) * 1000, 3)}

    return probe

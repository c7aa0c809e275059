"""`ttl`: a push check; the node's own tools report to it, and it fails when they fall silent."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from healthd.checks.base import CheckEnv, CheckFailed, CheckSpec, Duration, Probe
from healthd.durations import format_duration


class TtlSpec(CheckSpec):
    """Keys of a `ttl` check: how long a report holds, and optionally a token of its own."""

    type: Literal["ttl"]
    ttl: Annotated[Duration, Field(gt=0)]
    token_file: Annotated[str, Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _readable_token(self) -> TtlSpec:
        if self.token_file is not None:
            self.token()  # a token file that cannot be read is a config error, not a surprise
        return self

    def token(self) -> str | None:
        """The check's own token (it may report to this check only), read from token_file."""
        if self.token_file is None:
            return None
        try:
            token = Path(self.token_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or "not UTF-8 text"
            raise ValueError(f"token_file: cannot read {self.token_file}: {reason}") from None
        if not token:
            raise ValueError(f"token_file: {self.token_file} is empty")
        return token

    def secrets(self) -> tuple[str, ...]:
        try:
            token = self.token()
        except ValueError:
            return ()
        return (token,) if token else ()

    def target(self) -> str:
        own = f", own token from {self.token_file}" if self.token_file else ""
        return f"reports within {format_duration(self.ttl)}{own}"


def build(spec: TtlSpec, env: CheckEnv) -> Probe:
    """A ttl check is reported to, never run: its probe only says so if anything calls it."""

    async def probe() -> None:
        raise CheckFailed("a ttl check is not run: it waits for reports (healthd.report)")

    return probe

"""Building chain checks in tests: a fresh shared session, a reference cache with a clock the
test moves, and fake nodes served for a block (tests/helpers/runs.py runs the checks)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from healthd.checks.base import Check, CheckEnv
from healthd.checks.chains.references import ReferenceHeights
from healthd.checks.http import SharedSession
from healthd.scheduler import Punctuality
from tests.chains.fake import FakeServer
from tests.helpers.config import check_of


class Clock:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock on."""
        self.now += seconds


class Chains:
    """A daemon's worth of chain-check surroundings: one session, one reference cache."""

    def __init__(self, env: CheckEnv, clock: Clock) -> None:
        self.env = env
        self.clock = clock

    def check(self, **keys: Any) -> Check:
        """Build one check from its TOML keys (defaults: interval 5s, timeout 2s)."""
        keys.setdefault("name", "node")
        keys.setdefault("interval", "5s")
        keys.setdefault("timeout", "2s")
        return check_of(keys, self.env)


@asynccontextmanager
async def chains() -> AsyncIterator[Chains]:
    """Surroundings for chain checks, closed after the test."""
    clock = Clock()
    session = SharedSession()
    env = CheckEnv(schedule=Punctuality(), http=session, references=ReferenceHeights(clock))
    try:
        yield Chains(env, clock)
    finally:
        await session.close()


@asynccontextmanager
async def serving(*fakes: FakeServer) -> AsyncIterator[None]:
    """Run the fake servers for the block's length."""
    async with AsyncExitStack() as stack:
        for fake in fakes:
            await fake.start()
            stack.push_async_callback(fake.stop)
        yield

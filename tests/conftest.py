"""Fixtures shared by the test modules (plain helpers live in tests/helpers/)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from healthd.checks.base import Check, CheckEnv
from healthd.checks.http import SharedSession
from healthd.config import Config
from healthd.parts import Parts
from healthd.scheduler import Punctuality
from tests.helpers.config import check_of
from tests.helpers.daemon import Daemons


@pytest.fixture
def punctuality() -> Punctuality:
    return Punctuality()


@pytest.fixture
async def env(punctuality: Punctuality) -> Any:
    session = SharedSession()
    yield CheckEnv(schedule=punctuality, http=session)
    await session.close()


@pytest.fixture
def make_check(env: CheckEnv) -> Callable[..., Check]:
    """Build one check from its TOML keys (defaults: interval 1s, timeout 0.5s)."""

    def make(**keys: Any) -> Check:
        keys.setdefault("name", "c")
        keys.setdefault("interval", "1s")
        keys.setdefault("timeout", "500ms")
        return check_of(keys, env)

    return make


@pytest.fixture
async def serve(aiohttp_client: Any) -> Callable[[Config], Any]:
    """Start a daemon in this process on a config: returns it and a test client for its app."""

    async def start(config: Config) -> tuple[Parts, Any]:
        parts = Parts(config)
        return parts, await aiohttp_client(parts.app())

    return start


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[Daemons]:
    """`healthd serve` subprocesses for one test, in its tmp_path; what is left is killed after."""
    started = Daemons(tmp_path)
    yield started
    started.close()


@pytest.fixture(scope="module")
def module_daemons(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Daemons]:
    """The same for the daemons a module's tests share; killed after the module."""
    started = Daemons(tmp_path_factory.mktemp(request.module.__name__.rpartition(".")[2]))
    yield started
    started.close()

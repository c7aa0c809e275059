"""One run of a chain check: the node and its references asked at once, then the verdict."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from healthd.checks.base import CheckEnv, CheckFailed, Probe, Timing
from healthd.checks.chains.calls import CallFailed
from healthd.checks.chains.progress import HeightTracker, Movement
from healthd.checks.chains.references import quorum
from healthd.checks.chains.spec import ChainSpec
from healthd.checks.chains.verdict import Reading, figures, judge
from healthd.durations import format_duration
from healthd.redact import redact_text

if TYPE_CHECKING:
    import aiohttp  # the checks import it when they run, not when a config is read

DEFAULT_TIMING = Timing(interval=30.0, timeout=10.0, initial_delay=0.0)
# Shares of the check's timeout: the node's calls end before the runner's timeout so the error
# names them and keeps the figures; references end sooner still, so a hanging one only drops out.
NODE_SHARE = 0.9
REFERENCE_SHARE = 0.75

STILL = Movement(rose=None, still_for=0.0, blocks_per_second=None)  # a run without a height

NodeReader = Callable[["aiohttp.ClientSession"], Awaitable[Reading]]
ReferenceReader = Callable[["aiohttp.ClientSession", str], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class Chain:
    """How one chain's node and references are read; `calls` names the node's calls."""

    calls: str
    read_node: NodeReader
    reference_call: str
    read_reference: ReferenceReader


@contextmanager
def answer_of(call: str) -> Iterator[None]:
    """Turn a malformed answer (a missing field, a height that is not a number) into CallFailed."""
    try:
        yield
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CallFailed(call, f"unexpected answer: {exc}") from None


def build_probe(spec: ChainSpec, env: CheckEnv, chain: Chain) -> Probe:
    """The probe of a chain check; it keeps the node's past heights for stall and rate."""
    timing = env.timing or DEFAULT_TIMING
    node_budget = timing.timeout * NODE_SHARE
    reference_budget = timing.timeout * REFERENCE_SHARE
    tracker = HeightTracker()
    limits = spec.limits()
    secrets = spec.secrets()
    references = env.references

    async def read_node(session: aiohttp.ClientSession) -> Reading | CallFailed:
        try:
            async with asyncio.timeout(node_budget):
                return await chain.read_node(session)
        except TimeoutError:
            return CallFailed(chain.calls, f"timed out after {format_duration(node_budget)}")
        except CallFailed as exc:
            return exc

    def reference(session: aiohttp.ClientSession, url: str) -> Awaitable[int | None]:
        async def fetch() -> int:
            return await chain.read_reference(session, url)

        key = f"{chain.reference_call} {url}"
        return references.height(key, fetch, timing.interval, reference_budget)

    async def probe() -> dict[str, Any]:
        session: aiohttp.ClientSession = env.http.session()
        node, heights = await asyncio.gather(
            read_node(session),
            asyncio.gather(*(reference(session, url) for url in spec.references)),
        )
        if isinstance(node, CallFailed):
            reference_height = quorum(heights)
            message = figures(None, reference_height, "unreachable")
            raise CheckFailed(redact_text(str(node), secrets), message)
        assert isinstance(node, Reading)
        reference_height = quorum([*heights, node.own_reference])
        movement = STILL if node.height is None else tracker.observe(node.height, time.monotonic())
        error, message = judge(node, reference_height, movement, limits, time.time())
        if error is not None:
            raise CheckFailed(redact_text(error, secrets), message)
        return message

    return probe

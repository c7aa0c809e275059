"""The verdict of one run, in the contract's order, and the figures every answer carries.

State: `syncing` when the node says so; `behind` when it lags (blocks or head age) but its height
rose since the previous run, or there is no previous run to compare with (one look cannot tell
catching up from stuck); `stalled` when it lags and its height did not rise since the previous
run, or has not risen for `stall_after`; `unreachable` when it did not answer; else `synced` (a
node short of peers, or reporting itself unhealthy, is still synced: the error says what is wrong).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from healthd.checks.chains.progress import Movement

State = Literal["synced", "syncing", "behind", "stalled", "unreachable"]


@dataclass(frozen=True, slots=True)
class Reading:
    """What the node said in one run."""

    height: int | None  # None only while syncing, when the node cannot say yet
    head_time: float | None = None  # Unix seconds of the newest block's own timestamp
    peers: int | None = None
    syncing: str | None = None  # what the node says of its syncing, when it says it is
    own_reference: int | None = None  # a network height the node itself knows (bitcoin headers)
    unhealthy: str | None = None  # the node's own health verdict, when failing (avalanche)


@dataclass(frozen=True, slots=True)
class Limits:
    """The thresholds of one check; 0 disables `max_head_age` and `min_peers`."""

    max_lag: int
    max_head_age: float
    stall_after: float
    min_peers: int


def judge(
    reading: Reading, reference: int | None, movement: Movement, limits: Limits, now: float
) -> tuple[str | None, dict[str, Any]]:
    """(the error, or None when the node passes; the message) for one run at Unix time `now`."""
    height = reading.height
    lag = None if reference is None or height is None else max(0, reference - height)
    head_age = None if reading.head_time is None else round(max(0.0, now - reading.head_time), 3)
    moving: State = "stalled" if movement.rose is False else "behind"
    error: str | None = None
    state: State = "synced"
    if reading.syncing is not None:
        error, state = f"syncing: {reading.syncing}", "syncing"
    elif lag is not None and lag > limits.max_lag:
        error, state = f"behind by {lag} blocks (reference {reference})", moving
    elif movement.still_for >= limits.stall_after:
        error = f"stalled at height {height} for {compact(movement.still_for)}"
        state = "stalled"
    elif head_age is not None and limits.max_head_age > 0 and head_age > limits.max_head_age:
        error, state = f"newest block is {compact(head_age)} old", moving
    elif reading.peers is not None and reading.peers < limits.min_peers:
        peers = "1 peer" if reading.peers == 1 else f"{reading.peers} peers"
        error = f"{peers}, fewer than {limits.min_peers}"
    elif reading.unhealthy is not None:
        error = reading.unhealthy
    message = figures(height, reference, state)
    message.update(
        lag=lag,
        headAgeSeconds=head_age,
        peers=reading.peers,
        blocksPerSecond=movement.blocks_per_second,
    )
    return error, message


def figures(height: int | None, reference: int | None, state: State) -> dict[str, Any]:
    """The message with every figure present (null where unknown), in the contract's order."""
    return {
        "height": height,
        "referenceHeight": reference,
        "lag": None,
        "headAgeSeconds": None,
        "peers": None,
        "blocksPerSecond": None,
        "state": state,
    }


def compact(seconds: float) -> str:
    """Whole seconds as an operator reads them: "5m", "3m12s", "2h", "45s"."""
    rest = int(seconds)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
        f"{secs}s" if secs else "",
    ]
    return "".join(parts) or "0s"

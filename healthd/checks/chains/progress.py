"""One check's memory of its node's height across runs: is it rising, since when, how fast."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

WINDOW = 10  # runs the rate is measured over: smooths a block landing just before or after a run


@dataclass(frozen=True, slots=True)
class Movement:
    """What the height did: rose since the previous run (None on the first), for how long it has
    not risen, and blocks per second over the last runs (None until there are two)."""

    rose: bool | None
    still_for: float
    blocks_per_second: float | None


class HeightTracker:
    """Follows one node's height run after run (monotonic seconds in, Movement out)."""

    def __init__(self) -> None:
        self._seen: deque[tuple[float, int]] = deque(maxlen=WINDOW)
        self._since: float | None = None  # when the height last changed

    def observe(self, height: int, now: float) -> Movement:
        """Record this run's height and say how it moved."""
        previous = self._seen[-1][1] if self._seen else None
        if previous is None or height != previous:
            # A height that falls (a reorg, a node restored from a snapshot) is not a stall either.
            self._since = now
        if previous is not None and height < previous:
            self._seen.clear()
        self._seen.append((now, height))
        assert self._since is not None
        return Movement(
            rose=None if previous is None else height > previous,
            still_for=now - self._since,
            blocks_per_second=self._rate(),
        )

    def _rate(self) -> float | None:
        if len(self._seen) < 2:
            return None
        (first_at, first), (last_at, last) = self._seen[0], self._seen[-1]
        if last_at <= first_at:
            return None
        return round((last - first) / (last_at - first_at), 3)

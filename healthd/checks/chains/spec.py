"""The keys every chain check shares (contract §9); each chain module sets its own defaults."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from pydantic import AfterValidator, Field

from healthd.checks.base import Duration
from healthd.checks.chains.verdict import Limits
from healthd.checks.http import HttpTarget, http_url
from healthd.redact import redact_url, url_secrets

ReferenceUrl = Annotated[str, AfterValidator(http_url)]
Blocks = Annotated[int, Field(ge=0)]
Positive = Annotated[Duration, Field(gt=0)]


class ChainSpec(HttpTarget):
    """`url`, `headers`, `references`, `max_lag`, `stall_after`; chains add head age and peers."""

    references: list[ReferenceUrl] = []
    max_lag: Blocks = 10
    stall_after: Positive = 300.0

    def limits(self) -> Limits:
        """The thresholds the verdict applies; a rule whose keys a chain lacks is off (0)."""
        return Limits(self.max_lag, max_head_age=0.0, stall_after=self.stall_after, min_peers=0)

    def secrets(self) -> tuple[str, ...]:
        """Secrets of the node's URL and headers, and of every reference URL."""
        found = super().secrets()
        for reference in self.references:
            found += url_secrets(reference)
        return found

    def target(self) -> str:
        shown = self.shown_url()
        if not self.references:
            return shown
        return f"{shown} against {', '.join(redact_url(url) for url in self.references)}"


class HeadAndPeers(ChainSpec):
    """The head-age and peer keys of every chain but Solana (whose node reports neither)."""

    max_head_age: Duration = 120.0
    min_peers: Blocks = 1

    def limits(self) -> Limits:
        return replace(super().limits(), max_head_age=self.max_head_age, min_peers=self.min_peers)

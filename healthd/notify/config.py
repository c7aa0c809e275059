"""`[[notify]]` tables: one validated model per sink type; every error names its key path."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from yarl import URL

from healthd.checks.base import Duration, Kind, ListOf
from healthd.checks.http import PUBLIC_HEADERS, http_url
from healthd.history import State
from healthd.redact import redact_url, secret_name, url_secrets

SINK_NAME_PATTERN = r"^[A-Za-z0-9_.:-]+$"


class SinkConfig(BaseModel):
    """The keys every sink shares: where to, which changes, and how hard to try."""

    # Strict like every config section: a value of the wrong type is an error, never coerced.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    type: str
    name: Annotated[str, Field(pattern=SINK_NAME_PATTERN)] | None = None
    url: str
    headers: dict[str, str] = {}
    instance: Annotated[str, Field(min_length=1)] = Field(default_factory=socket.gethostname)
    checks: ListOf[str] = ()
    tags: ListOf[Annotated[str, Field(min_length=1)]] = ()
    kinds: ListOf[Kind] = ()
    on: ListOf[State] = ("passing", "degraded", "failing")
    retry_for: Annotated[Duration, Field(gt=0)] = 300.0
    timeout: Annotated[Duration, Field(gt=0)] = 10.0
    queue: Annotated[int, Field(ge=1, le=1_000_000, strict=True)] = 1000

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return http_url(value)

    @model_validator(mode="after")
    def _one_authorization(self) -> SinkConfig:
        if URL(self.url).user is not None and any(
            key.lower() == "authorization" for key in self.headers
        ):
            raise ValueError("give credentials in the URL or in an Authorization header, not both")
        return self

    def label(self, index: int) -> str:
        """The sink's name in logs and metrics: `name`, else type and position (webhook-0)."""
        return self.name or f"{self.type}-{index}"

    def shown_url(self) -> str:
        """The URL as logs and `healthd validate` may show it."""
        return redact_url(self.url)

    def secrets(self) -> tuple[str, ...]:
        """URL credentials and header values but the plainly public ones."""
        found = list(url_secrets(self.url))
        for key, value in self.headers.items():
            if key.lower() in PUBLIC_HEADERS and not secret_name(key):
                continue
            found.append(value)
            credential = value.partition(" ")[2].strip()
            if credential:
                found.append(credential)
        return tuple(found)


class WebhookConfig(SinkConfig):
    """`type = "webhook"`: POST one JSON object per state change."""

    type: Literal["webhook"]


class AlertmanagerConfig(SinkConfig):
    """`type = "alertmanager"`: alerts in Alertmanager's API v2 form, re-sent while they last."""

    type: Literal["alertmanager"]
    resend: Annotated[Duration, Field(ge=1.0)] = 60.0


SINK_TYPES: dict[str, type[WebhookConfig] | type[AlertmanagerConfig]] = {
    "webhook": WebhookConfig,
    "alertmanager": AlertmanagerConfig,
}
NotifyConfig = WebhookConfig | AlertmanagerConfig


def parse_sinks(
    entries: Any, check_names: Sequence[str], problems: list[str]
) -> tuple[NotifyConfig, ...]:
    """Validate the `[[notify]]` array, noting each problem by key path."""
    # healthd.config imports this module: its key-path helpers are imported when called.
    from healthd.config import _problems, key_path

    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        problems.append("notify: expected an array of tables, written [[notify]]")
        return ()
    sinks: list[NotifyConfig] = []
    names: set[str] = set()
    for index, entry in enumerate(entries):
        where: tuple[str | int, ...] = ("notify", index)
        kind = entry.get("type")
        if not isinstance(kind, str) or kind not in SINK_TYPES:
            found = "missing" if kind is None else f"unknown type {kind!r}"
            expected = ", ".join(sorted(SINK_TYPES))
            problems.append(f"{key_path((*where, 'type'))}: {found}; expected one of: {expected}")
            continue
        try:
            sink: NotifyConfig = SINK_TYPES[kind].model_validate(entry)
        except ValidationError as exc:
            problems.extend(_problems(exc, where, SINK_TYPES[kind]))
            continue
        unknown = [name for name in sink.checks if name not in check_names]
        if unknown:
            problems.append(f"{key_path((*where, 'checks'))}: no such check: {', '.join(unknown)}")
            continue
        label = sink.label(index)
        if label in names:
            problems.append(f"{key_path((*where, 'name'))}: duplicate sink name {label!r}")
            continue
        names.add(label)
        sinks.append(sink)
    return tuple(sinks)

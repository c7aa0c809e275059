"""What a check is: a probe that returns a JSON-able message or raises, plus its schedule."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Protocol, TypeVar, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from healthd.checks.chains.references import ReferenceHeights
from healthd.children import Children
from healthd.durations import parse_duration
from healthd.result import NO_HYSTERESIS, Outcome, Record, Thresholds

Kind = Literal["health", "readiness", "liveness"]
KINDS: tuple[Kind, ...] = get_args(Kind)

# A probe is a coroutine function, or a plain function that the scheduler runs in a worker thread.
Probe = Callable[[], Awaitable[Any]] | Callable[[], Any]

Duration = Annotated[float, BeforeValidator(parse_duration)]
# Given a check's record, what to record in place of a scheduled run or a report (an opened
# readiness gate's pass, checks/latch.py); None lets the run or report count.
Hold = Callable[[Record], Outcome | None]
T = TypeVar("T")


def as_tuple(value: object) -> object:
    """A TOML array (a list) as the tuple a frozen spec keeps; anything else is not a list."""
    if isinstance(value, list | tuple):
        return tuple(value)
    raise PydanticCustomError("list_type", "input should be a list")


# A list in the config, kept as a tuple; strict mode alone would reject every TOML array.
ListOf = Annotated[tuple[T, ...], BeforeValidator(as_tuple)]
CHECK_NAME_PATTERN = r"^[A-Za-z0-9_.:-]+$"


class CheckFailed(Exception):
    """Raised by a probe to fail with a readable error and, optionally, a message of details."""

    def __init__(self, error: str, message: Any = None, *, degraded: bool = False) -> None:
        super().__init__(error)
        self.error = error
        self.message = message
        self.degraded = degraded


class CheckSpec(BaseModel):
    """The keys every check type shares; each type (plugins' too) extends it with its own.

    Strict: a value of the wrong type is an error, never coerced ("9661" is not a port).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: Annotated[str, Field(pattern=CHECK_NAME_PATTERN)]
    type: str
    kind: Kind = "health"
    tags: ListOf[Annotated[str, Field(min_length=1)]] = ()
    interval: Duration | None = None
    timeout: Duration | None = None
    initial_delay: Duration | None = None
    critical: bool = True
    # Hysteresis overrides of the [scheduler] defaults (see healthd.result.Thresholds).
    failures_before_critical: Annotated[int, Field(ge=1, strict=True)] | None = None
    successes_before_passing: Annotated[int, Field(ge=1, strict=True)] | None = None

    def target(self) -> str:
        """What the check looks at, for `healthd validate` (secrets redacted)."""
        return ""

    def secrets(self) -> tuple[str, ...]:
        """Configured values that must never appear in a result, an error or a log line."""
        return ()


@dataclass(frozen=True, slots=True)
class Timing:
    """When and for how long a check runs, in seconds."""

    interval: float
    timeout: float
    initial_delay: float


@dataclass(frozen=True, slots=True)
class Check:
    """A configured, runnable check."""

    name: str
    kind: Kind
    tags: frozenset[str]
    timing: Timing
    probe: Probe
    blocking: bool
    spec: CheckSpec = field(compare=False)
    critical: bool = True
    user_code: bool = False  # runs code healthd does not ship (python checks, plugin types)
    push: bool = False  # a push check: its runs are reports, never scheduled
    secrets: tuple[str, ...] = field(default=(), repr=False)  # scrubbed from every outcome
    thresholds: Thresholds = NO_HYSTERESIS
    hold: Hold = field(default=lambda record: None, compare=False, repr=False)


class ScheduleStatus(Protocol):
    """Whether every job fires on time, as the scheduler sees it: for the `scheduler` check."""

    def overdue(self, now: float) -> list[str]:
        """Names of the checks whose run is late by more than a grace period."""
        ...

    def scheduled(self) -> int:
        """How many checks are scheduled."""
        ...


class HttpSessions(Protocol):
    """A shared HTTP client session, opened on first use inside the event loop."""

    def session(self) -> Any:
        """The aiohttp.ClientSession every HTTP-speaking check shares."""
        ...


@dataclass(frozen=True, slots=True)
class CheckEnv:
    """What a check type may need from the daemon when it is built.

    `references` is shared by every chain check of the daemon; `timing` is the check's own,
    set by `build_check` for the check being built.
    """

    schedule: ScheduleStatus
    http: HttpSessions
    children: Children = field(default_factory=Children)
    references: ReferenceHeights = field(default_factory=ReferenceHeights)
    timing: Timing | None = None


def host_port(host: str, port: int) -> str:
    """host:port, with an IPv6 address in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def os_error_text(exc: OSError) -> str:
    """A short readable reason for a failed system call or connection."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "timed out"
    return exc.strerror or str(exc) or type(exc).__name__

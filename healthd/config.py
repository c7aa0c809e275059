"""Read the TOML config into frozen, validated objects; every error names its key path."""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from healthd import remote
from healthd.checks import check_types
from healthd.checks.base import CheckSpec, Duration, Kind, ListOf, Timing
from healthd.durations import format_duration
from healthd.formats import FormatName
from healthd.history import DEFAULT_RUNS, MAX_RUNS
from healthd.maintenance import check_state_dir
from healthd.notify.config import NotifyConfig, parse_sinks
from healthd.paths import is_reserved
from healthd.redact import secret_name
from healthd.result import NO_HYSTERESIS, Thresholds
from healthd.store import MAINTENANCE

ENV_CONFIG = "HEALTHD_CONFIG"
ENV_TOKEN = remote.ENV_TOKEN  # one name for the token's variable, the light client's
ENV_STATE_DIRECTORY = "STATE_DIRECTORY"
EMBEDDED_DEFAULT = "<embedded default>"


class ConfigError(Exception):
    """A config that cannot be used: the file it came from and one line per problem."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        super().__init__(f"{source}: " + "; ".join(problems))
        self.source = source
        self.problems = list(problems)

    def render(self) -> str:
        """The readable multi-line text for stderr."""
        lines = [f"healthd: invalid config {self.source}:"]
        lines += [f"  {problem}" for problem in self.problems]
        return "\n".join(lines)


class _Section(BaseModel):
    # Strict: a value of the wrong type is an error, never silently coerced ("9661", 80.0).
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


SectionT = TypeVar("SectionT", bound=_Section)


class ServerConfig(_Section):
    """[server]"""

    host: Annotated[str, Field(min_length=1)] = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 9660
    max_body_bytes: Annotated[int, Field(ge=1)] = 65536
    max_batch: Annotated[int, Field(ge=1)] = 100
    max_response_bytes: Annotated[int, Field(ge=1024)] = 16 * 1024 * 1024
    max_connections: Annotated[int, Field(ge=1)] = 1000
    header_timeout: Annotated[Duration, Field(gt=0)] = 10.0
    keepalive_timeout: Annotated[Duration, Field(gt=0)] = 30.0
    token_file: Annotated[str, Field(min_length=1)] | None = None
    state_dir: Annotated[str, Field(min_length=1)] | None = None


class ViewConfig(_Section):
    """One [[views]] entry: another path serving the results in another format."""

    path: Annotated[str, Field(pattern=r"^/[A-Za-z0-9._~!$&'()*+,;=:@/-]*$")]
    format: FormatName
    kind: Kind = "health"
    tags: ListOf[Annotated[str, Field(min_length=1)]] = ()
    instance_id: Annotated[str, Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _instance_id_for_components(self) -> ViewConfig:
        if self.instance_id is not None and self.format != "components":
            raise ValueError("instance_id applies only to the components format")
        return self


class SchedulerConfig(_Section):
    """[scheduler]"""

    interval: Duration = 30.0
    timeout: Duration = 10.0
    initial_delay: Duration = 0.0
    worker_threads: Annotated[int, Field(ge=1, le=1024)] = 8
    user_worker_threads: Annotated[int, Field(ge=1, le=1024)] = 8
    failures_before_critical: Annotated[int, Field(ge=1, strict=True)] = 1
    successes_before_passing: Annotated[int, Field(ge=1, strict=True)] = 1
    history: Annotated[int, Field(ge=0, le=MAX_RUNS, strict=True)] = DEFAULT_RUNS


class LoggingConfig(_Section):
    """[logging]"""

    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["auto", "json", "console"] = "auto"


@dataclass(frozen=True, slots=True)
class CheckConfig:
    """One validated check with its effective timing and hysteresis."""

    spec: CheckSpec
    timing: Timing
    thresholds: Thresholds = NO_HYSTERESIS


@dataclass(frozen=True, slots=True)
class Config:
    """The whole validated configuration."""

    source: str
    server: ServerConfig
    scheduler: SchedulerConfig
    logging: LoggingConfig
    checks: tuple[CheckConfig, ...]
    views: tuple[ViewConfig, ...] = ()
    token: str | None = field(default=None, repr=False)  # the secret itself: never printed
    notify: tuple[NotifyConfig, ...] = ()
    state_dir: str | None = None  # [server] state_dir, else systemd's $STATE_DIRECTORY

    def secrets(self) -> list[str]:
        """Every configured secret: the token and each check's credentials."""
        found = [self.token] if self.token else []
        for item in self.checks:
            found += item.spec.secrets()
        for sink in self.notify:
            found += sink.secrets()
        return found


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Load the config named by `path`, else $HEALTHD_CONFIG, else the embedded default."""
    if path is None:
        path = os.environ.get(ENV_CONFIG) or None
    if path is None:
        text = resources.files("healthd").joinpath("default.toml").read_text()
        return parse_config(text, EMBEDDED_DEFAULT)
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(source, [f"cannot read the file: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError:
        raise ConfigError(source, ["the file is not UTF-8 text"]) from None
    return parse_config(text, source)


def parse_config(text: str, source: str) -> Config:
    """Parse and validate TOML text; `source` names it in errors."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, [f"not valid TOML: {exc}"]) from None
    if not raw:
        # A truncated or half-written file must never be taken for "no checks, all healthy".
        raise ConfigError(source, ["the file is empty (no tables and no keys)"])
    problems: list[str] = []
    server = _section(raw, "server", ServerConfig, problems)
    scheduler = _section(raw, "scheduler", SchedulerConfig, problems)
    logging = _section(raw, "logging", LoggingConfig, problems)
    entries = raw.get("checks", [])
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        problems.append("checks: expected an array of tables, written [[checks]]")
        entries = []
    for key in sorted(raw.keys() - TOP_LEVEL_KEYS):
        problems.append(f"{key}: {unknown_key(key, TOP_LEVEL_KEYS)}")
    views = _views(raw.get("views", []), problems)
    token = _token(server, problems)
    state_dir = _state_dir(server, problems)
    checks: list[CheckConfig] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = (check_label(index, entry),)
        spec = _validate_check(entry, where, problems)
        if spec is None:
            continue
        if spec.name == MAINTENANCE:
            problems.append(
                f"{key_path((*where, 'name'))}: {MAINTENANCE!r} is the name of maintenance mode's "
                "own check; choose another"
            )
        if spec.name in seen:
            problems.append(f"{key_path((*where, 'name'))}: duplicate check name {spec.name!r}")
        seen.add(spec.name)
        timing = _timing(spec, scheduler, where, problems)
        checks.append(CheckConfig(spec, timing, _thresholds(spec, scheduler)))
    _check_default_timing(scheduler, problems)
    sinks = parse_sinks(raw.get("notify", []), [c.spec.name for c in checks], problems)
    if problems:
        raise ConfigError(source, problems)
    return Config(source, server, scheduler, logging, tuple(checks), views, token, sinks, state_dir)


TOP_LEVEL_KEYS = frozenset({"server", "scheduler", "logging", "checks", "views", "notify"})


def _views(entries: Any, problems: list[str]) -> tuple[ViewConfig, ...]:
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        problems.append("views: expected an array of tables, written [[views]]")
        return ()
    views: list[ViewConfig] = []
    for index, entry in enumerate(entries):
        where: tuple[str | int, ...] = ("views", index)
        try:
            view = ViewConfig.model_validate(entry)
        except ValidationError as exc:
            problems.extend(_problems(exc, where, ViewConfig))
            continue
        if is_reserved(view.path) or view.path in {v.path for v in views}:
            problems.append(f"{key_path((*where, 'path'))}: {view.path} is already served")
            continue
        views.append(view)
    return tuple(views)


def _token(server: ServerConfig, problems: list[str]) -> str | None:
    """The bearer token: [server] token_file, else $HEALTHD_TOKEN, else None (no access control)."""
    if server.token_file is None:
        return os.environ.get(ENV_TOKEN, "").strip() or None
    try:
        token = Path(server.token_file).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        problems.append(f"server.token_file: cannot read {server.token_file}: {reason}")
        return None
    if not token:
        problems.append(f"server.token_file: {server.token_file} is empty")
        return None
    return token


def _state_dir(server: ServerConfig, problems: list[str]) -> str | None:
    """Where state that outlives a restart is kept: [server] state_dir, else $STATE_DIRECTORY."""
    if server.state_dir is not None:
        path, key = server.state_dir, "server.state_dir"
    else:
        # systemd sets it for StateDirectory= (a colon-separated list: the first is ours).
        path = os.environ.get(ENV_STATE_DIRECTORY, "").split(":")[0]
        key = f"${ENV_STATE_DIRECTORY} (server.state_dir)"
    if not path:
        return None
    problem = check_state_dir(path)
    if problem is not None:
        problems.append(f"{key}: {problem}")
        return None
    return path


def _section(
    raw: dict[str, Any], name: str, model: type[SectionT], problems: list[str]
) -> SectionT:
    """Validate one [section]; on error note the problems and go on with its defaults."""
    try:
        return model.model_validate(raw.get(name, {}))
    except ValidationError as exc:
        problems.extend(_problems(exc, (name,), model))
        return model()


def check_label(index: int, entry: dict[str, Any]) -> str:
    """How errors name a check: by position, and by name when it has one: `checks[7] (node.rpc)`."""
    name = entry.get("name")
    return f"checks[{index}] ({name})" if isinstance(name, str) and name else f"checks[{index}]"


def _validate_check(
    entry: dict[str, Any], where: tuple[str | int, ...], problems: list[str]
) -> CheckSpec | None:
    kind = entry.get("type")
    types = check_types()
    if not isinstance(kind, str) or kind not in types:
        expected = ", ".join(sorted(types))
        found = "missing" if kind is None else f"unknown type {kind!r}"
        problems.append(f"{key_path((*where, 'type'))}: {found}; expected one of: {expected}")
        return None
    missing = types[kind].missing()
    if missing:
        problems.append(f"{key_path((*where, 'type'))}: the {kind} check type {missing}")
        return None
    try:
        return types[kind].spec.model_validate(entry)
    except ValidationError as exc:
        problems.extend(_problems(exc, where, types[kind].spec))
        return None


def _timing(
    spec: CheckSpec, defaults: SchedulerConfig, where: tuple[str | int, ...], problems: list[str]
) -> Timing:
    interval = defaults.interval if spec.interval is None else spec.interval
    timeout = defaults.timeout if spec.timeout is None else spec.timeout
    delay = defaults.initial_delay if spec.initial_delay is None else spec.initial_delay
    if spec.interval is None and spec.timeout is None:
        pass  # the [scheduler] defaults are checked once, under their own key path
    else:
        problem = timing_problem(interval, timeout)
        if problem is not None:
            key = "interval" if interval <= 0 or spec.timeout is None else "timeout"
            problems.append(f"{key_path((*where, key))}: {problem}")
    return Timing(interval=interval, timeout=timeout, initial_delay=delay)


def _thresholds(spec: CheckSpec, defaults: SchedulerConfig) -> Thresholds:
    failures = spec.failures_before_critical or defaults.failures_before_critical
    successes = spec.successes_before_passing or defaults.successes_before_passing
    return Thresholds(failures, successes)


def _check_default_timing(defaults: SchedulerConfig, problems: list[str]) -> None:
    problem = timing_problem(defaults.interval, defaults.timeout)
    if problem is not None:
        key = "interval" if defaults.interval <= 0 else "timeout"
        problems.append(f"scheduler.{key}: {problem}")


def timing_problem(interval: float, timeout: float) -> str | None:
    """What is wrong with an interval and its timeout, or None: 0 < timeout < interval."""
    if interval <= 0:
        return "must be longer than 0s"
    if timeout <= 0 or timeout >= interval:
        return (
            f"the timeout ({format_duration(timeout)}) must be longer than 0s and shorter than "
            f"the interval ({format_duration(interval)})"
        )
    return None


def key_path(loc: Sequence[str | int]) -> str:
    """("checks", 2, "port") -> "checks[2].port"."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "(top level)"


def unknown_key(key: str, known: Iterable[str]) -> str:
    """The "unknown key" message, naming the closest known key when it looks like a typo."""
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    return f'unknown key; did you mean "{close[0]}"?' if close else "unknown key"


def _problems(
    exc: ValidationError, prefix: tuple[str | int, ...], model: type[BaseModel]
) -> list[str]:
    problems = []
    for error in exc.errors(include_url=False):
        loc = (*prefix, *error["loc"])
        if error["type"] == "extra_forbidden" and len(error["loc"]) == 1:
            explained = unknown_key(str(error["loc"][0]), model.model_fields)
        else:
            explained = _explain(error)
        problems.append(f"{key_path(loc)}: {explained}")
    return problems


def _explain(error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    message = str(error["msg"])
    if kind == "value_error":
        message = message.removeprefix("Value error, ")
    text = message[0].lower() + message[1:] if message else kind
    # Specs keep lists as tuples; the config only has TOML arrays, which Python reads as lists.
    text = text.replace("tuple", "list")
    shown = "input" in error and not isinstance(error["input"], dict | list)
    # A value under a secret-looking key (password, token, …) is never repeated back.
    keys = [part for part in error["loc"] if isinstance(part, str)]
    if kind != "value_error" and shown and not (keys and secret_name(keys[-1])):
        text += f" (got {error['input']!r})"
    return text

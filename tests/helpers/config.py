"""Config files written by the tests: TOML values, [[checks]] and [[notify]] tables, as text or
validated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from healthd.checks import build_check
from healthd.checks.base import Check, CheckEnv
from healthd.config import Config, parse_config


def toml_value(value: Any) -> str:
    """A Python value written as TOML (enough for check keys)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def config_text(*checks: dict[str, Any], extra: str = "") -> str:
    """A config file with the given [[checks]] tables."""
    parts = [extra]
    for check in checks:
        parts.append("[[checks]]")
        parts += [f"{key} = {toml_value(value)}" for key, value in check.items()]
    return "\n".join(parts) + "\n"


def config_of(*checks: dict[str, Any], extra: str = "") -> Config:
    """A validated config with the given checks."""
    return parse_config(config_text(*checks, extra=extra), "test.toml")


def config_file(directory: Path, text: str) -> str:
    """The text written to `directory`/config.toml; returns its path."""
    path = directory / "config.toml"
    path.write_text(text)
    return str(path)


def check_of(keys: dict[str, Any], env: CheckEnv) -> Check:
    """One check built from its TOML keys, as the daemon builds it."""
    item = config_of(keys).checks[0]
    return build_check(item.spec, item.timing, env)


def notify_table(**keys: Any) -> str:
    """A [[notify]] table."""
    return "[[notify]]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in keys.items())


def flag_check(name: str, flag: Path, **keys: Any) -> dict[str, Any]:
    """A command check that passes while `flag` exists."""
    return {
        "name": name,
        "type": "command",
        "command": ["test", "-e", str(flag)],
        "interval": "300ms",
        "timeout": "250ms",
        **keys,
    }

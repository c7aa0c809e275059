"""Config files written by the tests: TOML values and [[checks]] tables, text or validated."""

from __future__ import annotations

from typing import Any

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

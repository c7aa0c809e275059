"""`python`: calls "package.module:function" with keyword arguments; returning passes."""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable
from typing import Any, Literal

from pydantic import field_validator

from healthd.checks.base import CheckEnv, CheckSpec, Probe


class PythonSpec(CheckSpec):
    """Keys of a `python` check."""

    type: Literal["python"]
    callable: str
    args: dict[str, Any] = {}

    @field_validator("callable")
    @classmethod
    def _importable(cls, value: str) -> str:
        resolve(value)
        return value

    def target(self) -> str:
        return self.callable


def resolve(reference: str) -> Callable[..., Any]:
    """Import "package.module:function" (dotted attributes allowed after the colon)."""
    module_name, sep, attribute = reference.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError('expected "package.module:function"')
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import {module_name}: {exc}") from exc
    except Exception as exc:  # a broken module must not crash config loading
        raise ValueError(f"importing {module_name} raised {type(exc).__name__}: {exc}") from exc
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ValueError(f"{module_name} has no attribute {attribute}") from None
    if not callable(target):
        raise ValueError(f"{reference} is not callable")
    return target  # type: ignore[no-any-return]


def build(spec: PythonSpec, env: CheckEnv) -> Probe:
    """Return the callable bound to its arguments, keeping it a coroutine function if it is one."""
    function = resolve(spec.callable)
    kwargs = dict(spec.args)
    if inspect.iscoroutinefunction(function):

        async def call_async() -> Any:
            return await function(**kwargs)

        return call_async
    return functools.partial(function, **kwargs)

"""The registry of check types: built-in ones and those other packages register."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from healthd.checks import command, disk, http, memory, python, scheduler, tcp
from healthd.checks.base import Check, CheckEnv, CheckSpec, Probe, Timing

ENTRY_POINT_GROUP = "healthd.checks"


@dataclass(frozen=True, slots=True)
class CheckType:
    """A check type: the model of its config keys and the function that builds its probe."""

    spec: type[CheckSpec]
    build: Callable[[Any, CheckEnv], Probe]


BUILTIN_TYPES: dict[str, CheckType] = {
    "command": CheckType(command.CommandSpec, command.build),
    "disk": CheckType(disk.DiskSpec, disk.build),
    "http": CheckType(http.HttpSpec, http.build),
    "memory": CheckType(memory.MemorySpec, memory.build),
    "python": CheckType(python.PythonSpec, python.build),
    "scheduler": CheckType(scheduler.SchedulerSpec, scheduler.build),
    "tcp": CheckType(tcp.TcpSpec, tcp.build),
}


@functools.cache
def check_types() -> dict[str, CheckType]:
    """Built-in types plus those registered under the `healthd.checks` entry point group."""
    types = dict(BUILTIN_TYPES)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name not in types:
            types[entry.name] = entry.load()
    return types


def build_check(spec: CheckSpec, timing: Timing, env: CheckEnv) -> Check:
    """Turn a validated spec into a runnable check."""
    probe = check_types()[spec.type].build(spec, env)
    return Check(
        name=spec.name,
        kind=spec.kind,
        tags=frozenset(spec.tags),
        timing=timing,
        probe=probe,
        blocking=not inspect.iscoroutinefunction(probe),
        spec=spec,
    )

"""The registry of check types: built-in ones and those other packages register."""

from __future__ import annotations

import functools
import importlib.util
import inspect
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib.metadata import entry_points
from typing import Any

import structlog

from healthd.checks import (
    command,
    disk,
    dns,
    file,
    http,
    jsonrpc,
    load,
    memory,
    nagios,
    on_schedule,
    postgres,
    process,
    python,
    redis,
    tcp,
    ttl,
)
from healthd.checks.base import Check, CheckEnv, CheckSpec, Probe, Timing
from healthd.checks.chains import avalanche, bitcoin, cosmos, evm, solana
from healthd.checks.latch import latched
from healthd.result import NO_HYSTERESIS, Thresholds

ENTRY_POINT_GROUP = "healthd.checks"
log = structlog.get_logger("healthd.checks")


@dataclass(frozen=True, slots=True)
class CheckType:
    """A check type: the model of its config keys and the function that builds its probe.

    `needs` names the module it imports and the extra that installs it, e.g.
    ("asyncpg", "postgres") for `pip install 'healthd[postgres]'`.
    """

    spec: type[CheckSpec]
    build: Callable[[Any, CheckEnv], Probe]
    needs: tuple[str, str] | None = None
    push: bool = False  # reported to (healthd.report), never run on a schedule

    def missing(self) -> str | None:
        """What to install when the module this type needs is missing, else None."""
        if self.needs is None:
            return None
        module, extra = self.needs
        if importlib.util.find_spec(module) is not None:
            return None
        return f"needs the {module} package: pip install 'healthd[{extra}]'"


BUILTIN_TYPES: dict[str, CheckType] = {
    "avalanche": CheckType(avalanche.AvalancheSpec, avalanche.build),
    "bitcoin": CheckType(bitcoin.BitcoinSpec, bitcoin.build),
    "command": CheckType(command.CommandSpec, command.build),
    "cosmos": CheckType(cosmos.CosmosSpec, cosmos.build),
    "disk": CheckType(disk.DiskSpec, disk.build),
    "dns": CheckType(dns.DnsSpec, dns.build),
    "evm": CheckType(evm.EvmSpec, evm.build),
    "file": CheckType(file.FileSpec, file.build),
    "http": CheckType(http.HttpSpec, http.build),
    "jsonrpc": CheckType(jsonrpc.JsonRpcSpec, jsonrpc.build),
    "load": CheckType(load.LoadSpec, load.build),
    "memory": CheckType(memory.MemorySpec, memory.build),
    "nagios": CheckType(nagios.NagiosSpec, nagios.build),
    "postgres": CheckType(postgres.PostgresSpec, postgres.build, ("asyncpg", "postgres")),
    "process": CheckType(process.ProcessSpec, process.build),
    "python": CheckType(python.PythonSpec, python.build),
    "redis": CheckType(redis.RedisSpec, redis.build, ("redis", "redis")),
    "scheduler": CheckType(on_schedule.SchedulerSpec, on_schedule.build),
    "solana": CheckType(solana.SolanaSpec, solana.build),
    "tcp": CheckType(tcp.TcpSpec, tcp.build),
    "ttl": CheckType(ttl.TtlSpec, ttl.build, push=True),
}


@functools.cache
def check_types() -> dict[str, CheckType]:
    """Built-in types plus those other packages register in the `healthd.checks` entry points.

    An entry point names a CheckType, or a module (or any object) with `Spec` and `build`.
    """
    types = dict(BUILTIN_TYPES)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name in types:
            log.warning(
                "check type already defined; plugin ignored", type=entry.name, plugin=entry.value
            )
            continue
        try:
            loaded = entry.load()
            types[entry.name] = (
                loaded if isinstance(loaded, CheckType) else CheckType(loaded.Spec, loaded.build)
            )
        except Exception as exc:  # a broken plugin must not take the daemon down
            log.warning(
                "cannot load check type plugin",
                type=entry.name,
                plugin=entry.value,
                error=f"{type(exc).__name__}: {exc}",
            )
    return types


def build_check(
    spec: CheckSpec, timing: Timing, env: CheckEnv, thresholds: Thresholds = NO_HYSTERESIS
) -> Check:
    """Turn a validated spec into a runnable check; a readiness check latches once it passes."""
    kind = check_types()[spec.type]
    probe = kind.build(spec, replace(env, timing=timing))
    check = Check(
        name=spec.name,
        kind=spec.kind,
        tags=frozenset(spec.tags),
        timing=timing,
        probe=probe,
        blocking=not inspect.iscoroutinefunction(probe),
        spec=spec,
        critical=spec.critical,
        user_code=spec.type == "python" or spec.type not in BUILTIN_TYPES,
        secrets=spec.secrets(),
        thresholds=thresholds,
        push=kind.push,
    )
    return latched(check) if spec.kind == "readiness" else check

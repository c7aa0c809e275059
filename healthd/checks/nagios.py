"""`nagios`: a Monitoring Plugins command; OK passes, WARNING degrades, CRITICAL/UNKNOWN fail."""

from __future__ import annotations

import re
from typing import Any, Literal

from healthd.checks.base import CheckEnv, CheckFailed, Probe
from healthd.checks.command import CommandKeys, child_environment, run_command

STATES = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}
# label=value[UOM];[warn];[crit];[min];[max], the label quoted when it holds spaces
_PERFDATA = re.compile(r"('(?:[^']|'')+'|[^=\s]+)=(\S+)")
_VALUE = re.compile(r"^(-?[\d.]+(?:[eE][-+]?\d+)?)([a-zA-Z%/]*)$")


class NagiosSpec(CommandKeys):
    """Keys of a `nagios` check (those of `command`)."""

    type: Literal["nagios"]


def parse_perfdata(text: str) -> dict[str, dict[str, Any]]:
    """Monitoring Plugins performance data into {label: {value, uom, warn, crit, min, max}}."""
    parsed: dict[str, dict[str, Any]] = {}
    for label, data in _PERFDATA.findall(text):
        if label.startswith("'"):
            label = label[1:-1].replace("''", "'")
        fields = data.split(";")
        entry: dict[str, Any] = {}
        match = _VALUE.match(fields[0])
        if match is None:
            entry["value"] = fields[0]  # "U": the plugin could not measure it
        else:
            entry["value"] = float(match.group(1))
            if match.group(2):
                entry["uom"] = match.group(2)
        for key, value in zip(("warn", "crit", "min", "max"), fields[1:], strict=False):
            if value:
                entry[key] = value
        parsed[label] = entry
    return parsed


def build(spec: NagiosSpec, env: CheckEnv) -> Probe:
    """Return a probe that runs the plugin and reads its exit code, text and perfdata."""
    environment = child_environment(spec.env)

    async def probe() -> dict[str, Any]:
        code, output, error = await run_command(spec.name, spec.command, environment, env.children)
        text, _, perfdata = output.partition("|")
        state = STATES.get(code, "UNKNOWN")
        message = {
            "status": state,
            "text": text.strip() or error,
            "perfdata": parse_perfdata(perfdata),
        }
        if code == 0:
            return message
        detail = str(message["text"]) or f"exit code {code}"
        # Plugins usually name their state themselves ("TCP WARNING - ..."): say it once.
        error = detail if re.search(rf"\b{state}\b", detail) else f"{state}: {detail}"
        raise CheckFailed(error, message, degraded=code == 1)

    return probe

"""`process`: passes while a process (by name or pidfile) exists and is not a zombie."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import psutil
from pydantic import Field, model_validator

from healthd.checks.base import CheckEnv, CheckFailed, CheckSpec, Probe, os_error_text


class ProcessSpec(CheckSpec):
    """Keys of a `process` check: `process_name` or `pidfile` (`name` is the check's own)."""

    type: Literal["process"]
    process_name: Annotated[str, Field(min_length=1)] | None = None
    pidfile: Annotated[str, Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.process_name is None) == (self.pidfile is None):
            raise ValueError("set exactly one of process_name and pidfile")
        return self

    def target(self) -> str:
        return f"pidfile {self.pidfile}" if self.pidfile else f"process {self.process_name}"


def _alive(process: psutil.Process) -> bool:
    try:
        return bool(process.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


VISIBLE = {"0", "off"}  # hidepid values that hide nothing
MOUNTINFO = "/proc/self/mountinfo"


def hidden_by(mountinfo: str) -> str | None:
    """The hidepid= option of the /proc mount in mountinfo text, if it hides anything."""
    option = None
    for line in mountinfo.splitlines():
        fields, _, rest = line.partition(" - ")
        parts, tail = fields.split(), rest.split()
        if len(parts) >= 5 and parts[4] == "/proc" and tail[:1] == ["proc"]:
            # The last /proc mount listed is the one on top, the one we see through.
            supers = tail[2].split(",") if len(tail) >= 3 else []
            values = [o.partition("=")[2] for o in supers if o.startswith("hidepid=")]
            option = values[-1] if values and values[-1] not in VISIBLE else None
    return option


def hidden_processes() -> str | None:
    """Why this process cannot see other users' processes in /proc, or None when it can."""
    try:
        with open(MOUNTINFO, encoding="utf-8") as handle:
            option = hidden_by(handle.read())
    except OSError:
        option = None
    if option is not None:
        return f"/proc is mounted with hidepid={option}"
    if not os.path.exists("/proc/1"):  # every pid namespace has a process 1
        return "/proc hides process 1, so it hides other users' processes"
    return None


def unseen(what: str, reason: str) -> CheckFailed:
    """The failure when /proc hides other users' processes: say so, never "not running"."""
    return CheckFailed(f"cannot see other users' processes: {reason}; {what}")


def by_pidfile(path: str) -> dict[str, Any]:
    """The pid in the file, if that process lives."""
    try:
        text = Path(path).read_text().strip()
    except OSError as exc:
        raise CheckFailed(f"cannot read {path}: {os_error_text(exc)}") from exc
    if not text.isdigit():
        raise CheckFailed(f"{path} does not hold a process id")
    pid = int(text)
    try:
        status = psutil.Process(pid).status()
    except psutil.Error as exc:
        # hidepid=invisible hides the process (NoSuchProcess), noaccess its details (AccessDenied).
        reason = hidden_processes()
        if reason is not None:
            raise unseen(f"process {pid} from {path} may be running unseen", reason) from None
        if isinstance(exc, psutil.AccessDenied):
            raise CheckFailed(f"process {pid} from {path}: access denied") from None
        raise CheckFailed(f"process {pid} from {path} is not running") from None
    if status == psutil.STATUS_ZOMBIE:
        raise CheckFailed(f"process {pid} from {path} is a zombie", {"pid": pid})
    return {"pid": pid}


def by_name(name: str) -> dict[str, Any]:
    """The lowest pid of the live processes called `name` (by name or argv[0])."""
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = process.info["cmdline"] or []
        argv0 = os.path.basename(cmdline[0]) if cmdline else ""
        if name in (process.info["name"], argv0) and _alive(process):
            found.append(process.pid)
    if not found:
        reason = hidden_processes()
        if reason is not None:
            raise unseen(f"no process named {name} among those visible", reason)
        raise CheckFailed(f"no process named {name} is running")
    return {"pid": min(found), "count": len(found)}


def build(spec: ProcessSpec, env: CheckEnv) -> Probe:
    """Return a blocking probe (it walks /proc)."""
    if spec.pidfile is not None:
        pidfile = spec.pidfile
        return lambda: by_pidfile(pidfile)
    name = spec.process_name or ""
    return lambda: by_name(name)

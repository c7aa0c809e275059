"""The `healthd` command: serve, check, validate; exit codes and readable errors."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import replace

import orjson
from pydantic import ValidationError

from healthd import __version__, log, remote, status
from healthd.config import Config, ConfigError, ServerConfig, address, load_config
from healthd.daemon import Daemon
from healthd.durations import format_duration
from healthd.result import Record
from healthd.service import StartError, serve

EXIT_OK = 0
EXIT_FAILING = 1
EXIT_CANNOT_START = 1
EXIT_BAD_CONFIG = 2
EXIT_INTERRUPTED = 130  # Ctrl-C before the command got going


def parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    top = argparse.ArgumentParser(prog="healthd", description="Node health daemon (JSON-RPC 2.0).")
    top.add_argument("--version", action="version", version=f"healthd {__version__}")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    config_help = "config file (default: $HEALTHD_CONFIG, else the embedded default)"

    serve_cmd = commands.add_parser("serve", help="run the daemon until SIGTERM/SIGINT")
    serve_cmd.add_argument("--config", metavar="FILE", help=config_help)
    serve_cmd.add_argument("--host", help="listen address (overrides [server] host)")
    serve_cmd.add_argument("--port", type=int, help="listen port (overrides [server] port)")

    check_cmd = commands.add_parser("check", help="run every check once and report")
    check_cmd.add_argument("--config", metavar="FILE", help=config_help)
    check_cmd.add_argument("--json", action="store_true", help="print the health.health result")

    validate_cmd = commands.add_parser("validate", help="validate the config and show the checks")
    validate_cmd.add_argument("--config", metavar="FILE", help=config_help)

    status_cmd = commands.add_parser("status", help="show a running daemon's checks")
    status_cmd.add_argument(
        "--url",
        default=status.DEFAULT_URL,
        help=f"the daemon's JSON-RPC endpoint (default {status.DEFAULT_URL})",
    )
    status_cmd.add_argument(
        "--token-file", metavar="F", help="file holding the bearer token (default: $HEALTHD_TOKEN)"
    )
    status_cmd.add_argument("--watch", action="store_true", help="refresh in place until Ctrl-C")

    maint_cmd = commands.add_parser(
        "maintenance", help="turn a running daemon's maintenance mode on or off"
    )
    switch = maint_cmd.add_subparsers(dest="switch", required=True, metavar="on|off")
    on_cmd = switch.add_parser("on", help="fail health and readiness (drain the node)")
    on_cmd.add_argument("--reason", metavar="TEXT", help="shown in the maintenance check's error")
    on_cmd.add_argument(
        "--for", dest="duration", metavar="DURATION", help='end it by itself after this ("30m")'
    )
    off_cmd = switch.add_parser("off", help="end maintenance")
    for command in (on_cmd, off_cmd):
        command.add_argument(
            "--url",
            default=status.DEFAULT_URL,
            help=f"the daemon's JSON-RPC endpoint (default {status.DEFAULT_URL})",
        )
        command.add_argument(
            "--token-file",
            metavar="F",
            help="file holding the bearer token (default: $HEALTHD_TOKEN)",
        )
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as exc:  # a readable line, never a traceback, whatever went wrong
        print(f"healthd: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_CANNOT_START


def _main(argv: Sequence[str] | None) -> int:
    args = parser().parse_args(argv)
    if args.command == "status":
        return status.run(args.url, args.token_file, args.watch)
    if args.command == "maintenance":
        on = args.switch == "on"
        return remote.maintenance(
            args.url,
            args.token_file,
            enable=on,
            reason=args.reason if on else None,
            duration=args.duration if on else None,
        )
    try:
        config = load_config(args.config)
        if args.command == "serve":
            config = _with_address(config, args.host, args.port)
    except ConfigError as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_BAD_CONFIG
    try:
        log.REDACTOR.update(config.secrets())
        if args.command == "serve":
            log.configure(config.logging.level, config.logging.format)
            return serve(config, args.config)
        log.configure("error", config.logging.format, sys.stderr)
        if args.command == "check":
            return asyncio.run(_check(config, as_json=args.json))
        print(describe(config))
        return EXIT_OK
    except StartError as exc:
        print(f"healthd: {exc}", file=sys.stderr)
        return EXIT_CANNOT_START


def _with_address(config: Config, host: str | None, port: int | None) -> Config:
    if host is None and port is None:
        return config
    updates = {
        "host": host or config.server.host,
        "port": config.server.port if port is None else port,
    }
    try:
        server = ServerConfig.model_validate({**config.server.model_dump(), **updates})
    except ValidationError:
        raise ConfigError("command line", [f"--port: expected 0 to 65535, got {port}"]) from None
    return replace(config, server=server)


async def _check(config: Config, *, as_json: bool) -> int:
    daemon = Daemon(config)
    await daemon.run_once()
    answer = daemon.store.answer("health")
    if as_json:
        sys.stdout.write(
            orjson.dumps(orjson.loads(answer.body), option=orjson.OPT_INDENT_2).decode()
        )
        sys.stdout.write("\n")
    else:
        rows = [("CHECK", "KIND", "STATE", "DURATION", "DETAIL")]
        for check in daemon.checks:
            record = daemon.store.get(check.name)
            rows.append(
                (
                    check.name,
                    check.kind,
                    "PASS" if record.passed else "FAIL",
                    format_duration(record.duration_ns / 1e9),
                    _detail(record),
                )
            )
        print(_table(rows))
    return EXIT_OK if answer.healthy else EXIT_FAILING


def _detail(record: Record) -> str:
    if record.error is not None:
        return record.error
    return record.message.decode() if record.message is not None else ""


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    )


def describe(config: Config) -> str:
    """What `healthd validate` prints: the address and every check it would run."""
    server = config.server
    lines = [
        f"config: {config.source}",
        f"listen: {address(server.host, server.port)} (max body {server.max_body_bytes} bytes)",
        f"access: {_access(config)}",
        f"state: {config.state_dir or 'none (maintenance mode does not survive a restart)'}",
        f"checks: {len(config.checks)}",
    ]
    for item in config.checks:
        spec, timing = item.spec, item.timing
        tags = f" tags={','.join(spec.tags)}" if spec.tags else ""
        tags += "" if spec.critical else " non-critical"
        lines.append(
            f"  {spec.name}: {spec.type} {spec.kind} every {format_duration(timing.interval)}"
            f" timeout {format_duration(timing.timeout)}"
            f" first after {format_duration(timing.initial_delay)}{tags}: {spec.target()}"
        )
    for view in config.views:
        tags = f" tags={','.join(view.tags)}" if view.tags else ""
        lines.append(f"view: {view.path} ({view.format}, {view.kind}{tags})")
    for index, sink in enumerate(config.notify):
        lines.append(
            f"notify: {sink.label(index)}: {sink.type} {sink.shown_url()}"
            f" on {','.join(sink.on)} retry for {format_duration(sink.retry_for)}"
        )
    return "\n".join(lines)


def _access(config: Config) -> str:
    if config.token is None:
        return "open (no token set); writes (maintenance) from loopback clients only"
    source = config.server.token_file or "$HEALTHD_TOKEN"
    return f"bearer token required for detail and writes (from {source})"

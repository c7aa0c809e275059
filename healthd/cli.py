"""The `healthd` command: serve, check, validate, status; exit codes and readable errors.

Each command imports what it needs when it runs: `healthd --version` and `healthd status` never
load the daemon (aiohttp, APScheduler, jsonrpcserver, prometheus-client), `validate` only the
config and the check types.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from healthd import __version__

if TYPE_CHECKING:
    from healthd.config import Config

EXIT_OK = 0
EXIT_FAILING = 1
EXIT_CANNOT_START = 1
EXIT_BAD_CONFIG = 2
EXIT_INTERRUPTED = 130  # Ctrl-C before the command got going
DEFAULT_URL = "http://127.0.0.1:9660/ext/health"


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
        default=DEFAULT_URL,
        help="the daemon: host:port or a URL, with or without the /ext/health path "
        f"(default {DEFAULT_URL})",
    )
    status_cmd.add_argument(
        "--token-file", metavar="F", help="file holding the bearer token (default: $HEALTHD_TOKEN)"
    )
    status_cmd.add_argument("--watch", action="store_true", help="refresh in place until Ctrl-C")
    status_cmd.add_argument(
        "--json", action="store_true", help="print the daemon's health.health result"
    )

    report_cmd = commands.add_parser(
        "report", help="report to a ttl check of a running daemon (from cron, scripts, units)"
    )
    report_cmd.add_argument("name", metavar="NAME", help="the ttl check")
    report_cmd.add_argument(
        "status",
        metavar="STATUS",
        choices=["pass", "warn", "fail", "0", "1", "2", "3"],
        help="pass, warn or fail, or a Monitoring Plugins exit code 0-3",
    )
    report_cmd.add_argument("--output", metavar="TEXT", help="shown as the error while failing")

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
    for command in (on_cmd, off_cmd, report_cmd):
        command.add_argument(
            "--url",
            default=DEFAULT_URL,
            help=f"the daemon: host:port or a URL (default {DEFAULT_URL})",
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
        from healthd import status

        return status.run(args.url, args.token_file, watch=args.watch, as_json=args.json)
    if args.command == "report":
        from healthd import remote

        return remote.report(args.url, args.token_file, args.name, args.status, args.output)
    if args.command == "maintenance":
        from healthd import remote

        on = args.switch == "on"
        return remote.maintenance(
            args.url,
            args.token_file,
            enable=on,
            reason=args.reason if on else None,
            duration=args.duration if on else None,
        )
    from healthd import log
    from healthd.config import ConfigError, load_config

    # Until the config says otherwise, log lines (a plugin that cannot load) go to stderr, never
    # into the data `validate` and `check --json` print on stdout.
    log.configure("warning", "auto", sys.stderr)
    try:
        config = load_config(args.config)
        if args.command == "serve":
            config = _with_address(config, args.host, args.port)
    except ConfigError as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_BAD_CONFIG
    log.REDACTOR.update(config.secrets())
    if args.command == "serve":
        from healthd.service import StartError, serve

        log.configure(config.logging.level, config.logging.format)
        try:
            return serve(config, args.config)
        except StartError as exc:
            print(f"healthd: {exc}", file=sys.stderr)
            return EXIT_CANNOT_START
    # Data goes to stdout; log lines, if any, to stderr.
    log.configure("error", config.logging.format, sys.stderr)
    if args.command == "check":
        import asyncio

        from healthd.check_once import check_once

        healthy = asyncio.run(check_once(config, as_json=args.json))
        return EXIT_OK if healthy else EXIT_FAILING
    print(describe(config))
    if not any(item.spec.kind == "health" for item in config.checks):
        print(
            "healthd: warning: no check of kind health is configured: GET /ext/health "
            "will answer 200 (healthy) whatever happens to the node",
            file=sys.stderr,
        )
    return EXIT_OK


def _with_address(config: Config, host: str | None, port: int | None) -> Config:
    if host is None and port is None:
        return config
    updates = {
        "host": host or config.server.host,
        "port": config.server.port if port is None else port,
    }
    from dataclasses import replace

    from pydantic import ValidationError

    from healthd.config import ConfigError, ServerConfig

    try:
        server = ServerConfig.model_validate({**config.server.model_dump(), **updates})
    except ValidationError:
        raise ConfigError("command line", [f"--port: expected 0 to 65535, got {port}"]) from None
    return replace(config, server=server)


def describe(config: Config) -> str:
    """What `healthd validate` prints: the address and every check it would run."""
    from healthd.checks.base import host_port
    from healthd.durations import format_duration

    server = config.server
    lines = [
        f"config: {config.source}",
        f"listen: {host_port(server.host, server.port)} (max body {server.max_body_bytes} bytes)",
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
    from healthd.remote import ENV_TOKEN

    source = config.server.token_file or f"${ENV_TOKEN}"
    return f"bearer token required for detail and writes (from {source})"

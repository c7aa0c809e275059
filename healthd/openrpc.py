"""The OpenRPC document `rpc.discover` answers: the methods, their params and result schema."""

from __future__ import annotations

from typing import Any

import orjson

from healthd import __version__

TAGS = {
    "name": "tags",
    "description": "Only checks with one of these tags, plus every untagged (global) check.",
    "required": False,
    "schema": {"type": "array", "items": {"type": "string"}},
}

TIMESTAMP = {"type": ["string", "null"], "format": "date-time"}

CHECK_RESULT = {
    "type": "object",
    "properties": {
        "message": {"description": "What the check returned (any JSON)."},
        "error": {
            "type": "object",
            "properties": {"message": {"type": "string"}},
            "required": ["message"],
        },
        "timestamp": TIMESTAMP,
        "duration": {"type": "integer", "minimum": 0, "description": "Nanoseconds."},
        "contiguousFailures": {"type": "integer", "minimum": 0},
        "timeOfFirstFailure": TIMESTAMP,
    },
    "required": ["timestamp", "duration", "contiguousFailures", "timeOfFirstFailure"],
}

RESULT = {
    "name": "result",
    "schema": {
        "type": "object",
        "properties": {
            "checks": {"type": "object", "additionalProperties": CHECK_RESULT},
            "healthy": {"type": "boolean"},
        },
        "required": ["checks", "healthy"],
    },
}

CHECKS_RESULT = {
    "name": "checks",
    "schema": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "kind": {"enum": ["health", "readiness", "liveness"]},
                "tags": {"type": "array", "items": {"type": "string"}},
                "critical": {"type": "boolean"},
                "degraded": {
                    "type": "boolean",
                    "description": "Failing without making its kind unhealthy "
                    "(a non-critical check, or a Monitoring Plugins WARNING).",
                },
            },
            "required": ["name", "kind", "tags", "critical", "degraded"],
        },
    },
}


STATE = {"enum": ["passing", "degraded", "failing"]}

HISTORY_RESULT = {
    "name": "history",
    "schema": {
        "type": "object",
        "properties": {
            "checks": {
                "type": "object",
                "description": "Per check its last runs, newest first.",
                "additionalProperties": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "timestamp": {"type": "string", "format": "date-time"},
                            "duration": {"type": "integer", "minimum": 0},
                            "passed": {"type": "boolean"},
                            "error": {"type": "string"},
                            "message": {"description": "What the run returned (any JSON)."},
                        },
                        "required": ["timestamp", "duration", "passed"],
                    },
                },
            },
            "transitions": {
                "type": "array",
                "description": "The last 100 state changes, newest first.",
                "items": {
                    "type": "object",
                    "properties": {
                        "check": {"type": "string"},
                        "from": STATE,
                        "to": STATE,
                        "at": {"type": "string", "format": "date-time"},
                        "error": {"type": "string"},
                    },
                    "required": ["check", "from", "to", "at"],
                },
            },
        },
        "required": ["checks", "transitions"],
    },
}


def _kind_method(kind: str) -> dict[str, Any]:
    return {
        "name": f"health.{kind}",
        "summary": f"The last recorded results of the {kind} checks.",
        "paramStructure": "either",
        "params": [TAGS],
        "result": RESULT,
    }


DOCUMENT: dict[str, Any] = {
    "openrpc": "1.2.6",
    "info": {
        "title": "healthd",
        "version": __version__,
        "description": "Node health: the AvalancheGo Health API over JSON-RPC 2.0.",
    },
    "methods": [
        _kind_method("health"),
        _kind_method("readiness"),
        _kind_method("liveness"),
        {
            "name": "healthd.checks",
            "summary": "Every configured check: its kind, tags and whether it is critical.",
            "params": [],
            "result": CHECKS_RESULT,
        },
        {
            "name": "healthd.history",
            "summary": "The last runs of each check and the last state changes, newest first.",
            "paramStructure": "by-name",
            "params": [
                {
                    "name": "checks",
                    "description": "Only these checks (default: all); unknown names are an error.",
                    "required": False,
                    "schema": {"type": "array", "items": {"type": "string"}},
                },
                {
                    "name": "limit",
                    "description": "At most this many runs per check, and transitions.",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 1},
                },
            ],
            "result": HISTORY_RESULT,
        },
        {
            "name": "healthd.maintenance",
            "summary": "Turn maintenance mode on or off (a write: token, or loopback without one).",
            "description": "While on, health and readiness answers carry a failing check "
            "`maintenance`, so they answer 503; liveness is untouched; notifications are held.",
            "paramStructure": "by-name",
            "params": [
                {"name": "enable", "required": True, "schema": {"type": "boolean"}},
                {
                    "name": "reason",
                    "required": False,
                    "schema": {"type": "string", "maxLength": 500},
                },
                {
                    "name": "duration",
                    "description": 'Turn it off by itself after this long, e.g. "30m".',
                    "required": False,
                    "schema": {"type": ["string", "number"]},
                },
            ],
            "result": {
                "name": "maintenance",
                "schema": {
                    "type": "object",
                    "properties": {
                        "enabled": {"type": "boolean"},
                        "reason": {"type": "string"},
                        "until": TIMESTAMP,
                    },
                    "required": ["enabled", "reason", "until"],
                },
            },
        },
        {
            "name": "healthd.report",
            "summary": "Report to a ttl (push) check (a write: the token, the check's own "
            "token, or loopback without a token).",
            "description": "The check passes while its last report said pass and is younger "
            "than its ttl; warn is degraded, fail fails with the output. Numbers are "
            "Monitoring Plugins exit codes: 0 pass, 1 warn, 2 and 3 fail.",
            "paramStructure": "either",
            "params": [
                {"name": "check", "required": True, "schema": {"type": "string"}},
                {
                    "name": "status",
                    "required": True,
                    "schema": {"enum": ["pass", "warn", "fail", 0, 1, 2, 3]},
                },
                {
                    "name": "output",
                    "description": "Shown as the error while failing (at most 4096 characters).",
                    "required": False,
                    "schema": {"type": "string"},
                },
                {
                    "name": "message",
                    "description": "Any JSON, shown as the check's message (at most 4 KiB).",
                    "required": False,
                },
            ],
            "result": {
                "name": "report",
                "schema": {
                    "type": "object",
                    "properties": {
                        "check": {"type": "string"},
                        "state": {"enum": ["passing", "degraded", "failing"]},
                    },
                    "required": ["check", "state"],
                },
            },
        },
    ],
}


def document_json(endpoint: str) -> bytes:
    """The document with its `servers` naming the endpoint (a URL, or a path when unknown)."""
    return orjson.dumps({**DOCUMENT, "servers": [{"name": "healthd", "url": endpoint}]})

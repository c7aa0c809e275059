"""Keep secrets (passwords in URLs and DSNs, tokens) out of logs, answers and errors."""

from __future__ import annotations

import re
from collections.abc import Iterable

import orjson
from yarl import URL

MASK = "***"


def redact_url(url: str) -> str:
    """The URL with any password (and secret-looking query value) replaced by ***."""
    try:
        parsed = URL(url)
    except (ValueError, TypeError):
        return MASK
    if parsed.password is not None:
        parsed = parsed.with_password(MASK)
    if parsed.query:
        query = {key: (MASK if secret_name(key) else value) for key, value in parsed.query.items()}
        parsed = parsed.with_query(query)
    return str(parsed)


def url_secrets(url: str) -> tuple[str, ...]:
    """The secret parts of a URL, for scrubbing them out of error texts."""
    try:
        parsed = URL(url)
    except (ValueError, TypeError):
        return (url,)
    found = [value for key, value in parsed.query.items() if secret_name(key)]
    if parsed.password:
        found += [parsed.password, parsed.raw_password or ""]
    return tuple(secret for secret in found if secret)


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """The text with every occurrence of each secret replaced by ***."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 3:
            text = text.replace(secret, MASK)
    return text


def redact_json(data: bytes, secrets: Iterable[str]) -> bytes:
    """JSON bytes with every secret (as it appears inside a JSON string) replaced by ***."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 3:
            data = data.replace(orjson.dumps(secret)[1:-1], MASK.encode())
    return data


# "Bearer x", "Basic x", "token=x", "token: x", "Authorization: Token x". The word "token"
# followed by a space is English ("the token file"), not a credential.
_CREDENTIAL = re.compile(
    r"(?i)\b(bearer\s+|basic\s+|token\s*[=:]\s*|authorization:\s*[a-z]+\s+)"
    r"[A-Za-z0-9._~+/=:-]{3,}"
)


def error_text(exc: BaseException, secrets: Iterable[str]) -> str:
    """An exception's text (its type's name when it has none) with every secret replaced."""
    return redact_text(str(exc) or type(exc).__name__, secrets)


def redact_credentials(text: str) -> str:
    """Text with anything shaped like an Authorization credential replaced by ***."""
    return _CREDENTIAL.sub(lambda m: f"{m.group(1)}{MASK}", text)


def secret_name(key: str) -> bool:
    """True for a key or header name that usually holds a secret."""
    lowered = key.lower()
    return any(word in lowered for word in _SECRET_WORDS)


_SECRET_WORDS = ("password", "passwd", "secret", "token", "key", "auth", "cookie", "session")

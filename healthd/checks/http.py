"""`http`: passes when an HTTP request answers with an expected status (and body)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, field_validator
from yarl import URL

from healthd.checks.base import (
    CheckEnv,
    CheckFailed,
    CheckSpec,
    ListOf,
    Probe,
    host_port,
    os_error_text,
)
from healthd.redact import error_text, redact_url, secret_name, url_secrets

if TYPE_CHECKING:  # aiohttp is imported when a check runs: `healthd validate` stays quick
    import aiohttp

BODY_LIMIT = 1024 * 1024
# Headers whose values say nothing secret; every other configured header value is redacted.
PUBLIC_HEADERS = frozenset(
    {
        "accept",
        "accept-encoding",
        "accept-language",
        "cache-control",
        "connection",
        "content-type",
        "host",
        "user-agent",
    }
)
Method = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class HttpTarget(CheckSpec):
    """Keys shared by the checks that talk HTTP: `url` and `headers`."""

    url: str
    headers: dict[str, str] = {}

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return http_url(value)

    def shown_url(self) -> str:
        """The URL as logs and answers may show it."""
        return redact_url(self.url)

    def secrets(self) -> tuple[str, ...]:
        """URL credentials and every header value but the plainly public ones, and the
        credential part of an `Authorization: Scheme credential` value."""
        found = list(url_secrets(self.url))
        for key, value in self.headers.items():
            if key.lower() in PUBLIC_HEADERS and not secret_name(key):
                continue
            found.append(value)
            credential = value.partition(" ")[2]
            if credential.strip():
                found.append(credential.strip())
        return tuple(found)


class HttpSpec(HttpTarget):
    """Keys of an `http` check."""

    type: Literal["http"]
    method: Method = "GET"
    expect_status: ListOf[Annotated[int, Field(ge=100, le=599)]] | None = None
    body_contains: Annotated[str, Field(min_length=1)] | None = None

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    def target(self) -> str:
        return f"{self.method} {self.shown_url()}"


def http_url(value: str) -> str:
    """The value if it is an absolute http:// or https:// URL; ValueError otherwise."""
    try:
        url = URL(value)
    except ValueError:
        raise ValueError("expected an absolute http:// or https:// URL") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("expected an absolute http:// or https:// URL")
    return value


class SharedSession:
    """One aiohttp client session for every HTTP-speaking check, opened on first use."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            import aiohttp

            # A fresh connection per request: a health check must see new connections work.
            connector = aiohttp.TCPConnector(force_close=True, limit=0)
            self._session = aiohttp.ClientSession(connector=connector, trust_env=False)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def status_expected(status: int, expected: tuple[int, ...] | None) -> bool:
    """True when the status is listed, or is 2xx when no list is given."""
    return 200 <= status < 300 if expected is None else status in expected


def request_error(method: str, shown_url: str, exc: BaseException, secrets: tuple[str, ...]) -> str:
    """Why a request failed; a refused connection in the tcp check's words, not aiohttp's."""
    import aiohttp

    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"cannot resolve {exc.host}: {os_error_text(exc.os_error)}"
    if isinstance(exc, aiohttp.ClientConnectorError) and not isinstance(
        exc, aiohttp.ClientSSLError
    ):
        where = host_port(exc.host, exc.port) if exc.port is not None else exc.host
        return f"cannot connect to {where}: {os_error_text(exc.os_error)}"
    reason = error_text(exc, secrets)
    return f"{method} {shown_url} failed: {reason}"


def build(spec: HttpSpec, env: CheckEnv) -> Probe:
    """Return a probe that makes one request."""
    secrets = spec.secrets()
    shown_url = spec.shown_url()
    wanted = "2xx" if spec.expect_status is None else ", ".join(map(str, spec.expect_status))

    import aiohttp

    async def probe() -> dict[str, Any]:
        session: aiohttp.ClientSession = env.http.session()
        try:
            async with session.request(spec.method, spec.url, headers=spec.headers) as response:
                status = response.status
                body = b""
                if spec.body_contains is not None:
                    body = await response.content.read(BODY_LIMIT)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise CheckFailed(request_error(spec.method, shown_url, exc, secrets)) from None
        message = {"status": status}
        if not status_expected(status, spec.expect_status):
            raise CheckFailed(f"unexpected status {status} (expected {wanted})", message)
        if spec.body_contains is not None and spec.body_contains not in body.decode(
            errors="replace"
        ):
            raise CheckFailed(f"response body does not contain {spec.body_contains!r}", message)
        return message

    return probe

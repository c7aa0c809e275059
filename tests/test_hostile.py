"""Hostile input against a real `healthd serve`: each attack gets a clear answer at a bounded cost.

Every test speaks to a daemon subprocess over real sockets. Costs are bounded by what can be
counted (bytes answered, connections held, log lines, resident memory read from /proc), never by
how long something took; waiting is polling with a generous limit (`PATIENCE`).
"""

from __future__ import annotations

import json
import re
import secrets
import signal
import socket
import zlib
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.helpers.cli import healthd
from tests.helpers.config import config_file, config_text
from tests.helpers.daemon import (
    Daemons,
    Served,
    read_answer,
    read_until_closed,
)
from tests.helpers.waiting import PATIENCE, until

MB = 1 << 20
RSS_HEADROOM = 100 * MB
MAX_BODY = 1 << 20
PADDING = "x" * 300
CHECKS = config_text(
    *(
        {
            "name": f"c{i}",
            "type": "python",
            "callable": "tests.helpers.probes:returns",
            "args": {"value": PADDING},
            "interval": "1h",
        }
        for i in range(5)
    )
)
TOKEN = "tkn-" + secrets.token_hex(12)
MAX_CONNECTIONS = 20


def call(method: str = "health.health", request_id: Any = 1, **extra: Any) -> dict[str, Any]:
    request: dict[str, Any] = {"jsonrpc": "2.0", "method": method, **extra}
    if request_id is not None:
        request["id"] = request_id
    return request


def body_of(value: Any) -> bytes:
    return json.dumps(value).encode()


def outcome(answer: Any) -> Any:
    """A response object (or a batch of them) as (error code or "result", id) pairs."""
    if isinstance(answer, list):
        return [outcome(item) for item in answer]
    return (answer["error"]["code"] if "error" in answer else "result", answer["id"])


def error_lines(served: Served) -> list[str]:
    """Log lines at error level or above, and anything on stdout that is not a JSON log line."""
    found = []
    for line in served.stdout.read_text(errors="replace").splitlines():
        try:
            level = json.loads(line).get("level")
        except ValueError:
            found.append(line)
            continue
        if level in ("error", "critical", "exception"):
            found.append(line)
    return found


def wait_until_run(served: Served) -> None:
    """Until every check has run once (their answers have their full size from then on)."""
    until(lambda: served.get().status == 200, "every check to pass")


def still_answers(served: Served) -> None:
    assert served.alive(), served.stderr.read_text()
    assert served.get("/liveness").status == 200


@pytest.fixture(scope="module")
def plain(module_daemons: Daemons) -> Served:
    """Default limits but a 1 MiB body, so deep and huge bodies reach the JSON parser."""
    served = module_daemons.start(CHECKS, server={"max_body_bytes": MAX_BODY}, name="plain")
    wait_until_run(served)
    return served


@pytest.fixture(scope="module")
def limited(module_daemons: Daemons) -> Served:
    """Small batch and answer limits, so the attacks on them are cheap."""
    served = module_daemons.start(
        CHECKS, server={"max_batch": 5, "max_response_bytes": 4096}, name="limited"
    )
    wait_until_run(served)
    return served


@pytest.fixture(scope="module")
def guarded(module_daemons: Daemons) -> Served:
    """Tokened, logging at debug (so a leak would show), for malformed HTTP and access."""
    token_file = module_daemons.directory / "token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    return module_daemons.start(
        CHECKS,
        server={"token_file": str(token_file)},
        logging={"level": "debug"},
        name="guarded",
    )


@pytest.fixture
def capped(daemons: Daemons) -> Served:
    """Few connections and short deadlines; a daemon of its own, as its tests fill it up."""
    return daemons.start(
        CHECKS,
        server={
            "max_connections": MAX_CONNECTIONS,
            "header_timeout": "1s",
            "keepalive_timeout": "1s",
        },
    )


# -- JSON-RPC 2.0 over the real server ------------------------------------------------------------

INVALID = (-32600, None)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            b'{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]',
            (-32700, None),
            id="parse-error",
        ),
        pytest.param(b'{"jsonrpc": "2.0", "method": 1, "params": "bar"}', INVALID, id="invalid"),
        pytest.param(b"[1,2,3]", [INVALID] * 3, id="batch-of-invalid-elements"),
        pytest.param(
            b'[{"jsonrpc":"2.0","method":"health.liveness","id":"1"},{"foo":"boo"},'
            b'{"jsonrpc":"2.0","method":"foo.get","params":{"name":"myself"},"id":"5"},'
            b'{"jsonrpc":"2.0","method":"health.health"}]',
            [("result", "1"), INVALID, (-32601, "5")],
            id="mixed-batch",
        ),
        pytest.param(b"[]", INVALID, id="empty-batch"),
        pytest.param(b"[1]", [INVALID], id="batch-of-one-invalid"),
        # A method that is a list or an object is invalid (and no key to look anything up by).
        pytest.param(
            b'{"jsonrpc":"2.0","method":["health.health"],"id":7}', (-32600, 7), id="list-method"
        ),
        pytest.param(
            b'[{"jsonrpc":"2.0","method":{},"id":8},{"jsonrpc":"2.0","method":["healthd.report"]}]',
            [(-32600, 8), INVALID],
            id="object-and-list-methods-in-a-batch",
        ),
        # Null params are invalid, also once a request without params has been answered.
        pytest.param(
            b'[{"jsonrpc":"2.0","method":"health.health","id":1},'
            b'{"jsonrpc":"2.0","method":"health.health","params":null,"id":2}]',
            [("result", 1), (-32600, 2)],
            id="null-params-after-no-params",
        ),
    ],
)
def test_the_specs_probes_are_answered_as_the_spec_says(
    plain: Served, body: bytes, expected: Any
) -> None:
    answer = plain.raw_post(body)
    assert answer.status == 200
    assert outcome(answer.json()) == expected
    assert len(answer.body) < 4096
    still_answers(plain)


def test_a_batch_of_notifications_only_gets_204_and_no_body(plain: Served) -> None:
    answer = plain.raw_post(body_of([call(request_id=None), call("health.liveness", None)]))
    assert (answer.status, answer.body) == (204, b"")


# -- bodies: too large, too deep, not UTF-8, one huge string --------------------------------------


def test_a_body_over_max_body_bytes_gets_413_naming_the_limit(plain: Served) -> None:
    answer = plain.raw_post(b" " * (MAX_BODY + 1))
    assert answer.status == 413
    error = answer.json()["error"]
    assert error["code"] == -32600
    assert "max_body_bytes" in error["data"] and str(MAX_BODY) in error["data"]
    assert answer.json()["id"] is None
    still_answers(plain)


def test_a_body_announcing_10_gb_is_refused_once_past_the_limit(plain: Served) -> None:
    """Only what fits the limit is read and kept: the rest of the 10 GB is never waited for."""
    before = plain.rss()
    with plain.connect() as sock:
        sock.sendall(
            b"POST /ext/health HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 10000000000\r\n\r\n"
        )
        sent = 0
        try:
            while sent < MAX_BODY + MB:  # a little more than the limit, then stop sending
                sock.sendall(b" " * 65536)
                sent += 65536
        except OSError:
            pass  # the server answered and closed while we were still sending
        answer = read_answer(sock)
    assert answer.status == 413, answer
    assert "max_body_bytes" in answer.json()["error"]["data"]
    assert plain.rss() < before + RSS_HEADROOM
    still_answers(plain)


def test_a_gzip_bomb_is_cut_off_at_max_body_bytes(plain: Served) -> None:
    """200 MB of zeros in about 200 KB of gzip: decoded only up to the limit, answered 413."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: the gzip container
    zeros = b"\0" * MB
    bomb = b"".join(compressor.compress(zeros) for _ in range(200)) + compressor.flush()
    assert len(bomb) < MAX_BODY
    before = plain.rss()
    answer = plain.raw_post(bomb, {"Content-Encoding": "gzip"})
    assert answer.status in (400, 413), answer
    assert answer.json()["error"]["code"] in (-32600, -32700)
    assert plain.rss() < before + RSS_HEADROOM
    still_answers(plain)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"[" * 100_000, id="100k-brackets"),
        pytest.param(b"[" * 100_000 + b"18446744073709551617", id="100k-brackets-big-number"),
        pytest.param(b'{"a":' * 50_000 + b"1" + b"}" * 50_000, id="50k-objects"),
        pytest.param(
            b"[" * 5_000 + b"-18446744073709551617" + b"]" * 5_000, id="5k-closed-big-number"
        ),
    ],
)
def test_deeply_nested_json_is_a_parse_error_not_a_crash(plain: Served, body: bytes) -> None:
    errors = len(error_lines(plain))
    answer = plain.raw_post(body)
    assert answer.status == 200, answer
    assert answer.json()["error"]["code"] in (-32700, -32600)
    assert len(answer.body) < 200
    still_answers(plain)
    assert error_lines(plain)[errors:] == []


def test_nested_params_within_the_parser_depth_are_invalid_params(plain: Served) -> None:
    params = b"[" * 500 + b"]" * 500
    body = b'{"jsonrpc":"2.0","method":"health.health","params":%s,"id":%s}'
    for request_id in (b"7", b"18446744073709551617"):
        answer = plain.raw_post(body % (params, request_id))
        assert answer.json()["error"]["code"] == -32602
        assert answer.body.endswith(b'"id":' + request_id + b"}")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"jsonrpc":"2.0","method":"health.\xff","id":1}', id="invalid-byte"),
        pytest.param(b'{"jsonrpc":"2.0","method":"health.\xc0\xaf","id":1}', id="overlong"),
        pytest.param(b'{"jsonrpc":"2.0","method":"health.\xed\xa0\x80","id":1}', id="surrogate"),
        pytest.param(
            b'{"jsonrpc":"2.0","method":"health.\xff","id":18446744073709551617}',
            id="invalid-byte-big-id",
        ),
        pytest.param(b"\xff\xfe{\x00}\x00", id="utf-16-bom"),
    ],
)
def test_a_body_that_is_not_utf8_is_a_parse_error(plain: Served, body: bytes) -> None:
    answer = plain.raw_post(body)
    assert answer.status == 200
    assert outcome(answer.json()) == (-32700, None)
    still_answers(plain)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"jsonrpc":"2.0","method":"health.health","id":NaN}', id="nan-id"),
        pytest.param(
            b'{"jsonrpc":"2.0","method":"health.health","id":NaN,'
            b'"params":{"tags":["18446744073709551617"]}}',
            id="nan-id-with-a-long-number",
        ),
        pytest.param(
            b'{"jsonrpc":"2.0","method":"health.health","id":1e400,'
            b'"params":{"tags":["18446744073709551617"]}}',
            id="infinite-id-with-a-long-number",
        ),
    ],
)
def test_what_is_not_json_is_a_parse_error_whichever_parser_reads_it(
    plain: Served, body: bytes
) -> None:
    answer = plain.raw_post(body)
    assert outcome(answer.json()) == (-32700, None)


def test_a_body_that_is_one_huge_string_is_answered_small(plain: Served) -> None:
    huge = "a" * (MAX_BODY - 100)
    for body, code in [
        (body_of(huge), -32600),
        (body_of(call(huge)), -32601),
        (body_of(call(params={"tags": huge})), -32602),
    ]:
        answer = plain.raw_post(body)
        assert answer.status == 200
        assert answer.json()["error"]["code"] == code
        assert len(answer.body) < 300, "the huge string must not be echoed"
    still_answers(plain)


# -- batches: too many requests, too large an answer ---------------------------------------------


def test_a_batch_over_max_batch_gets_one_error_naming_the_limit(limited: Served) -> None:
    answer = limited.raw_post(body_of([call(request_id=i) for i in range(6)]))
    error = answer.json()
    assert isinstance(error, dict), "one error object, not an answer per element"
    assert outcome(error) == INVALID
    assert "max_batch" in error["error"]["data"] and "5" in error["error"]["data"]
    assert len(answer.body) < 300
    within = limited.raw_post(body_of([call("health.liveness", i) for i in range(5)]))
    assert outcome(within.json()) == [("result", i) for i in range(5)]


def test_the_default_max_batch_is_100(plain: Served) -> None:
    over = plain.raw_post(body_of([call("health.liveness", i) for i in range(101)])).json()
    assert outcome(over) == INVALID
    assert "max_batch" in over["error"]["data"] and "100" in over["error"]["data"]
    within = plain.raw_post(body_of([call("health.liveness", i) for i in range(100)])).json()
    assert outcome(within) == [("result", i) for i in range(100)]


def test_a_64kb_batch_is_refused_without_answering_its_elements(plain: Served) -> None:
    element = call()
    count = 65536 // len(body_of(element))
    answer = plain.raw_post(body_of([element] * count))
    assert count > 1000
    assert outcome(answer.json()) == INVALID
    assert str(count) in answer.json()["error"]["data"]
    assert len(answer.body) < 300


def test_an_answer_over_max_response_bytes_gets_32603_with_a_reason(limited: Served) -> None:
    single = limited.raw_post(body_of(call(request_id=9)))
    assert outcome(single.json()) == ("result", 9)
    assert len(single.body) < 4096
    answer = limited.raw_post(body_of([call(request_id=i) for i in range(5)]))
    error = answer.json()
    assert isinstance(error, dict)
    assert error["error"]["code"] == -32603
    assert "max_response_bytes" in error["error"]["data"] and "4096" in error["error"]["data"]
    assert len(answer.body) < 4096


def test_memory_stays_flat_under_50_rejected_batches(limited: Served, plain: Served) -> None:
    element = body_of(call())
    flood = b"[" + b",".join([element] * (65536 // (len(element) + 1) - 1)) + b"]"
    over_answer = body_of([call(request_id=i) for i in range(5)])
    full_batch = body_of([call(request_id=i) for i in range(100)])
    before = {served: served.rss() for served in (limited, plain)}
    for _ in range(50):
        assert limited.raw_post(flood).json()["error"]["code"] == -32600
        assert limited.raw_post(over_answer).json()["error"]["code"] == -32603
        assert len(plain.raw_post(full_batch).json()) == 100
    for served, rss in before.items():
        assert served.rss() < rss + RSS_HEADROOM
        still_answers(served)


# -- ids ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_id",
    [
        b"18446744073709551617",
        b"-18446744073709551617",
        b"1234567890123456789012345678901234567890",
        b"1.5",
        b'"an id \\u00e9 with \\"quotes\\""',
    ],
)
def test_ids_come_back_unchanged(plain: Served, request_id: bytes) -> None:
    sent = json.loads(request_id)
    ok = plain.raw_post(b'{"jsonrpc":"2.0","method":"health.liveness","id":%s}' % request_id)
    invalid = plain.raw_post(b'{"jsonrpc":"2.0","method":1,"id":%s}' % request_id)
    batch = plain.raw_post(
        b'[{"jsonrpc":"2.0","method":"health.liveness","id":%s},{"jsonrpc":"2.0","id":%s}]'
        % (request_id, request_id)
    )
    for answer in (ok, invalid):
        assert answer.json()["id"] == sent
        if not isinstance(sent, str):
            assert answer.body.endswith(b'"id":' + request_id + b"}")
    assert [item["id"] for item in batch.json()] == [sent, sent]
    if not isinstance(sent, str):
        assert batch.body.count(b'"id":' + request_id + b"}") == 2


# -- connections: too many, idle, slow -----------------------------------------------------------


def test_connections_beyond_max_connections_are_refused_and_service_resumes(
    capped: Served,
) -> None:
    files_before = capped.open_files()
    idle = [capped.connect() for _ in range(MAX_CONNECTIONS + 5)]
    try:
        files_during = capped.open_files()
        # While they are held, a newcomer is refused cleanly (or let in, if some were cut off).
        newcomer = capped.get("/liveness")
        assert newcomer.status in (200, 503)
        if newcomer.status == 503:
            assert newcomer.json() == {"error": "too many connections"}
        # The idle ones are cut off by the header deadline; a normal probe gets through again.
        until(lambda: capped.get("/liveness").status == 200, "liveness to answer again")
        received = [read_until_closed(sock) for sock in idle]
    finally:
        for sock in idle:
            sock.close()
    refused = [data for data in received if data]
    assert len(refused) >= 5
    for data in refused:
        assert data.startswith(b"HTTP/1.1 503 ")
        assert data.endswith(b'\r\n\r\n{"error":"too many connections"}')
    # Bounded by the cap: the held places, plus a few in passing (a refused socket being closed,
    # a command check's pipes while it runs).
    assert files_during <= files_before + MAX_CONNECTIONS + 8
    still_answers(capped)


@pytest.mark.parametrize("used", [False, True], ids=["never-used", "kept-alive-after-a-request"])
def test_a_probe_gets_through_while_silent_sockets_hold_every_place(
    daemons: Daemons, used: bool
) -> None:
    """At the cap, a newcomer takes the place of a connection silent for a quarter second."""
    served = daemons.start(
        CHECKS,
        server={
            "max_connections": MAX_CONNECTIONS,
            "header_timeout": "30s",
            "keepalive_timeout": "30s",
        },
    )
    idle = [served.connect() for _ in range(MAX_CONNECTIONS)]
    try:
        if used:
            for sock in idle:
                sock.sendall(b"GET /ext/health/liveness HTTP/1.1\r\nHost: x\r\n\r\n")
                assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
        until(
            lambda: served.connections() == MAX_CONNECTIONS,
            "the daemon to accept every silent socket",
        )
        # Polled, not timed: the first probes may still be refused while the sockets are fresh.
        until(lambda: served.get("/liveness").status == 200, "a probe to get through")
        assert served.connections() <= MAX_CONNECTIONS
        for sock in idle:
            sock.setblocking(False)
        closed = [sock for sock in idle if _closed_by_peer(sock)]
        assert 1 <= len(closed) <= MAX_CONNECTIONS
        assert served.wait_for_event("silent connections closed to make room")["level"] == "warning"
    finally:
        for sock in idle:
            sock.close()


def _closed_by_peer(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def test_idle_connections_are_closed_after_the_header_timeout(capped: Served) -> None:
    files_before = capped.open_files()
    idle = [capped.connect() for _ in range(5)]
    try:
        assert [read_until_closed(sock) for sock in idle] == [b""] * 5
    finally:
        for sock in idle:
            sock.close()
    until(lambda: capped.open_files() <= files_before, "the daemon to release the sockets")


def dribble(sock: socket.socket, data: bytes, pause: float = 0.1) -> tuple[int, bytes]:
    """Send `data` a byte at a time until the server answers or closes; (bytes sent, answer)."""
    sock.settimeout(pause)
    for sent, byte in enumerate(data):
        try:
            sock.sendall(bytes([byte]))
            answer = sock.recv(65536)
        except TimeoutError:
            continue
        except OSError:  # reset or broken pipe: the server closed it
            return sent, b""
        sock.settimeout(PATIENCE)
        return sent + 1, answer + rest_of_answer(sock, answer)
    return len(data), b"<never closed>"


def rest_of_answer(sock: socket.socket, start: bytes) -> bytes:
    """What is missing of an HTTP response that began with `start` (its Content-Length)."""
    if not start:
        return b""
    received = start
    while b"\r\n\r\n" not in received:
        received += sock.recv(65536)
    head, _, body = received.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
    missing = b""
    while len(body) + len(missing) < length:
        missing += sock.recv(65536)
    return received[len(start) :] + missing


# 300 bytes at one per 0.1 s: 30 s, far beyond the 1 s deadline, so a close comes long before.
ENDLESS_HEADER = b"GET /ext/health/liveness HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 250


def test_a_slowloris_header_is_cut_off_although_it_keeps_sending(capped: Served) -> None:
    with capped.connect() as sock:
        sent, answer = dribble(sock, ENDLESS_HEADER)
    assert answer in (b"",) or answer.startswith(b"HTTP/1.1 408"), answer
    assert sent < len(ENDLESS_HEADER)
    still_answers(capped)


def test_a_slowloris_on_a_kept_alive_connection_is_cut_off(capped: Served) -> None:
    """The header deadline covers the first request; keepalive_timeout covers the next ones."""
    with capped.connect() as sock:
        sock.sendall(b"GET /ext/health/liveness HTTP/1.1\r\nHost: x\r\n\r\n")
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200 ")
        sent, answer = dribble(sock, ENDLESS_HEADER)
    assert answer == b""
    assert sent < len(ENDLESS_HEADER)


def test_an_idle_kept_alive_connection_is_closed_after_keepalive_timeout(capped: Served) -> None:
    with capped.connect() as sock:
        sock.sendall(b"GET /ext/health/liveness HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
        assert read_until_closed(sock) == b""


def test_a_body_dribbling_slower_than_the_deadline_gets_408(capped: Served) -> None:
    with capped.connect() as sock:
        sock.sendall(
            b"POST /ext/health HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 300\r\n\r\n"
        )
        sent, answer = dribble(sock, b" " * 300)
    assert sent < 300
    if answer:  # closed without an answer is also acceptable
        status, _, body = answer.partition(b"\r\n\r\n")
        assert status.startswith(b"HTTP/1.1 408 ")
        error = json.loads(body)["error"]
        assert "did not arrive" in error["data"] and "1s" in error["data"]
    still_answers(capped)


# -- malformed HTTP --------------------------------------------------------------------------------

REQUEST_HEAD = b"POST /ext/health HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
CALL = b'{"jsonrpc":"2.0","method":"health.health","id":1}'
MALFORMED = {
    "broken-chunks": REQUEST_HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    "bad-gzip": REQUEST_HEAD
    + b"Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s" % (len(CALL), CALL),
    "unknown-encoding": REQUEST_HEAD
    + b"Content-Encoding: x-hostile\r\nContent-Length: %d\r\n\r\n%s" % (len(CALL), CALL),
    "oversize-header": REQUEST_HEAD
    + b"Authorization: Bearer "
    + TOKEN.encode()
    + b"A" * 9000
    + b"\r\nContent-Length: %d\r\n\r\n%s" % (len(CALL), CALL),
    "garbage-line": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not HTTP at all\r\n\r\n",
    "oversize-request-line": b"POST /ext/health?" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n",
    "both-length-and-chunked": REQUEST_HEAD
    + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
}


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_malformed_http_gets_400_with_a_parse_error(guarded: Served, kind: str) -> None:
    answer = guarded.exchange(MALFORMED[kind])
    assert answer.status == 400
    parsed = answer.json()
    assert parsed["jsonrpc"] == "2.0" and parsed["id"] is None
    assert parsed["error"]["code"] == -32700
    assert parsed["error"]["message"] == "Parse error"
    assert isinstance(parsed["error"]["data"], str) and parsed["error"]["data"]
    assert TOKEN.encode() not in answer.body
    assert len(answer.body) < 300


def test_200_malformed_requests_log_no_error_and_never_the_token(guarded: Served) -> None:
    lines = len(guarded.log_lines())
    for index in range(200):
        answer = guarded.exchange(list(MALFORMED.values())[index % len(MALFORMED)])
        assert answer.status == 400
    still_answers(guarded)
    added = guarded.log_lines()[lines:]
    assert error_lines(guarded) == []
    assert guarded.stderr.read_text() == "", "nothing on stderr: no traceback, no library line"
    assert not any(TOKEN in line for line in guarded.log_lines())
    above_debug = [line for line in added if '"level":"debug"' not in line]
    assert len(above_debug) <= 2, above_debug  # at most a summary line, never one per request
    assert len(added) <= 2 * 200 + 2


@pytest.mark.parametrize(
    ("authorization", "refusal"),
    [
        (None, "a bearer token is required"),
        ("Bearer wrong-" + secrets.token_hex(8), "the bearer token was rejected"),
        ("Basic " + TOKEN, "the bearer token was rejected"),
    ],
)
def test_a_post_without_the_token_gets_401_with_its_id(
    guarded: Served, authorization: str | None, refusal: str
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    for request_id in (b"18446744073709551617", b'"abc"', b"7"):
        answer = guarded.raw_post(
            b'{"jsonrpc":"2.0","method":"health.health","id":%s}' % request_id, headers
        )
        assert answer.status == 401
        assert answer.headers.get("WWW-Authenticate") == "Bearer"
        assert answer.body.endswith(b'"id":' + request_id + b"}")
        assert answer.json()["error"]["code"] == -32001
        assert refusal in answer.json()["error"]["data"]
    allowed = guarded.raw_post(CALL, {"Authorization": f"Bearer {TOKEN}"})
    assert outcome(allowed.json()) == ("result", 1)
    if authorization is not None:
        given = authorization.split()[1]
        assert not any(given in line for line in guarded.log_lines())
        assert given.encode() not in answer.body


def test_a_method_that_is_no_string_gets_401_without_the_token(guarded: Served) -> None:
    """The check for a push check's own token reads the method: a list there is no crash."""
    for body in (
        b'{"jsonrpc":"2.0","method":["healthd.report"],"params":{"check":"x"},"id":9}',
        b'[{"jsonrpc":"2.0","method":{"healthd.report":1},"id":9}]',
    ):
        answer = guarded.raw_post(body, {"Authorization": "Bearer not-" + TOKEN})
        assert answer.status == 401
        assert answer.json()["error"]["code"] == -32001
    still_answers(guarded)


# -- bad configs, reloads, start failures ---------------------------------------------------------


@pytest.mark.parametrize("text", ["", "\n\n", "# nothing here yet\n"])
@pytest.mark.parametrize("command", ["serve", "validate"])
def test_an_empty_config_file_is_a_bad_config(tmp_path: Path, command: str, text: str) -> None:
    path = config_file(tmp_path, text)
    result = healthd(command, "--config", path)
    assert result.returncode == 2, result.stderr
    assert path in result.stderr
    assert "empty" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_reload_to_an_empty_file_keeps_the_old_checks(daemons: Daemons) -> None:
    served = daemons.start(CHECKS)
    wait_until_run(served)
    checks = sorted(served.get().json()["checks"])
    assert len(checks) == 5
    served.config.write_text("")
    served.proc.send_signal(signal.SIGHUP)
    failed = served.wait_for_event("config reload failed")
    assert failed["level"] == "error"
    assert str(served.config) in failed["error"]
    answer = served.get()
    assert (answer.status, sorted(answer.json()["checks"])) == (200, checks)
    assert served.alive()


def leftovers(marker: str) -> list[psutil.Process]:
    """Processes started by a check (they carry HEALTHD_CHECK_RUN) of this test's daemon."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if process.info["cmdline"] != ["sleep", "600"]:
            continue
        try:
            env = process.environ()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if "HEALTHD_CHECK_RUN" in env and env.get("HOSTILE_TEST") == marker:
            found.append(process)
    return found


def blocking_checks(marker: str) -> str:
    return config_text(
        {"name": "stuck", "type": "python", "callable": "tests.helpers.probes:blocks_forever"},
        {
            "name": "sleeper",
            "type": "command",
            "command": ["sleep", "600"],
            "env": {"HOSTILE_TEST": marker},
            "interval": "1m",
            "timeout": "30s",
        },
    )


def test_serve_on_a_taken_port_exits_1_naming_the_address_and_leaves_nothing(
    daemons: Daemons,
) -> None:
    marker = secrets.token_hex(8)
    config, port = daemons.write_config(blocking_checks(marker))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen(1)
        proc = daemons.spawn(["serve"], config)
        code = proc.wait(timeout=PATIENCE)
    stderr = config.with_suffix(".err").read_text().splitlines()
    assert code == 1
    assert len([line for line in stderr if line.strip()]) == 1, stderr
    assert f"127.0.0.1:{port}" in stderr[0]
    assert "started" not in config.with_suffix(".out").read_text()
    assert leftovers(marker) == []


def test_a_clean_stop_leaves_no_child_even_with_a_check_stuck(daemons: Daemons) -> None:
    marker = secrets.token_hex(8)
    served = daemons.start(blocking_checks(marker))
    until(lambda: leftovers(marker), "the command check's sleep to start")
    served.proc.send_signal(signal.SIGTERM)
    assert served.proc.wait(timeout=PATIENCE) == 0
    until(lambda: not leftovers(marker), "the sleep to be killed")


@pytest.mark.parametrize(("mode", "warned"), [(0o644, True), (0o640, True), (0o600, False)])
def test_a_token_file_readable_by_others_is_warned_about(
    daemons: Daemons, mode: int, warned: bool
) -> None:
    token_file = daemons.directory / "token"
    token_file.write_text(TOKEN)
    token_file.chmod(mode)
    served = daemons.start(server={"token_file": str(token_file)}, text=CHECKS)
    served.wait_for_event("healthd started")
    warnings = [e for e in served.events() if e.get("token_file") == str(token_file)]
    if warned:
        assert len(warnings) == 1
        assert warnings[0]["level"] == "warning"
        assert warnings[0]["mode"] == f"{mode:04o}"
        assert "***" not in warnings[0]["event"], "the warning itself must stay readable"
    else:
        assert warnings == []
    assert not any(TOKEN in line for line in served.log_lines())


def test_the_daemon_survived_the_module(plain: Served, limited: Served, guarded: Served) -> None:
    """Last: after every attack above, each daemon still runs and logged nothing at error."""
    for served in (plain, limited, guarded):
        still_answers(served)
        assert error_lines(served) == []

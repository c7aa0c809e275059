"""Notifications (contract §10): webhooks get each state change once; delivery never blocks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from healthd.cli import describe
from healthd.config import Config, ConfigError, parse_config
from healthd.history import Transition
from healthd.notify.alertmanager import AlertmanagerSink
from healthd.notify.config import AlertmanagerConfig, WebhookConfig
from healthd.notify.delivery import backoff
from healthd.notify.notifications import Notifications, build_sinks
from healthd.notify.webhook import WebhookSink
from healthd.parts import Parts
from healthd.store import Entry, Store
from tests.helpers.cli import ROOT
from tests.helpers.config import config_of, flag_check, notify_table
from tests.helpers.receiver import Receiver, receiver
from tests.helpers.waiting import until_async


@pytest.fixture
async def hook() -> AsyncIterator[Receiver]:
    async with receiver() as found:
        yield found


async def test_a_webhook_gets_each_state_change_once_with_the_contract_fields(
    tmp_path: Path, hook: Receiver, serve: Callable[[Config], Any]
) -> None:
    flag = tmp_path / "ok"
    flag.touch()
    config = config_of(
        flag_check("node.rpc", flag, tags=["node", "a"]),
        extra=notify_table(type="webhook", url=hook.url, instance="node-1"),
    )
    parts, _ = await serve(config)
    # Starting out passing is no news; wait for a few passing runs to be sure of it.
    await until_runs(parts, "node.rpc", 3)
    assert hook.received == []
    flag.unlink()
    [failing] = await hook.wait(1)
    assert set(failing) == {
        "check",
        "kind",
        "tags",
        "from",
        "to",
        "at",
        "error",
        "contiguousFailures",
        "instance",
    }
    assert failing["check"] == "node.rpc" and failing["kind"] == "health"
    assert failing["tags"] == ["a", "node"] and failing["instance"] == "node-1"
    assert (failing["from"], failing["to"], failing["contiguousFailures"]) == (
        "passing",
        "failing",
        1,
    )
    assert "exit code 1" in failing["error"]
    assert failing["at"].endswith("Z")
    flag.touch()
    received = await hook.wait(2)
    assert (received[1]["from"], received[1]["to"], received[1]["error"]) == (
        "failing",
        "passing",
        None,
    )
    await until_runs(parts, "node.rpc", parts.store.totals("node.rpc")[0] + 3)
    assert len(hook.received) == 2  # announced once, not every run


async def test_a_check_failing_from_the_start_is_announced(
    tmp_path: Path, hook: Receiver, serve: Callable[[Config], Any]
) -> None:
    config = config_of(
        flag_check("db", tmp_path / "missing"),
        extra=notify_table(type="webhook", url=hook.url, headers={"X-Team": "ops"}),
    )
    await serve(config)
    [first] = await hook.wait(1)
    assert (first["from"], first["to"]) == ("failing", "failing")
    assert hook.headers[0]["X-Team"] == "ops"
    assert hook.headers[0]["Content-Type"] == "application/json"


async def test_a_failing_receiver_is_retried_logged_once_and_recovers(
    tmp_path: Path, hook: Receiver, serve: Callable[[Config], Any]
) -> None:
    flag = tmp_path / "ok"
    config = config_of(
        flag_check("c", flag), extra=notify_table(type="webhook", url=hook.url, name="ops")
    )
    hook.mode = "fail"
    with capture_logs() as logs:
        parts, client = await serve(config)
        await until_async(lambda: hook.attempts >= 3, "three attempts")
        hook.mode = "ok"
        [body] = await hook.wait(1)
        await until_async(
            lambda: any(e["event"] == "notifications delivered again" for e in logs), "recovery"
        )
    assert body["to"] == "failing"
    failing = [e for e in logs if e["event"] == "notifications are failing; retrying"]
    assert len(failing) == 1 and failing[0]["sink"] == "ops"
    assert failing[0]["error"].startswith("HTTP 500")
    metrics = await (await client.get("/metrics")).text()
    assert 'healthd_notifications_sent_total{sink="ops"} 1.0' in metrics
    assert 'healthd_notifications_failed_total{sink="ops"} 0.0' in metrics
    assert parts.notifications.sinks[0].failed == 0


async def test_after_retry_for_a_notification_is_dropped_and_counted(
    tmp_path: Path, hook: Receiver, serve: Callable[[Config], Any]
) -> None:
    config = config_of(
        flag_check("c", tmp_path / "missing"),
        extra=notify_table(type="webhook", url=hook.url, retry_for="1s", name="ops"),
    )
    hook.mode = "fail"
    parts, client = await serve(config)
    sink = parts.notifications.sinks[0]
    await until_async(lambda: sink.failed == 1, "the drop")
    assert hook.attempts >= 2
    metrics = await (await client.get("/metrics")).text()
    assert 'healthd_notifications_failed_total{sink="ops"} 1.0' in metrics


async def test_a_refusal_is_not_retried(
    tmp_path: Path, hook: Receiver, serve: Callable[[Config], Any]
) -> None:
    config = config_of(
        flag_check("c", tmp_path / "missing"), extra=notify_table(type="webhook", url=hook.url)
    )
    hook.mode = "refuse"
    parts, _ = await serve(config)
    sink = parts.notifications.sinks[0]
    await until_async(lambda: sink.failed == 1, "the drop")
    assert hook.attempts == 1


async def test_a_hung_receiver_delays_no_check_and_no_answer(
    tmp_path: Path, hook: Receiver, serve: Callable[[Config], Any]
) -> None:
    flag = tmp_path / "ok"
    config = config_of(
        flag_check("c", flag),
        extra=notify_table(type="webhook", url=hook.url, timeout="30s"),
    )
    hook.mode = "hang"
    parts, client = await serve(config)
    await until_async(lambda: hook.attempts == 1, "the receiver to hang")
    runs = parts.store.totals("c")[0]
    flag.touch()  # more transitions queue up behind the hung one
    await until_runs(parts, "c", runs + 3)
    assert parts.store.get("c").passed
    response = await client.get("/ext/health")
    # Answered while the one delivery still hangs (for up to its 30 s timeout): nothing waited.
    assert response.status == 200
    assert hook.attempts == 1 and parts.notifications.sinks[0].sending


async def test_the_queue_is_bounded_and_drops_the_oldest() -> None:
    config = WebhookConfig(type="webhook", url="http://127.0.0.1:9/x", queue=2)
    sink = WebhookSink("s", config)
    for at in range(1, 5):
        sink.announce(transition("c", "failing" if at % 2 else "passing", at))
    assert sink.queued == 2 and sink.failed == 2
    assert [item["at"] for item in sink._queue] == [
        "1970-01-01T00:00:00.000000003Z",
        "1970-01-01T00:00:00.000000004Z",
    ]


def transition(check: str, to: Any, at: int = 1, **keys: Any) -> Transition:
    defaults: dict[str, Any] = {
        "kind": "health",
        "tags": frozenset(),
        "from_state": "passing" if to != "passing" else "failing",
        "error": None if to == "passing" else "down",
        "contiguous_failures": 0 if to == "passing" else 1,
    }
    return Transition(check=check, to_state=to, at_ns=at, **{**defaults, **keys})


@pytest.mark.parametrize(
    ("filters", "change", "wanted"),
    [
        ({"checks": ["a"]}, transition("a", "failing"), True),
        ({"checks": ["a"]}, transition("b", "failing"), False),
        ({"tags": ["db"]}, transition("a", "failing", tags=frozenset({"db", "x"})), True),
        ({"tags": ["db"]}, transition("a", "failing", tags=frozenset({"node"})), False),
        ({"tags": ["db"]}, transition("a", "failing"), True),  # untagged checks are global
        ({"kinds": ["readiness"]}, transition("a", "failing"), False),
        ({"kinds": ["health", "readiness"]}, transition("a", "failing"), True),
        ({"on": ["failing"]}, transition("a", "failing"), True),
        ({"on": ["failing"]}, transition("a", "passing"), False),
        ({"on": ["failing"]}, transition("a", "degraded"), False),
    ],
)
def test_filters_choose_what_a_sink_announces(
    filters: dict[str, Any], change: Transition, wanted: bool
) -> None:
    sink = WebhookSink("s", WebhookConfig(type="webhook", url="http://h/", **filters))
    store = Store([Entry("a", "health", frozenset()), Entry("b", "health", frozenset())])
    notifications = Notifications(store, [sink])
    notifications._announce(change)
    assert (sink.queued == 1) == wanted


def test_held_notifications_are_not_announced_later() -> None:
    sink = WebhookSink("s", WebhookConfig(type="webhook", url="http://h/"))
    notifications = Notifications(Store([Entry("a", "health", frozenset())]), [sink])
    notifications.hold(True)
    notifications._announce(transition("a", "failing"))
    notifications.hold(False)
    assert sink.queued == 0
    notifications._announce(transition("a", "passing"))
    assert sink.queued == 1


def test_backoff_grows_with_jitter_up_to_a_ceiling() -> None:
    assert 0.125 <= backoff(0) <= 0.25
    assert 2.0 <= backoff(4) <= 4.0
    assert 15.0 <= backoff(30) <= 30.0


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (
            {"type": "email", "url": "http://h/"},
            "notify[0].type: unknown type 'email'; expected one of: alertmanager, webhook",
        ),
        ({"url": "http://h/"}, "notify[0].type: missing"),
        (
            {"type": "webhook", "url": "ftp://h/x"},
            "notify[0].url: expected an absolute http:// or https:// URL",
        ),
        (
            {"type": "webhook", "url": "/relative"},
            "notify[0].url: expected an absolute http:// or https:// URL",
        ),
        (
            {"type": "alertmanager", "url": "http://h/", "resend": "500ms"},
            "notify[0].resend: input should be greater than or equal to 1",
        ),
        ({"type": "webhook", "url": "http://h/", "resend": "1m"}, "notify[0].resend: unknown key"),
        (
            {"type": "webhook", "url": "http://h/", "checks": ["nope"]},
            "notify[0].checks: no such check: nope",
        ),
        (
            {"type": "webhook", "url": "http://h/", "on": ["broken"]},
            "notify[0].on[0]: input should be",
        ),
        (
            {"type": "webhook", "url": "http://u:p@h/", "headers": {"authorization": "Bearer x"}},
            "notify[0]: give credentials in the URL or in an Authorization header, not both",
        ),
        (
            {"type": "webhook", "url": "http://h/", "queue": 0},
            "notify[0].queue: input should be greater than or equal to 1",
        ),
        (
            {"type": "webhook", "url": "http://h/", "retry_for": "0s"},
            "notify[0].retry_for: input should be greater than 0",
        ),
    ],
)
def test_sink_mistakes_are_config_errors_naming_the_key(
    table: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        config_of({"name": "c", "type": "memory"}, extra=notify_table(**table))
    assert any(problem.startswith(expected) for problem in caught.value.problems), (
        caught.value.problems
    )


def test_sink_secrets_are_collected_for_redaction() -> None:
    config = config_of(
        {"name": "c", "type": "memory"},
        extra=notify_table(
            type="webhook", url="https://user:s3cret-pw@hooks.example/x?token=t0ken-value"
        )
        + notify_table(
            type="alertmanager",
            url="https://am.example",
            headers={"Authorization": "Bearer abc-123-token", "X-Team": "ops"},
        ),
    )
    secrets = config.secrets()
    for secret in ("s3cret-pw", "t0ken-value", "Bearer abc-123-token", "abc-123-token"):
        assert secret in secrets
    assert "ops" in secrets  # an unknown header may be a secret: redacted too
    shown = describe(config)
    assert "notify: webhook-0: webhook https://user:***@hooks.example/x?token=***" in shown
    assert build_sinks(config.notify)[0].name == "webhook-0"


async def until_runs(parts: Parts, name: str, runs: int) -> None:
    await until_async(lambda: parts.store.totals(name)[0] >= runs, f"{runs} runs of {name}")


async def test_a_sinks_secrets_never_reach_a_log_line(
    tmp_path: Path, hook: Receiver, serve: Callable[[Config], Any]
) -> None:
    url = hook.url.replace("http://", "http://user:hunter2-secret@") + "?token=tok-secret-9"
    config = config_of(
        flag_check("c", tmp_path / "missing"),
        extra=notify_table(type="webhook", url=url, headers={"X-Api-Key": "b-secret"}),
    )
    hook.mode = "fail"
    with capture_logs() as logs:
        await serve(config)
        await until_async(lambda: hook.attempts >= 2, "retries")
    failing = [e for e in logs if e["event"] == "notifications are failing; retrying"]
    assert failing and "***" in failing[0]["url"]
    text = repr(logs)
    for secret in ("hunter2-secret", "tok-secret-9", "b-secret"):
        assert secret not in text


def test_the_commented_notify_examples_in_config_example_are_valid() -> None:
    text = (ROOT / "config.example.toml").read_text()
    head, _, tail = text.partition("# [[notify]]")
    assert tail, "config.example.toml shows a [[notify]] example"
    uncommented = "[[notify]]" + "\n".join(
        line[2:] if line.startswith("# ") else line.lstrip("#") for line in tail.splitlines()
    )
    config = parse_config(head + uncommented, "config.example.toml")
    assert [sink.type for sink in config.notify] == ["alertmanager", "webhook"]


def test_an_alert_of_a_check_a_reload_removed_is_resolved() -> None:
    config = AlertmanagerConfig(type="alertmanager", url="http://am:9093")
    sink = AlertmanagerSink("am", config)
    notifications = Notifications(Store([Entry("a", "health", frozenset())]), [sink])
    notifications._announce(transition("a", "failing", first=True, from_state="failing"))
    assert list(sink.firing) == ["a"]
    notifications.forget(["a", "b"])
    assert sink.firing == {}
    [[fired], [resolved]] = list(sink._queue)
    assert fired.ends_ns is None and resolved.ends_ns is not None
    assert resolved.labels == fired.labels


def test_a_check_that_starts_passing_resolves_an_alert_left_from_before() -> None:
    sink = AlertmanagerSink("am", AlertmanagerConfig(type="alertmanager", url="http://am:9093"))
    webhook = WebhookSink("w", WebhookConfig(type="webhook", url="http://h/"))
    notifications = Notifications(Store([Entry("a", "health", frozenset())]), [sink, webhook])
    notifications._announce(transition("a", "failing"))
    notifications._announce(transition("a", "passing", first=True))
    assert sink.firing == {} and sink.queued == 2
    assert webhook.queued == 1  # the webhook announced the failure, not the first pass

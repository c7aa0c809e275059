"""The chain checks' pure parts: heights, the quorum, progress across runs, and the verdict in
the contract's order (§9), each rule shown to win over the ones after it."""

from __future__ import annotations

import pytest

from healthd.checks.chains.evm import describe_syncing
from healthd.checks.chains.heights import parse_height, parse_rfc3339
from healthd.checks.chains.progress import HeightTracker, Movement
from healthd.checks.chains.references import quorum
from healthd.checks.chains.verdict import Limits, Reading, compact, judge
from healthd.config import ConfigError, parse_config
from tests.helpers.config import config_text

LIMITS = Limits(max_lag=10, max_head_age=120.0, stall_after=300.0, min_peers=3)
NOW = 1_700_000_000.0
MOVING = Movement(rose=True, still_for=0.0, blocks_per_second=0.5)
STILL = Movement(rose=False, still_for=30.0, blocks_per_second=0.0)
FIRST = Movement(rose=None, still_for=0.0, blocks_per_second=None)


def reading(**changes: object) -> Reading:
    values: dict[str, object] = {"height": 1000, "head_time": NOW - 5, "peers": 8}
    values.update(changes)
    return Reading(**values)  # type: ignore[arg-type]


# --- heights ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0x1b4", 436), ("0X1B4", 436), ("436", 436), (436, 436), (436.0, 436), ("0x0", 0)],
)
def test_heights_in_hex_decimal_strings_and_numbers(value: object, expected: int) -> None:
    assert parse_height(value) == expected


@pytest.mark.parametrize("value", ["", "0x", "abc", "-5", -5, True, None, 1.5, [1], "1e3"])
def test_what_is_not_a_height(value: object) -> None:
    with pytest.raises(ValueError):
        parse_height(value)


def test_rfc3339_with_nanoseconds_as_cometbft_writes_it() -> None:
    assert parse_rfc3339("2019-08-01T11:52:22.818762194Z") == pytest.approx(1564660342.818762)
    assert parse_rfc3339("2019-08-01T11:52:22Z") == 1564660342.0
    assert parse_rfc3339("2019-08-01T13:52:22.5+02:00") == 1564660342.5
    with pytest.raises(ValueError):
        parse_rfc3339("yesterday")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (False, None),
        ({"currentBlock": "0x64", "highestBlock": "0x1388"}, "at block 100 of 5000"),
        ({"isSyncing": False, "currentBlock": "0x0", "highestBlock": "0x0"}, None),
        ({"stages": []}, "eth_syncing reports a sync in progress"),
        (True, "eth_syncing reports a sync in progress"),
    ],
)
def test_eth_syncing_as_clients_write_it(answer: object, expected: str | None) -> None:
    assert describe_syncing(answer) == expected


# --- quorum ----------------------------------------------------------------------------------


def test_quorum_is_the_median_of_those_that_answered() -> None:
    assert quorum([100, None, 110]) == 105
    assert quorum([100, 101, 5000]) == 101
    assert quorum([7]) == 7
    assert quorum([None, None]) is None
    assert quorum([]) is None


# --- progress --------------------------------------------------------------------------------


def test_the_tracker_knows_rising_still_for_and_rate() -> None:
    tracker = HeightTracker()
    assert tracker.observe(100, 0.0) == Movement(rose=None, still_for=0.0, blocks_per_second=None)
    assert tracker.observe(110, 10.0) == Movement(rose=True, still_for=0.0, blocks_per_second=1.0)
    assert tracker.observe(110, 25.0).still_for == 15.0
    moved = tracker.observe(110, 40.0)
    assert moved.rose is False and moved.still_for == 30.0
    assert moved.blocks_per_second == 0.25  # 10 blocks over 40 s


def test_a_falling_height_is_a_change_not_a_stall() -> None:
    tracker = HeightTracker()
    tracker.observe(100, 0.0)
    fell = tracker.observe(90, 400.0)
    assert fell.rose is False and fell.still_for == 0.0 and fell.blocks_per_second is None


# --- verdict, in order -----------------------------------------------------------------------


def test_a_synced_node_passes_with_every_figure() -> None:
    error, message = judge(reading(), 1003, MOVING, LIMITS, NOW)
    assert error is None
    assert message == {
        "height": 1000,
        "referenceHeight": 1003,
        "lag": 3,
        "headAgeSeconds": 5.0,
        "peers": 8,
        "blocksPerSecond": 0.5,
        "state": "synced",
    }


def test_syncing_comes_before_everything_else() -> None:
    bad = reading(syncing="at block 1 of 9", head_time=NOW - 9999, peers=0)
    error, message = judge(bad, 5000, STILL, LIMITS, NOW)
    assert error == "syncing: at block 1 of 9" and message["state"] == "syncing"


def test_behind_comes_before_stall_head_and_peers() -> None:
    stuck = Movement(rose=False, still_for=9999.0, blocks_per_second=0.0)
    bad = reading(head_time=NOW - 9999, peers=0)
    error, message = judge(bad, 1011, stuck, LIMITS, NOW)
    assert error == "behind by 11 blocks (reference 1011)"
    assert message["state"] == "stalled"  # lagging and not rising: stuck
    _, rising = judge(bad, 1011, MOVING, LIMITS, NOW)
    assert rising["state"] == "behind"  # lagging but rising: catching up
    _, first = judge(bad, 1011, FIRST, LIMITS, NOW)
    assert first["state"] == "behind"  # one look cannot tell


def test_lag_up_to_max_lag_passes_and_ahead_is_lag_0() -> None:
    assert judge(reading(), 1010, MOVING, LIMITS, NOW)[0] is None
    error, message = judge(reading(), 990, MOVING, LIMITS, NOW)
    assert error is None and message["lag"] == 0


def test_a_stall_comes_before_head_age_and_peers() -> None:
    stuck = Movement(rose=False, still_for=312.0, blocks_per_second=0.0)
    error, message = judge(reading(head_time=NOW - 9999, peers=0), None, stuck, LIMITS, NOW)
    assert error == "stalled at height 1000 for 5m12s" and message["state"] == "stalled"


def test_an_old_head_comes_before_peers() -> None:
    error, message = judge(reading(head_time=NOW - 192.4, peers=0), None, MOVING, LIMITS, NOW)
    assert error == "newest block is 3m12s old"
    assert message["headAgeSeconds"] == 192.4 and message["state"] == "behind"
    _, still = judge(reading(head_time=NOW - 192.4), None, STILL, LIMITS, NOW)
    assert still["state"] == "stalled"


def test_too_few_peers_is_the_last_rule() -> None:
    error, message = judge(reading(peers=2), None, MOVING, LIMITS, NOW)
    assert error == "2 peers, fewer than 3" and message["state"] == "synced"
    assert judge(reading(peers=1), None, MOVING, LIMITS, NOW)[0] == "1 peer, fewer than 3"


def test_zero_disables_head_age_and_peers() -> None:
    off = Limits(max_lag=10, max_head_age=0.0, stall_after=300.0, min_peers=0)
    assert judge(reading(head_time=NOW - 9999, peers=0), None, MOVING, off, NOW)[0] is None


def test_unknown_figures_are_null() -> None:
    error, message = judge(Reading(height=5), None, FIRST, LIMITS, NOW)
    assert error is None
    assert message["headAgeSeconds"] is None and message["peers"] is None
    assert message["lag"] is None and message["blocksPerSecond"] is None


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (3.7, "3s"), (300, "5m"), (192.4, "3m12s"), (7200, "2h"), (3723, "1h2m3s")],
)
def test_durations_read_as_an_operator_writes_them(seconds: float, text: str) -> None:
    assert compact(seconds) == text


# --- keys and defaults (contract §9) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "max_lag", "max_head_age", "min_peers"),
    [
        ("evm", 10, 120.0, 1),
        ("cosmos", 10, 60.0, 1),
        ("solana", 150, 0.0, 0),
        ("bitcoin", 2, 7200.0, 1),
        ("avalanche", 10, 120.0, 1),
    ],
)
def test_defaults_per_chain(kind: str, max_lag: int, max_head_age: float, min_peers: int) -> None:
    spec = parse_config(config_text({"name": "n", "type": kind, "url": "http://127.0.0.1:1"}), "t")
    limits = spec.checks[0].spec.limits()  # type: ignore[attr-defined]
    assert limits == Limits(max_lag, max_head_age, stall_after=300.0, min_peers=min_peers)
    assert spec.checks[0].spec.references == []  # type: ignore[attr-defined]


def test_a_reference_that_is_not_a_url_is_named_by_its_key_path() -> None:
    entry = {"name": "n", "type": "evm", "url": "http://127.0.0.1:1", "references": ["x", 5]}
    with pytest.raises(ConfigError) as caught:
        parse_config(config_text(entry), "t")
    assert "checks[0] (n).references[0]: expected an absolute http:// or https:// URL" in str(
        caught.value
    )
    assert "checks[0] (n).references[1]" in str(caught.value)

"""Durations: what the config accepts and how errors print them."""

import pytest

from healthd.config import ConfigError, parse_config
from healthd.durations import MAX_SECONDS, MAX_TEXT, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("250ms", 0.25),
        ("30s", 30.0),
        ("2m", 120.0),
        ("1h", 3600.0),
        ("1m30s", 90.0),
        ("1.5s", 1.5),
        (15, 15.0),
        (0.5, 0.5),
        ("10", 10.0),
        ("500us", 0.0005),
    ],
)
def test_parses_units_and_plain_seconds(text: object, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "bad", ["", "5q", "s", "-1s", -3, True, "1 s", [1], 1e300, "99999999999999999999h", "2562048h"]
)
def test_rejects_what_is_not_a_duration(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (2, "2s"),
        (0.25, "250ms"),
        (90, "1m30s"),
        (3600, "1h0m0s"),
        (0, "0s"),
        (1.5, "1.5s"),
        (0.0000005, "500ns"),
    ],
)
def test_formats_like_go(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_the_longest_duration_is_gos_and_a_longer_one_names_its_key() -> None:
    assert parse_duration(MAX_TEXT) == pytest.approx(MAX_SECONDS)
    with pytest.raises(ConfigError) as refused:
        parse_config("[scheduler]\ninterval = 1e300\n", "test.toml")
    assert refused.value.problems == [
        f"scheduler.interval: a duration must be at most {MAX_TEXT} (Go's longest time.Duration)"
    ]

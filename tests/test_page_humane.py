"""Times and durations as the status page writes them for people."""

from __future__ import annotations

import pytest

from healthd.page import humane
from healthd.page.badge import text_width

S = 1_000_000_000
NOON = 1_795_003_200 * S  # 2026-11-18T12:00:00Z


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "0 s"),
        (450, "450 ns"),
        (1_500, "1.50 µs"),
        (38_912_345, "38.9 ms"),
        (250_000_000, "250 ms"),
        (999_960_000, "1.00 s"),
        (12 * S, "12.0 s"),
        (90 * S, "1.50 min"),
        (3 * 3600 * S, "3.00 h"),
    ],
)
def test_durations_have_three_significant_digits_and_a_unit(ns: int, text: str) -> None:
    assert humane.duration(ns) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.4, "just now"), (12, "12s ago"), (199, "3m ago"), (7300, "2h ago"), (2 * 86400, "2d ago")],
)
def test_ages_are_in_their_largest_whole_unit(seconds: float, text: str) -> None:
    assert humane.ago(NOON - int(seconds * S), NOON) == text


def test_clock_times_are_utc_and_dated_only_on_other_days() -> None:
    assert humane.clock(NOON - 3600 * S + 1, NOON) == "11:00:00"
    assert humane.clock(NOON - 13 * 3600 * S, NOON) == "Nov 17 23:00:00"
    assert humane.iso(NOON) == "2026-11-18T12:00:00Z"
    assert humane.absolute(NOON) == "2026-11-18 12:00:00 UTC"


def test_badge_text_widths_grow_with_wide_letters() -> None:
    assert text_width("health") < text_width("HEALTH") < text_width("mmmmmm")
    assert 32 <= text_width("health") <= 38  # shields.io measures about 35 px

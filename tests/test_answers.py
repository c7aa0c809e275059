"""The answers layer: every format rendered once per store version, equal to a fresh rendering."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import get_args

from healthd.answers import CACHED_ANSWERS, Answers
from healthd.checks.base import KINDS
from healthd.formats import FORMATS, FormatName
from healthd.result import Outcome
from healthd.store import Entry, Store

T = 1_700_000_000_000_000_000
FORMAT_NAMES: tuple[FormatName, ...] = get_args(FormatName)


def entries(*names: str) -> list[Entry]:
    return [Entry(name, "health", frozenset({name[0]})) for name in names]


def assert_fresh(answers: Answers) -> None:
    """Every kept answer is what a renderer that never saw the store before would give."""
    for fmt in FORMAT_NAMES:
        for kind in KINDS:
            for tags in (None, ["a"], ["b", "z"]):
                kept = answers.get(kind, tags, fmt, "node-1")
                items = answers.store.select(kind, tags, maintenance=True)
                fresh = FORMATS[fmt]()(items, "node-1")
                if fmt == "simple" and all(r.timestamp_ns is None for _, r in items):
                    # Before any run, `simple` stamps the moment it was rendered.
                    kept = replace(kept, body=drop_timestamp(kept.body))
                    fresh = replace(fresh, body=drop_timestamp(fresh.body))
                assert kept == fresh, (fmt, kind, tags)


def drop_timestamp(body: bytes) -> bytes:
    return json.dumps({k: v for k, v in json.loads(body).items() if k != "timestamp"}).encode()


def test_answers_equal_a_fresh_rendering_after_every_kind_of_change() -> None:
    store = Store(entries("a1", "a2", "b1"))
    answers = Answers(store)
    assert_fresh(answers)
    store.record("a1", Outcome(message=b'{"x":1}'), T, 5)
    assert_fresh(answers)
    store.record("b1", Outcome(error="down"), T + 1, 5)
    assert_fresh(answers)
    store.set_maintenance(store.get("b1"))
    assert_fresh(answers)
    store.set_maintenance(None)
    store.set_entries(entries("a1", "b2", "z9"), keep=["a1"])  # a reload: some go, some come
    assert_fresh(answers)
    assert b'"a2"' not in answers.get("health").body
    store.record("z9", Outcome(error="late"), T + 2, 5)
    assert_fresh(answers)


def test_an_answer_is_rendered_once_per_store_version() -> None:
    store = Store(entries("a1"))
    answers = Answers(store)
    first = answers.get("health", ["a"], "short")
    assert answers.get("health", ["a"], "short") is first
    store.record("a1", Outcome(), T, 1)
    assert answers.get("health", ["a"], "short") is not first


def test_kept_answers_are_bounded_least_recently_asked_first() -> None:
    store = Store(entries("a1"))
    answers = Answers(store)
    kept = answers.get("health", ["kept"])
    first = answers.get("health", ["tag-0"])
    for i in range(1, CACHED_ANSWERS + 10):
        answers.get("health", [f"tag-{i}"])
        assert answers.get("health", ["kept"]) is kept  # asked all along: never dropped
    assert answers.get("health", ["tag-0"]) is not first  # dropped, rendered anew
    assert answers.get("health", ["tag-0"]) == first

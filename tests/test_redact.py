"""Secrets are scrubbed from text, and ordinary words about tokens are left readable."""

from __future__ import annotations

import pytest

from healthd.redact import redact_credentials


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abc.def-123", "Authorization: Bearer ***"),
        ("basic dXNlcjpwYXNz", "basic ***"),
        ("token=s3cr3t&x=1", "token=***&x=1"),
        ("TOKEN: s3cr3t", "TOKEN: ***"),
        ("Authorization: Token abcdef", "Authorization: Token ***"),
    ],
)
def test_credential_shaped_text_is_masked(text: str, expected: str) -> None:
    assert redact_credentials(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "the token file is readable by other users; chmod 600 it",
        "a token is required",
        "token_file=/etc/healthd/token",
    ],
)
def test_words_about_tokens_stay_readable(text: str) -> None:
    assert redact_credentials(text) == text

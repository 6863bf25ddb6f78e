"""``newsroom.newsletter.tokens``: signed link tokens. A confirm token names its purpose and the
address id and works for 48 hours, not a second longer; an unsubscribe token never expires;
``verify_token`` rejects a token that is tampered with, re-labelled or used for another
purpose, signed with another key, spliced with another address id, malformed, or with
anything appended."""

import re
from typing import Any

import pytest

from newsroom.newsletter.addresses import address_id
from newsroom.newsletter.tokens import CONFIRM_TTL_SECONDS, InvalidToken, issue_token, verify_token

KEY = b"unit-test-signing-key"
OTHER_KEY = b"another-signing-key"
NOW = 1_790_000_000
IDENT = "0123456789abcdef0123456789abcdef"


def test_a_confirm_token_names_its_purpose_the_address_id_and_expires_in_48_hours() -> None:
    token = issue_token(KEY, "confirm", IDENT, NOW)
    purpose, ident, expires, mac = token.split(".")
    assert (purpose, ident, int(expires)) == ("confirm", IDENT, NOW + 48 * 3600)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", mac)
    found = verify_token(KEY, token, "confirm", NOW)
    assert (found.purpose, found.address_id, found.expires) == ("confirm", IDENT, NOW + 172800)


def test_a_confirm_token_works_until_its_expiry_and_not_a_second_later() -> None:
    token = issue_token(KEY, "confirm", IDENT, NOW)
    verify_token(KEY, token, "confirm", NOW + CONFIRM_TTL_SECONDS)
    with pytest.raises(InvalidToken, match="expired"):
        verify_token(KEY, token, "confirm", NOW + CONFIRM_TTL_SECONDS + 1)


def test_an_unsubscribe_token_never_expires() -> None:
    token = issue_token(KEY, "unsubscribe", IDENT, NOW)
    assert token.split(".")[2] == "0"
    found = verify_token(KEY, token, "unsubscribe", NOW + 50 * 365 * 24 * 3600)
    assert (found.address_id, found.expires) == (IDENT, 0)


def _flip(text: str, index: int, alphabet: str) -> str:
    replacement = next(c for c in alphabet if c != text[index])
    return text[:index] + replacement + text[index + 1 :]


def _tampered(token: str, part: int, index: int = 5) -> str:
    parts = token.split(".")
    alphabet = "0123456789abcdef" if part in (1, 2) else "ABCDEFGH"
    parts[part] = _flip(parts[part], index if part != 2 else 0, alphabet)
    return ".".join(parts)


@pytest.mark.parametrize(
    ("purpose", "part"),
    [("confirm", 1), ("confirm", 2), ("confirm", 3), ("unsubscribe", 1), ("unsubscribe", 3)],
    ids=["confirm-id", "confirm-expiry", "confirm-mac", "unsubscribe-id", "unsubscribe-mac"],
)
def test_a_tampered_token_is_rejected(purpose: Any, part: int) -> None:
    token = issue_token(KEY, purpose, IDENT, NOW)
    with pytest.raises(InvalidToken, match="not valid"):
        verify_token(KEY, _tampered(token, part), purpose, NOW)


def test_a_token_re_labelled_with_another_purpose_is_rejected() -> None:
    token = issue_token(KEY, "confirm", IDENT, NOW)
    relabelled = "unsubscribe." + token.split(".", 1)[1]
    with pytest.raises(InvalidToken):
        verify_token(KEY, relabelled, "unsubscribe", NOW)


@pytest.mark.parametrize(
    ("issued", "used"), [("confirm", "unsubscribe"), ("unsubscribe", "confirm")]
)
def test_a_token_for_another_purpose_is_rejected(issued: Any, used: Any) -> None:
    token = issue_token(KEY, issued, IDENT, NOW)
    with pytest.raises(InvalidToken, match=f"not a {used} link"):
        verify_token(KEY, token, used, NOW)


def test_a_token_signed_with_another_key_is_rejected() -> None:
    token = issue_token(OTHER_KEY, "confirm", IDENT, NOW)
    with pytest.raises(InvalidToken, match="not valid"):
        verify_token(KEY, token, "confirm", NOW)


def test_a_token_carrying_another_address_id_is_rejected() -> None:
    mine = issue_token(KEY, "confirm", IDENT, NOW)
    other = address_id(KEY, "someone.else@example.com")
    spliced = mine.replace(IDENT, other)
    with pytest.raises(InvalidToken, match="not valid"):
        verify_token(KEY, spliced, "confirm", NOW)


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        "bogus",
        "confirm",
        "confirm..0.",
        "subscribe." + IDENT + ".0." + "A" * 43,
        "confirm." + IDENT.upper() + ".0." + "A" * 43,
        "confirm." + IDENT + ".0." + "A" * 44,
        "confirm." + IDENT + ".1234567890123.x" + "A" * 42,
        "confirm." + IDENT + ".-1." + "A" * 43,
    ],
    ids=repr,
)
def test_a_malformed_token_is_rejected(token: Any) -> None:
    with pytest.raises(InvalidToken, match="not valid"):
        verify_token(KEY, token, "confirm", NOW)


@pytest.mark.parametrize("suffix", ["\n", " ", "\r\n", ".", "%0A"])
def test_a_token_with_anything_appended_is_rejected(suffix: str) -> None:
    token = issue_token(KEY, "confirm", IDENT, NOW)
    with pytest.raises(InvalidToken, match="not valid"):
        verify_token(KEY, token + suffix, "confirm", NOW)

"""``newsroom.newsletter.addresses``: ``normalize_address`` trims an address and lower-cases (and
IDNA-encodes) its domain only, accepts addresses up to the length limits, and rejects
anything that is not one plain address (no display name, quoting, IP literal, line break or
second address) with a reason that never repeats it; ``address_id`` is a stable hash of the
address keyed by the signing key."""

import re

import pytest

from newsroom.newsletter.addresses import (
    MAX_ADDRESS_LENGTH,
    InvalidAddress,
    address_id,
    normalize_address,
)

KEY = b"unit-test-signing-key"
OTHER_KEY = b"another-signing-key"


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("reader@example.com", "reader@example.com"),
        ("  reader@example.com\t\n", "reader@example.com"),  # trimmed
        ("Reader.One@Example.COM", "Reader.One@example.com"),  # domain lower-cased only
        ("o'brien+news@mail.Example.co.UK", "o'brien+news@mail.example.co.uk"),
        ("a@b.co", "a@b.co"),
        ("user@bücher.de", "user@xn--bcher-kva.de"),  # IDNA
        ("first.last@xn--bcher-kva.de", "first.last@xn--bcher-kva.de"),
    ],
)
def test_addresses_are_trimmed_and_their_domain_lower_cased(raw: str, normalized: str) -> None:
    assert normalize_address(raw) == normalized


def test_the_local_part_keeps_its_case() -> None:
    assert normalize_address("Reader@example.com") != normalize_address("reader@example.com")


def test_addresses_at_the_length_limits_are_valid() -> None:
    local = "l" * 64
    domain = ".".join(["d" * 63, "d" * 63, "d" * (MAX_ADDRESS_LENGTH - 64 - 1 - 128 - 4), "com"])
    address = f"{local}@{domain}"
    assert len(address) == MAX_ADDRESS_LENGTH
    assert normalize_address(address) == address


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "reader",
        "reader@",
        "@example.com",
        "reader@example",  # no top-level domain
        "reader@example.c",  # one-letter top-level domain
        "reader@example.123",
        "reader@@example.com",
        "read er@example.com",
        "reader@exa mple.com",
        ".reader@example.com",
        "reader.@example.com",
        "rea..der@example.com",
        '"quoted"@example.com',
        "reader@[127.0.0.1]",
        "reader@-example.com",
        "reader@example-.com",
        "reader@example..com",
        "reader@" + "d" * 64 + ".com",  # a label longer than 63
        "l" * 65 + "@example.com",  # local part longer than 64
        "l" * 64 + "@" + "d" * 63 + "." + "d" * 63 + "." + "d" * 63 + ".com",  # 255 characters
        "reader\n@example.com",  # a line break would end up in the To header
        "reader@example\n.com",
        "reader@exa\nmple.com",
        "reader@example.com\r\nBcc: victim@example.com",
        "<reader@example.com>",
        "Reader <reader@example.com>",
        "reader@example.com, other@example.com",
    ],
    ids=repr,
)
def test_invalid_addresses_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidAddress) as caught:
        normalize_address(raw)
    assert str(caught.value)
    local = raw.strip().partition("@")[0]
    if len(local) > 3:
        assert local not in str(caught.value)  # the reason never repeats the address


@pytest.mark.parametrize("raw", [None, 42, ["reader@example.com"], {"email": "a@b.co"}])
def test_addresses_must_be_strings(raw: object) -> None:
    with pytest.raises(InvalidAddress, match="string"):
        normalize_address(raw)


def test_the_address_id_is_a_stable_keyed_hash() -> None:
    ident = address_id(KEY, "reader@example.com")
    assert re.fullmatch(r"[0-9a-f]{32}", ident)
    assert address_id(KEY, "reader@example.com") == ident
    assert address_id(OTHER_KEY, "reader@example.com") != ident  # not reversible without it
    assert address_id(KEY, "Reader@example.com") != ident
    assert "reader" not in ident

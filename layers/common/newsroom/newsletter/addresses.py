"""Email addresses: validation and normalisation, and the keyed hash that stands for an
address everywhere it must not appear in clear (keys, tokens, logs, metrics)."""

import hashlib
import hmac
import re

MAX_ADDRESS_LENGTH = 254
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class InvalidAddress(ValueError):
    """Not an address we can send to; the message says why."""


def normalize_address(raw: object) -> str:
    """Trimmed, domain lower-cased (the local part is case-sensitive by RFC 5321).

    Accepts the common dot-atom form (no quoted local parts, no IP literals); international
    domains are converted to their ASCII (IDNA) form.
    """
    if not isinstance(raw, str):
        raise InvalidAddress("must be a string")
    address = raw.strip()
    if not address:
        raise InvalidAddress("must not be empty")
    if len(address) > MAX_ADDRESS_LENGTH:
        raise InvalidAddress(f"must be at most {MAX_ADDRESS_LENGTH} characters")
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise InvalidAddress("must look like name@example.com")
    if len(local) > 64 or not _LOCAL.fullmatch(local):
        raise InvalidAddress("the part before @ is not valid")
    try:
        domain = domain.lower().encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidAddress("the domain is not valid") from None
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidAddress("the domain is not valid")
    if not re.fullmatch(r"[a-z]{2,63}|xn--[a-z0-9-]{1,59}", labels[-1]):
        raise InvalidAddress("the domain is not valid")
    normalized = f"{local}@{domain}"
    if len(normalized) > MAX_ADDRESS_LENGTH:
        raise InvalidAddress(f"must be at most {MAX_ADDRESS_LENGTH} characters")
    return normalized


def address_id(key: bytes, address: str) -> str:
    """A keyed hash of a normalised address: stable, and not reversible without the key
    (a plain hash of an address can be reversed with a list of addresses)."""
    return hmac.new(key, b"address:" + address.encode(), hashlib.sha256).hexdigest()[:32]

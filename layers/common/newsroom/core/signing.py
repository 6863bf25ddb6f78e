"""The stack's HMAC signing key (links in emails, story previews), read once per container
from an SSM SecureString parameter that the account setup creates (``make account-setup``):
CloudFormation cannot create a SecureString, and the key must never be in the repository."""

from functools import cached_property
from typing import Any


class SigningKey:
    """The HMAC key, read once per container from an SSM SecureString parameter. ``ssm`` is
    an SSM client, or a function that makes one: then a container that never needs the key
    (the read API without previews) never pays for the client."""

    def __init__(self, ssm: Any, parameter_name: str) -> None:
        self._ssm = ssm
        self._name = parameter_name

    @cached_property
    def value(self) -> bytes:
        ssm = self._ssm() if callable(self._ssm) else self._ssm
        response = ssm.get_parameter(Name=self._name, WithDecryption=True)
        return str(response["Parameter"]["Value"]).encode()

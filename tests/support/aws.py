"""What the tests share about the embedded AWS backend: the region and resource names the
fixtures create, and the loader of the real handlers with their template environment."""

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from devtools.functions import load_function_module
from devtools.template import function_environment

REGION = "us-east-1"
TABLE = "stories-test"
BUCKET = "signal-noise-content-test"

ReadReceipt = Callable[[str], dict[str, Any]]
"""The ``read_receipt`` fixture: the receipt the ingest wrote for an ``incoming/...`` key."""


def load_function(
    name: str, logical_id: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> ModuleType:
    """The real ``functions/<name>/app.py`` with the function's environment from the
    template plus ``env``, loaded fresh as in a new Lambda container. The variables stay set
    (through ``monkeypatch``) for the test, as they stay set in the container."""
    function_env = {**function_environment(logical_id), **env}
    for key, value in function_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    function_env.pop("AWS_ENDPOINT_URL", None)
    return load_function_module(name, function_env)

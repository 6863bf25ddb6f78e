"""What a test tier does when a tool it needs is missing: skip with the reason on a
developer's machine, fail under CI (``CI=true``), where a run must never pass by skipping."""

import os
from typing import NoReturn

import pytest


def unavailable(what: str, reason: str) -> NoReturn:
    """``what`` is needed (e.g. "the SAM CLI") and is not there because of ``reason``."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required in CI (CI=true): {reason}", pytrace=False)
    pytest.skip(f"{what} unavailable: {reason}")

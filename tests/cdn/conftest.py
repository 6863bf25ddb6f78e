"""tests/cdn: the local stack behind a real shared cache (nginx, devtools/cdn.py;
helpers in tests/support/cdn.py).

nginx is Debian's package (scripts/install-nginx.sh, ``make nginx``). Without it the tests
are skipped, except under CI (CI=true), where they fail.
"""

import pytest

from tests.support.cdn import OriginCalls, record_origin_calls


@pytest.fixture
def origin_calls(monkeypatch: pytest.MonkeyPatch) -> OriginCalls:
    """Every request that reaches the stack's functions during the test."""
    return record_origin_calls(monkeypatch)

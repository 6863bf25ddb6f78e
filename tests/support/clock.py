"""Waiting for a wall-clock instant: a story is public from its ``published_at`` on, so a
test that uploads one "a moment from now" waits for that moment before it reads it."""

import time
from datetime import UTC, datetime


def sleep_until(instant: datetime, margin: float = 0.1) -> None:
    """Return once ``instant`` (aware) has passed by ``margin`` seconds."""
    time.sleep(max(0.0, (instant - datetime.now(UTC)).total_seconds()) + margin)

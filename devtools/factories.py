"""Story objects for tests and benchmarks, as an uploader would send them."""

from typing import Any


def valid_story(**overrides: Any) -> dict[str, Any]:
    """A minimal valid story; ``overrides`` replace (or add) fields."""
    story: dict[str, Any] = {
        "title": "Rates held steady",
        "summary": "The central bank kept its rate unchanged.",
        "published_at": "2025-10-17T09:30:00-04:00",
    }
    story.update(overrides)
    return story

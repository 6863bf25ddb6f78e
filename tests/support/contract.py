"""The upload contract's verdict on a document, for tests of what it reports."""

from typing import Any

import pytest
from pydantic import ValidationError

from newsroom.stories.contract import StoryIn


def contract_errors(data: dict[str, Any]) -> list[Any]:
    """pydantic's errors for ``data``; fails the test when ``data`` is valid."""
    with pytest.raises(ValidationError) as caught:
        StoryIn.model_validate(data)
    return caught.value.errors(include_url=False)

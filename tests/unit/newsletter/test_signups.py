"""The signup queue's message: exactly ``{"address", "requested_at"}``, both strings."""

import json

import pytest

from newsroom.newsletter.signups import ConfirmationRequest


def test_a_request_round_trips_through_its_message_body() -> None:
    request = ConfirmationRequest("reader@example.com", "2025-10-22T07:00:00Z")
    body = request.to_json()
    assert json.loads(body) == {
        "address": "reader@example.com",
        "requested_at": request.requested_at,
    }
    assert ConfirmationRequest.from_json(body) == request


@pytest.mark.parametrize(
    "body",
    [
        "[]",
        '{"address": "a@example.com"}',
        '{"address": "a@example.com", "requested_at": "x", "extra": 1}',
        '{"address": 1, "requested_at": "x"}',
    ],
)
def test_any_other_message_is_refused(body: str) -> None:
    with pytest.raises(ValueError):
        ConfirmationRequest.from_json(body)

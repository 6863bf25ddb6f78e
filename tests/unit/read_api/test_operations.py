"""``newsroom.read_api.operations.OPERATIONS``: the operations table is the read API's routes as
``template.yaml`` declares them (exactly the API function's GET routes), every operation a GET
with an operation id of its own."""

from newsroom.newsletter.operations import SUBSCRIPTION_OPERATIONS
from newsroom.read_api.operations import OPERATIONS
from tests.support.template_routes import api_events, template_routes


def test_template_get_routes_are_the_operations() -> None:
    assert template_routes("GET") == {(op.method, op.path) for op in OPERATIONS}
    assert all(op.method == "GET" for op in OPERATIONS)
    assert len({op.operation_id for op in OPERATIONS}) == len(OPERATIONS)


def test_template_subscription_routes_are_the_subscription_operations() -> None:
    """SubscriptionsFunction's routes (but CORS preflights) are its operations table, and no
    operation id is used twice across the two functions' tables."""
    declared = {
        (e["Method"].upper(), e["Path"])
        for e in api_events("SubscriptionsFunction").values()
        if e["Method"].upper() != "OPTIONS"
    }
    assert declared == {(op.method, op.path) for op in SUBSCRIPTION_OPERATIONS}
    ids = [op.operation_id for op in (*OPERATIONS, *SUBSCRIPTION_OPERATIONS)]
    assert len(set(ids)) == len(ids)

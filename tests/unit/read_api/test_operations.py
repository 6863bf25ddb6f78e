"""``newsroom.read_api.operations.OPERATIONS``: the operations table is the read API's routes as
``template.yaml`` declares them (exactly the API function's GET routes), every operation a GET
with an operation id of its own."""

from newsroom.read_api.operations import OPERATIONS
from tests.support.template_routes import template_routes


def test_template_get_routes_are_the_operations() -> None:
    assert template_routes("GET") == {(op.method, op.path) for op in OPERATIONS}
    assert all(op.method == "GET" for op in OPERATIONS)
    assert len({op.operation_id for op in OPERATIONS}) == len(OPERATIONS)

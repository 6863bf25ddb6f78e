"""A module scope that is safe to snapshot, for every function the template lets SnapStart
apply to: loaded as a new container would (a fresh interpreter), it opens no network connection
at INIT and registers the after-restore hook that reseeds ``random``, which runs as Lambda's
runtime runs it (``snapshot_restore_py``'s registry) and gives fresh state.

The rules: "Handling uniqueness with Lambda SnapStart" and "Maximize Lambda SnapStart
performance" (network connections) in the Lambda developer guide."""

from typing import Any

import pytest

from devtools.template import load_template
from tests.support.cold_container import LOAD_HANDLER, run_in_cold_container

# Runs in the child: every connect() refused and recorded while the handler loads, then the
# after-restore hooks run as the runtime runs them.
_PROBE = (
    """
import socket
attempts = []

def refuse(self, address):
    attempts.append(repr(address))
    raise OSError("no network at INIT")

socket.socket.connect = refuse
"""
    + LOAD_HANDLER
    + """
load_function_module(sys.argv[1])
import random, snapshot_restore_py

random.seed(1234)  # the state a snapshot would hold, identical in every restored environment
frozen = random.random()
random.seed(1234)
hooks = []
for func, args, kwargs in snapshot_restore_py.get_after_restore():
    hooks.append(func.__module__ + "." + func.__qualname__)
    func(*args, **kwargs)
print(json.dumps({"attempts": attempts, "hooks": hooks, "same": random.random() == frozen}))
"""
)


def snapstart_functions() -> list[tuple[str, str]]:
    """(code folder, logical id) of every function with a SnapStart setting in the template."""
    found = []
    for logical_id, res in load_template()["Resources"].items():
        properties = res.get("Properties", {})
        if res.get("Type") == "AWS::Serverless::Function" and "SnapStart" in properties:
            found.append((properties["CodeUri"].strip("/").split("/")[-1], logical_id))
    return found


def restored(name: str, logical_id: str) -> dict[str, Any]:
    report: dict[str, Any] = run_in_cold_container(_PROBE, name, logical_id)
    return report


def test_the_rest_functions_are_the_ones_snapstart_may_apply_to() -> None:
    assert {logical_id for _, logical_id in snapstart_functions()} == {
        "ApiFunction",
        "SubscriptionsFunction",
    }


@pytest.mark.parametrize(("name", "logical_id"), snapstart_functions())
def test_init_opens_no_network_connection(name: str, logical_id: str) -> None:
    assert restored(name, logical_id)["attempts"] == []


@pytest.mark.parametrize(("name", "logical_id"), snapstart_functions())
def test_random_is_reseeded_after_a_restore(name: str, logical_id: str) -> None:
    report = restored(name, logical_id)
    assert "newsroom.core.snapshots.reseed_random" in report["hooks"]
    assert report["same"] is False  # not the sequence every restored environment would share

"""Function containers in worker processes (devtools/workers.py), as ``make dev`` runs them:
a handler's error answers as it does in-process, a worker that dies is reported and replaced,
one that overruns its timeout is killed, and two containers really run at the same time.

The handlers here are small files written by the tests, loaded by the worker as
``functions/<name>/app.py`` would be; the last test runs the whole stack in that mode."""

import json
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from devtools.functions import LambdaContext
from devtools.gateway import Container, Gateway
from devtools.stack import Stack
from devtools.workers import FunctionError, WorkerHandler
from tests.support.stack import running_stack

HANDLER = """
import json
import os
import time
from pathlib import Path

def handler(event, context):
    query = event.get("queryStringParameters") or event
    action = query.get("action", "echo")
    if action == "raise":
        raise ValueError("the handler failed on purpose")
    if action == "exit":
        os._exit(3)
    if action == "sleep":
        time.sleep(float(query["seconds"]))
    if action == "meet":  # mark that this one started, then wait for the other one's mark
        Path(query["mine"]).touch()
        deadline = time.monotonic() + float(query["patience"])
        while not Path(query["other"]).exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        saw = Path(query["other"]).exists()
        return {"statusCode": 200, "body": json.dumps({"saw_other": saw, "pid": os.getpid()})}
    return {
        "statusCode": 200,
        "body": json.dumps({"pid": os.getpid(), "request_id": context.aws_request_id,
                            "function": context.function_name,
                            "setting": os.environ.get("WORKER_TEST_SETTING")}),
    }
"""


@pytest.fixture
def handler_file(tmp_path: Path) -> Path:
    path = tmp_path / "handler.py"
    path.write_text(HANDLER)
    return path


@pytest.fixture
def workers(handler_file: Path) -> Iterator[list[WorkerHandler]]:
    """Two workers of the test handler, the API's function id (its template timeout)."""
    started = [
        WorkerHandler(str(handler_file), {"WORKER_TEST_SETTING": "from-env"}, "ApiFunction")
        for _ in range(2)
    ]
    yield started
    for worker in started:
        worker.close()


def get(gateway: Gateway, path: str) -> tuple[int, dict[str, Any] | None]:
    status, _, payload = gateway.handle("GET", path, [("Host", "local")], b"", "local")
    try:
        return status, json.loads(payload)
    except ValueError:
        return status, None


def gateway_with(containers: list[Container]) -> Gateway:
    gateway = Gateway({})
    gateway.containers["ApiFunction"] = containers
    return gateway


def test_the_handler_runs_in_the_worker_with_the_function_environment(
    workers: list[WorkerHandler],
) -> None:
    context = LambdaContext("ApiFunction", request_id="request-1")
    answer = workers[0]({"action": "echo"}, context)
    assert json.loads(answer["body"]) == {
        "pid": workers[0].pid,
        "request_id": "request-1",
        "function": "ApiFunction",
        "setting": "from-env",
    }


def test_a_handler_error_is_a_502_as_in_process(
    workers: list[WorkerHandler], handler_file: Path
) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("in_process_handler", handler_file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    target = "/stories?action=raise"
    in_process = get(gateway_with([Container(module.handler, "ApiFunction")]), target)
    isolated = get(gateway_with([Container(workers[0], "ApiFunction")]), target)
    assert in_process == isolated == (502, {"message": "Internal server error"})


def test_a_handler_error_carries_the_type_and_message_and_the_worker_stays(
    workers: list[WorkerHandler],
) -> None:
    pid = workers[0].pid
    with pytest.raises(FunctionError) as raised:
        workers[0]({"action": "raise"}, LambdaContext("ApiFunction"))
    assert (raised.value.error_type, raised.value.message) == (
        "ValueError",
        "the handler failed on purpose",
    )
    answer = workers[0]({"action": "echo"}, LambdaContext("ApiFunction"))
    assert json.loads(answer["body"])["pid"] == pid  # still the same warm container
    assert workers[0].starts == 1


def test_a_worker_that_dies_is_reported_then_replaced_by_a_cold_one(
    workers: list[WorkerHandler],
) -> None:
    first_pid = workers[0].pid
    gateway = gateway_with([Container(workers[0], "ApiFunction")])
    assert get(gateway, "/stories?action=exit") == (502, {"message": "Internal server error"})
    with pytest.raises(FunctionError) as raised:  # what the caller sees, said plainly
        workers[1]({"action": "exit"}, LambdaContext("ApiFunction"))
    assert raised.value.error_type == "Runtime.ExitError"
    assert "status 3" in raised.value.message
    status, body = get(gateway, "/stories?action=echo")
    assert status == 200 and body is not None
    assert body["pid"] != first_pid
    assert workers[0].starts == 2


def test_an_invocation_over_its_timeout_is_killed_and_the_next_one_answers(
    handler_file: Path,
) -> None:
    worker = WorkerHandler(str(handler_file), {}, "ApiFunction", timeout=1)
    try:
        with pytest.raises(FunctionError) as raised:
            worker({"action": "sleep", "seconds": "60"}, LambdaContext("ApiFunction"))
        assert raised.value.error_type == "Sandbox.Timedout"
        answer = worker({"action": "echo"}, LambdaContext("ApiFunction"))
        assert answer["statusCode"] == 200
        assert worker.starts == 2
    finally:
        worker.close()


def test_a_module_that_fails_to_load_fails_every_invocation_clearly(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('no settings')\n")
    worker = WorkerHandler(str(broken), {}, "ApiFunction")
    try:
        with pytest.raises(FunctionError) as raised:
            worker({}, LambdaContext("ApiFunction"))
        assert (raised.value.error_type, raised.value.message) == ("RuntimeError", "no settings")
    finally:
        worker.close()


def test_two_containers_of_the_gateway_run_at_the_same_time(
    workers: list[WorkerHandler], tmp_path: Path
) -> None:
    """Each invocation marks that it started and waits (up to 30 s) for the other's mark: both
    see it only if they overlap; one at a time, the first gives up without seeing the second."""
    gateway = gateway_with([Container(worker, "ApiFunction") for worker in workers])
    marks = [tmp_path / "a", tmp_path / "b"]
    answers: list[tuple[int, dict[str, Any] | None]] = []

    def meet(mine: Path, other: Path) -> None:
        answers.append(get(gateway, f"/stories?action=meet&mine={mine}&other={other}&patience=30"))

    threads = [
        threading.Thread(target=meet, args=(marks[0], marks[1])),
        threading.Thread(target=meet, args=(marks[1], marks[0])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [status for status, _ in answers] == [200, 200]
    assert all(body is not None and body["saw_other"] for _, body in answers)
    assert {body["pid"] for _, body in answers if body} == {w.pid for w in workers}


@pytest.fixture(scope="module")
def worker_stack() -> Iterator[Stack]:
    with running_stack(workers=True) as running:
        yield running


def signed_up(stack: Stack, address: str) -> list[dict[str, Any]]:
    """Sign ``address`` up through the stack's API (a 202) and return the confirmation emails
    the stack's SES has sent it, once there is one (within 30 s)."""
    request = urllib.request.Request(
        stack.api_url + "/subscriptions",
        data=json.dumps({"email": address}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 202
    deadline = time.monotonic() + 30
    while not (mails := [m for m in stack.sent_emails() if m["to"] == address]):
        assert time.monotonic() < deadline, "no confirmation email after 30 s"
        time.sleep(0.1)
    return mails


def test_the_stack_in_workers_mode_runs_moto_and_functions_in_other_processes(
    worker_stack: Stack,
) -> None:
    assert not worker_stack.backend.in_process
    api = [c for c in worker_stack.containers if c.name == "ApiFunction"]
    assert len(api) == 4 and all(c.isolated for c in api)


def test_the_stack_in_workers_mode_reports_the_emails_moto_sent(worker_stack: Stack) -> None:
    address = f"worker-{uuid.uuid4().hex[:8]}@example.com"
    mails = signed_up(worker_stack, address)
    assert len(mails) == 1
    assert any("/subscriptions/confirm" in link for link in mails[0]["links"])
    with urllib.request.urlopen(worker_stack.api_url + "/_local/emails", timeout=30) as response:
        listed = json.loads(response.read())
    assert [m["to"] for m in listed if m["to"] == address] == [address]


def test_the_stack_in_workers_mode_runs_the_digest_through_its_queue(worker_stack: Stack) -> None:
    """A confirmed subscriber and a story of the last hour: the planner, the digest queue and
    the sender, each in its own worker, finish the run with that one subscriber handled (the
    sender skips it: it confirmed after the story, so the story is not new to it)."""
    published = datetime.now(UTC) - timedelta(hours=1)
    story = {
        "slug": "news-for-the-worker-digest",
        "title": "News for the digest",
        "summary": "A story published an hour ago, so the digest has something new.",
        "published_at": published.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "topics": ["ai"],
    }
    key = "incoming/editors/worker-digest.json"
    worker_stack.backend.client("s3").put_object(
        Bucket=worker_stack.backend.bucket, Key=key, Body=json.dumps(story).encode()
    )
    assert worker_stack.wait_for_receipt(key, timeout=30)["counts"]["created"] == 1
    address = f"digest-{uuid.uuid4().hex[:8]}@example.com"
    mails = signed_up(worker_stack, address)
    [confirm] = [link for link in mails[0]["links"] if "/subscriptions/confirm" in link]
    assert confirm.startswith(worker_stack.api_url)
    with urllib.request.urlopen(confirm, timeout=30) as response:
        assert response.status == 200
    run = worker_stack.run_digest(wait_seconds=60)
    assert (run["outcome"], run["status"], run["stories"], run["subscribers"]) == (
        "planned",
        "finished",
        1,
        1,
    )
    assert (run["sent"], run["failed"], run["suppressed"], run["skipped"]) == (0, 0, 0, 1)

"""The embedded AWS backend for local development: moto's server on loopback, with the
table and the bucket created from their definitions in ``template.yaml``."""

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from devtools.template import ROOT, create_table_kwargs, parameter_default, resource
from devtools.workers import LineReader

REGION = "us-east-1"
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


def make_dynamodb_requests_atomic(setattr: Callable[[Any, str, Any], None]) -> None:
    """Make each moto DynamoDB request atomic, as every real DynamoDB request is (pass a
    ``monkeypatch.setattr``, so the patch is undone afterwards).

    moto evaluates a ``ConditionExpression`` and writes the item in separate steps, and its
    in-process table is not thread-safe, so concurrent writers could interleave inside one
    ``PutItem``; real DynamoDB never allows that. Requests still interleave with each other.
    """
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.Lock()
    call_action = DynamoHandler.call_action

    def atomic(self: DynamoHandler) -> Any:
        with lock:
            return call_action(self)

    setattr(DynamoHandler, "call_action", atomic)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


SUBSCRIBERS_TABLE = "signal-noise-subscribers"
MOTO_STARTUP_SECONDS = 60.0


def raw_emails_in_process() -> list[str]:
    """The raw MIME of every email moto's SES in this process has accepted, oldest first."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    messages = ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
    return [raw for raw in (getattr(m, "raw_data", None) for m in messages) if raw is not None]


class MotoProcess:
    """moto's server in its own process (``python -m devtools.backend PORT``), so its work
    does not share a GIL with the functions. Its stdin and stdout carry one question, the
    emails its SES holds (moto's HTTP API does not expose them); EOF on stdin stops it."""

    def __init__(self, port: int) -> None:
        self.lock = threading.Lock()
        self.process = subprocess.Popen(  # noqa: S603 - this interpreter, our module
            [sys.executable, "-m", "devtools.backend", str(port)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self.process.stdout is not None
        self.lines = LineReader(self.process.stdout)
        if self._answer(MOTO_STARTUP_SECONDS) != "ready":
            self.stop()
            raise RuntimeError(f"moto's server did not start on port {port}")

    def _answer(self, timeout: float) -> Any:
        try:
            line = self.lines.read(timeout)
        except TimeoutError:
            line = None
        return None if line is None else json.loads(line)

    def raw_emails(self) -> list[str]:
        with self.lock:
            assert self.process.stdin is not None
            self.process.stdin.write(b"emails\n")
            self.process.stdin.flush()
            answer = self._answer(30)
        if not isinstance(answer, list):
            raise RuntimeError("moto's server did not answer")
        return [str(raw) for raw in answer]

    def stop(self) -> None:
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


@dataclass
class Backend:
    """A running moto server and the names of the resources created on it."""

    endpoint_url: str
    table: str
    bucket: str
    server: ThreadedMotoServer | MotoProcess
    subscribers_table: str = SUBSCRIBERS_TABLE

    @property
    def in_process(self) -> bool:
        """Whether moto's state lives in this process (its backends can be read directly)."""
        return isinstance(self.server, ThreadedMotoServer)

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint_url, region_name=REGION)  # type: ignore[call-overload]

    def raw_emails(self) -> list[str]:
        """The raw MIME of every email the backend's SES has accepted, oldest first."""
        if isinstance(self.server, MotoProcess):
            return self.server.raw_emails()
        return raw_emails_in_process()

    def stop(self) -> None:
        self.server.stop()


def start_backend(
    port: int = 0,
    table: str = "signal-noise-stories",
    bucket: str = "signal-noise-content",
    *,
    own_process: bool = False,
) -> Backend:
    """Start moto's server on 127.0.0.1 (in a thread, or with ``own_process`` in a process of
    its own) and create the template's table and bucket.

    Sets dummy credentials, the region and ``AWS_ENDPOINT_URL`` in this process's
    environment, so handlers loaded afterwards talk to the embedded backend.
    """
    os.environ.update(DUMMY_CREDENTIALS)
    port = port or free_port()
    server: ThreadedMotoServer | MotoProcess
    if own_process:
        server = MotoProcess(port)
    else:
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
    endpoint = f"http://127.0.0.1:{port}"
    # moto keeps its state per process: start from empty even if a stack ran before.
    reset = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")  # noqa: S310
    urllib.request.urlopen(reset, timeout=5).close()  # noqa: S310 - loopback
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    backend = Backend(endpoint, table, bucket, server)
    backend.client("dynamodb").create_table(**create_table_kwargs("StoriesTable", table))
    backend.client("s3").create_bucket(Bucket=bucket)
    _newsletter_resources(backend)
    return backend


def _newsletter_resources(backend: Backend) -> None:
    """The subscribers table (from the template), a fresh random signing key in SSM (never
    a literal), and the sender's SES identity, verified as an operator would."""
    dynamodb = backend.client("dynamodb")
    dynamodb.create_table(**create_table_kwargs("SubscribersTable", backend.subscribers_table))
    ttl = resource("SubscribersTable")["TimeToLiveSpecification"]
    dynamodb.update_time_to_live(
        TableName=backend.subscribers_table,
        TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
    )
    backend.client("ssm").put_parameter(
        Name=str(parameter_default("SigningKeyParameterName")),
        Value=secrets.token_urlsafe(32),
        Type="SecureString",
        Overwrite=True,
    )
    backend.client("ses").verify_email_identity(EmailAddress=str(parameter_default("SenderEmail")))


def faster_moto_server(setattr: Callable[[Any, str, Any], None]) -> None:
    """Costs of moto's server that are not AWS's, found profiling it under the load test
    (pass ``setattr``, or a ``monkeypatch.setattr`` to undo them): every request lists moto's
    package folder (a ``stat`` per service, under a lock all requests share) to recognise a
    service name; the response's headers and body are two writes, so with Nagle's algorithm
    the body can wait for the client's delayed ACK; and two DynamoDB steps below. The answers
    are the same (tests/unit/devtools/test_moto_speedups.py)."""
    from moto import backends
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    modules = tuple(backends.list_of_moto_modules())
    setattr(backends, "list_of_moto_modules", lambda: iter(modules))
    setattr(MotoRequestHandler, "disable_nagle_algorithm", True)
    _project_converting_once(setattr)
    _attribute_values_as_they_are(setattr)
    one_table_backup_per_transaction(setattr)


def one_table_backup_per_transaction(setattr: Callable[[Any, str, Any], None]) -> None:
    """moto backs a ``TransactWriteItems`` up by deep-copying its table once per action
    (``copy.deepcopy`` in a loop before any write): the whole table, up to 100 times a call.
    The copies are all of the same state, so one per table is the same backup. Only where
    every DynamoDB request runs alone (``make_dynamodb_requests_atomic``, as in this process):
    the module's ``copy`` is swapped for the length of one call."""
    from moto.dynamodb import models

    transact_write_items = models.DynamoDBBackend.transact_write_items
    namespace = vars(models)  # the module's globals: its code calls copy.deepcopy
    real_copy = namespace["copy"]

    class OneCopyEach:
        def __init__(self) -> None:
            self.copies: dict[int, Any] = {}

        def deepcopy(self, value: Any) -> Any:
            if id(value) not in self.copies:
                self.copies[id(value)] = real_copy.deepcopy(value)
            return self.copies[id(value)]

        def __getattr__(self, name: str) -> Any:
            return getattr(real_copy, name)

    def once_per_table(backend: Any, transact_items: list[dict[str, Any]]) -> None:
        namespace["copy"] = OneCopyEach()
        try:
            transact_write_items(backend, transact_items)
        finally:
            namespace["copy"] = real_copy

    setattr(models.DynamoDBBackend, "transact_write_items", once_per_table)


def _is_wire_json(value: Any) -> bool:
    """Whether ``value`` holds only what JSON carries as is (no bytes, numbers or None), and
    no binary attribute value (``B``, ``BS``: base64 on the wire; a map key of that name
    also counts, to stay on the safe side)."""
    if isinstance(value, str | bool):
        return True
    if isinstance(value, list):
        return all(_is_wire_json(v) for v in value)
    if isinstance(value, dict):
        return all(
            isinstance(k, str) and k not in ("B", "BS") and _is_wire_json(v)
            for k, v in value.items()
        )
    return False


def _attribute_values_as_they_are(setattr: Callable[[Any, str, Any], None]) -> None:
    """moto's JSON serializer walks the botocore model member by member for every attribute
    value of every item (most of a ``BatchGetItem``'s time): an ``AttributeValue`` that is
    already in its wire form (strings, booleans, lists and maps of them, as moto's items
    give them) is written as it is; anything else goes through moto's own code."""
    from moto.core.serialize import JSONSerializer

    serialize_structure = JSONSerializer._serialize_type_structure

    def as_they_are(
        self: JSONSerializer, serialized: Any, value: Any, shape: Any, key: str
    ) -> None:
        if key and shape.name == "AttributeValue" and _is_wire_json(value):
            self._default_serialize(serialized, value, shape, key)
            return
        serialize_structure(self, serialized, value, shape, key)

    setattr(JSONSerializer, "_serialize_type_structure", as_they_are)


def _project_converting_once(setattr: Callable[[Any, str, Any], None]) -> None:
    """moto's ``Item.project`` converts the whole item to plain JSON once per projected
    attribute: a GSI with ``INCLUDE`` projection (the feed index) converts each story a dozen
    times per ``Query``. For top-level attribute names (distinct, no list index) the result is
    the same from one conversion; any other projection goes through moto's own code."""
    from moto.dynamodb.models.dynamo_type import Item, serializer

    project = Item.project

    def converting_once(self: Item, projection_expressions: list[list[str]]) -> Item:
        names = [path[0] for path in projection_expressions if len(path) == 1]
        if len(names) != len(projection_expressions) or len(set(names)) != len(names):
            return project(self, projection_expressions)
        if any("[" in name for name in names):
            return project(self, projection_expressions)
        regular = self.to_regular_json()
        result = {name: regular[name] for name in names if name in regular}
        return Item(
            hash_key=self.hash_key,
            range_key=self.range_key,
            attrs=dict(serializer.serialize(result)["M"]),
        )

    setattr(Item, "project", converting_once)


def main(argv: list[str]) -> int:
    """moto's server process: serve on 127.0.0.1:PORT, answer ``emails`` on stdin, stop at EOF.
    Each DynamoDB request is atomic here, as in DynamoDB."""
    import logging

    (port,) = argv
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
    make_dynamodb_requests_atomic(setattr)  # for the life of this process
    faster_moto_server(setattr)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(port), verbose=False)
    server.start()
    channel.write(b'"ready"\n')
    channel.flush()
    for line in sys.stdin.buffer:
        if line.strip() == b"emails":
            channel.write(json.dumps(raw_emails_in_process()).encode() + b"\n")
            channel.flush()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The embedded AWS backend for local development: moto's server on loopback, with the
table and the bucket created from their definitions in ``template.yaml``."""

import os
import secrets
import socket
import threading
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from devtools.template import create_table_kwargs, parameter_default, resource

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


@dataclass
class Backend:
    """A running moto server and the names of the resources created on it."""

    endpoint_url: str
    table: str
    bucket: str
    server: ThreadedMotoServer
    subscribers_table: str = SUBSCRIBERS_TABLE

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint_url, region_name=REGION)  # type: ignore[call-overload]

    def stop(self) -> None:
        self.server.stop()


def start_backend(
    port: int = 0, table: str = "signal-noise-stories", bucket: str = "signal-noise-content"
) -> Backend:
    """Start moto's server on 127.0.0.1 and create the template's table and bucket.

    Sets dummy credentials, the region and ``AWS_ENDPOINT_URL`` in this process's
    environment, so handlers loaded afterwards talk to the embedded backend.
    """
    os.environ.update(DUMMY_CREDENTIALS)
    port = port or free_port()
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

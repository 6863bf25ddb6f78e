"""The embedded AWS backend for local development: moto's server on loopback, with the
table and the bucket created from their definitions in ``template.yaml``."""

import os
import socket
import urllib.request
from dataclasses import dataclass
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from devtools.template import create_table_kwargs

REGION = "us-east-1"
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class Backend:
    """A running moto server and the names of the resources created on it."""

    endpoint_url: str
    table: str
    bucket: str
    server: ThreadedMotoServer

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
    return backend

"""AWS clients, created once per container (module scope of the caller, or this cache).

boto3 honours ``AWS_ENDPOINT_URL`` (set by the local stack and ``sam local`` env files), so
the same code talks to AWS, to moto's server or to anything else that speaks the API.
"""

from functools import cache
from typing import Any

import boto3
from botocore.config import Config


@cache
def client(service: str, max_pool_connections: int = 10) -> Any:
    """A shared client for ``service`` with standard retries (throttling backs off)."""
    config = Config(
        retries={"mode": "standard", "max_attempts": 3},
        max_pool_connections=max_pool_connections,
        connect_timeout=3,
        read_timeout=10,
    )
    return boto3.client(service, config=config)  # type: ignore[call-overload]

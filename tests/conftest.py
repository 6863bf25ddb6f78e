"""Shared fixtures: moto-backed AWS resources built from ``template.yaml`` and the real
handlers loaded from ``functions/``."""

import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from devtools.backend import make_dynamodb_requests_atomic
from devtools.functions import LambdaContext
from devtools.template import create_table_kwargs, function_environment
from newsroom.core import aws
from newsroom.ingest.settings import IngestSettings
from tests.support.aws import BUCKET, REGION, TABLE, ReadReceipt, load_function
from tests.support.story_files import SAMPLES


@pytest.fixture(autouse=True)
def _aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials and no endpoint override: nothing can reach real AWS."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def moto() -> Iterator[None]:
    with mock_aws():
        aws.client.cache_clear()
        yield
    aws.client.cache_clear()


@pytest.fixture
def atomic_moto_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each moto DynamoDB request atomic, as in DynamoDB (for tests that write from threads)."""
    make_dynamodb_requests_atomic(monkeypatch.setattr)


@pytest.fixture
def dynamodb(moto: None) -> Any:
    return boto3.client("dynamodb", region_name=REGION)


@pytest.fixture
def s3(moto: None) -> Any:
    return boto3.client("s3", region_name=REGION)


@pytest.fixture
def stories_table(dynamodb: Any) -> str:
    """The stories table, created from its definition in template.yaml."""
    dynamodb.create_table(**create_table_kwargs("StoriesTable", TABLE))
    return TABLE


@pytest.fixture
def bucket(s3: Any) -> str:
    s3.create_bucket(Bucket=BUCKET)
    return BUCKET


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext("IngestFunction", memory_mb=1024)


@pytest.fixture
def ingest_app(stories_table: str, bucket: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The real ingest function module, wired to the moto table and bucket."""
    return load_function("ingest", "IngestFunction", {"STORIES_TABLE": stories_table}, monkeypatch)


@pytest.fixture
def api_app(stories_table: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The real read API function module, wired to the moto table."""
    return load_function("api", "ApiFunction", {"STORIES_TABLE": stories_table}, monkeypatch)


@pytest.fixture
def read_receipt(s3: Any, bucket: str) -> ReadReceipt:
    """The receipt the ingest wrote for an ``incoming/...`` key (where the template's
    settings of the ingest function put it)."""
    settings = IngestSettings.from_env(
        {**function_environment("IngestFunction"), "STORIES_TABLE": TABLE}
    )

    def read(source_key: str) -> dict[str, Any]:
        key = settings.receipt_key(source_key)
        receipt: dict[str, Any] = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        return receipt

    return read


@pytest.fixture
def sample_files() -> list[Path]:
    return sorted(p for p in SAMPLES.iterdir() if p.suffix in (".json", ".jsonl", ".ndjson"))

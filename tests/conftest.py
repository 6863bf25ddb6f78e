"""Shared fixtures: moto-backed AWS resources built from ``template.yaml`` and the real
handlers loaded from ``functions/``; the hooks that fail a test whose functions made an AWS
call outside their IAM role, and that tell the permission coverage test what the session ran
(``tests.support.iam``)."""

import json
from collections.abc import Generator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from devtools.backend import make_dynamodb_requests_atomic, one_table_backup_per_transaction
from devtools.functions import LambdaContext
from devtools.template import create_table_kwargs, function_environment
from newsroom.core import aws
from newsroom.ingest.settings import IngestSettings
from tests.support import iam
from tests.support.aws import BUCKET, REGION, TABLE, ReadReceipt, load_function
from tests.support.newsletter import signing_key

__all__ = ["signing_key"]  # a fixture used by name (the ingest's and the API's preview links)
from tests.support.story_files import SAMPLES

RUNS_LAST = "runs_last"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{RUNS_LAST}: runs after every other test of the session (it judges them)"
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker(RUNS_LAST) is not None)


def pytest_deselected(items: list[pytest.Item]) -> None:
    tier = iam.LEDGER.integration
    tier.deselected.update(i.nodeid for i in items if i.nodeid.startswith(f"{tier.folder}/"))


def pytest_collection_finish(session: pytest.Session) -> None:
    tier = iam.LEDGER.integration
    tier.collected = {i.nodeid for i in session.items if i.nodeid.startswith(f"{tier.folder}/")}
    root = session.config.rootpath
    for arg in session.config.args:
        path, _, rest = arg.partition("::")
        absolute = (
            Path(path) if Path(path).is_absolute() else session.config.invocation_params.dir / path
        )
        if rest and absolute.resolve().is_relative_to(root / tier.folder):
            tier.narrowed = True


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    tier = iam.LEDGER.integration
    if not report.nodeid.startswith(f"{tier.folder}/"):
        return
    if report.skipped:
        tier.skipped.add(report.nodeid)
    elif report.when == "call":
        tier.ran.add(report.nodeid)
    if report.failed:
        tier.failed.add(report.nodeid)


def _outside_the_role(denials: list[iam.Denial]) -> str:
    described = list(dict.fromkeys(d.describe() for d in denials))
    return "\n".join(
        ["AWS calls outside the function's IAM role (template.yaml as SAM translates it):"]
        + [f"  - {text}" for text in described]
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None]:
    iam.LEDGER.start_test()
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None]:
    """A call a function's role may not make (or that has no IAM mapping) fails the test,
    whatever the code did with the ``AccessDenied`` it got; a test that is about such a call
    collects it with ``iam.LEDGER.expect_denials()``."""
    try:
        result = yield
    except BaseException as exc:
        denials = iam.LEDGER.finish_test()
        if denials:
            then = f"\n(the test then failed with {type(exc).__name__}: {str(exc)[:500]})"
            raise pytest.fail.Exception(_outside_the_role(denials) + then, pytrace=False) from exc
        raise
    denials = iam.LEDGER.finish_test()
    if denials:
        pytest.fail(_outside_the_role(denials), pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None]:
    result = yield
    denials = iam.LEDGER.finish_test()
    if denials:
        pytest.fail(_outside_the_role(denials), pytrace=False)
    return result


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
    """Each moto DynamoDB request atomic, as in DynamoDB (for tests that write from threads);
    then a transaction's backup can be one copy of its table, not one per action."""
    make_dynamodb_requests_atomic(monkeypatch.setattr)
    one_table_backup_per_transaction(monkeypatch.setattr)


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
def ingest_app(
    stories_table: str,
    bucket: str,
    signing_key: bytes,
    atomic_moto_dynamodb: None,
    monkeypatch: pytest.MonkeyPatch,
) -> ModuleType:
    """The real ingest function module, wired to the moto table and bucket (and the signing
    key of its preview links in SSM). It writes from threads: each moto request is made
    atomic, as every DynamoDB request is (moto copies the table around a transaction)."""
    return load_function("ingest", "IngestFunction", {"STORIES_TABLE": stories_table}, monkeypatch)


@pytest.fixture
def api_app(stories_table: str, signing_key: bytes, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The real read API function module, wired to the moto table (and the signing key that
    checks preview links in SSM)."""
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

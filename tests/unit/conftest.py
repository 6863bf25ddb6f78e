"""Fixtures for the unit tests of more than one capability: ``loaded_api``, the real read API
function with every sample story file ingested by the real ingest function (used by the read
API's end-to-end tests and by the checks of the sample events in ``events/``)."""

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from devtools.events import s3_event, s3_record
from devtools.template import s3_event_prefix
from tests.support.api_answers import Answer


@pytest.fixture
def loaded_api(
    api_app: ModuleType,
    ingest_app: ModuleType,
    s3: Any,
    bucket: str,
    lambda_context: Any,
    sample_files: list[Path],
) -> Any:
    """``call(event) -> Answer`` through the real API function, with every sample file
    ingested by the real ingest function."""
    prefix = s3_event_prefix("IngestFunction")
    for path in sample_files:
        key = f"{prefix}samples/{path.name}"
        data = path.read_bytes()
        s3.put_object(Bucket=bucket, Key=key, Body=data)
        ingest_app.handler(s3_event(s3_record(bucket, key, size=len(data))), lambda_context)

    def call(event: dict[str, Any]) -> Answer:
        return Answer(api_app.handler(event, lambda_context))

    return call

"""The permission checker on the real functions: the roles come from ``template.yaml`` as
SAM translates it, the calls from the handlers' own botocore clients against moto. A test
here edits a role (``iam.without``, ``iam.replacing``) and shows what the function then gets:
the ``ClientError`` AWS would raise, and a recorded denial naming the function, the action,
the resource and what the role lacks."""

import json
import os
import subprocess
import sys
from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ClientError

from devtools.events import apigw_event, s3_event, s3_record
from devtools.functions import LambdaContext
from devtools.template import ROOT
from devtools.translate import SamUnavailableError
from tests.support import iam
from tests.support.aws import REGION, TABLE, load_function
from tests.support.tiers import unavailable

pytestmark = pytest.mark.filterwarnings(
    "ignore:No application metrics to publish:UserWarning"  # Powertools, for an ingest that fails
)
FEED_INDEX_ARN = f"arn:aws:dynamodb:{REGION}:{iam.ACCOUNT}:table/{TABLE}/index/feed"


@pytest.fixture(autouse=True)
def _translation() -> None:
    """These tests are about the checks: without SAM's translation there are none."""
    try:
        iam.translated_template()
    except SamUnavailableError as exc:
        unavailable("the SAM CLI", str(exc))


def load_api(monkeypatch: pytest.MonkeyPatch, edit: iam.PolicyEdit | None = None) -> ModuleType:
    return load_function(
        "api", "ApiFunction", {"STORIES_TABLE": TABLE}, monkeypatch, edit_policy=edit
    )


def list_stories(module: ModuleType) -> dict[str, Any]:
    reply: dict[str, Any] = module.handler(
        apigw_event("GET", "/stories"), LambdaContext("ApiFunction")
    )
    return reply


def query_feed(module: ModuleType) -> Any:
    return module.dynamodb.query(
        TableName=TABLE,
        IndexName="feed",
        KeyConditionExpression="feed_pk = :feed",
        ExpressionAttributeValues={":feed": {"S": "feed"}},
    )


def test_the_template_role_allows_what_the_api_does(
    stories_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with iam.LEDGER.expect_denials() as denied:
        reply = list_stories(load_api(monkeypatch))

    assert reply["statusCode"] == 200
    assert denied == []


def test_without_query_on_the_feed_index_the_list_call_is_access_denied(
    stories_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = load_api(monkeypatch, iam.without("ReadFeedIndex"))

    with iam.LEDGER.expect_denials() as denied:
        reply = list_stories(api)

    assert reply["statusCode"] == 500  # an unexpected AWS error: a problem, no details
    assert "AccessDenied" not in reply["body"] and "dynamodb" not in reply["body"]
    (denial,) = denied
    assert denial.request is not None
    assert (denial.role.function, denial.request.action, denial.request.resource) == (
        "ApiFunction",
        "dynamodb:Query",
        FEED_INDEX_ARN,
    )
    text = denial.describe()
    assert text.startswith(f"ApiFunction may not dynamodb:Query on {FEED_INDEX_ARN}")
    assert '"Effect": "Allow", "Action": "dynamodb:Query"' in text


def test_a_denied_call_raises_the_client_error_dynamodb_raises(
    stories_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = load_api(monkeypatch, iam.without("ReadFeedIndex"))

    with iam.LEDGER.expect_denials(), pytest.raises(ClientError) as raised:
        query_feed(api)

    error = raised.value.response
    assert error["Error"]["Code"] == "AccessDeniedException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Message"] == (
        f"User: arn:aws:sts::{iam.ACCOUNT}:assumed-role/ApiFunctionRole/ApiFunction is not "
        f"authorized to perform: dynamodb:Query on resource: {FEED_INDEX_ARN} because no "
        "identity-based policy allows the dynamodb:Query action"
    )


def test_wildcards_in_a_statement_match_as_iam_does(
    stories_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    any_index = "arn:aws:dynamodb:*:*:table/stories-*/index/*"
    table_only = f"arn:aws:dynamodb:*:*:table/{TABLE}"
    wide = load_api(monkeypatch, iam.replacing("ReadFeedIndex", resources=(any_index,)))
    narrow = load_api(monkeypatch, iam.replacing("ReadFeedIndex", resources=(table_only,)))

    assert query_feed(wide)["Items"] == []
    with iam.LEDGER.expect_denials() as denied, pytest.raises(ClientError):
        query_feed(narrow)  # an index is a resource of its own
    assert [d.request.resource for d in denied if d.request] == [FEED_INDEX_ARN]


def test_a_statement_whose_condition_does_not_match_denies(
    stories_table: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest = load_function(
        "ingest",
        "IngestFunction",
        {"STORIES_TABLE": stories_table},
        monkeypatch,
        edit_policy=iam.replacing(
            "ListIncoming", condition={"StringLike": {"s3:prefix": ["receipts/*"]}}
        ),
    )
    event = s3_event(s3_record(bucket, "incoming/gone.json", size=10))

    with iam.LEDGER.expect_denials() as denied, pytest.raises(ClientError) as raised:
        ingest.handler(event, LambdaContext("IngestFunction"))

    assert raised.value.response["Error"]["Code"] == "AccessDenied"
    assert [(d.request.action, d.missing_key) for d in denied if d.request] == [
        ("s3:ListBucket", True)
    ]


def test_an_operation_without_an_iam_mapping_is_refused(
    api_app: ModuleType, stories_table: str
) -> None:
    with iam.LEDGER.expect_denials() as denied, pytest.raises(ClientError) as raised:
        api_app.dynamodb.describe_table(TableName=stories_table)

    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"
    (denial,) = denied
    assert denial.request is None
    assert "ApiFunction called dynamodb.DescribeTable, which tests/support/iam.py does not map" in (
        denial.describe()
    )


def test_head_of_a_missing_key_is_403_without_list_and_404_with_it(
    s3: Any, bucket: str, stories_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"STORIES_TABLE": stories_table}
    granted = load_function("ingest", "IngestFunction", env, monkeypatch)
    refused = load_function(
        "ingest", "IngestFunction", env, monkeypatch, edit_policy=iam.without("ListIncoming")
    )
    key = "incoming/never-uploaded.json"

    with pytest.raises(ClientError) as found:
        granted.ingestor._s3.head_object(Bucket=bucket, Key=key)
    with iam.LEDGER.expect_denials(), pytest.raises(ClientError) as refused_error:
        refused.ingestor._s3.head_object(Bucket=bucket, Key=key)

    assert found.value.response["Error"]["Code"] == "404"
    assert refused_error.value.response["Error"]["Code"] == "403"
    assert refused_error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_a_call_outside_the_role_fails_the_test_that_made_it() -> None:
    """Run an integration test with the statement it needs removed from the role
    (``TEST_IAM_WITHOUT``): the test fails, and says why."""
    test = (
        "tests/integration/test_api.py::test_an_unknown_draft_or_retracted_story_costs_one_get_item"
    )
    env = {**os.environ, iam.WITHOUT_VARIABLE: "ApiFunction:ReadStories"}

    result = subprocess.run(
        [sys.executable, "-m", "pytest", test, "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 1, result.stdout[-3000:]
    assert "1 failed" in result.stdout
    assert "AWS calls outside the function's IAM role" in result.stdout
    assert (
        f"ApiFunction may not dynamodb:GetItem on arn:aws:dynamodb:{REGION}:{iam.ACCOUNT}:"
        f"table/{TABLE}"
    ) in result.stdout


def test_the_loader_binds_the_policy_to_the_tables_the_test_created(
    stories_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = load_api(monkeypatch)
    role = iam.loaded(api).checker
    assert role is not None
    resources = {s.sid: s.resources for s in role.role.statements}

    assert resources["ReadStories"] == (
        f"arn:aws:dynamodb:{REGION}:{iam.ACCOUNT}:table/{stories_table}",
    )
    assert resources["ReadFeedIndex"] == (FEED_INDEX_ARN,)
    assert json.dumps(role.role.managed)  # AWS managed policies are listed, not evaluated

"""The permission checker's rules, one per test: IAM's evaluation logic (IAM User Guide,
"Policy evaluation logic" and "IAM JSON policy elements": Action, Resource, Condition and its
operators) and what IAM authorizes for each API call the functions make (Service
Authorization Reference). No SAM CLI needed: policies are written here."""

from typing import Any

import pytest

from tests.support import iam

REGION = "us-east-1"
ACCOUNT = iam.ACCOUNT
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/stories"


def policy(*statements: dict[str, Any]) -> list[iam.Statement]:
    return [iam.Statement.parse("TestPolicy", i, s) for i, s in enumerate(statements)]


def allow(action: str | list[str], resource: str | list[str], **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def allowed(
    statements: list[iam.Statement],
    action: str,
    resource: str,
    context: dict[str, str] | None = None,
) -> bool:
    values = {key: (value,) for key, value in (context or {}).items()}
    return iam.evaluate(statements, iam.Request(action, resource, values)).allowed


def requests(service: str, operation: str, **params: Any) -> list[iam.Request]:
    call = iam.Call(service, operation, params, REGION, lambda: ["signal-noise.example"])
    return iam.OPERATIONS[(service, operation)](call)


# -- actions and resources ------------------------------------------------------------------


def test_nothing_is_allowed_without_a_statement_that_allows_it() -> None:
    assert not allowed([], "dynamodb:GetItem", TABLE_ARN)
    assert not allowed(policy(allow("dynamodb:GetItem", TABLE_ARN)), "dynamodb:PutItem", TABLE_ARN)


def test_action_wildcards_match_as_iam_does_and_ignore_case() -> None:
    statements = policy(allow("dynamodb:Get*", TABLE_ARN), allow("s3:?etObject", "*"))

    assert allowed(statements, "dynamodb:GetItem", TABLE_ARN)
    assert allowed(statements, "DynamoDB:getitem", TABLE_ARN)
    assert not allowed(statements, "dynamodb:PutItem", TABLE_ARN)
    assert allowed(statements, "s3:GetObject", "arn:aws:s3:::b/k")
    assert not allowed(statements, "s3:GetObjectVersion", "arn:aws:s3:::b/k")


def test_resource_wildcards_cross_slashes_and_everything_else_is_literal() -> None:
    statements = policy(allow("s3:GetObject", "arn:aws:s3:::content.bucket/incoming/*"))

    assert allowed(statements, "s3:GetObject", "arn:aws:s3:::content.bucket/incoming/a/b.json")
    assert not allowed(statements, "s3:GetObject", "arn:aws:s3:::content.bucket/receipts/a.json")
    assert not allowed(statements, "s3:GetObject", "arn:aws:s3:::contentxbucket/incoming/a.json")
    assert not allowed(statements, "s3:GetObject", "arn:aws:s3:::Content.bucket/incoming/a.json")


def test_a_table_grant_does_not_cover_its_indexes() -> None:
    statements = policy(allow("dynamodb:Query", TABLE_ARN))

    assert allowed(statements, "dynamodb:Query", TABLE_ARN)
    assert not allowed(statements, "dynamodb:Query", f"{TABLE_ARN}/index/feed")
    assert allowed(
        policy(allow("dynamodb:Query", f"{TABLE_ARN}/index/*")),
        "dynamodb:Query",
        f"{TABLE_ARN}/index/feed",
    )


def test_an_explicit_deny_wins_over_any_allow_in_any_order() -> None:
    deny = {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::b/secret/*"}
    for statements in (
        policy(allow("s3:GetObject", "*"), deny),
        policy(deny, allow("s3:GetObject", "*")),
    ):
        decision = iam.evaluate(statements, iam.Request("s3:GetObject", "arn:aws:s3:::b/secret/k"))
        assert not decision.allowed
        assert decision.denied_by is not None and decision.denied_by.effect == "Deny"
        assert allowed(statements, "s3:GetObject", "arn:aws:s3:::b/public/k")


def test_not_action_and_not_resource_allow_everything_but_what_they_name() -> None:
    not_s3 = policy({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"})
    not_private = policy(
        {"Effect": "Allow", "Action": "sqs:SendMessage", "NotResource": "arn:aws:sqs:*:*:private-*"}
    )

    assert allowed(not_s3, "dynamodb:GetItem", TABLE_ARN)
    assert not allowed(not_s3, "s3:GetObject", "arn:aws:s3:::b/k")
    assert allowed(not_private, "sqs:SendMessage", f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq")
    assert not allowed(not_private, "sqs:SendMessage", f"arn:aws:sqs:{REGION}:{ACCOUNT}:private-q")


# -- conditions -------------------------------------------------------------------------------


LIST_INCOMING = allow(
    "s3:ListBucket", "arn:aws:s3:::b", Condition={"StringLike": {"s3:prefix": ["incoming/*"]}}
)


def test_a_condition_that_does_not_match_leaves_the_statement_out() -> None:
    statements = policy(LIST_INCOMING)

    assert allowed(statements, "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "incoming/a.json"})
    assert not allowed(
        statements, "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "receipts/a.json"}
    )


def test_a_condition_on_a_key_the_request_lacks_does_not_match() -> None:
    assert not allowed(policy(LIST_INCOMING), "s3:ListBucket", "arn:aws:s3:::b")


def test_string_equals_matches_any_listed_value_exactly() -> None:
    statements = policy(
        allow(
            "ses:SendRawEmail",
            "*",
            Condition={"StringEquals": {"ses:FromAddress": ["a@x.example", "b@x.example"]}},
        )
    )

    assert allowed(statements, "ses:SendRawEmail", "i", {"ses:FromAddress": "b@x.example"})
    assert not allowed(statements, "ses:SendRawEmail", "i", {"ses:FromAddress": "B@x.example"})
    assert not allowed(statements, "ses:SendRawEmail", "i", {"ses:FromAddress": "c@x.example"})


def test_condition_keys_are_case_insensitive_and_values_are_not() -> None:
    statements = policy(
        allow("s3:ListBucket", "*", Condition={"StringEquals": {"S3:Prefix": "a/"}})
    )

    assert allowed(statements, "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "a/"})
    assert not allowed(statements, "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "A/"})


@pytest.mark.parametrize(
    ("operator", "values", "holds"),
    [
        ("StringNotEquals", None, True),  # negated operators hold for a missing key
        ("StringNotEquals", ("a",), False),
        ("StringNotEquals", ("b",), True),
        ("StringEqualsIfExists", None, True),
        ("StringEqualsIfExists", ("b",), False),
        ("StringNotLike", ("a",), False),
        ("StringEqualsIgnoreCase", ("A",), True),
        ("ForAnyValue:StringEquals", None, False),
        ("ForAnyValue:StringEquals", ("b", "a"), True),
        ("ForAllValues:StringEquals", None, True),
        ("ForAllValues:StringEquals", ("a", "b"), False),
        ("ForAllValues:StringEquals", ("a", "a"), True),
    ],
)
def test_condition_operators_follow_iam(
    operator: str, values: tuple[str, ...] | None, holds: bool
) -> None:
    assert iam.condition_holds(operator, "k", ["a"], values) is holds


def test_null_tests_whether_the_key_is_missing() -> None:
    assert iam.condition_holds("Null", "k", "true", None)
    assert not iam.condition_holds("Null", "k", "true", ("x",))
    assert iam.condition_holds("Null", "k", "false", ("x",))


def test_bool_and_arn_operators() -> None:
    assert iam.condition_holds("Bool", "aws:SecureTransport", False, ("false",))
    assert iam.condition_holds(
        "ArnLike", "aws:SourceArn", "arn:aws:s3:::b*", ("arn:aws:s3:::bucket",)
    )
    assert not iam.condition_holds(
        "ArnLike", "aws:SourceArn", "arn:aws:s3:::b*", ("arn:aws:sqs:::b",)
    )


def test_an_operator_that_is_not_modelled_fails_loudly_instead_of_allowing() -> None:
    statements = policy(
        allow("s3:GetObject", "*", Condition={"NumericLessThan": {"s3:max-keys": "10"}})
    )

    with pytest.raises(iam.UnsupportedPolicyError, match="NumericLessThan"):
        iam.evaluate(statements, iam.Request("s3:GetObject", "arn:aws:s3:::b/k"))


def test_a_policy_variable_fails_loudly() -> None:
    with pytest.raises(iam.UnsupportedPolicyError, match="policy variable"):
        policy(allow("s3:GetObject", "arn:aws:s3:::b/${aws:username}/*"))


# -- what each API call is authorized as -------------------------------------------------------


def test_query_on_an_index_is_authorized_on_the_index() -> None:
    assert requests("dynamodb", "Query", TableName="stories", IndexName="feed") == [
        iam.Request("dynamodb:Query", f"{TABLE_ARN}/index/feed")
    ]
    assert requests("dynamodb", "Query", TableName="stories") == [
        iam.Request("dynamodb:Query", TABLE_ARN)
    ]


def test_batch_writes_are_authorized_on_every_table_they_name() -> None:
    found = requests("dynamodb", "BatchWriteItem", RequestItems={"stories": [], "other": []})

    assert [(r.action, r.resource) for r in found] == [
        ("dynamodb:BatchWriteItem", TABLE_ARN),
        ("dynamodb:BatchWriteItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/other"),
    ]


def test_s3_object_calls_are_authorized_on_the_object_and_extras_need_their_own_action() -> None:
    assert requests("s3", "GetObject", Bucket="b", Key="incoming/a b.json") == [
        iam.Request("s3:GetObject", "arn:aws:s3:::b/incoming/a b.json")
    ]
    assert [r.action for r in requests("s3", "GetObject", Bucket="b", Key="k", VersionId="v")] == [
        "s3:GetObjectVersion"
    ]
    put = requests("s3", "PutObject", Bucket="b", Key="receipts/k", Tagging="a=b", ACL="private")
    assert [r.action for r in put] == ["s3:PutObject", "s3:PutObjectTagging", "s3:PutObjectAcl"]
    assert put[0].context == {"s3:x-amz-acl": ("private",)}


def test_listing_is_authorized_on_the_bucket_with_the_prefix_as_context() -> None:
    assert requests("s3", "ListObjectsV2", Bucket="b", Prefix="incoming/") == [
        iam.Request("s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": ("incoming/",)})
    ]
    assert iam.missing_key_listing("b", "incoming/x.json") == iam.Request(
        "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": ("incoming/x.json",)}
    )


def test_raw_email_is_authorized_on_the_sending_identity_with_its_from_address() -> None:
    raw = b"From: SIGNAL/NOISE <news@signal-noise.example>\r\nTo: r@example.net\r\n\r\nbody"

    (request,) = requests("ses", "SendRawEmail", RawMessage={"Data": raw})

    assert request.action == "ses:SendRawEmail"
    assert request.resource == f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/signal-noise.example"
    assert request.context == {
        "ses:FromAddress": ("news@signal-noise.example",),
        "ses:Recipients": ("r@example.net",),
        "ses:FromDisplayName": ("SIGNAL/NOISE",),
    }


@pytest.mark.parametrize(
    ("address", "verified", "identity"),
    [
        (
            "a@signal-noise.example",
            ["a@signal-noise.example", "signal-noise.example"],
            "a@signal-noise.example",
        ),
        ("a@signal-noise.example", ["signal-noise.example"], "signal-noise.example"),
        ("a@mail.signal-noise.example", ["signal-noise.example"], "signal-noise.example"),
        ("a@signal-noise.example", ["example"], "a@signal-noise.example"),  # a TLD is none
        ("a@signal-noise.example", [], "a@signal-noise.example"),
    ],
)
def test_the_sending_identity_is_the_address_else_its_nearest_verified_domain(
    address: str, verified: list[str], identity: str
) -> None:
    assert iam.sending_identity(address, verified) == identity


def test_parameter_arns_keep_the_hierarchy() -> None:
    assert requests("ssm", "GetParameter", Name="/signal-noise/key", WithDecryption=True) == [
        iam.Request(
            "ssm:GetParameter", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/signal-noise/key"
        )
    ]
    assert requests("ssm", "GetParameter", Name="flat")[0].resource.endswith(":parameter/flat")


def test_sending_to_a_queue_is_authorized_on_the_queue() -> None:
    url = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/ingest-dlq"

    assert requests("sqs", "SendMessage", QueueUrl=url, MessageBody="{}") == [
        iam.Request("sqs:SendMessage", f"arn:aws:sqs:{REGION}:{ACCOUNT}:ingest-dlq")
    ]

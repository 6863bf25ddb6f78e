"""The newsletter's AWS resources for integration tests, as ``template.yaml`` declares them:
the subscribers table, the signing key in SSM and the sender's SES identity (pytest fixtures:
a test module imports the ones it uses)."""

import secrets
from typing import Any

import boto3
import pytest

from devtools.template import create_table_kwargs, parameter_default, resource
from tests.support.aws import REGION

SUBSCRIBERS = "subscribers-test"
SENDER = str(parameter_default("SenderEmail"))
KEY_PARAMETER = str(parameter_default("SigningKeyParameterName"))


@pytest.fixture
def subscribers_table(dynamodb: Any) -> str:
    """The subscribers table as the template declares it (GSI ``confirmed``, TTL)."""
    dynamodb.create_table(**create_table_kwargs("SubscribersTable", SUBSCRIBERS))
    ttl = resource("SubscribersTable")["TimeToLiveSpecification"]
    dynamodb.update_time_to_live(
        TableName=SUBSCRIBERS,
        TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
    )
    return SUBSCRIBERS


@pytest.fixture
def signing_key(moto: None) -> bytes:
    """A random key in the SSM SecureString parameter the template names (never a literal)."""
    value = secrets.token_urlsafe(32)
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name=KEY_PARAMETER, Value=value, Type="SecureString"
    )
    return value.encode()


@pytest.fixture
def sender(moto: None) -> str:
    """The sender's identity, verified in SES (moto refuses mail from unverified senders)."""
    boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress=SENDER)
    return SENDER

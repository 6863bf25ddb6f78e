"""``make account-check`` / ``make account-setup`` (``devtools.account``) against moto: an
empty account lacks every item and the check exits 1; with the sender's domain verified with
Easy DKIM, production access and the signing key created by setup, it exits 0. Setup never
overwrites a key and never prints one; the sender, the key's name and the rate are those the
samconfig environment deploys with.

moto 5.2 does not implement ``sesv2 GetAccount`` (NotImplementedError), so that one call is
answered by botocore's ``Stubber`` on the real client, with the response shape of the SES API v2
reference (the Stubber validates it against botocore's model); every other call goes to moto.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from devtools import account, samconfig
from devtools.account import Clients, Requirements

REGION = "us-east-1"
# A new account is in the sandbox in every region: 200 emails a day, 1 a second (SES developer
# guide, "Request production access (Moving out of the Amazon SES sandbox)").
SANDBOX_QUOTA = {"Max24HourSend": 200.0, "MaxSendRate": 1.0, "SentLast24Hours": 0.0}
PRODUCTION_QUOTA = {"Max24HourSend": 50000.0, "MaxSendRate": 14.0, "SentLast24Hours": 12.0}


def get_account_answer(*, production: bool, quota: dict[str, float]) -> dict[str, Any]:
    """``sesv2 GetAccount`` as SES answers it (API v2 reference, GetAccount)."""
    return {
        "DedicatedIpAutoWarmupEnabled": False,
        "EnforcementStatus": "HEALTHY",
        "ProductionAccessEnabled": production,
        "SendQuota": quota,
        "SendingEnabled": True,
        "SuppressionAttributes": {"SuppressedReasons": ["BOUNCE", "COMPLAINT"]},
    }


@dataclass
class Account:
    """A moto account in ``REGION`` whose SES account state (``GetAccount``) the test sets."""

    clients: Clients
    capsys: pytest.CaptureFixture[str]
    get_account: dict[str, Any] = field(
        default_factory=lambda: get_account_answer(production=False, quota=SANDBOX_QUOTA)
    )

    def __post_init__(self) -> None:
        self.stubber = Stubber(self.clients.sesv2)
        self.stubber.activate()

    def run(self, *args: str) -> tuple[int, str, str]:
        """``python -m devtools.account ARGS --region REGION``: (exit status, stdout, stderr)."""
        if args[0] == "check":
            self.stubber.add_response("get_account", self.get_account, {})
        self.capsys.readouterr()
        status = account.main([*args, "--region", REGION], clients_for=self._clients_for)
        out, err = self.capsys.readouterr()
        return status, out, err

    def _clients_for(self, region: str, profile: str | None) -> Clients:
        assert region == self.clients.region
        return self.clients

    def grant_production_access(self, quota: dict[str, float] = PRODUCTION_QUOTA) -> None:
        self.get_account = get_account_answer(production=True, quota=quota)

    def verify_domain_with_easy_dkim(self, domain: str) -> None:
        # What the README tells operators to run. Real SES answers Pending until it finds the
        # three CNAME records in DNS (SES developer guide, "Easy DKIM"); moto verifies at once.
        boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity=domain)


@pytest.fixture
def aws(capsys: pytest.CaptureFixture[str]) -> Iterator[Account]:
    with mock_aws():
        clients = Clients(
            REGION,
            boto3.client("ses", region_name=REGION),
            boto3.client("sesv2", region_name=REGION),
            boto3.client("ssm", region_name=REGION),
        )
        yield Account(clients, capsys)


def line_of(out: str, item: str) -> str:
    lines = [line for line in out.splitlines() if line[6:].startswith(item)]
    assert len(lines) == 1, f"one line for {item!r} expected in:\n{out}"
    return lines[0]


def signing_key(ssm: Any, env: str = "prod") -> str:
    name = Requirements.of(env).signing_key_parameter
    return str(ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"])


PROD = Requirements.of("prod")
ITEMS = ("sender identity", "DKIM", "production access", "send quota", "signing key")


def test_requirements_are_the_environments_parameters() -> None:
    for env in ("dev", "prod"):
        parameters = samconfig.deploy_parameters(env)
        need = Requirements.of(env)
        assert need.sender == parameters["SenderEmail"]
        assert need.signing_key_parameter == parameters["SigningKeyParameterName"]
        assert need.max_send_rate == float(parameters["SesMaxSendRate"])


def test_an_empty_account_reports_every_missing_item_with_its_fix(aws: Account) -> None:
    status, out, _ = aws.run("check", "prod")
    assert status == 1
    for item in ITEMS:
        assert line_of(out, item).startswith("FAIL"), out
        assert "-> fix:" in line_of(out, item)
    assert f"create-email-identity --email-identity {PROD.domain}" in line_of(out, "DKIM")
    assert "put-account-details --production-access-enabled" in line_of(out, "production")
    assert "SesMaxSendRate=1 " in line_of(out, "send quota")
    assert "make account-setup ENV=prod" in line_of(out, "signing key")
    assert out.splitlines()[-1] == "0 of 5 in place"


def test_a_ready_account_passes(aws: Account) -> None:
    aws.verify_domain_with_easy_dkim(PROD.domain)
    aws.grant_production_access()
    assert aws.run("setup", "prod")[0] == 0
    status, out, _ = aws.run("check", "prod")
    assert status == 0, out
    for item in ITEMS:
        assert line_of(out, item).startswith("ok"), out
    assert "-> fix" not in out
    assert out.splitlines()[-1] == "all in place"


def test_each_item_alone_is_not_enough(aws: Account) -> None:
    aws.verify_domain_with_easy_dkim(PROD.domain)
    assert aws.run("setup", "prod")[0] == 0
    status, out, _ = aws.run("check", "prod")  # still in the sandbox
    assert status == 1
    assert [line[:4].strip() for line in out.splitlines()[1:6]] == [
        "ok",
        "ok",
        "FAIL",
        "FAIL",
        "ok",
    ]


def test_setup_twice_keeps_the_first_key(aws: Account) -> None:
    status, out, _ = aws.run("setup", "prod")
    assert status == 0 and "created " + PROD.signing_key_parameter in out
    first = signing_key(aws.clients.ssm)
    status, out, _ = aws.run("setup", "prod")
    assert status == 0 and "kept the existing key" in out
    assert signing_key(aws.clients.ssm) == first
    parameter = aws.clients.ssm.get_parameter(Name=PROD.signing_key_parameter)["Parameter"]
    assert parameter["Version"] == 1  # never written again


def test_the_key_is_random_and_never_printed(aws: Account) -> None:
    printed = "".join(aws.run("setup", "prod")[1:])
    printed += "".join(aws.run("setup", "prod")[1:])
    printed += "".join(aws.run("check", "prod")[1:])
    key = signing_key(aws.clients.ssm)
    assert len(key) >= 43  # at least secrets.token_urlsafe(32): 256 bits
    assert key not in printed
    parameter = aws.clients.ssm.describe_parameters()["Parameters"][0]
    assert parameter["Type"] == "SecureString"
    assert parameter.get("KeyId", "alias/aws/ssm") == "alias/aws/ssm"


def test_each_environment_has_its_own_key(aws: Account) -> None:
    assert aws.run("setup", "dev")[0] == 0
    assert Requirements.of("dev").signing_key_parameter != PROD.signing_key_parameter
    assert line_of(aws.run("check", "dev")[1], "signing key").startswith("ok")
    assert line_of(aws.run("check", "prod")[1], "signing key").startswith("FAIL")


def test_a_plain_string_parameter_is_reported_and_never_overwritten(aws: Account) -> None:
    aws.clients.ssm.put_parameter(Name=PROD.signing_key_parameter, Value="in clear", Type="String")
    check = line_of(aws.run("check", "prod")[1], "signing key")
    assert check.startswith("FAIL") and "String parameter" in check
    assert f"aws ssm delete-parameter --name {PROD.signing_key_parameter}" in check
    status, out, _ = aws.run("setup", "prod")
    assert status == 1 and "never overwritten" in out
    assert signing_key(aws.clients.ssm) == "in clear"


def test_a_key_under_a_customer_managed_kms_key_is_reported(aws: Account) -> None:
    # Only the AWS managed key aws/ssm lets every principal of the account decrypt through SSM;
    # another key needs kms:Decrypt, which the functions' roles do not have (Systems Manager
    # user guide, "Restricting decryption of SecureString parameter values").
    key_id = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["KeyId"]
    aws.clients.ssm.put_parameter(
        Name=PROD.signing_key_parameter, Value="x" * 64, Type="SecureString", KeyId=key_id
    )
    check = line_of(aws.run("check", "prod")[1], "signing key")
    assert check.startswith("FAIL") and key_id in check and "kms:Decrypt" in check


def test_an_address_identity_sends_but_without_the_domains_dkim(aws: Account) -> None:
    aws.clients.ses.verify_email_identity(EmailAddress=PROD.sender)
    out = aws.run("check", "prod")[1]
    assert line_of(out, "sender identity").startswith("ok")
    assert "the address is verified" in line_of(out, "sender identity")
    assert line_of(out, "DKIM").startswith("FAIL")


def test_a_send_rate_below_the_templates_rate_is_reported(aws: Account) -> None:
    aws.grant_production_access({**PRODUCTION_QUOTA, "MaxSendRate": 2.0})
    check = line_of(aws.run("check", "prod")[1], "send quota")
    assert check.startswith("FAIL")
    assert f"SesMaxSendRate {PROD.max_send_rate:g}" in check
    assert "set SesMaxSendRate=2 in samconfig.toml [prod]" in check


def test_the_sandbox_may_be_accepted_for_a_test_stack(aws: Account) -> None:
    out = aws.run("check", "dev", "--allow-sandbox")[1]
    production = line_of(out, "production access")
    assert production.startswith("ok") and "verified addresses only" in production
    # dev sends at the sandbox's rate (samconfig.toml), so its quota fits too.
    assert line_of(out, "send quota").startswith("ok")


def test_a_pending_domain_lists_the_dns_records_to_publish() -> None:
    # Real SES before the CNAME records are in DNS (moto verifies at once): both statuses
    # Pending, with the three DKIM tokens (SES API reference, GetIdentityDkimAttributes;
    # developer guide, "Easy DKIM": <token>._domainkey.<domain> CNAME <token>.dkim.amazonses.com).
    ses = boto3.client("ses", region_name=REGION)
    tokens = ["tok1aaaaaaaaaaaaaaaaaaaaaaaaaaaa", "tok2bbbbbbbbbbbbbbbbbbbbbbbbbbbb", "tok3cc"]
    with Stubber(ses) as stubber:
        stubber.add_response(
            "get_identity_verification_attributes",
            {"VerificationAttributes": {PROD.domain: {"VerificationStatus": "Pending"}}},
            {"Identities": [PROD.sender, PROD.domain]},
        )
        stubber.add_response(
            "get_identity_dkim_attributes",
            {
                "DkimAttributes": {
                    PROD.domain: {
                        "DkimEnabled": True,
                        "DkimVerificationStatus": "Pending",
                        "DkimTokens": tokens,
                    }
                }
            },
            {"Identities": [PROD.domain]},
        )
        identity, dkim = account.sender_findings(ses, PROD, REGION)
    assert not identity.ok and "pending" in identity.detail
    assert not dkim.ok
    for token in tokens:
        assert f"{token}._domainkey.{PROD.domain} CNAME {token}.dkim.amazonses.com" in str(dkim.fix)


def test_a_refused_call_names_the_permission(aws: Account) -> None:
    aws.stubber.add_client_error("get_account", "AccessDeniedException", "not allowed")
    findings = account.account_findings(aws.clients.sesv2, PROD, REGION)
    assert [f.ok for f in findings] == [False, False]
    assert "ses:GetAccount" in findings[0].detail and "AccessDeniedException" in findings[0].detail


@pytest.mark.parametrize("argv", [["check", "staging"], ["setup", "nope"]])
def test_an_unknown_environment_is_a_usage_error(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    def never(region: str, profile: str | None) -> Clients:
        pytest.fail("no AWS call expected")

    assert account.main(argv, clients_for=never) == 2
    assert "known: dev, prod" in capsys.readouterr().err

"""What a deploy still needs outside the stack, for one samconfig environment in one region:

    python -m devtools.account check dev [--region R] [--profile P] [--allow-sandbox]
    python -m devtools.account setup dev [--region R] [--profile P]

``check`` prints one line per item, with the fix when it is not in place, and exits 0 only when
all are: the sender's SES identity verified (its domain, or the address itself), Easy DKIM on
the sender's domain, SES production access (in the sandbox mail reaches verified addresses
only), a sending rate of at least the template's ``SesMaxSendRate``, and the SSM SecureString
parameter holding the newsletter's signing key, encrypted with the AWS managed key
``alias/aws/ssm`` (the functions' roles have no ``kms:Decrypt``). The sender, the key's name
and the rate are the environment's parameters: its overrides in samconfig.toml, else the
template's defaults.

``setup`` creates the signing key when it is missing: random (``secrets.token_urlsafe``, 384
bits), a SecureString, never printed and never overwritten (``Overwrite=False``: SSM itself
refuses to replace an existing parameter).

The SES and SSM reads need ``ses:GetIdentityVerificationAttributes``,
``ses:GetIdentityDkimAttributes``, ``ses:GetAccount`` and ``ssm:DescribeParameters``; setup
needs ``ssm:PutParameter``. Neither reads the key's value.
"""

import argparse
import secrets
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from devtools import samconfig

AWS_MANAGED_SSM_KEY = "alias/aws/ssm"
KEY_BYTES = 48  # secrets.token_urlsafe(48): 64 characters, 384 random bits


class AccountError(RuntimeError):
    """The check or the setup cannot run; the message says why (exit status 2)."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One item a deploy depends on: in place or not, what was found, and the fix."""

    item: str
    ok: bool
    detail: str
    fix: str | None = None

    def line(self) -> str:
        text = f"{'ok' if self.ok else 'FAIL':<4}  {self.item:<18} {self.detail}"
        return text + (f"  -> fix: {self.fix}" if self.fix and not self.ok else "")


@dataclass(frozen=True, slots=True)
class Requirements:
    """What the environment deploys with that the account must provide."""

    env: str
    sender: str
    signing_key_parameter: str
    max_send_rate: float

    @property
    def domain(self) -> str:
        return self.sender.rpartition("@")[2].lower()

    @classmethod
    def of(cls, env: str) -> "Requirements":
        parameters = samconfig.deploy_parameters(env)
        return cls(
            env=env,
            sender=parameters["SenderEmail"],
            signing_key_parameter=parameters["SigningKeyParameterName"],
            max_send_rate=float(parameters["SesMaxSendRate"]),
        )


@dataclass(frozen=True, slots=True)
class Clients:
    """The SES (v1 for identities, v2 for the account) and SSM clients of one region."""

    region: str
    ses: Any
    sesv2: Any
    ssm: Any

    @classmethod
    def create(cls, region: str, profile: str | None = None) -> "Clients":
        try:
            session = boto3.Session(profile_name=profile, region_name=region)
        except BotoCoreError as exc:
            raise AccountError(str(exc)) from None
        if session.get_credentials() is None:
            raise AccountError("no AWS credentials: pass PROFILE=... or configure the AWS CLI")
        return cls(region, session.client("ses"), session.client("sesv2"), session.client("ssm"))


def _aws_error(item: str, action: str, exc: Exception) -> Finding:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        reason = f"{error.get('Code', '?')}: {error.get('Message', '')}".rstrip(": ")
    else:
        reason = str(exc)
    return Finding(
        item, False, f"AWS refused {action} ({reason})", f"allow {action} to this caller"
    )


# -- SES: the sender's identity and DKIM ---------------------------------------------------


def _create_identity_fix(domain: str, region: str) -> str:
    return (
        f"aws sesv2 create-email-identity --email-identity {domain} --region {region}, then "
        "publish the three CNAME records it returns (Easy DKIM verifies the domain too)"
    )


def _cname_records(domain: str, tokens: Sequence[str]) -> str:
    return ", ".join(f"{t}._domainkey.{domain} CNAME {t}.dkim.amazonses.com" for t in tokens)


def sender_findings(ses: Any, need: Requirements, region: str) -> list[Finding]:
    """The sender may send once its address or its domain is a verified identity; its mail is
    signed with the domain's key (DMARC-aligned) only when the domain has Easy DKIM."""
    domain, sender = need.domain, need.sender
    try:
        verification = ses.get_identity_verification_attributes(Identities=[sender, domain])[
            "VerificationAttributes"
        ]
    except (ClientError, BotoCoreError) as exc:
        identity = _aws_error("sender identity", "ses:GetIdentityVerificationAttributes", exc)
    else:

        def status(name: str) -> str:
            return str(verification.get(name, {}).get("VerificationStatus", "NotStarted"))

        identity = _identity_finding(sender, domain, status(sender), status(domain), region)
    try:
        dkim = ses.get_identity_dkim_attributes(Identities=[domain])["DkimAttributes"].get(domain)
    except (ClientError, BotoCoreError) as exc:
        return [identity, _aws_error("DKIM", "ses:GetIdentityDkimAttributes", exc)]
    return [identity, _dkim_finding(domain, dkim or {}, region)]


def _identity_finding(
    sender: str, domain: str, address_status: str, domain_status: str, region: str
) -> Finding:
    item = "sender identity"
    if domain_status == "Success":
        return Finding(item, True, f"{sender}: its domain {domain} is verified in {region}")
    if address_status == "Success":
        return Finding(item, True, f"{sender}: the address is verified in {region}")
    if domain_status == "Pending":
        return Finding(
            item,
            False,
            f"{domain}: verification pending (SES looks for its DNS records for 72 hours)",
            "publish the DKIM CNAME records listed on the DKIM line",
        )
    if domain_status in ("Failed", "TemporaryFailure"):
        return Finding(
            item,
            False,
            f"{domain}: verification {domain_status} (SES did not find its DNS records)",
            f"check the records, then aws sesv2 delete-email-identity --email-identity {domain} "
            f"and {_create_identity_fix(domain, region)}",
        )
    return Finding(
        item,
        False,
        f"neither {sender} nor {domain} is an SES identity in {region}",
        _create_identity_fix(domain, region),
    )


def _dkim_finding(domain: str, dkim: dict[str, Any], region: str) -> Finding:
    status = str(dkim.get("DkimVerificationStatus", "NotStarted"))
    tokens = list(dkim.get("DkimTokens", []))
    if dkim.get("DkimEnabled") and status == "Success":
        return Finding("DKIM", True, f"{domain}: Easy DKIM verified, mail is signed")
    if status == "Pending" and tokens:
        return Finding(
            "DKIM",
            False,
            f"{domain}: DKIM pending (SES has not found its CNAME records yet)",
            "publish " + _cname_records(domain, tokens),
        )
    if status == "Success":  # verified, signing switched off
        return Finding(
            "DKIM",
            False,
            f"{domain}: DKIM verified but signing is disabled",
            f"aws sesv2 put-email-identity-dkim-attributes --email-identity {domain} "
            f"--signing-enabled --region {region}",
        )
    if status in ("Failed", "TemporaryFailure"):
        return Finding(
            "DKIM",
            False,
            f"{domain}: DKIM {status} (SES did not find the CNAME records)",
            f"publish the records, then aws ses verify-domain-dkim --domain {domain} "
            f"--region {region}",
        )
    return Finding(
        "DKIM",
        False,
        f"{domain} has no DKIM in {region}: mail would not be signed with the domain's key",
        _create_identity_fix(domain, region),
    )


# -- SES: the account (sandbox, quota) -----------------------------------------------------


def account_findings(
    sesv2: Any, need: Requirements, region: str, *, allow_sandbox: bool = False
) -> list[Finding]:
    """Production access and the sending rate, from one ``sesv2 GetAccount``."""
    try:
        account = sesv2.get_account()
    except (ClientError, BotoCoreError) as exc:
        failure = _aws_error("production access", "ses:GetAccount", exc)
        return [failure, Finding("send quota", False, "unknown (see above)", failure.fix)]
    return [
        _production_finding(account, region, allow_sandbox),
        _quota_finding(account.get("SendQuota", {}), need),
    ]


def _production_finding(account: dict[str, Any], region: str, allow_sandbox: bool) -> Finding:
    item = "production access"
    if not account.get("SendingEnabled", True):
        return Finding(
            item,
            False,
            f"sending is paused for this account in {region} "
            f"(enforcement status {account.get('EnforcementStatus', '?')})",
            "see the SES console's reputation metrics, then ask AWS Support to resume sending",
        )
    if account.get("ProductionAccessEnabled"):
        return Finding(item, True, f"out of the SES sandbox in {region}")
    review = account.get("Details", {}).get("ReviewDetails", {})
    sandbox = (
        f"the SES sandbox in {region}: mail reaches verified addresses only, 200 a day, 1 a second"
    )
    if review.get("Status") == "PENDING":
        sandbox += f" (production access requested: case {review.get('CaseId', '?')}, pending)"
    if allow_sandbox:
        return Finding(item, True, sandbox + " (allowed for this check)")
    return Finding(
        item,
        False,
        sandbox,
        f"aws sesv2 put-account-details --production-access-enabled --mail-type MARKETING "
        f"--website-url <your site> --use-case-description '<who subscribes, how, how often>' "
        f"--region {region} (or the SES console: Request production access)",
    )


def _quota_finding(quota: dict[str, Any], need: Requirements) -> Finding:
    rate = float(quota.get("MaxSendRate", 0))
    daily = float(quota.get("Max24HourSend", 0))
    sent = float(quota.get("SentLast24Hours", 0))
    detail = (
        f"{rate:g} emails/s (SesMaxSendRate {need.max_send_rate:g}), "
        f"{daily:,.0f} a day, {sent:,.0f} sent in the last 24 h"
    )
    if rate >= need.max_send_rate:
        return Finding("send quota", True, detail)
    return Finding(
        "send quota",
        False,
        detail + ": the digest would outrun SES's rate",
        f"set SesMaxSendRate={rate:g} in samconfig.toml [{need.env}], or raise the SES "
        "sending rate (Service Quotas; production access raises it too)",
    )


# -- SSM: the signing key ------------------------------------------------------------------


def _describe_key(ssm: Any, name: str) -> dict[str, Any] | None:
    """The parameter's metadata (never its value), or None when it does not exist."""
    found = ssm.describe_parameters(
        ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}]
    )["Parameters"]
    return dict(found[0]) if found else None


def signing_key_finding(ssm: Any, need: Requirements) -> Finding:
    item, name = "signing key", need.signing_key_parameter
    if not name.startswith("/"):
        return Finding(
            item,
            False,
            f"{name!r}: the template grants ssm:GetParameter on parameter${{Name}}",
            "a name that starts with / (SigningKeyParameterName in samconfig.toml)",
        )
    try:
        parameter = _describe_key(ssm, name)
    except (ClientError, BotoCoreError) as exc:
        return _aws_error(item, "ssm:DescribeParameters", exc)
    if parameter is None:
        return Finding(item, False, f"{name} does not exist", f"make account-setup ENV={need.env}")
    recreate = f"aws ssm delete-parameter --name {name}, then make account-setup ENV={need.env}"
    if parameter.get("Type") != "SecureString":
        return Finding(
            item,
            False,
            f"{name} is a {parameter.get('Type')} parameter: the key would be stored in clear",
            recreate,
        )
    key_id = str(parameter.get("KeyId", AWS_MANAGED_SSM_KEY))
    if key_id != AWS_MANAGED_SSM_KEY:
        # The AWS managed key aws/ssm lets every principal of the account decrypt through SSM;
        # any other key needs kms:Decrypt, which the template does not grant (Systems Manager
        # user guide, "Restricting decryption of SecureString parameter values").
        return Finding(
            item,
            False,
            f"{name} is encrypted with {key_id}: the functions may decrypt only with "
            f"{AWS_MANAGED_SSM_KEY} (their roles have no kms:Decrypt)",
            recreate,
        )
    changed = parameter.get("LastModifiedDate")
    when = f", last changed {changed:%Y-%m-%d}" if changed is not None else ""
    return Finding(item, True, f"{name}: SecureString ({key_id}){when}")


def create_signing_key(ssm: Any, need: Requirements) -> Finding:
    """Create the key when it is missing; an existing parameter is never overwritten."""
    name = need.signing_key_parameter
    if not name.startswith("/"):
        return signing_key_finding(ssm, need)
    try:
        ssm.put_parameter(
            Name=name,
            Description="HMAC key of the newsletter's confirm and unsubscribe links",
            Value=secrets.token_urlsafe(KEY_BYTES),
            Type="SecureString",
            Overwrite=False,  # SSM answers ParameterAlreadyExists instead of replacing it
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ParameterAlreadyExists":
            return _aws_error("signing key", "ssm:PutParameter", exc)
        kept = signing_key_finding(ssm, need)
        detail = f"kept the existing key (never overwritten): {kept.detail}"
        return Finding("signing key", kept.ok, detail, kept.fix)
    except BotoCoreError as exc:
        return _aws_error("signing key", "ssm:PutParameter", exc)
    return Finding(
        "signing key",
        True,
        f"created {name}: SecureString ({AWS_MANAGED_SSM_KEY}), {KEY_BYTES * 8} random bits "
        "(the value is not shown)",
    )


# -- commands ------------------------------------------------------------------------------


def check(clients: Clients, need: Requirements, *, allow_sandbox: bool = False) -> list[Finding]:
    """Every item the deploy of ``need.env`` depends on outside the stack."""
    return [
        *sender_findings(clients.ses, need, clients.region),
        *account_findings(clients.sesv2, need, clients.region, allow_sandbox=allow_sandbox),
        signing_key_finding(clients.ssm, need),
    ]


def _report(findings: Sequence[Finding]) -> int:
    for finding in findings:
        print(finding.line())
    missing = sum(not f.ok for f in findings)
    print(f"{len(findings) - missing} of {len(findings)} in place" if missing else "all in place")
    return 1 if missing else 0


def main(
    argv: Sequence[str] | None = None,
    *,
    clients_for: Callable[[str, str | None], Clients] = Clients.create,
) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.account",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("check", "report what the deploy of ENV still needs outside the stack"),
        ("setup", "create ENV's SSM signing key when it is missing"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("env", help="a samconfig.toml environment: dev or prod")
        command.add_argument("--region", help="AWS region (default: the environment's)")
        command.add_argument("--profile", help="AWS profile (default: the usual credential chain)")
        if name == "check":
            command.add_argument(
                "--allow-sandbox",
                action="store_true",
                help="accept the SES sandbox (a test stack whose recipients are verified)",
            )
    args = parser.parse_args(argv)
    try:
        need = Requirements.of(args.env)
        region = args.region or str(samconfig.deploy_settings(args.env).get("region", ""))
        if not region:
            raise AccountError(f"no region: pass REGION=... (samconfig.toml [{args.env}] has none)")
        clients = clients_for(region, args.profile)
    except (AccountError, samconfig.SamConfigError) as exc:
        print(f"account: {exc}", file=sys.stderr)
        return 2
    if args.command == "setup":
        print(f"account: the signing key of {args.env} in {region}", flush=True)
        created = create_signing_key(clients.ssm, need)
        print(created.line())
        return 0 if created.ok else 1
    print(f"account: what {args.env} needs in {region} outside the stack", flush=True)
    return _report(check(clients, need, allow_sandbox=args.allow_sandbox))


if __name__ == "__main__":
    sys.exit(main())

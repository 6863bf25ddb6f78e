"""``make deploy ENV=...`` (``devtools.deploy``): ``sam build``, then ``sam deploy`` of that
samconfig environment, run with the caller's credentials (not samlocal's dummy ones); then the
stack's ``ApiUrl`` (read from CloudFormation, moto here) for ``make smoke``. Overrides the
template refuses, or an ``AWS_ENDPOINT_URL`` that would send the deploy elsewhere, stop it
before sam runs. The SAM CLI is a recording stand-in: a deploy needs a real account."""

import json
import os
import stat
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from devtools import deploy, samconfig
from devtools.deploy import DeployError
from devtools.samconfig import SAMCONFIG_PATH as SAMCONFIG

REGION = "us-east-1"


@pytest.fixture
def sam(tmp_path: Path) -> Path:
    """An executable standing in for ``sam``: it logs its arguments and the environment it
    was given, and fails ``build`` when ``SAM_FAIL_BUILD`` is set."""
    log = tmp_path / "sam.log"
    script = tmp_path / "sam"
    script.write_text(
        "#!/bin/sh\n"
        f"printf '%s\\n' \"$(env | sort | tr '\\n' '\\t')|$*\" >> {log}\n"
        '[ "$1" = build ] && [ -n "$SAM_FAIL_BUILD" ] && exit 3\n'
        "exit 0\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def sam_calls(sam: Path) -> list[tuple[dict[str, str], list[str]]]:
    calls = []
    for line in (sam.parent / "sam.log").read_text().splitlines():
        env_text, _, argv = line.rpartition("|")
        env = dict(item.split("=", 1) for item in env_text.split("\t") if "=" in item)
        calls.append((env, argv.split()))
    return calls


def test_deploy_builds_then_deploys_the_environment_and_names_its_url(
    sam: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = samconfig.deploy_settings("dev")["stack_name"]
    with mock_aws():
        boto3.client("cloudformation", region_name=REGION).create_stack(
            StackName=stack,
            TemplateBody=json.dumps(
                {
                    "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                    "Outputs": {
                        "ApiUrl": {"Value": "https://abc.execute-api.example/v1"},
                        # What clients call: the CDN (the execute-api URL refuses them).
                        "PublicUrl": {"Value": "https://d1.cloudfront.net"},
                    },
                }
            ),
        )
        caller = dict(os.environ)
        assert deploy.deploy("dev", profile=None, region=REGION, sam=sam) == 0
    calls = sam_calls(sam)
    assert [argv for _, argv in calls] == [
        ["build"],
        [
            "deploy",
            "--config-file",
            str(samconfig.SAMCONFIG_PATH),
            "--config-env",
            "dev",
            "--region",
            REGION,
        ],
    ]
    env = calls[1][0]
    # The caller's credentials, session token included (samlocal drops it, and sets dummies).
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        assert env[name] == caller[name], name
    assert env["SAM_CLI_TELEMETRY"] == "0"
    assert (Path(env["PATH"].split(os.pathsep)[0]) / "python3.13").exists()
    out = capsys.readouterr().out
    assert "make smoke URL=https://d1.cloudfront.net ENV=dev" in out


def test_guided_asks_every_question_with_the_environments_values(sam: Path) -> None:
    with mock_aws():  # no stack yet: the URL is not known, the deploy still succeeded
        assert deploy.deploy("prod", guided=True, sam=sam) == 0
    assert sam_calls(sam)[1][1][:4] == ["deploy", "--guided", "--config-file", str(SAMCONFIG)]
    assert sam_calls(sam)[1][1][4:] == ["--config-env", "prod"]


def test_a_failed_build_deploys_nothing(sam: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAM_FAIL_BUILD", "1")
    assert deploy.deploy("prod", sam=sam) == 3
    assert [argv[0] for _, argv in sam_calls(sam)] == ["build"]


def test_an_override_the_template_refuses_stops_the_deploy(sam: Path, tmp_path: Path) -> None:
    config = tmp_path / "samconfig.toml"
    config.write_text(
        'version = 0.1\n[x.deploy.parameters]\nstack_name = "s-x"\n'
        'parameter_overrides = ["EnableApiDocs=maybe"]\n'
    )
    with pytest.raises(DeployError, match=r"EnableApiDocs='maybe': must be one of"):
        deploy.deploy("x", sam=sam, config=config)
    assert not (sam.parent / "sam.log").exists()


def test_an_endpoint_override_is_refused(sam: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
    with pytest.raises(DeployError, match="AWS_ENDPOINT_URL is set"):
        deploy.deploy("dev", sam=sam)
    assert not (sam.parent / "sam.log").exists()


def test_an_unknown_environment_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert deploy.main(["deploy", "staging"]) == 2
    assert "known: dev, prod" in capsys.readouterr().err


def test_api_url_of_a_stack_not_deployed_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    with mock_aws():
        assert deploy.main(["api-url", "prod", "--region", REGION]) == 2
    assert "cannot read the outputs of stack signal-noise-prod" in capsys.readouterr().err

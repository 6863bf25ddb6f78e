"""``samconfig.toml``: the environments ``make deploy ENV=...`` deploys. Each is its own stack
with every override naming a parameter ``template.yaml`` declares, with a value CloudFormation
accepts for it (Type, AllowedValues, AllowedPattern, lengths, Min/MaxValue); prod serves no API
docs, lets only its site's origins read the API from a browser, mails its alarms and logs at
INFO; the two environments never share a signing key."""

import re
import tomllib
from pathlib import Path

import pytest

from devtools import samconfig
from devtools.samconfig import SAMCONFIG_PATH, SamConfigError
from devtools.template import load_template

ENVIRONMENTS = ("dev", "prod")


def test_samconfig_parses_and_deploys_dev_and_prod() -> None:
    with SAMCONFIG_PATH.open("rb") as handle:
        config = tomllib.load(handle)
    assert config["version"] == 0.1
    assert samconfig.environments() == list(ENVIRONMENTS)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_override_is_a_template_parameter_with_an_allowed_value(env: str) -> None:
    overrides = samconfig.parameter_overrides(env)
    assert overrides, f"{env} overrides nothing"
    assert set(overrides) <= set(load_template()["Parameters"])
    assert samconfig.override_problems(env) == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_override_is_one_key_value_token_as_sam_cli_splits_them(env: str) -> None:
    # SAM CLI splits parameter_overrides at spaces; a value with spaces must be quoted.
    raw = samconfig.deploy_settings(env)["parameter_overrides"]
    for item in [raw] if isinstance(raw, str) else raw:
        assert re.fullmatch(r"[A-Za-z0-9]+=(\S+|\"[^\"]*\")", item), item


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_environment_is_its_own_stack_deployed_with_iam_capability(env: str) -> None:
    settings = samconfig.deploy_settings(env)
    assert settings["stack_name"].endswith(f"-{env}")
    assert settings["region"]
    assert "CAPABILITY_IAM" in settings["capabilities"].split()
    assert settings["resolve_s3"] is True


def test_prod_serves_no_docs_and_only_its_sites_origins() -> None:
    prod = samconfig.deploy_parameters("prod")
    assert prod["EnableApiDocs"] == "false"
    origins = prod["CorsAllowedOrigins"].split(",")
    assert "*" not in prod["CorsAllowedOrigins"]
    for origin in origins:
        assert re.fullmatch(r"https://[a-z0-9.-]+(:[0-9]+)?", origin), origin


def test_prod_mails_its_alarms_logs_at_info_and_confirms_its_change_sets() -> None:
    prod = samconfig.deploy_parameters("prod")
    assert re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", prod["AlarmEmail"])
    assert prod["LogLevel"] == "INFO"
    assert samconfig.deploy_settings("prod")["confirm_changeset"] is True


def test_dev_serves_docs_to_any_origin() -> None:
    dev = samconfig.deploy_parameters("dev")
    assert dev["EnableApiDocs"] == "true"
    assert dev["CorsAllowedOrigins"] == "*"


def test_the_environments_never_share_a_signing_key() -> None:
    # A link signed by one stack must not confirm or unsubscribe on the other.
    names = {samconfig.deploy_parameters(env)["SigningKeyParameterName"] for env in ENVIRONMENTS}
    assert len(names) == len(ENVIRONMENTS)
    # The template grants ssm:GetParameter on "parameter${SigningKeyParameterName}".
    assert all(name.startswith("/") for name in names)


def test_a_parameter_not_overridden_deploys_with_the_templates_default() -> None:
    declared = load_template()["Parameters"]
    overridden = samconfig.parameter_overrides("prod")
    for name, value in samconfig.deploy_parameters("prod").items():
        if name not in overridden:
            assert value == str(declared[name].get("Default", "")), name


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ("NoSuchParameter=1", "declares no such parameter"),
        ("EnableApiDocs=yes", "must be one of true, false"),
        ("LogLevel=TRACE", "must be one of"),
        ("IngestConcurrency=0", "must be at least"),
        ("IngestConcurrency=1000", "must be at most"),
        ("SesMaxSendRate=fast", "must be a number"),
    ],
)
def test_a_value_the_template_does_not_allow_is_reported(
    override: str, reason: str, tmp_path: Path
) -> None:
    config = tmp_path / "samconfig.toml"
    config.write_text(
        "version = 0.1\n[x.deploy.parameters]\n"
        f'stack_name = "s-x"\nparameter_overrides = ["{override}"]\n'
    )
    problems = samconfig.override_problems("x", config)
    assert len(problems) == 1 and reason in problems[0], problems


def test_an_unknown_environment_names_the_known_ones() -> None:
    with pytest.raises(SamConfigError, match=r"known: dev, prod"):
        samconfig.deploy_settings("staging")

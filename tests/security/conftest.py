"""Fixtures for the security posture tests: ``template.yaml`` translated once per session by
SAM's own translator (``devtools.translate``), in the SAM CLI's environment.

Without a SAM CLI environment the tests are skipped with the reason; with ``CI=true`` they fail
instead (CI must check the posture).
"""

from typing import Any, NoReturn

import pytest

from devtools import samlocal
from devtools.translate import Resolver, SamUnavailableError, translate
from tests.support import tiers


def unavailable(reason: str) -> NoReturn:
    tiers.unavailable("the SAM CLI", reason)


@pytest.fixture(scope="session")
def translated() -> dict[str, Any]:
    """The template as CloudFormation receives it (``SamUnavailableError`` skips; any other
    translation error, i.e. SAM rejecting the template, fails)."""
    try:
        return translate()
    except SamUnavailableError as exc:
        unavailable(str(exc))


@pytest.fixture(scope="session")
def resolver(translated: dict[str, Any]) -> Resolver:
    """Intrinsic functions of the translated template, with the parameters' defaults."""
    return Resolver(translated)


@pytest.fixture(scope="session")
def sam_cli() -> samlocal.SamCli:
    executable = samlocal.find_sam()
    if executable is None:
        unavailable("no `sam` found (offline tool's venv, PATH, .tools/sam): run `make sam-setup`")
    return samlocal.SamCli.create(executable)

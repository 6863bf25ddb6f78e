"""``sam validate --lint`` and ``sam build`` of the project's template with the real SAM CLI."""

import re

import pytest

from devtools import samlocal
from devtools.template import TEMPLATE_PATH
from tests.samlocal.support import Build

pytestmark = pytest.mark.samlocal


def test_template_passes_sam_validate_lint_without_warnings(sam_cli: samlocal.SamCli) -> None:
    result = sam_cli.run(
        "validate",
        "--lint",
        "--region",
        "us-east-1",
        "--template",
        str(TEMPLATE_PATH),
        capture=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "is a valid SAM Template" in output
    assert not re.search(r"\b[EWI]\d{4}\b", output), output  # cfn-lint findings


def test_sam_build_builds_both_functions_and_the_layer(sam_build: Build) -> None:
    assert sam_build.returncode == 0, sam_build.output[-3000:]
    built = sam_build.directory
    assert (built / "ApiFunction" / "app.py").is_file()
    assert (built / "IngestFunction" / "app.py").is_file()
    layer = built / "CommonLayer" / "python"
    # BuildMethod python3.13: the package and its pinned requirements directly under python/
    assert (layer / "newsroom" / "ingest.py").is_file()
    assert (layer / "pydantic").is_dir()
    assert (layer / "aws_lambda_powertools").is_dir()
    assert not (layer / "python").exists()
    assert not (layer / "boto3").exists()  # Lambda's runtime ships boto3
    assert "CodeUri: ApiFunction" in sam_build.template.read_text()

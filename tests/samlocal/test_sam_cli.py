"""``sam build`` of the project's template with the real SAM CLI (``sam validate --lint`` runs
in tests/security)."""

import pytest

from tests.support.samlocal import Build

pytestmark = pytest.mark.samlocal


def test_sam_build_builds_both_functions_and_the_layer(sam_build: Build) -> None:
    assert sam_build.returncode == 0, sam_build.output[-3000:]
    built = sam_build.directory
    assert (built / "ApiFunction" / "app.py").is_file()
    assert (built / "IngestFunction" / "app.py").is_file()
    layer = built / "CommonLayer" / "python"
    # BuildMethod python3.13: the package and its pinned requirements directly under python/
    assert (layer / "newsroom" / "ingest" / "ingestor.py").is_file()
    assert (layer / "pydantic").is_dir()
    assert (layer / "aws_lambda_powertools").is_dir()
    assert not (layer / "python").exists()
    assert not (layer / "boto3").exists()  # Lambda's runtime ships boto3
    assert "CodeUri: ApiFunction" in sam_build.template.read_text()

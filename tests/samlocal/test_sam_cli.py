"""``sam build`` of the project's template with the real SAM CLI (``sam validate --lint`` runs
in tests/security)."""

import importlib.util
from pathlib import Path

import pytest

from devtools.template import load_template
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


def assert_unchecked_hash_bytecode(folder: Path, sources: list[Path]) -> None:
    """Every source has its ``.pyc`` for the runtime's Python, hash-based and unchecked (PEP
    552: valid whatever file times zipping and unzipping leave), made from the very source
    that ships beside it (tracebacks still name files and lines)."""
    for source in sources:
        cached = Path(importlib.util.cache_from_source(str(source)))
        assert cached.is_file(), f"no bytecode for {source.relative_to(folder)}"
        header = cached.read_bytes()[:16]
        assert header[:4] == importlib.util.MAGIC_NUMBER, source  # python3.13's bytecode
        flags = int.from_bytes(header[4:8], "little")
        assert flags == 0b01, (source, flags)  # hash-based, source never checked
        assert header[8:16] == importlib.util.source_hash(source.read_bytes()), source


def test_the_built_layer_ships_bytecode_that_survives_packaging(sam_build: Build) -> None:
    """``/opt`` is read-only in Lambda: a module without its ``.pyc`` is compiled from source on
    every cold start."""
    assert sam_build.returncode == 0, sam_build.output[-3000:]
    layer = sam_build.directory / "CommonLayer" / "python"
    sources = [p for p in layer.rglob("*.py") if "__pycache__" not in p.parts]
    assert len(sources) > 500, len(sources)  # the package, Powertools, pydantic, ...
    assert_unchecked_hash_bytecode(layer, sources)


def test_every_built_function_ships_its_handler_as_bytecode_beside_its_source(
    sam_build: Build,
) -> None:
    """``/var/task`` is read-only too: each function's ``app.py`` ships with its unchecked-hash
    ``.pyc`` (functions/function.mk), and nothing else of the source folder (no Makefile)."""
    assert sam_build.returncode == 0, sam_build.output[-3000:]
    functions = [
        logical_id
        for logical_id, res in load_template()["Resources"].items()
        if res["Type"] == "AWS::Serverless::Function"
    ]
    assert len(functions) == 8, functions
    for function in functions:
        folder = sam_build.directory / function
        shipped = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
        assert shipped == ["__pycache__/app.cpython-313.pyc", "app.py"], (function, shipped)
        assert_unchecked_hash_bytecode(folder, [folder / "app.py"])

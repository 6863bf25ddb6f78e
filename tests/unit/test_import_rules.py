"""What a cold start imports, measured in a fresh interpreter: the read path never loads
pydantic (about 100 ms of cold start), no function loads the Powertools resolvers it does not
use (``newsroom.core.lean_imports``), and tracing patches botocore only. The import contracts in
``pyproject.toml`` check the module graph; only a real import shows that the lazy imports
(the deferred ``event_handler`` package) stay lazy.
"""

import pytest

from tests.support.cold_container import LOAD_HANDLER, run_in_cold_container

# Runs in the child: reports the modules the handler brought in and what the X-Ray SDK
# patched (nothing unless tracing is on).
_PROBE = (
    LOAD_HANDLER
    + """
load_function_module(sys.argv[1])
patcher = sys.modules.get("aws_xray_sdk.core.patcher")
patched = sorted(patcher._PATCHED_MODULES) if patcher else []
print(json.dumps({"modules": sorted(sys.modules), "patched": patched}))
"""
)

# Modules of Powertools' resolvers and event classes these functions never use, which the
# packages' __init__ files would bring in (newsroom.core.lean_imports defers them).
UNUSED_POWERTOOLS_MODULES = (
    "aws_lambda_powertools.event_handler.appsync",
    "aws_lambda_powertools.event_handler.bedrock_agent",
    "aws_lambda_powertools.event_handler.vpc_lattice",
    "aws_lambda_powertools.utilities.data_classes.code_pipeline_job_event",
    "aws_lambda_powertools.utilities.data_classes.kinesis_firehose_event",
    "aws_lambda_powertools.utilities.data_classes.appsync_resolver_event",
)
FUNCTIONS = [
    ("api", "ApiFunction"),
    ("subscriptions", "SubscriptionsFunction"),
    ("ingest", "IngestFunction"),
    ("digest", "DigestFunction"),
    ("digest_sender", "DigestSenderFunction"),
    ("mailer", "MailerFunction"),
    ("bounces", "BouncesFunction"),
    ("story_events", "StoryEventsFunction"),
]


def after_loading(name: str, logical_id: str, tracing: bool = False) -> dict[str, list[str]]:
    """What ``sys.modules`` holds (``modules``) and which libraries the X-Ray SDK patched
    (``patched``) once ``functions/<name>/app.py`` is imported in a fresh interpreter."""
    loaded: dict[str, list[str]] = run_in_cold_container(_PROBE, name, logical_id, tracing)
    return loaded


def pydantic_modules_after_loading(name: str, logical_id: str) -> list[str]:
    return [m for m in after_loading(name, logical_id)["modules"] if m.startswith("pydantic")]


@pytest.mark.parametrize(
    ("name", "logical_id"),
    [
        ("api", "ApiFunction"),
        ("subscriptions", "SubscriptionsFunction"),
        ("digest", "DigestFunction"),
        ("digest_sender", "DigestSenderFunction"),
        ("story_events", "StoryEventsFunction"),
    ],
)
def test_read_path_functions_do_not_import_pydantic(name: str, logical_id: str) -> None:
    assert pydantic_modules_after_loading(name, logical_id) == []


def test_ingest_imports_pydantic_to_validate_stories() -> None:
    """The probe sees pydantic where it is meant to be: StoryIn validates uploads."""
    assert "pydantic" in pydantic_modules_after_loading("ingest", "IngestFunction")


@pytest.mark.parametrize(("name", "logical_id"), FUNCTIONS)
def test_no_function_loads_the_powertools_modules_it_does_not_use(
    name: str, logical_id: str
) -> None:
    modules = set(after_loading(name, logical_id)["modules"])
    unused = modules.intersection(UNUSED_POWERTOOLS_MODULES)
    assert not unused, sorted(unused)


@pytest.mark.parametrize(
    ("name", "logical_id"), [("api", "ApiFunction"), ("subscriptions", "SubscriptionsFunction")]
)
def test_the_rest_functions_get_the_rest_resolver_without_asyncio(
    name: str, logical_id: str
) -> None:
    """AppSync's resolver brought asyncio (about 10 ms); the SQS functions still load it,
    for Powertools' batch processing imports it itself."""
    modules = after_loading(name, logical_id)["modules"]
    assert "aws_lambda_powertools.event_handler.api_gateway" in modules
    assert "asyncio" not in modules


def test_tracing_patches_botocore_and_nothing_else() -> None:
    loaded = after_loading("api", "ApiFunction", tracing=True)
    assert loaded["patched"] == ["botocore"]
    assert "sqlite3" not in loaded["modules"]

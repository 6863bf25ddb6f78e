"""The real Lambda handlers run outside Lambda: ``functions/<name>/app.py`` loaded as a fresh
container would load it, and the ``context`` object the runtime passes to them."""

import importlib.util
import os
import uuid
from collections.abc import Mapping
from types import ModuleType

from devtools.template import ROOT

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"


def load_function_module(name: str, env: Mapping[str, str] | None = None) -> ModuleType:
    """Import ``functions/<name>/app.py`` as a fresh module: its module scope (settings,
    clients) runs again, as in a new Lambda container.

    With ``env``, the module scope runs with those variables set on top of the process
    environment, which is restored afterwards (module scope reads settings once, so the
    handler keeps what it saw). Without it, the process environment must be set first."""
    if env is None:
        return _exec_module(name)
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        return _exec_module(name)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _exec_module(name: str) -> ModuleType:
    path = ROOT / "functions" / name / "app.py"
    spec = importlib.util.spec_from_file_location(f"functions_{name}_app", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class LambdaContext:
    """What the Lambda runtime passes as ``context`` (the fields Powertools reads); a fresh
    request id per instance, as per invocation in Lambda, unless ``request_id`` is given."""

    def __init__(
        self, function_name: str, memory_mb: int = 512, request_id: str | None = None
    ) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "2026/11/29/[$LATEST]local"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000

"""Loads the real Lambda handler modules from ``functions/<name>/app.py``."""

import importlib.util
from types import ModuleType

from devtools.template import ROOT


def load_function_module(name: str) -> ModuleType:
    """Import ``functions/<name>/app.py`` as a fresh module: its module scope (settings,
    clients) runs again, as in a new Lambda container. The environment must be set first."""
    path = ROOT / "functions" / name / "app.py"
    spec = importlib.util.spec_from_file_location(f"functions_{name}_app", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

"""Imported first by every handler: Powertools' ``event_handler`` package without the cost of
its ``__init__``.

Python runs a package's ``__init__`` before any of its submodules, and Powertools'
``event_handler/__init__.py`` imports every resolver it has (AppSync, which imports asyncio,
Bedrock, VPC Lattice, ...): about 15 ms of every cold start of the REST functions, measured
with ``-X importtime`` on the built layer, for code they never run. (Powertools made its
parser's envelopes lazy the same way in PR 8405.)

``defer_package_init`` registers the package module without running its ``__init__``: its
submodules import as usual (``event_handler.api_gateway``), and the first time anything asks the
package itself for a name that is not a submodule (``from aws_lambda_powertools.event_handler
import AppSyncResolver``), the real ``__init__`` runs, once, into the same module object. So
every name stays where Powertools puts it; only the price moves to whoever uses it.
"""

import importlib
import importlib.util
import sys
from types import ModuleType

DEFERRED_PACKAGES = ("aws_lambda_powertools.event_handler",)


def defer_package_init(name: str) -> ModuleType:
    """``sys.modules[name]``: the package, its ``__init__`` deferred to the first lookup of a
    name on it that is not a submodule. A package already imported is left as it is."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        raise ImportError(f"{name} is not a package", name=name)
    loader = spec.loader
    package = importlib.util.module_from_spec(spec)

    def __getattr__(attribute: str) -> object:  # PEP 562: a module-level __getattr__
        if not attribute.startswith("__"):
            submodule = f"{name}.{attribute}"
            if importlib.util.find_spec(submodule) is not None:
                return importlib.import_module(submodule)
        if "__getattr__" in vars(package):
            delattr(package, "__getattr__")  # the real __init__ decides from here on
            loader.exec_module(package)
        return getattr(package, attribute)

    setattr(package, "__getattr__", __getattr__)  # noqa: B010 - a module attribute, set on purpose
    parent, _, child = name.rpartition(".")
    sys.modules[name] = package
    if parent:
        setattr(importlib.import_module(parent), child, package)
    return package


for _name in DEFERRED_PACKAGES:
    defer_package_init(_name)

"""Imported first by the handlers: Powertools' ``event_handler`` and event data classes
without the cost of their packages' ``__init__``.

Python runs a package's ``__init__`` before any of its submodules. Powertools'
``event_handler/__init__.py`` imports every resolver it has (AppSync, which imports asyncio,
Bedrock, VPC Lattice, ...), and ``utilities/data_classes/__init__.py`` every event class (about
30 modules), which the REST resolver then asks for by name: together about 20 ms of every cold
start, measured with ``-X importtime`` on the built layer, for code these functions never run.
(Powertools made its parser's envelopes lazy the same way, PR 8405.)

``defer_package_init`` registers the package module without running its ``__init__``:
- a name the ``__init__`` imports from one of the package's submodules (``from .sqs_event
  import SQSEvent``, read from its source) is imported from that submodule alone, when first
  asked for, and is the same object the ``__init__`` would have bound;
- a submodule imports as usual (``event_handler.api_gateway``);
- anything else asked of the package itself (``__all__``, a name the ``__init__`` defines)
  runs the real ``__init__``, once, into the same module object.
So every name stays where Powertools puts it; only the price moves to whoever uses it.
"""

import ast
import importlib
import importlib.util
import sys
from importlib.machinery import ModuleSpec
from types import ModuleType

DEFERRED_PACKAGES = (
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.data_classes",
)


def _exports(name: str, spec: ModuleSpec) -> dict[str, tuple[str, str]]:
    """Name -> (submodule, its name there) for every ``from <submodule> import ...`` at the
    top of the package's ``__init__`` (absolute or relative); empty without its source."""
    get_source = getattr(spec.loader, "get_source", None)
    source = get_source(name) if get_source else None
    exports: dict[str, tuple[str, str]] = {}
    for node in ast.parse(source or "").body:
        if not isinstance(node, ast.ImportFrom) or not node.module:
            continue
        if node.level == 1:
            module = f"{name}.{node.module}"
        elif node.level == 0 and node.module.startswith(f"{name}."):
            module = node.module
        else:
            continue
        for alias in node.names:
            exports[alias.asname or alias.name] = (module, alias.name)
    return exports


def defer_package_init(name: str) -> ModuleType:
    """``sys.modules[name]``: the package, its ``__init__`` deferred (see the module's
    docstring). A package already imported is left as it is."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        raise ImportError(f"{name} is not a package", name=name)
    loader = spec.loader
    package = importlib.util.module_from_spec(spec)
    exports = _exports(name, spec)

    def __getattr__(attribute: str) -> object:  # PEP 562: a module-level __getattr__
        if attribute in exports:
            submodule, original = exports[attribute]
            value = getattr(importlib.import_module(submodule), original)
            setattr(package, attribute, value)
            return value
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

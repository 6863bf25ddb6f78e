"""A package whose ``__init__`` is deferred (``newsroom.core.lean_imports``) behaves as the
package does, except for what runs when: a name its ``__init__`` imports from a submodule
comes from that submodule alone, and the ``__init__`` itself runs only once something else is
asked of the package."""

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsroom.core.lean_imports import defer_package_init

PACKAGE = "deferredpkg"


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A package like Powertools' event_handler: an __init__ importing every submodule, with a
    log of what ran, in ``sys.modules['deferredpkg_log']``."""
    root = tmp_path / PACKAGE
    root.mkdir()
    (root / "__init__.py").write_text(
        "import deferredpkg_log\n"
        "deferredpkg_log.ran.append('__init__')\n"
        "from deferredpkg.light import Light\n"
        "from .heavy import Heavy as Heavyweight\n"
        "__all__ = ['Heavyweight', 'Light']\n"
    )
    for name in ("light", "heavy"):
        (root / f"{name}.py").write_text(
            f"import deferredpkg_log\ndeferredpkg_log.ran.append('{name}')\n"
            f"class {name.title()}: pass\n"
        )
    (tmp_path / "deferredpkg_log.py").write_text("ran = []\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield root
    for name in [m for m in sys.modules if m.startswith(PACKAGE)]:
        del sys.modules[name]


def ran() -> list[str]:
    return list(importlib.import_module("deferredpkg_log").ran)


def test_a_submodule_imports_without_the_package_init(package: Path) -> None:
    defer_package_init(PACKAGE)
    from deferredpkg.light import Light  # type: ignore[import-not-found]

    assert Light.__module__ == "deferredpkg.light"
    assert ran() == ["light"]


def test_a_submodule_named_on_the_package_imports_without_the_init(package: Path) -> None:
    defer_package_init(PACKAGE)
    from deferredpkg import light  # type: ignore[import-not-found]

    assert light.Light.__name__ == "Light"
    assert ran() == ["light"]


def test_a_name_the_init_imports_comes_from_its_submodule_alone(package: Path) -> None:
    deferred = defer_package_init(PACKAGE)

    assert deferred.Heavyweight.__module__ == "deferredpkg.heavy"  # relative, renamed
    assert deferred.Light is sys.modules["deferredpkg.light"].Light  # absolute
    assert ran() == ["heavy", "light"]


def test_anything_else_runs_the_init_once_with_the_same_objects(package: Path) -> None:
    deferred = defer_package_init(PACKAGE)
    heavy = deferred.Heavyweight

    assert deferred.__all__ == ["Heavyweight", "Light"]
    assert deferred.Heavyweight is heavy
    assert ran() == ["heavy", "__init__", "light"]


def test_a_name_the_package_does_not_have_is_an_attribute_error(package: Path) -> None:
    defer_package_init(PACKAGE)
    with pytest.raises(AttributeError, match="Missing"):
        _ = sys.modules[PACKAGE].Missing


def test_a_package_already_imported_is_left_as_it_is(package: Path) -> None:
    imported = importlib.import_module(PACKAGE)
    assert defer_package_init(PACKAGE) is imported
    assert ran() == ["__init__", "light", "heavy"]


def test_a_module_that_is_not_a_package_is_refused(package: Path) -> None:
    with pytest.raises(ImportError, match="not a package"):
        defer_package_init("deferredpkg_log")

"""The public surface: `labflow.__all__` is sorted and complete, and so is each public module's."""

from __future__ import annotations

import importlib
import pkgutil
import types

import pytest

import labflow


def isort_order(names: list[str]) -> list[str]:
    """Sorted as ruff's RUF022 sorts ``__all__``: CONSTANTS, then Classes, then the rest."""

    def key(name: str) -> tuple[int, str]:
        if name.isupper():
            return (0, name)
        return (1 if name[0].isupper() else 2, name)

    return sorted(names, key=key)


def public_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(labflow.__path__, "labflow."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts[1:]) or parts[1] == "presets":
            continue
        names.append(info.name)
    return sorted(names)


def test_all_is_sorted() -> None:
    assert list(labflow.__all__) == isort_order(list(labflow.__all__))


def test_all_is_complete() -> None:
    """Every public name defined at the top level is listed, and every listed name exists."""
    lazy = set(labflow._HOMES)  # imported from their modules on first use
    public = {
        name
        for name, value in vars(labflow).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public | lazy | {"__version__"} == set(labflow.__all__)
    for name in labflow.__all__:
        assert hasattr(labflow, name), name
        home = labflow._HOMES.get(name)
        if home is not None:  # the name is the object its module defines or re-exports
            assert getattr(labflow, name) is getattr(importlib.import_module(home), name)


def test_no_duplicates_in_all() -> None:
    assert len(set(labflow.__all__)) == len(labflow.__all__)


@pytest.mark.parametrize("name", public_modules())
def test_public_module_declares_sorted_all(name: str) -> None:
    """Each public submodule has a sorted ``__all__`` naming only what it defines or re-exports."""
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    assert list(exported) == isort_order(list(exported))
    for item in exported:
        assert hasattr(module, item), f"{name}.__all__ lists missing {item}"


def test_version_is_a_string() -> None:
    assert isinstance(labflow.__version__, str)
    assert labflow.__version__[0].isdigit()


def test_every_error_is_a_labflow_error() -> None:
    """A host catching LabflowError catches everything labflow raises on purpose."""
    for name in labflow.__all__:
        value = getattr(labflow, name)
        if isinstance(value, type) and issubclass(value, BaseException):
            assert issubclass(value, labflow.LabflowError), name

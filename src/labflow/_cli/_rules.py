"""``--rules``: the host requirements a policy names, loaded before the command runs.

Private. A policy may name requirements a region wrote in Python (``kudus.adapted_to_kudus``);
the ``labflow`` command can load such a policy only once their module has run. ``--rules``
names that module -- a file (``examples/kudus/kudus_rules.py``) or an importable module
(``kudus_rules``), as often as needed. The module registers its requirements with
`labflow.requirement` (into `labflow.DEFAULT_REGISTRY`), or keeps them in a
`labflow.Registry` of its own named ``REGISTRY``, whose names the command then adds to the
default registry for this run. Running a module runs its code: name only modules you trust.

Installed plugins need no ``--rules``: a distribution that declares an entry point in the
group ``labflow.rules`` (`ENTRY_POINTS`) is loaded by every ``labflow`` command. The entry
point names a `labflow.Registry` (``kudus_rules:REGISTRY``), or a module that registers into
the default registry or holds a ``REGISTRY`` (``kudus_rules``). A plugin that cannot be
loaded stops the command with exit code 2, naming the plugin and its distribution.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType

from labflow._cli._common import Usage
from labflow._terminal import printable
from labflow.errors import RegistrationError
from labflow.requirements import DEFAULT_REGISTRY, Registry

__all__ = ["ENTRY_POINTS", "load_plugins", "load_rules"]

#: The entry-point group of installed rules plugins.
ENTRY_POINTS = "labflow.rules"


def _is_file(name: str) -> bool:
    return name.endswith(".py") or "/" in name or "\\" in name


def _import(name: str) -> ModuleType:
    """The module ``name`` names: a Python file, or a module on the import path."""
    if not _is_file(name):
        return importlib.import_module(name)
    path = Path(name).resolve()
    if not path.is_file():
        raise FileNotFoundError(name)
    # One module name per file, so that loading the same file twice in a process reuses it.
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    key = f"_labflow_rules_{path.stem}_{digest}"
    if key in sys.modules:
        return sys.modules[key]
    spec = importlib.util.spec_from_file_location(key, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{name} is not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(key, None)
        raise
    return module


def load_rules(names: Iterable[str]) -> None:
    """Run each rules module and make its requirements known to `DEFAULT_REGISTRY`.

    A module that cannot be found or fails while running is a usage error (exit 2) that
    names it and says why, in the user's language.
    """
    for name in names:
        shown = printable(name, newlines=False)
        try:
            module = _import(name)
        except FileNotFoundError:
            raise Usage("error.rules_missing", module=shown) from None
        except ModuleNotFoundError as exc:
            if exc.name != name:  # the module exists, but imports something that does not
                reason = printable(f"{type(exc).__name__}: {exc}", newlines=False)
                raise Usage("error.rules", module=shown, reason=reason) from None
            raise Usage("error.rules_missing", module=shown) from None
        except Exception as exc:  # the module's own code failed: say how, as one sentence
            reason = printable(f"{type(exc).__name__}: {exc}", newlines=False)
            raise Usage("error.rules", module=shown, reason=reason) from None
        own = getattr(module, "REGISTRY", None)
        if isinstance(own, Registry) and own is not DEFAULT_REGISTRY:
            try:
                DEFAULT_REGISTRY.include(own)
            except RegistrationError as exc:
                reason = printable(str(exc), newlines=False)
                raise Usage("error.rules", module=shown, reason=reason) from None


def load_plugins() -> list[str]:
    """Load every installed plugin of the ``labflow.rules`` group; their names, sorted.

    Each one's registry joins `DEFAULT_REGISTRY` for this run. One that fails to import,
    holds no registry, or clashes with a name already registered is a usage error (exit 2)
    naming it, in the user's language.
    """
    found = sorted(entry_points(group=ENTRY_POINTS), key=lambda e: (e.name, e.value))
    for point in found:
        try:
            loaded = point.load()
        except Exception as exc:  # the plugin's own code or packaging failed
            raise _broken(point, f"{type(exc).__name__}: {exc}") from None
        registry = getattr(loaded, "REGISTRY", None) if isinstance(loaded, ModuleType) else loaded
        if isinstance(loaded, ModuleType) and registry is None:
            continue  # a module that registered into the default registry as it ran
        if not isinstance(registry, Registry):
            kind = type(registry).__name__
            raise _broken(point, f"{point.value} is a {kind}, not a labflow.Registry")
        if registry is not DEFAULT_REGISTRY:
            try:
                DEFAULT_REGISTRY.include(registry)
            except RegistrationError as exc:
                raise _broken(point, str(exc)) from None
    return [p.name for p in found]


def _broken(point: EntryPoint, reason: str) -> Usage:
    dist = point.dist.name if point.dist is not None else "?"
    return Usage(
        "error.plugin",
        plugin=printable(point.name, newlines=False),
        dist=printable(dist, newlines=False),
        reason=printable(reason, newlines=False),
    )

"""One check for "this argument must be a labflow X", said the same way everywhere.

Hosts pass labs, innovations and entries around; a wrong value must come back as
labflow's own `InvalidCommand` naming what was expected, never as an
``AttributeError`` from deep inside (``tests/test_api_walk.py`` holds every public
callable to that).
"""

from __future__ import annotations

from labflow.errors import InvalidCommand

__all__ = ["need", "need_all"]


def need(value: object, kind: type | tuple[type, ...], what: str, caller: str) -> None:
    """`InvalidCommand` unless ``value`` is a ``kind`` (``what`` names it for the reader)."""
    if not isinstance(value, kind):
        got = type(value).__name__
        raise InvalidCommand(
            f"{caller} needs {what}, not {got}.",
            f"{caller} memerlukan {what}, bukan {got}.",
            code="input.type",
            data={"expected": what, "got": got},
        )


def need_all(values: object, kind: type | tuple[type, ...], what: str, caller: str) -> None:
    """`InvalidCommand` unless ``values`` is a list or tuple of ``kind`` only."""
    if not isinstance(values, list | tuple) or not all(isinstance(v, kind) for v in values):
        got = type(values).__name__
        raise InvalidCommand(
            f"{caller} needs a list of {what}, not {got}.",
            f"{caller} memerlukan daftar {what}, bukan {got}.",
            code="input.type",
            data={"expected": what, "got": got},
        )

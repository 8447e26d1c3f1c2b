"""Dumping: any labflow object as a document of plain data.

Private to `labflow.serde`: `kind_of` names an object's document kind and `unstructure`
wraps its plain data in the envelope ``{"kind", "version", "data"}``.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from typing import Any

from labflow.errors import DocumentError, Problem
from labflow.events import Event
from labflow.lab import Lab
from labflow.model import Innovation
from labflow.policy import Policy
from labflow.serde._convert import _converter, _lab_body, _unstructure_event
from labflow.serde._envelope import VERSIONS

__all__ = ["kind_of", "unstructure"]


def kind_of(obj: object) -> str:
    """The document kind of ``obj``; `DocumentError` if labflow has no document for it."""
    if isinstance(obj, Lab):
        return "lab"
    if isinstance(obj, Innovation):
        return "innovation"
    if isinstance(obj, Policy):
        return "policy"
    if isinstance(obj, Event):
        return "event"
    if isinstance(obj, list | tuple) and all(isinstance(e, Event) for e in obj):
        return "history"
    raise DocumentError([Problem("$", f"labflow has no document for {type(obj).__name__}")])


def unstructure(obj: object) -> dict[str, Any]:
    """``obj`` (a lab, innovation, policy, event, or a history: a list of events) as a document.

    The document is plain data -- dicts, lists, strings, numbers, booleans and
    ``None`` -- ready for a host's JSON column or ORM.
    """
    kind = kind_of(obj)
    if kind == "history":
        data: Any = [_unstructure_event(e) for e in typing.cast(Sequence[Event], obj)]
    elif kind == "lab":
        data = _lab_body(typing.cast(Lab, obj), _converter)
    else:
        data = _converter.unstructure(obj)
    return {"kind": kind, "version": VERSIONS[kind], "data": data}

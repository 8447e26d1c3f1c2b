"""Dumping: any labflow object as a document of plain data.

Private to `labflow.serde`: `kind_of` names an object's document kind and `unstructure`
wraps its plain data in the envelope ``{"kind", "version", "data"}``.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from typing import Any, Final

import cattrs

from labflow.errors import DocumentError, Problem
from labflow.events import Event
from labflow.lab import Lab
from labflow.model import Innovation
from labflow.policy import Policy
from labflow.serde._convert import (
    _converter,
    _is_payload,
    _lab_body,
    _unstructure_event,
    make_converter,
)
from labflow.serde._envelope import VERSIONS

__all__ = ["document", "kind_of", "unstructure"]


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
    return document(obj, _converter)


def _as_held(value: Any) -> Any:
    return value


def _make_writer() -> cattrs.Converter:
    """The converter `labflow.serde.dumps` unstructures with.

    The same as `_converter`, except that payloads (read-only mappings, which every JSON
    encoder writes as objects) are handed to the encoder as they are instead of copied
    into plain dicts first: only the text leaves, so no reader can change them.
    """
    converter = make_converter()
    converter.register_unstructure_hook_func(_is_payload, _as_held)
    return converter


_writer: Final = _make_writer()
_write_event: Final = _writer.get_unstructure_hook(Event)


def document(obj: object, converter: cattrs.Converter = _writer) -> dict[str, Any]:
    """``obj`` as a document, unstructured by ``converter`` (by default, for writing JSON)."""
    kind = kind_of(obj)
    if kind == "history":
        event = _unstructure_event if converter is _converter else _write_event
        data: Any = [event(e) for e in typing.cast(Sequence[Event], obj)]
    elif kind == "lab":
        data = _lab_body(typing.cast(Lab, obj), converter)
    else:
        data = converter.unstructure(obj)
    return {"kind": kind, "version": VERSIONS[kind], "data": data}

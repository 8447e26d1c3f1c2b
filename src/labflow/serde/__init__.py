"""Documents: every labflow object as versioned JSON any host can store, send and load back.

A host keeps a lab in its database, sends an innovation over HTTP, or hands a
history to a program in another language. Each of these is a *document*: a
JSON object ``{"kind": ..., "version": ..., "data": ...}`` whose ``data`` is
the object in plain JSON values. Loading is where hostile or stale input
arrives, so it is strict and total:

- every problem found is reported at once, with its path
  (``$.data.history[3].at: expected an ISO 8601 date-time with a UTC offset``),
  in one `DocumentError` -- never a raw ``KeyError``, ``RecursionError`` or
  cattrs exception;
- state is checked against history: a history must verify (its hashes are over
  `labflow.events.canonical_bytes`), and an innovation's or a lab's fields must
  equal the fold of that history, so an edited document is refused as tampered;
- a lab document carries its registration index (the chain the stores keep), which
  must list exactly the innovations it holds, so none is removed unseen;
- a document of an older version is migrated step by step on load.

The converter is a private cattrs one (`make_converter`), never the global
converter; `configure_converter` sets up any converter a host owns. JSON goes
through orjson when it is installed (the ``json`` extra) and through the
standard library otherwise; both produce the same documents. See
``docs/documents.md`` for the formats and the limits.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable, Mapping
from typing import Any, Final

from labflow import _limits
from labflow.errors import DocumentError, Problem
from labflow.events import Event
from labflow.lab import Clock, Lab, system_clock
from labflow.model import Innovation
from labflow.policy import Policy
from labflow.requirements import Registry
from labflow.serde._convert import _converter as _converter  # the tests compare converters
from labflow.serde._convert import _fast_converter as _fast_converter
from labflow.serde._convert import _lab_body as _lab_body
from labflow.serde._convert import configure_converter, make_converter
from labflow.serde._dump import document as _document
from labflow.serde._dump import kind_of, unstructure
from labflow.serde._envelope import KINDS, VERSIONS, _refuse, json_schema, migrate
from labflow.serde._load import structure, structure_parsed

_fast: Any  # orjson, when the ``json`` extra is installed
try:  # pragma: no cover - which branch runs depends on the environment
    import orjson as _fast  # type: ignore[import-not-found, no-redef, unused-ignore]
except ImportError:  # pragma: no cover
    _fast = None

__all__ = [
    "JSON_BACKEND",
    "KINDS",
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "MAX_PROBLEMS",
    "VERSIONS",
    "configure_converter",
    "dumps",
    "json_schema",
    "kind_of",
    "load_event",
    "load_history",
    "load_innovation",
    "load_lab",
    "load_policy_document",
    "loads",
    "make_converter",
    "migrate",
    "structure",
    "unstructure",
]

# Every limit is defined, and documented, in one place (labflow._limits, docs/limits.md).
#: Documents larger than this (in bytes of JSON) are refused before parsing.
MAX_DOCUMENT_BYTES: Final = _limits.MAX_DOCUMENT_BYTES
#: Free-form values (event payloads, policy parameters) nested deeper than this are refused.
MAX_DEPTH: Final = _limits.MAX_DEPTH
#: At most this many problems are listed; the last one says how many more there were.
MAX_PROBLEMS: Final = _limits.MAX_PROBLEMS

#: ``"orjson"`` when the fast backend is installed, else ``"json"`` (the standard library).
JSON_BACKEND: Final = "orjson" if _fast is not None else "json"


# --- JSON --------------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_std_decoder: Final = json.JSONDecoder(parse_constant=_reject_constant)
_std_encode: Final = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, separators=(",", ":")
).encode


def _too_large() -> DocumentError:
    message = f"the document is larger than {MAX_DOCUMENT_BYTES} bytes"
    return _refuse([Problem("$", message)], None)


def _parse(data: object) -> Any:
    if isinstance(data, str):
        # A character is at most four bytes: measure exactly only when it may matter.
        if len(data) * 4 > MAX_DOCUMENT_BYTES and len(data.encode("utf-8", "surrogatepass")) > (
            MAX_DOCUMENT_BYTES
        ):
            raise _too_large()
        raw: bytes | str = data
    elif isinstance(data, bytes | bytearray | memoryview):
        if len(data) > MAX_DOCUMENT_BYTES:
            raise _too_large()
        raw = bytes(data)
    else:
        message = f"expected JSON as bytes or str, not {type(data).__name__}"
        raise _refuse([Problem("$", message)], None)
    if isinstance(raw, bytes):
        containers = raw.count(b"{") + raw.count(b"[")
    else:
        containers = raw.count("{") + raw.count("[")
    if containers * _limits.MIN_BYTES_PER_CONTAINER > len(raw) + 4096:
        message = (
            f"is nested too deeply or too dense: {containers} arrays and objects in {len(raw)} "
            f"bytes, more than any labflow document (one per "
            f"{_limits.MIN_BYTES_PER_CONTAINER} bytes at most)"
        )
        raise _refuse([Problem("$", message)], None)
    try:
        if _fast is not None:
            return _fast.loads(raw)
        # Decoded here: the standard library would guess UTF-16 or UTF-32 from bytes.
        return _std_decoder.decode(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
    except RecursionError:
        raise _refuse([Problem("$", "is nested too deeply to parse")], None) from None
    except ValueError as exc:  # JSON errors of both backends, and UnicodeDecodeError
        if isinstance(raw, bytes):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as bad:
                message = f"is not UTF-8 text (byte {bad.start} cannot be decoded)"
                raise _refuse([Problem("$", message)], None) from None
        raise _refuse([Problem("$", f"is not valid JSON ({exc})")], None) from None


def dumps(obj: object) -> bytes:
    """``obj`` as a JSON document (UTF-8 bytes); see `unstructure` for what can be dumped."""
    document = _document(obj)  # payloads as held: only the text leaves
    try:
        if _fast is not None:
            return typing.cast(bytes, _fast.dumps(document))
        return _std_encode(document).encode("utf-8")
    except (TypeError, ValueError) as exc:
        problem = Problem("$", f"cannot be written as JSON ({exc})")
        raise _refuse([problem], document["kind"]) from None


def loads(
    data: bytes | bytearray | memoryview | str,
    *,
    registry: Registry | None = None,
    clock: Clock = system_clock,
) -> object:
    """Load a JSON document (bytes or text); its kind is read from the document itself.

    See `structure`; in addition refuses input larger than `MAX_DOCUMENT_BYTES`,
    bytes that are not UTF-8 and text that is not JSON.
    """
    return structure_parsed(_parse(data), registry, clock, _strict_dumps())


#: What the typed loaders take: JSON (bytes or text) or a document as plain data.
_Input = bytes | bytearray | memoryview | str | Mapping[str, Any]


def _load_kind(kind: str, data: _Input, registry: Registry | None, clock: Clock) -> object:
    """Load ``data`` as `structure` does, refusing a document of any kind but ``kind`` first."""
    parsed = not isinstance(data, Mapping)
    document = _parse(data) if parsed else data
    if isinstance(document, dict) and document.get("kind") != kind:
        found = document.get("kind")
        problem = Problem("$.kind", f"expected a {kind} document, not {found!r}")
        raise _refuse([problem], kind)
    return structure_parsed(document, registry, clock, _strict_dumps() if parsed else None)


def _sorted_json(value: Any) -> bytes:
    return typing.cast(bytes, _fast.dumps(value, option=_fast.OPT_SORT_KEYS))


def _strict_dumps() -> Callable[[Any], bytes] | None:
    """What compares a parsed record with its fold as JSON (orjson only: see `_load`)."""
    return _sorted_json if _fast is not None else None


def load_lab(data: _Input, *, registry: Registry | None = None, clock: Clock = system_clock) -> Lab:
    """Load a lab document (JSON or plain data); refuse any other kind.

    ``registry`` resolves the custom requirements its policy names; ``clock`` is
    the clock the loaded lab will use. Raises `DocumentError` listing every problem.
    """
    loaded = _load_kind("lab", data, registry, clock)
    assert isinstance(loaded, Lab)
    return loaded


def load_innovation(
    data: _Input, *, registry: Registry | None = None, clock: Clock = system_clock
) -> Innovation:
    """Load an innovation document (JSON or plain data); refuse any other kind."""
    loaded = _load_kind("innovation", data, registry, clock)
    assert isinstance(loaded, Innovation)
    return loaded


def load_event(
    data: _Input, *, registry: Registry | None = None, clock: Clock = system_clock
) -> Event:
    """Load an event document (JSON or plain data); refuse any other kind."""
    loaded = _load_kind("event", data, registry, clock)
    assert isinstance(loaded, Event)
    return loaded


def load_history(
    data: _Input, *, registry: Registry | None = None, clock: Clock = system_clock
) -> list[Event]:
    """Load a history document (JSON or plain data) whose chain verifies; refuse any other kind."""
    loaded = _load_kind("history", data, registry, clock)
    assert isinstance(loaded, list)
    return typing.cast(list[Event], loaded)


def load_policy_document(
    data: _Input, *, registry: Registry | None = None, clock: Clock = system_clock
) -> Policy:
    """Load a policy document (JSON or plain data); refuse any other kind.

    ``registry`` resolves the custom requirements the policy names.
    """
    loaded = _load_kind("policy", data, registry, clock)
    assert isinstance(loaded, Policy)
    return loaded

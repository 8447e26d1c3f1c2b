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
- a document of an older version is migrated step by step on load.

The converter is a private cattrs one (`make_converter`), never the global
converter; `configure_converter` sets up any converter a host owns. JSON goes
through orjson when it is installed (the ``json`` extra) and through the
standard library otherwise; both produce the same documents. See
``docs/documents.md`` for the formats and the limits.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from enum import Enum, StrEnum
from typing import Any, Final

import attrs
import cattrs
from cattrs.cols import is_frozenset, is_sequence
from cattrs.errors import (
    BaseValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from labflow import _limits
from labflow._frozen import thaw
from labflow._schema import document_schema
from labflow._text import find_forbidden as _find_forbidden
from labflow._text import ident_problem, is_text, text_problem
from labflow.errors import DocumentError, HistoryError, LabflowError, PolicyError, Problem
from labflow.events import Event, expected_hash, verify
from labflow.lab import Clock, Lab, replay_innovation, replay_lab, system_clock
from labflow.model import ActionPlan, Actor, Innovation, PerformanceAgreement, Unit
from labflow.policy import Policy, policy_from_dict
from labflow.requirements import Registry

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

#: The document kinds, and the current schema version of each.
VERSIONS: Final[Mapping[str, int]] = {
    "event": 1,
    "history": 1,
    "innovation": 3,
    "lab": 3,
    "policy": 1,
}
KINDS: Final = tuple(sorted(VERSIONS))

# Every limit is defined, and documented, in one place (labflow._limits, docs/limits.md).
#: Documents larger than this (in bytes of JSON) are refused before parsing.
MAX_DOCUMENT_BYTES: Final = _limits.MAX_DOCUMENT_BYTES
#: Free-form values (event payloads, policy parameters) nested deeper than this are refused.
MAX_DEPTH: Final = _limits.MAX_DEPTH
#: At most this many problems are listed; the last one says how many more there were.
MAX_PROBLEMS: Final = _limits.MAX_PROBLEMS
_MAX_ITEMS: Final = _limits.MAX_ITEMS
_MAX_TEXT: Final = _limits.MAX_TEXT_LENGTH
_MIN_INT: Final = _limits.MIN_INT
_MAX_INT: Final = _limits.MAX_INT

#: ``"orjson"`` when the fast backend is installed, else ``"json"`` (the standard library).
JSON_BACKEND: Final = "orjson" if _fast is not None else "json"


# --- Errors ------------------------------------------------------------------------------------


class _Invalid(ValueError):
    """A value is wrong; its message is already the sentence a user reads."""


def _refuse(problems: Sequence[Problem], kind: str | None) -> DocumentError:
    if len(problems) > MAX_PROBLEMS:
        more = len(problems) - MAX_PROBLEMS + 1
        problems = [*problems[: MAX_PROBLEMS - 1], Problem("$", f"... and {more} more problems")]
    return DocumentError(problems, kind=kind)


class _Unlisted(ValueError):
    """Stands for the items of an array left unchecked once enough problems were found."""

    def __init__(self, count: int) -> None:
        super().__init__(f"... and {count} more items were not checked (too many problems)")


def _format(exc: BaseException, type_: type | None) -> str:
    if isinstance(exc, _Invalid | _Unlisted):
        return str(exc)
    if isinstance(exc, ForbiddenExtraKeysError):
        return f"unknown fields {_few(exc.extra_fields)}"
    if isinstance(exc, KeyError):
        return "is required"
    name = getattr(type_, "__name__", None) or repr(type_)
    if isinstance(exc, ValueError) and isinstance(type_, type) and issubclass(type_, Enum):
        allowed = ", ".join(repr(m.value) for m in type_)
        return f"expected one of {allowed}"
    if isinstance(exc, ValueError | TypeError):
        return f"expected {name}" if type_ is not None else "invalid value"
    return f"invalid value ({type(exc).__name__})"


def _few(names: Iterable[object]) -> str:
    """At most ten names, sorted, and how many more there were: a message stays short."""
    shown = sorted(map(str, names))
    listed = ", ".join(repr(n[:40]) for n in shown[:10])
    more = f", ... and {len(shown) - 10} more" if len(shown) > 10 else ""
    return f"[{listed}{more}]"


def _problems(exc: BaseException, path: str) -> list[Problem]:
    out = []
    for line in cattrs.transform_error(exc, path, _format):
        message, _, where = line.rpartition(" @ ")
        out.append(Problem(where, message))
    return out


# --- The converter -----------------------------------------------------------------------------


_SCALARS: Final = frozenset({bool, type(None)})
_INT_RANGE: Final = f"outside the signed 64-bit range ({_MIN_INT} to {_MAX_INT})"


def _json_value(value: Any, depth: int = 0) -> Any:
    """Check a free-form value is JSON (and not too deep); return it unchanged.

    Its strings follow the free-text rule and its integers are 64-bit, as everywhere.
    """
    kind = type(value)
    if kind is str:
        if not is_text(value):
            raise _Invalid(f"holds a text that {text_problem(value)}")
        return value
    if kind is int:
        if not _MIN_INT <= value <= _MAX_INT:
            raise _Invalid(f"holds the integer {_short(value)}, {_INT_RANGE}")
        return value
    if kind in _SCALARS:
        return value
    if kind is float:
        if value != value or value in (float("inf"), float("-inf")):
            raise _Invalid("NaN and infinities are not JSON")
        return value
    if depth >= MAX_DEPTH:
        raise _Invalid(f"is nested more than {MAX_DEPTH} levels deep")
    if kind is dict:
        for key in value:
            if type(key) is not str:
                raise _Invalid("object keys must be strings")
        if not _all_text("".join(value)):  # one scan for every key; each is looked at if not
            for key in value:
                if not is_text(key):
                    raise _Invalid(f"has a key that {text_problem(key)}")
        items = value.values()
    elif kind is list:
        if len(value) > _MAX_ITEMS:
            raise _Invalid(f"has more than {_MAX_ITEMS} items")
        items = value
    elif isinstance(value, str | int):  # a str-based enum member (`Role`) is its value
        return value
    else:
        raise _Invalid(f"expected a JSON value, not {type(value).__name__}")
    for item in items:
        item_kind = type(item)
        if item_kind is str:  # inlined: payload strings are most of a document's values
            if len(item) > _MAX_TEXT or _find_forbidden(item) is not None:
                raise _Invalid(f"holds a text that {text_problem(item)}")
        elif item_kind is int:
            if not _MIN_INT <= item <= _MAX_INT:
                raise _Invalid(f"holds the integer {_short(item)}, {_INT_RANGE}")
        elif item_kind not in _SCALARS:
            _json_value(item, depth + 1)
    return value


def _all_text(joined: str) -> bool:
    """Whether ``joined`` (strings run together) has nothing the free-text rule refuses."""
    return _find_forbidden(joined) is None


def _str(value: Any, _: Any) -> str:
    if type(value) is not str:
        raise _Invalid(f"expected a string, not {_name(value)}")
    if len(value) > _MAX_TEXT or _find_forbidden(value) is not None:
        raise _Invalid(f"the text {text_problem(value)}")
    return value


def _int(value: Any, _: Any) -> int:
    if type(value) is not int:
        raise _Invalid(f"expected an integer, not {_name(value)}")
    if not _MIN_INT <= value <= _MAX_INT:
        raise _Invalid(f"the integer {_short(value)} is {_INT_RANGE}")
    return value


def _bool(value: Any, _: Any) -> bool:
    if type(value) is not bool:
        raise _Invalid(f"expected true or false, not {_name(value)}")
    return value


def _datetime(value: Any, _: Any) -> datetime:
    if type(value) is str:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if moment.tzinfo is not None:
                return moment
    raise _Invalid("expected an ISO 8601 date-time with a UTC offset")


def _date(value: Any, _: Any) -> date:
    if type(value) is str and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise _Invalid("expected an ISO 8601 date (YYYY-MM-DD)")


def _payload(value: Any, _: Any) -> Mapping[str, Any]:
    if type(value) is not dict:
        raise _Invalid(f"expected an object, not {_name(value)}")
    return typing.cast(dict[str, Any], _json_value(value))


def _name(value: Any) -> str:
    return {
        type(None): "null",
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "a boolean",
        list: "an array",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def _array(value: Any) -> None:
    """JSON arrays only (cattrs alone would read ``"abc"`` as three strings), and not too long."""
    if type(value) is not list and type(value) is not tuple:
        raise _Invalid(f"expected an array, not {_name(value)}")
    if len(value) > _MAX_ITEMS:
        raise _Invalid(f"has more than {_MAX_ITEMS} items")


def _bounded(type_: Any, item: Any, hook: Callable[[Any, Any], Any]) -> Callable[[Any], list[Any]]:
    """Structure an array's items, every problem with its index, at most `MAX_PROBLEMS` of them.

    cattrs' own detailed hook builds an exception for every bad item (and every
    missing field of each) before anyone reads the first hundred: half a megabyte
    of ``{},`` took gigabytes. This one stops checking once enough items failed,
    and says how many it left unchecked.
    """

    def structure(value: Any) -> list[Any]:
        _array(value)
        errors: list[Exception] = []
        out = []
        for index, element in enumerate(value):
            if len(errors) >= MAX_PROBLEMS:
                error: Exception = _Unlisted(len(value) - index)
            else:
                try:
                    out.append(hook(element, item))
                    continue
                except Exception as exc:  # gathered with its index, as cattrs does
                    error = exc
            note = IterableValidationNote(f"Structuring {type_} @ index {index}", index, item)
            error.__notes__ = [*getattr(error, "__notes__", []), note]
            errors.append(error)
            if isinstance(error, _Unlisted):
                break
        if errors:
            raise IterableValidationError(f"While structuring {type_!r}", errors, type_)
        return out

    return structure


def _sequence_factory(type_: Any, converter: cattrs.BaseConverter) -> Any:
    origin = typing.get_origin(type_)
    args = typing.get_args(type_)
    item = args[0] if args else Any
    hook = converter.get_structure_hook(item) if item is not Any else _as_is
    if not converter.detailed_validation:
        # One call per array instead of two; the same checks as the detailed hook.
        if origin is tuple:

            def structure_tuple(value: Any, _: Any) -> Any:
                _array(value)
                return tuple([hook(v, item) for v in value])

            return structure_tuple

        def structure_list(value: Any, _: Any) -> Any:
            _array(value)
            return [hook(v, item) for v in value]

        return structure_list
    bounded = _bounded(type_, item, hook)
    if origin is tuple:
        return lambda value, _: tuple(bounded(value))
    return lambda value, _: bounded(value)


def _as_is(value: Any, _: Any) -> Any:
    return _json_value(value)


def _is_optional(type_: Any) -> bool:
    args = typing.get_args(type_)
    return (
        typing.get_origin(type_) in (typing.Union, types.UnionType)
        and len(args) == 2
        and type(None) in args
    )


def _optional_factory(type_: Any, converter: cattrs.BaseConverter) -> Any:
    """``X | None`` with X's hook found once, not on every value as cattrs' default does."""
    (item,) = (a for a in typing.get_args(type_) if a is not type(None))
    hook = converter.get_structure_hook(item)

    def structure(value: Any, _: Any) -> Any:
        return None if value is None else hook(value, item)

    return structure


def _frozenset_factory(type_: Any, converter: cattrs.BaseConverter) -> Any:
    (item,) = typing.get_args(type_) or (Any,)
    hook = converter.get_structure_hook(item) if item is not Any else _as_is
    bounded = _bounded(type_, item, hook)
    return lambda value, _: frozenset(bounded(value))


def _frozenset_unstructure_factory(type_: Any, converter: cattrs.BaseConverter) -> Any:
    (item,) = typing.get_args(type_) or (Any,)
    if item is str:
        # str() turns a str-based enum member (a `Role`) into its plain value.
        return lambda value: sorted(map(str, value))
    hook = converter.get_unstructure_hook(item)
    return lambda value: sorted(hook(v) for v in value)


def _enum_value(member: Enum) -> Any:
    return member.value


def _record_factory(type_: type, converter: cattrs.Converter) -> Any:
    # Detailed (every problem, with its path) on any converter configured by
    # `configure_converter`; only labflow's private fast converter goes without.
    detailed = not isinstance(converter, _FastConverter)
    idents: dict[str, Any] = {
        name: override(struct_hook=_ident) for name in _IDENT_FIELDS.get(type_, ())
    }
    inner: Callable[[Any, Any], Any] = make_dict_structure_fn(
        type_,
        converter,
        _cattrs_forbid_extra_keys=True,
        _cattrs_detailed_validation=detailed,
        **idents,
    )

    def structure(value: Any, _: Any) -> Any:
        if type(value) is not dict:
            raise _Invalid(f"expected an object, not {_name(value)}")
        return inner(value, type_)

    return structure


def _ident(value: Any, _: Any) -> str:
    """An identifier in a document: the rule `labflow.Lab`'s commands apply, not free text."""
    if type(value) is not str:
        raise _Invalid(f"expected a string, not {_name(value)}")
    problem = ident_problem(value)
    if problem is not None:
        raise _Invalid(f"the identifier {problem}")
    return value


def _is_record(type_: Any) -> bool:
    return isinstance(type_, type) and attrs.has(type_) and type_ not in (Policy, Lab)


def _is_payload(type_: Any) -> bool:
    return typing.get_origin(type_) in (Mapping, dict) and typing.get_args(type_) == (str, Any)


def _enum(value: Any, type_: type[Enum]) -> Enum:
    try:
        return type_(value)
    except ValueError:
        allowed = ", ".join(repr(m.value) for m in type_)
        raise _Invalid(f"expected one of {allowed}, not {value!r}") from None


def _policy_structure(value: Any, _: Any) -> Policy:
    return _policy(value, "$", None)


def configure_converter(converter: cattrs.Converter) -> None:
    """Teach ``converter`` labflow's records and rules; a host may call it on its own converter.

    Strict JSON types (no ``"5"`` for 5, no string for a list), ISO 8601
    date-times that must carry a UTC offset, dates as ``YYYY-MM-DD``, enums by
    value, frozensets as sorted arrays (so documents are deterministic), tuples
    as arrays, free-form payloads checked to be JSON, unknown fields refused.
    Register your own hooks after calling it to extend it.
    """
    given: object = converter  # a host's code, typed or not
    if not isinstance(given, cattrs.Converter):
        problem = Problem("$", f"expected a cattrs.Converter, not {type(given).__name__}")
        raise DocumentError([problem])
    converter.register_structure_hook(str, _str)
    converter.register_structure_hook(int, _int)
    converter.register_structure_hook(bool, _bool)
    converter.register_structure_hook(datetime, _datetime)
    converter.register_structure_hook(date, _date)
    converter.register_unstructure_hook(datetime, datetime.isoformat)
    converter.register_unstructure_hook(date, date.isoformat)
    # Registered for StrEnum too: for a str-based enum, dispatch would find str first.
    for base in (Enum, StrEnum):
        converter.register_structure_hook(base, _enum)
        converter.register_unstructure_hook(base, _enum_value)
    converter.register_structure_hook_func(_is_payload, _payload)
    converter.register_unstructure_hook_func(_is_payload, thaw)  # plain data, the reader's own
    converter.register_structure_hook_factory(is_frozenset, _frozenset_factory)
    converter.register_unstructure_hook_factory(is_frozenset, _frozenset_unstructure_factory)
    converter.register_structure_hook_factory(
        lambda t: is_sequence(t) and not is_frozenset(t), _sequence_factory
    )
    converter.register_structure_hook_factory(_is_optional, _optional_factory)
    converter.register_structure_hook_factory(_is_record, _record_factory)
    converter.register_structure_hook(Policy, _policy_structure)
    converter.register_unstructure_hook(Policy, Policy.to_dict)
    converter.register_unstructure_hook(Lab, lambda lab: _lab_body(lab, converter))
    # Written only once a policy's later approval steps are taken: documents of one-step
    # policies stay exactly as they were before there were steps.
    converter.register_unstructure_hook(
        ActionPlan,
        make_dict_unstructure_fn(
            ActionPlan, converter, further_approvals=override(omit_if_default=True)
        ),
    )
    # Likewise an agreement's versions and reviews, once there are any.
    converter.register_unstructure_hook(
        PerformanceAgreement,
        make_dict_unstructure_fn(
            PerformanceAgreement,
            converter,
            version=override(omit_if_default=True),
            earlier=override(omit_if_default=True),
            reviews=override(omit_if_default=True),
        ),
    )


def make_converter() -> cattrs.Converter:
    """A new private converter for labflow's documents (never cattrs' global one)."""
    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    configure_converter(converter)
    return converter


_EVENT_FIELDS: Final = frozenset(f.name for f in attrs.fields(Event))
#: The fields of each record that hold identifiers (the identifier rule, not free text).
_IDENT_FIELDS: Final[Mapping[type, tuple[str, ...]]] = {
    Event: ("subject", "actor"),
    Unit: ("id",),
    Actor: ("id",),
    Innovation: ("id", "unit"),
}


def _fast_event(value: Any, _: Any) -> Event:
    """An event with the checks of the generic hooks inlined: events are most of a document.

    Exactly what the detailed converter accepts for an `Event` (the fuzz tests
    compare them field by field); a refusal here only says *that* something is
    wrong -- the detailed pass that follows says what, and where.
    """
    if type(value) is not dict or value.keys() != _EVENT_FIELDS:
        raise _Invalid("not an event")
    subject, seq, actor = value["subject"], value["seq"], value["actor"]
    kind, prev, hash_ = value["kind"], value["prev"], value["hash"]
    if (
        type(subject) is not str
        or type(seq) is not int
        or type(actor) is not str
        or type(kind) is not str
        or type(prev) is not str
        or type(hash_) is not str
        or not _MIN_INT <= seq <= _MAX_INT
    ):
        raise _Invalid("not an event")
    joined = subject + actor + kind + prev + hash_  # one scan for the five texts
    if (len(joined) > _MAX_TEXT or _find_forbidden(joined) is not None) and not all(
        map(is_text, (subject, actor, kind, prev, hash_))
    ):
        raise _Invalid("not an event")
    if ident_problem(subject) is not None or ident_problem(actor) is not None:
        raise _Invalid("not an event")
    at = _datetime(value["at"], datetime)
    return Event(subject, seq, at, actor, kind, _payload(value["payload"], None), prev, hash_)


class _FastConverter(cattrs.Converter):
    """The same rules without detailed validation: the first problem ends it, with no path.

    Faster on valid input (no per-field ``try``, no notes, no ``**kwargs``).
    Loading tries it first and, only when it refuses, runs the detailed
    converter on the same data to list every problem with its path, so what is
    accepted and what a refusal says are exactly the detailed converter's.
    """

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(forbid_extra_keys=True, detailed_validation=False)
        configure_converter(self)
        self.register_structure_hook(Event, _fast_event)


_converter: Final = make_converter()
_fast_converter: Final = _FastConverter()
_fast_structure: Final = _fast_converter.structure
_unstructure_event = _converter.get_unstructure_hook(Event)


# --- Bodies ------------------------------------------------------------------------------------


def _lab_body(lab: Lab, converter: cattrs.Converter) -> dict[str, Any]:
    unit = converter.get_unstructure_hook(Unit)
    actor = converter.get_unstructure_hook(Actor)
    innovation = converter.get_unstructure_hook(Innovation)
    event = converter.get_unstructure_hook(Event)
    return {
        "id": lab.id,
        "region": lab.region,
        "policy": lab.policy.to_dict(),
        "stage": lab.stage,
        "units": [unit(u) for u in lab.units.values()],
        "actors": [actor(a) for a in lab.actors.values()],
        "innovations": [innovation(i) for i in lab.innovations.values()],
        "history": [event(e) for e in lab.history],
    }


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


# --- Migrations --------------------------------------------------------------------------------

_Migration = Callable[[Any], Any]
_MIGRATIONS: dict[tuple[str, int], _Migration] = {}


def _migration(kind: str, from_version: int) -> Callable[[_Migration], _Migration]:
    """Register the step that upgrades ``data`` of ``kind`` from ``from_version`` to the next."""

    def register(step: _Migration) -> _Migration:
        _MIGRATIONS[kind, from_version] = step
        return step

    return register


@_migration("innovation", 1)
def _innovation_1_to_2(data: Any) -> Any:
    """Version 1 kept the innovators as one ``"; "``-joined string; version 2 keeps a list.

    A name with a semicolon in it could not be stored in version 1, and hosts
    in other languages had to know to split. Anything but a string is left for
    validation to report.
    """
    if type(data) is not dict or type(data.get("innovators")) is not str:
        return data
    names = [n.strip() for n in data["innovators"].split(";")]
    return {**data, "innovators": [n for n in names if n]}


@_migration("lab", 1)
def _lab_1_to_2(data: Any) -> Any:
    """Version 1 of a lab embedded version-1 innovations."""
    if type(data) is not dict or type(data.get("innovations")) is not list:
        return data
    return {**data, "innovations": [_innovation_1_to_2(i) for i in data["innovations"]]}


@_migration("innovation", 2)
def _innovation_2_to_3(data: Any) -> Any:
    """Version 3 adds the attributes a policy declares (jenis, bentuk, ...): none before."""
    if type(data) is not dict or "attributes" in data:
        return data
    return {**data, "attributes": {}}


@_migration("lab", 2)
def _lab_2_to_3(data: Any) -> Any:
    """Version 3 of a lab embeds version-3 innovations."""
    if type(data) is not dict or type(data.get("innovations")) is not list:
        return data
    return {**data, "innovations": [_innovation_2_to_3(i) for i in data["innovations"]]}


def migrate(document: Mapping[str, Any]) -> dict[str, Any]:
    """Upgrade a document of an older version, step by step, to its kind's current version.

    Returns a new document (the input is never changed); `DocumentError` if the
    envelope is malformed or the version is unknown or from the future.
    """
    kind, version = _envelope(document)
    data = document["data"]
    while version < VERSIONS[kind]:
        step = _MIGRATIONS.get((kind, version))
        if step is None:
            problem = Problem("$.version", f"no migration from version {version} of {kind}")
            raise _refuse([problem], kind)
        data = step(data)
        version += 1
    return {"kind": kind, "version": version, "data": data}


def _envelope(document: Any) -> tuple[str, int]:
    if type(document) is not dict:
        message = f"a document must be an object, not {_name(document)}"
        raise _refuse([Problem("$", message)], None)
    problems = []
    extra = [k for k in document if k not in ("kind", "version", "data")]
    if extra:
        problems.append(Problem("$", f"unknown fields {_few(extra)}"))
    kind: Any = document.get("kind")
    if type(kind) is not str:  # a list or an object would not even hash
        problems.append(Problem("$.kind", f"expected a string, not {_name(kind)}"))
        kind = None
    elif kind not in VERSIONS:
        problems.append(
            Problem("$.kind", f"{kind!r} is not a document kind (one of {', '.join(KINDS)})")
        )
    version = document.get("version")
    if type(version) is not int or version < 1:
        problems.append(Problem("$.version", "expected a positive integer"))
    elif kind in VERSIONS and version > VERSIONS[kind]:
        problems.append(
            Problem(
                "$.version",
                f"version {version} is newer than this labflow reads "
                f"(up to {VERSIONS[kind]}); upgrade labflow",
            )
        )
    if "data" not in document:
        problems.append(Problem("$.data", "is required"))
    if problems:
        raise _refuse(problems, kind if isinstance(kind, str) and kind in VERSIONS else None)
    return typing.cast(str, kind), typing.cast(int, version)


# --- Loading -----------------------------------------------------------------------------------


def _structure(data: Any, type_: Any, path: str, problems: list[Problem]) -> Any:
    try:
        return _fast_structure(data, type_)
    except Exception:  # any refusal: the detailed pass below says what and where
        pass
    try:
        return _converter.structure(data, type_)
    except (BaseValidationError, _Invalid) as exc:
        if isinstance(exc, _Invalid):
            problems.append(Problem(path, str(exc)))
        else:
            problems.extend(_problems(exc, path))
        return None


def _policy(data: Any, path: str, registry: Registry | None) -> Policy:
    """A policy through the same validation as TOML; its problems re-rooted at ``path``."""
    try:
        _json_value(data)
        return policy_from_dict(data, source=f"document at {path}", registry=registry)
    except PolicyError as exc:
        raise _Located([Problem(path + p.path[1:], p.message) for p in exc.problems]) from exc
    except _Invalid as exc:
        raise _Located([Problem(path, str(exc))]) from exc


class _Located(_Invalid):
    """Problems already carrying their own paths."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


def _chain(history: list[Event], path: str, problems: list[Problem]) -> bool:
    result = verify(history)
    if result.ok:
        return True
    where = f"{path}[{(result.seq or 1) - 1}]"
    problems.append(Problem(where, f"the history is tampered: {result.reason}"))
    return False


def _differences(stated: Any, folded: Any, path: str) -> list[Problem]:
    """Where a stated record disagrees with the fold of its history (the fields, not the events)."""
    out = []
    for field in attrs.fields(type(folded)):
        if field.name == "history":
            continue
        mine, theirs = getattr(stated, field.name), getattr(folded, field.name)
        if mine != theirs:
            out.append(
                Problem(
                    f"{path}.{field.name}",
                    "disagrees with the history "
                    f"(the document says {_short(mine)}, its history gives {_short(theirs)})",
                )
            )
    return out


def _why(exc: Exception) -> str:
    """A foreign error from a replay, as a phrase (a `KeyError` alone says only ``'policy'``)."""
    if isinstance(exc, KeyError):
        return f"an event's payload has no {exc}"
    return str(exc) or type(exc).__name__


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _innovation(data: Any, path: str, problems: list[Problem]) -> Innovation | None:
    stated = _structure(data, Innovation, path, problems)
    if stated is None:
        return None
    if not _chain(stated.history, f"{path}.history", problems):
        return None
    if not stated.history:
        problems.append(Problem(f"{path}.history", "an innovation's history cannot be empty"))
        return None
    try:
        folded = replay_innovation(stated.history)
    except HistoryError:
        raise  # chained, but not a history an innovation's commands could have produced
    except (LabflowError, KeyError, TypeError, ValueError, AttributeError) as exc:
        problems.append(Problem(f"{path}.history", f"the history does not replay: {_why(exc)}"))
        return None
    if stated != folded:
        problems.extend(_differences(stated, folded, path))
        return None
    return folded


def _load_event(data: Any, problems: list[Problem]) -> Event | None:
    event: Event | None = _structure(data, Event, "$.data", problems)
    if event is None:
        return None
    try:
        expected = expected_hash(event)
    except (TypeError, ValueError) as exc:
        problems.append(Problem("$.data.payload", f"cannot be encoded canonically ({exc})"))
        return None
    if expected != event.hash:
        problems.append(Problem("$.data.hash", "the event is tampered: its content does not match"))
        return None
    return event


def _load_lab(
    data: Any, problems: list[Problem], registry: Registry | None, clock: Clock
) -> Lab | None:
    path = "$.data"
    if type(data) is not dict:
        problems.append(Problem(path, f"expected an object, not {_name(data)}"))
        return None
    fields = ("id", "region", "policy", "stage", "units", "actors", "innovations", "history")
    extra = [k for k in data if k not in fields]
    if extra:
        problems.append(Problem(path, f"unknown fields {_few(extra)}"))
    missing = [f for f in fields if f not in data]
    problems.extend(Problem(f"{path}.{f}", "is required") for f in missing)
    if missing:
        return None
    before = len(problems)
    ident = _structure(data["id"], str, f"{path}.id", problems)
    region = _structure(data["region"], str, f"{path}.region", problems)
    stage = _structure(data["stage"], str, f"{path}.stage", problems)
    units = _structure(data["units"], list[Unit], f"{path}.units", problems)
    actors = _structure(data["actors"], list[Actor], f"{path}.actors", problems)
    history = _structure(data["history"], list[Event], f"{path}.history", problems)
    try:
        policy: Policy | None = _policy(data["policy"], f"{path}.policy", registry)
    except _Located as exc:
        problems.extend(exc.problems)
        policy = None
    innovations: list[Innovation] = []
    raw = data["innovations"]
    if type(raw) is not list:
        problems.append(Problem(f"{path}.innovations", f"expected an array, not {_name(raw)}"))
    else:
        for i, item in enumerate(raw):
            if len(problems) >= MAX_PROBLEMS:  # enough to act on; the rest would only cost
                unchecked = f"... and {len(raw) - i} more innovations were not checked"
                problems.append(Problem(f"{path}.innovations[{i}]", unchecked))
                break
            inn = _innovation(item, f"{path}.innovations[{i}]", problems)
            if inn is not None:
                innovations.append(inn)
    if len(problems) > before or policy is None:
        return None
    if not _chain(history, f"{path}.history", problems):
        return None
    if not history:
        problems.append(Problem(f"{path}.history", "a lab's history cannot be empty"))
        return None
    try:
        lab = replay_lab(history, [i.history for i in innovations], registry=registry, clock=clock)
    except HistoryError:
        raise  # well-formed, chained, but not what commands could have produced
    except (LabflowError, KeyError, TypeError, ValueError, AttributeError) as exc:
        problems.append(Problem(f"{path}.history", f"the history does not replay: {_why(exc)}"))
        return None
    stated = {
        "id": ident,
        "region": region,
        "policy": policy,
        "stage": stage,
        "units": {u.id: u for u in units},
        "actors": {a.id: a for a in actors},
    }
    for name, value in stated.items():
        if getattr(lab, name) != value:
            problems.append(Problem(f"{path}.{name}", "disagrees with the lab's history"))
    if len(problems) > before:
        # A forged history can fold into anything its payloads say (a stage that is a
        # list, a unit id that is an object): only once the fold equals the stated,
        # typed fields may the checks below rely on those types.
        return None
    for name, items in (("units", units), ("actors", actors), ("innovations", innovations)):
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item.id in seen:
                problems.append(Problem(f"{path}.{name}[{i}].id", f"{item.id!r} appears twice"))
            seen.add(item.id)
    for i, inn in enumerate(innovations):
        where = f"{path}.innovations[{i}]"
        if not lab.policy.has_stage(inn.stage):
            problems.append(
                Problem(f"{where}.stage", f"{inn.stage!r} is not a stage of {lab.policy.id!r}")
            )
        if inn.unit not in lab.units:
            problems.append(Problem(f"{where}.unit", f"{inn.unit!r} is not a unit of the lab"))
        opened = inn.history[0].payload.get("lab")
        if opened != lab.id:
            problems.append(
                Problem(f"{where}.history[0]", f"it opened in lab {opened!r}, not {lab.id!r}")
            )
    if not lab.policy.has_stage(lab.stage):
        problems.append(Problem(f"{path}.stage", f"{lab.stage!r} is not a stage of the policy"))
    return None if problems else lab


def structure(
    document: Any, *, registry: Registry | None = None, clock: Clock = system_clock
) -> object:
    """Load a document from plain data; its kind is read from the document itself.

    An older version is migrated first. ``registry`` resolves the custom
    requirements a policy names; ``clock`` is given to a loaded lab. Raises
    `DocumentError` listing every problem; the input is never changed.
    """
    try:
        return _structure_document(document, registry, clock)
    except RecursionError:
        problem = Problem("$", f"is nested too deeply (more than {MAX_DEPTH} levels)")
        raise _refuse([problem], None) from None


def _structure_document(document: Any, registry: Registry | None, clock: Clock) -> object:
    document = migrate(document)
    kind, data = document["kind"], document["data"]
    problems: list[Problem] = []
    result: object = None
    if kind == "innovation":
        result = _innovation(data, "$.data", problems)
    elif kind == "event":
        result = _load_event(data, problems)
    elif kind == "history":
        history = _structure(data, list[Event], "$.data", problems)
        if history is not None and _chain(history, "$.data", problems):
            result = history
    elif kind == "policy":
        try:
            result = _policy(data, "$.data", registry)
        except _Located as exc:
            problems.extend(exc.problems)
    else:
        result = _load_lab(data, problems, registry, clock)
    if problems or result is None:
        raise _refuse(problems or [Problem("$.data", "is invalid")], kind)
    return result


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
    document = unstructure(obj)
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
    return structure(_parse(data), registry=registry, clock=clock)


#: What the typed loaders take: JSON (bytes or text) or a document as plain data.
_Input = bytes | bytearray | memoryview | str | Mapping[str, Any]


def _load_kind(kind: str, data: _Input, registry: Registry | None, clock: Clock) -> object:
    """Load ``data`` as `structure` does, refusing a document of any kind but ``kind`` first."""
    document = data if isinstance(data, Mapping) else _parse(data)
    if isinstance(document, dict) and document.get("kind") != kind:
        found = document.get("kind")
        problem = Problem("$.kind", f"expected a {kind} document, not {found!r}")
        raise _refuse([problem], kind)
    return structure(document, registry=registry, clock=clock)


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


# --- JSON Schema -------------------------------------------------------------------------------


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the current version of a ``kind`` document.

    A schema checks shape and types; loading checks more (hashes, the fold,
    the policy's own rules), so a document that validates may still be refused.
    """
    if not isinstance(kind, str) or kind not in VERSIONS:
        raise _refuse(
            [Problem("$.kind", f"{kind!r} is not a document kind (one of {', '.join(KINDS)})")],
            None,
        )
    return document_schema(kind, VERSIONS[kind])

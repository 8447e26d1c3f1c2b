"""The converter: labflow's records to and from plain JSON values, by its own rules.

Private to `labflow.serde`. One private cattrs converter (`make_converter`), never the
global one; `configure_converter` teaches any converter a host owns the same strict rules
(JSON types only, date-times with an offset, identifiers by the identifier rule, free text
by the free-text rule, payloads checked to be JSON, unknown fields refused). A second,
faster converter (`_FastConverter`) applies the same rules without detailed validation:
loading tries it first and asks the detailed one only to say what is wrong, and where.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from enum import Enum, StrEnum
from typing import Any, Final

import attrs
import cattrs
from cattrs.cols import is_frozenset, is_sequence
from cattrs.errors import IterableValidationError, IterableValidationNote
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from labflow import _limits
from labflow._frozen import FrozenList, FrozenMap, thaw
from labflow._limits import MAX_DEPTH, MAX_PROBLEMS
from labflow._registrations import Registration, index_data
from labflow._text import find_forbidden as _find_forbidden
from labflow._text import ident_problem, is_text, text_problem
from labflow.errors import DocumentError, PolicyError, Problem
from labflow.events import Event
from labflow.lab import Lab
from labflow.model import ActionPlan, Actor, Innovation, PerformanceAgreement, Unit
from labflow.policy import Policy, policy_from_dict
from labflow.requirements import Registry
from labflow.serde._envelope import _Invalid, _name, _short, _Unlisted

__all__ = ["configure_converter", "make_converter"]

_MAX_ITEMS: Final = _limits.MAX_ITEMS
_MAX_TEXT: Final = _limits.MAX_TEXT_LENGTH
_MIN_INT: Final = _limits.MIN_INT
_MAX_INT: Final = _limits.MAX_INT

_SCALARS: Final = frozenset({bool, type(None)})
_INT_RANGE: Final = f"outside the signed 64-bit range ({_MIN_INT} to {_MAX_INT})"


def _json_value(value: Any, depth: int = 0) -> Any:
    """Check a free-form value is JSON (and not too deep); return it read-only.

    Its strings follow the free-text rule and its integers are 64-bit, as everywhere.
    Objects and arrays come back as `FrozenMap` / `FrozenList` (equal to what was given),
    made in the same walk that checks them: an event's payload is frozen once, here.
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
        out: Any = FrozenMap(value)
        items: Iterable[tuple[Any, Any]] = value.items()
        put: Callable[[Any, Any, Any], None] = _put_key
    elif kind is list:
        if len(value) > _MAX_ITEMS:
            raise _Invalid(f"has more than {_MAX_ITEMS} items")
        out = FrozenList(value)
        items = enumerate(value)
        put = _put_index
    elif isinstance(value, str | int):  # a str-based enum member (`Role`) is its value
        return value
    else:
        raise _Invalid(f"expected a JSON value, not {type(value).__name__}")
    for where, item in items:
        item_kind = type(item)
        if item_kind is str:  # inlined: payload strings are most of a document's values
            if len(item) > _MAX_TEXT or _find_forbidden(item) is not None:
                raise _Invalid(f"holds a text that {text_problem(item)}")
        elif item_kind is int:
            if not _MIN_INT <= item <= _MAX_INT:
                raise _Invalid(f"holds the integer {_short(item)}, {_INT_RANGE}")
        elif item_kind not in _SCALARS:
            put(out, where, _json_value(item, depth + 1))
    return out


_put_key: Final = dict.__setitem__  # a frozen container's own setters, to build one
_put_index: Final = list.__setitem__


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
    Registration: ("subject",),
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
        "registrations": _registrations(lab),
        "history": [event(e) for e in lab.history],
    }


def _registrations(lab: Lab) -> dict[str, Any]:
    """The lab's registration index: its innovations in the order the lab holds them (for a
    lab built by commands, the order of registration), each with its first event, chained."""
    return index_data(lab.id, [(i.id, i.history[0].hash) for i in lab.innovations.values()])

"""Hostile input: whatever reaches a loader, only `DocumentError` escapes, and nothing changes."""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Callable, Iterator
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labflow import DocumentError, Lab, serde
from labflow.events import Event
from labflow.model import ActionPlan, Actor, Innovation, PerformanceAgreement, Unit
from labflow.testing import labs

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
envelopes = st.fixed_dictionaries(
    {"kind": st.sampled_from([*serde.KINDS, "shop"]), "version": st.integers(-1, 3)},
    optional={"data": json_values},
)

LOADERS: list[Callable[..., object]] = [
    serde.structure,
    serde.load_lab,
    serde.load_innovation,
    serde.load_event,
    serde.load_history,
    serde.load_policy_document,
]


def only_document_errors(document: Any) -> None:
    before = copy.deepcopy(document)
    for load in LOADERS:
        with contextlib.suppress(DocumentError):
            load(document)
        assert document == before
    try:
        text = json.dumps(document)
    except (TypeError, ValueError):
        return
    for load in (serde.loads, *LOADERS[1:]):
        with contextlib.suppress(DocumentError):
            load(text)


@settings(max_examples=150, deadline=None)
@given(json_values | envelopes)
def test_arbitrary_json_only_raises_document_errors(document: Any) -> None:
    only_document_errors(document)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_only_raise_document_errors(data: bytes) -> None:
    for load in (serde.loads, serde.load_lab):
        with contextlib.suppress(DocumentError):
            load(data)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a document, the root included."""
    out = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            out.extend(_paths(item, (*path, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out.extend(_paths(item, (*path, index)))
    return out


@st.composite
def mutated(draw: st.DrawFn, lab: Lab) -> dict[str, Any]:
    """A valid document of the lab (or of a part of it) with one to three random edits."""
    targets: list[object] = [lab, lab.policy, lab.history, lab.history[0]]
    for inn in lab.innovations.values():
        targets += [inn, inn.history[-1]]
    document = serde.unstructure(draw(st.sampled_from(targets)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(document)))
        if not path:
            continue
        parent: Any = document
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        action = draw(st.sampled_from(["replace", "delete", "add", "swap"]))
        if action == "replace":
            parent[last] = draw(json_values)
        elif action == "delete":
            del parent[last]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=6))] = draw(json_values)
        elif action == "add":
            parent.insert(last, copy.deepcopy(parent[last]))
        elif isinstance(parent, list) and len(parent) > 1:
            parent[0], parent[-1] = parent[-1], parent[0]
    return document


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(labs(max_commands=15).flatmap(mutated))
def test_mutated_documents_only_raise_document_errors(document: dict[str, Any]) -> None:
    only_document_errors(document)


# Loading tries a fast converter (no detailed validation) first and falls back to the
# detailed one only on refusal; that is sound only if both accept exactly the same data.
_REFUSED = object()
_RECORD_TYPES: list[Any] = [
    Innovation,
    Event,
    list[Event],
    list[Unit],
    list[Actor],
    ActionPlan,
    PerformanceAgreement,
]


def _verdict(converter: Any, data: Any, type_: Any) -> Any:
    try:
        return converter.structure(data, type_)
    except Exception:  # any refusal, whatever its form
        return _REFUSED


def same_verdicts(data: Any, type_: Any) -> None:
    fast = _verdict(serde._fast_converter, data, type_)
    detailed = _verdict(serde._converter, data, type_)
    assert (fast is _REFUSED) == (detailed is _REFUSED), (fast, detailed)
    assert fast is _REFUSED or (type(fast) is type(detailed) and fast == detailed)


def _parts(document: dict[str, Any]) -> list[tuple[Any, Any]]:
    """The pieces of a document that go through the converters, with their types."""
    kind, data = document.get("kind"), document.get("data")
    if kind == "innovation":
        return [(data, Innovation)]
    if kind == "event":
        return [(data, Event)]
    if kind == "history":
        return [(data, list[Event])]
    if kind == "lab" and isinstance(data, dict):
        pairs: list[tuple[Any, Any]] = [
            (data.get(name), type_)
            for name, type_ in (
                ("units", list[Unit]),
                ("actors", list[Actor]),
                ("history", list[Event]),
            )
        ]
        innovations = data.get("innovations")
        if isinstance(innovations, list):
            pairs += [(item, Innovation) for item in innovations]
        return pairs
    return []


@settings(max_examples=150, deadline=None)
@given(json_values, st.sampled_from(_RECORD_TYPES))
def test_fast_and_detailed_converters_agree_on_arbitrary_json(data: Any, type_: Any) -> None:
    same_verdicts(data, type_)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(labs(max_commands=15).flatmap(mutated))
def test_fast_and_detailed_converters_agree_on_mutated_documents(document: dict[str, Any]) -> None:
    """Both accept the same edited records and build equal ones, or both refuse."""
    for data, type_ in _parts(document):
        same_verdicts(data, type_)


#: Values one JSON type away from what a field holds: the ones a lax check lets through.
CONFUSABLE: list[Any] = [
    None,
    True,
    0,
    1,
    1.0,
    "1",
    "",
    "x",
    [],
    ["x"],
    {},
    "2016-05-01",
    "2016-05-01T08:00:00",
    "2016-05-01T08:00:00+07:00",
]


def _edits(data: Any) -> Iterator[Any]:
    """``data`` with each value in turn replaced by each confusable one, deleted, or extended."""
    for path in _paths(data):
        for value in CONFUSABLE:
            edited = copy.deepcopy(data)
            if not path:
                yield value
                continue
            parent = edited
            for step in path[:-1]:
                parent = parent[step]
            parent[path[-1]] = value
            yield edited
        if path:
            edited = copy.deepcopy(data)
            parent = edited
            for step in path[:-1]:
                parent = parent[step]
            del parent[path[-1]]
            yield edited
    if isinstance(data, dict):
        yield {**data, "unknown": 1}


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(labs(max_commands=25))
def test_fast_and_detailed_converters_agree_on_every_one_field_edit(lab: Lab) -> None:
    """Every field of every record, swapped for a value of another JSON type: same verdicts."""
    body = serde.unstructure(lab)["data"]
    for data, type_ in _parts({"kind": "lab", "data": body}):
        for edited in _edits(data):
            same_verdicts(edited, type_)

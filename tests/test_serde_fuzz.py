"""Hostile input: whatever reaches a loader, only `DocumentError` escapes, and nothing changes."""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labflow import DocumentError, HistoryError, Lab, serde
from labflow._registrations import Registrations
from labflow.events import GENESIS, Event, make_event
from labflow.lab import replay_lab
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
    Registrations,
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
                ("registrations", Registrations),
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


# --- Forged histories: every hash right, the payloads odd ----------------------------------
#
# A forger who edits a payload and recomputes every hash after it passes the chain; what
# stops them is the fold. These tests build such histories with `make_event` (so every
# hash is right) and put odd values where the fold reads state from a payload.

#: Payload values a forger might try: other JSON types, stage-like strings, odd shapes.
ODD: list[Any] = [
    *CONFUSABLE,
    {"a": 1},
    [[]],
    [1, 2],
    -1,
    10**30,
    "drum_up",
    "display",
    "nowhere",
    {"id": "x", "name": "X", "kind": "agency"},
]
odd_values = st.sampled_from(ODD) | json_values

#: A payload of every kind the fold applies, with the keys it reads.
TEMPLATES: dict[str, dict[str, Any]] = {
    "lab.advanced": {"from": "drum_up", "to": "diagnose"},
    "lab.unit_added": {"unit": {"id": "u9", "name": "U9", "kind": "agency"}},
    "lab.actor_added": {"actor": {"id": "a9", "name": "A9", "roles": ["innovator"], "unit": None}},
    "lab.roles_set": {"actor": "sekretariat", "roles": ["secretariat"]},
    "lab.ceremony_held": {"ceremony": "Peluncuran", "launched": ["x"], "refused": ["y"]},
    "innovation.advanced": {"from": "drum_up", "to": "diagnose"},
    "innovation.returned": {"from": "design", "to": "diagnose", "reason": "r"},
    "innovation.diagnosis_recorded": {"problem": "p", "root_causes": ["c"], "readiness": "r"},
    "innovation.plan_submitted": {
        "steps": [{"description": "d", "responsible": "r", "due": "2016-06-01"}],
        "stakeholders": ["s"],
        "budget": 1,
        "documents": ["d"],
    },
    "innovation.plan_approved": {"roles": ["unit_head"]},
    "innovation.agreement_drawn_up": {"regional_head": "b", "unit_head": "k", "terms": "t"},
    "innovation.agreement_signed": {"role": "regional_head"},
    "innovation.permission_granted": {"reference": "800/1"},
    "innovation.launched": {"ceremony": "Peluncuran"},
    "innovation.evidence_attached": {"title": "SK", "reference": "doc-1"},
    "innovation.exhibit_registered": {"event": "Pameran", "booth": "A1"},
    "innovation.withdrawn": {"reason": "r"},
    "innovation.reinstated": {"reason": "r"},
}


def _rechain(events: list[dict[str, Any]], start: int) -> None:
    """Re-hash ``events[start:]`` in place with `make_event`, as a forger would."""
    prev = events[start - 1]["hash"] if start else GENESIS
    for i in range(start, len(events)):
        e = events[i]
        at = serde._converter.structure(e["at"], datetime)
        event = make_event(e["subject"], i + 1, at, e["actor"], e["kind"], e["payload"], prev)
        events[i] = serde.unstructure(event)["data"]
        prev = event.hash


def _replaced(payload: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    payload = copy.deepcopy(payload)
    parent: Any = payload
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return payload


def _agree_with_fold(document: dict[str, Any], clock: Any) -> None:
    """Rewrite a lab document's stated fields to its forged fold, when it folds at all.

    Then the loader cannot stop at "disagrees with the history"; it must get through
    the checks behind it with whatever the fold made of the odd values.
    """
    data = document["data"]
    with contextlib.suppress(Exception):  # a fold that fails is the loader's to report
        history = serde._converter.structure(data["history"], list[Event])
        innovations = [
            serde._converter.structure(inn["history"], list[Event]) for inn in data["innovations"]
        ]
        body = serde._lab_body(replay_lab(history, innovations, clock=clock), serde._converter)
        data.update({k: body[k] for k in ("id", "region", "stage", "units", "actors")})
        data["innovations"] = body["innovations"]


def _forge(
    lab: Lab, which: int, kind: str | None, payload: dict[str, Any], agree: bool
) -> dict[str, Any]:
    """A document of ``lab`` with history ``which`` (0: the lab's) forged and re-hashed.

    ``kind`` appends an event of that kind with ``payload``; ``None`` puts ``payload``
    into the history's first event instead (``lab.created``, ``innovation.registered``).
    """
    document = serde.unstructure(lab)
    data = document["data"]
    events = [data["history"], *(inn["history"] for inn in data["innovations"])][which]
    if kind is None:
        events[0]["payload"] = payload
        start = 0
    else:
        last = events[-1]
        events.append({**last, "kind": kind, "payload": payload, "seq": last["seq"] + 1})
        start = len(events) - 1
    _rechain(events, start)
    if agree:
        _agree_with_fold(document, lab.clock)
    return document


def _loads_or_refuses(document: dict[str, Any]) -> None:
    """Only `DocumentError` (malformed) or `HistoryError` (well-formed, but not a history
    commands could produce) escapes, for the lab and each innovation alone; nothing changes."""
    before = copy.deepcopy(document)
    for doc in (
        document,
        *({"kind": "innovation", "version": 2, "data": i} for i in document["data"]["innovations"]),
    ):
        with contextlib.suppress(DocumentError, HistoryError):
            serde.structure(doc)
    assert document == before


@pytest.fixture(scope="module")
def small_lab() -> Lab:
    return serde.load_lab((Path(__file__).parent / "fixtures" / "lab-v1.json").read_bytes())


#: One odd value of each shape, for the exhaustive test (`ODD` is for the random one).
SHAPES: list[Any] = [None, True, 0, 10**30, 1.5, "", "nowhere", [], ["x"], [[]], {}, {"a": 1}]


def test_every_forged_payload_value_only_raises_document_errors(small_lab: Lab) -> None:
    """Each value the fold reads, of each kind, swapped for each odd shape; hashes recomputed."""
    for kind, template in TEMPLATES.items():
        which = 0 if kind.startswith("lab.") else 1
        for path in _paths(template)[1:]:
            for value in SHAPES:
                payload = _replaced(template, path, value)
                for agree in (False, True):
                    _loads_or_refuses(_forge(small_lab, which, kind, payload, agree))
    for which in (0, 1):
        first = serde.unstructure(small_lab)["data"]
        events = [first["history"], *(i["history"] for i in first["innovations"])][which]
        opening = events[0]["payload"]
        for path in _paths(opening)[1:]:
            for value in SHAPES:
                payload = _replaced(opening, path, value)
                _loads_or_refuses(_forge(small_lab, which, None, payload, agree=True))


@st.composite
def forged(draw: st.DrawFn, lab: Lab) -> dict[str, Any]:
    """A lab document with one history forged: an event appended with an odd payload,
    or its opening event edited; the stated fields then agree with the fold half the time."""
    which = draw(st.integers(0, len(lab.innovations)))
    subject = "lab." if which == 0 else "innovation."
    kind = draw(st.sampled_from([None, *(k for k in TEMPLATES if k.startswith(subject))]))
    if kind is None:
        event = [lab.history, *(i.history for i in lab.innovations.values())][which][0]
        template = serde.unstructure(event)["data"]["payload"]  # plain data, ours to edit
    else:
        template = TEMPLATES[kind]
    payload = copy.deepcopy(template)
    for _ in range(draw(st.integers(1, 3))):
        spots = _paths(payload)[1:]
        if not spots:
            break
        payload = _replaced(payload, draw(st.sampled_from(spots)), draw(odd_values))
    return _forge(lab, which, kind, payload, draw(st.booleans()))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(labs(max_commands=15).flatmap(forged))
def test_forged_but_hash_consistent_histories_only_raise_document_errors(
    document: dict[str, Any],
) -> None:
    """Hashes recomputed with `make_event` do not get odd payload values past the loader."""
    _loads_or_refuses(document)

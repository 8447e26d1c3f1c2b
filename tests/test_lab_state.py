"""A lab's state changes only through its commands: no public way of changing it by hand.

The walk starts from a lab that has been through every command (units, actors, an
innovation at every artefact: diagnosis, plan, agreement, permission, launch, evidence,
exhibit, a replica) and visits everything a host can reach from it -- the lab's public
attributes, its innovations, their records, their histories, the events and their payloads,
all the way down. On each value it tries every way Python has of changing one: setting or
deleting an attribute, and for containers setting, deleting, appending, updating, popping,
clearing. Each must fail, and afterwards the lab must be exactly as before and still verify.
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs
import pytest

import labflow as lf
from helpers import bring_to, cohort, make_lab, register
from labflow import serde
from labflow.events import make_event
from labflow.store import changes
from labflow.store.memory import MemoryStore

#: Public attributes that are the host's settings, not the lab's state.
SETTINGS = {"clock"}


def _lived_lab() -> lf.Lab:
    lab = make_lab()
    cohort(lab)
    bring_to(lab, "display")
    ident = next(iter(lab.innovations))
    inn = lab.innovation(ident)
    lab.attach_evidence(ident, title="SK Bupati", reference="sk-1", by="sekretariat")
    lab.register_exhibit(ident, event="Expo", booth="A1", by="sekretariat")
    register(lab, "ditarik", "dinkes")
    lab.withdraw("ditarik", reason="Ditunda", by="sekretariat")
    other = next(u for u in lab.units if u != inn.unit and lab.units[u].kind.government)
    lab.replicate("replika", origin=ident, unit=other, adaptation="Disesuaikan", by="sekretariat")
    return lab


def _public(obj: object) -> Iterator[str]:
    if attrs.has(type(obj)):
        yield from (f.name for f in attrs.fields(type(obj)) if not f.name.startswith("_"))
    for name in dir(type(obj)):
        if not name.startswith("_") and isinstance(getattr(type(obj), name), property):
            yield name


def _attempts(value: object) -> Iterator[tuple[str, Callable[[], object]]]:
    """Every way of changing ``value`` in place, each as a call that must fail."""
    for name in set(_public(value)) - SETTINGS:
        yield f"set .{name}", lambda name=name: setattr(value, name, None)
        yield f"del .{name}", lambda name=name: delattr(value, name)
    yield "set a new attribute", lambda: setattr(value, "extra", 1)
    if isinstance(value, Mapping):
        m: Any = value
        key = next(iter(value), "k")
        yield "m[k] = v", lambda: m.__setitem__(key, None)
        yield "del m[k]", lambda: m.__delitem__(key)
        yield "m.update", lambda: m.update({key: None})
        yield "m.pop", lambda: m.pop(key)
        yield "m.popitem", lambda: m.popitem()
        yield "m.clear", lambda: m.clear()
        yield "m.setdefault", lambda: m.setdefault("new", 1)
        yield "m |= ", lambda: m.__ior__({"new": 1})
    if isinstance(value, list | tuple):
        s: Any = value
        yield "s[0] = v", lambda: s.__setitem__(0, None)
        yield "del s[0]", lambda: s.__delitem__(0)
        arguments = {"append": (1,), "extend": ([1],), "insert": (0, 1), "remove": (1,)}
        for method in ("append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse"):
            given = arguments.get(method, ())
            yield f"s.{method}", lambda method=method, given=given: getattr(s, method)(*given)
        yield "s += ", lambda: s.__iadd__([1])
        yield "s *= ", lambda: s.__imul__(2)
    if isinstance(value, set | frozenset):
        f: Any = value
        yield "set.add", lambda: f.add(1)
        yield "set.discard", lambda: f.discard(next(iter(f), 1))


def _children(value: object) -> Iterator[object]:
    if isinstance(value, str | bytes | int | float | bool) or value is None:
        return
    if isinstance(value, Mapping):
        yield from value.values()
    elif isinstance(value, list | tuple | set | frozenset):
        yield from value
    else:
        for name in set(_public(value)) - SETTINGS - {"policy"}:
            yield getattr(value, name)


def _reachable(root: object) -> Iterator[object]:
    seen: set[int] = set()
    todo = [root]
    while todo:
        value = todo.pop()
        if id(value) in seen or isinstance(value, str | bytes | int | float | bool | type(None)):
            continue
        seen.add(id(value))
        yield value
        todo.extend(_children(value))


def test_no_public_way_changes_a_labs_state() -> None:
    lab = _lived_lab()
    before = serde.dumps(lab)
    kinds: set[str] = set()
    tried = 0
    for value in _reachable(lab):
        kinds.add(type(value).__name__)
        for what, attempt in _attempts(value):
            tried += 1
            try:
                attempt()
            except (AttributeError, TypeError):  # attrs' FrozenInstanceError is one too
                continue
            raise AssertionError(f"{what} changed a {type(value).__name__}: {value!r:.200}")
    # The walk did reach every kind of record a lab holds.
    assert {
        "Lab",
        "Innovation",
        "Event",
        "Unit",
        "Actor",
        "Diagnosis",
        "ActionPlan",
        "PlanStep",
        "PerformanceAgreement",
        "Signature",
        "Permission",
        "Launch",
        "Evidence",
        "Exhibit",
        "Replication",
        "FrozenMap",
        "FrozenList",
        "mappingproxy",
        "tuple",
    } <= kinds
    assert tried > 1000
    assert serde.dumps(lab) == before
    assert all(v.ok for v in lab.verify())


def test_the_stage_of_a_lab_or_an_innovation_cannot_be_set() -> None:
    """The two edits the issue found: a launch at the wrong stage, a lab moved by hand."""
    lab = make_lab()
    cohort(lab)
    ident = next(iter(lab.innovations))
    with pytest.raises(AttributeError):
        lab.innovation(ident).stage = "deliver"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        lab.stage = "display"  # type: ignore[misc]
    with pytest.raises(TypeError):
        lab.innovations[ident] = lab.innovation(ident)  # type: ignore[index]
    assert lab.innovation(ident).stage == lab.stage == lab.policy.stages[0].id


@pytest.mark.parametrize(
    "args",
    [(), ("lab", "Kab", None, "deliver"), ("lab", "Kab", lf.load_policy("lan-5d"), "display")],
)
def test_the_constructor_builds_no_lab(args: tuple[Any, ...]) -> None:
    """Only Lab.create, replay and loading make a lab: one at a stage no event led to is refused."""
    with pytest.raises(lf.UsageError) as info:
        lf.Lab(*args)
    assert info.value.code == "usage.lab_constructor"


def test_an_event_holds_its_own_read_only_payload() -> None:
    """A payload given to an event is copied and frozen: the caller's dict stays the caller's."""
    lab = make_lab()
    mine = {"from": "a", "to": "b", "gate": ["x"]}
    event = make_event("s", 1, lab.now(), "x", "innovation.advanced", mine, lf.GENESIS)
    mine["to"] = "changed"
    mine["gate"].append("y")
    assert event.payload == {"from": "a", "to": "b", "gate": ["x"]}
    assert lf.verify([event]).ok
    with pytest.raises(TypeError):
        event.payload["gate"].append("y")  # type: ignore[attr-defined]


def test_a_store_hands_out_events_no_caller_can_change() -> None:
    """MemoryStore shares its events with every caller; their payloads are read-only."""
    lab = make_lab()
    cohort(lab)
    store = MemoryStore()
    store.commit(lab.id, changes(lab, {}))
    ident = next(iter(lab.innovations))
    event = store.history(lab.id, ident)[0]
    with pytest.raises(TypeError):
        event.payload["title"] = "Edited"  # type: ignore[index]
    with pytest.raises(TypeError):
        event.payload["innovators"].append("Someone")
    assert store.load(lab.id).innovation(ident).history[0] == lab.innovation(ident).history[0]


def test_frozen_values_copy_and_pickle_as_themselves() -> None:
    lab = _lived_lab()
    inn = next(iter(lab.innovations.values()))
    assert copy.deepcopy(inn) == inn
    assert pickle.loads(pickle.dumps(inn)) == inn
    payload = inn.history[-1].payload
    assert pickle.loads(pickle.dumps(payload)) == payload
    assert serde.unstructure(inn.history[0])["data"]["payload"] == dict(inn.history[0].payload)
    plain = serde.unstructure(inn.history[0])["data"]["payload"]
    plain["title"] = "mine now"  # a document's data is the reader's own


def test_the_walk_would_find_a_mutable_value() -> None:
    """The attempts can succeed: on a plain dict, list or attrs.define record, some change it."""

    @attrs.define
    class Loose:
        stage: str

    for value in ({"a": 1}, [1, 2], Loose("x")):
        changed = 0
        for _, attempt in _attempts(value):
            try:
                attempt()
            except Exception:  # refused, or a list.remove of a value it does not hold
                continue
            changed += 1
        assert changed, value

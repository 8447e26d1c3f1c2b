"""Hostile input: whatever reaches a loader, only `DocumentError` escapes, and nothing changes."""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labflow import DocumentError, Lab, serde
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

"""JSON-ready read models for hosts: a lab, an innovation, a verdict, an error.

A web page, a JSON API or a program in another language needs the same few
shapes: where an innovation stands (with the stage's labels in both languages),
what is still unmet and why, what happened so far, and -- when a command is
refused -- a stable code, the sentence in English and Indonesian, and the data.
The views are frozen attrs records built from a `Lab` at one moment; they change
nothing, and `to_json` turns any of them into plain JSON values with labflow's
cattrs converter. `json_schema` documents each shape (draft 2020-12) for hosts
that validate what they receive.

Every message a view carries comes in both languages (``en`` and ``id``): a host
picks the one its user reads without asking labflow again.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

import attrs

from labflow._exhibition_view import BoothView, ExhibitionView, exhibition_view
from labflow._guards import need
from labflow._schema import _record_schema
from labflow.errors import GateRefused, InvalidCommand, LabflowError
from labflow.events import Event
from labflow.lab import Lab
from labflow.model import Innovation
from labflow.policy import Stage
from labflow.requirements import Unmet, Verdict

__all__ = [
    "BoothView",
    "CommandView",
    "ErrorView",
    "EventView",
    "ExhibitionView",
    "InnovationSummary",
    "InnovationView",
    "LabView",
    "StageView",
    "UnmetView",
    "VerdictView",
    "error",
    "exhibition",
    "innovation",
    "json_schema",
    "lab",
    "stage",
    "to_json",
    "verdict",
]

_DRAFT: Final = "https://json-schema.org/draft/2020-12/schema"


@attrs.frozen
class StageView:
    """A stage: its id, its position in the policy, and its labels in English and Indonesian."""

    id: str
    index: int
    label_en: str
    label_id: str


@attrs.frozen
class UnmetView:
    """One unmet item: a stable code, the sentence in both languages, and the data it read."""

    code: str
    en: str
    id: str
    data: Mapping[str, Any]


@attrs.frozen
class VerdictView:
    """What a check found: ``ok`` exactly when ``unmet`` is empty."""

    subject: str
    action: str
    target: str
    ok: bool
    unmet: tuple[UnmetView, ...]


@attrs.frozen
class EventView:
    """One event of a history, as stored: its payload is JSON already."""

    seq: int
    at: str
    actor: str
    kind: str
    payload: Mapping[str, Any]
    hash: str


@attrs.frozen
class CommandView:
    """A command an actor may use on an innovation now, or why not (every unmet reason)."""

    name: str
    ok: bool
    unmet: tuple[UnmetView, ...]


@attrs.frozen
class InnovationView:
    """Where an innovation stands, what its next move still needs, and what happened so far."""

    id: str
    title: str
    unit: str
    unit_name: str
    unit_kind: str
    stage: StageView
    active: bool
    launched: bool
    version: int
    next: VerdictView
    history: tuple[EventView, ...]
    #: with ``by=``: the commands that actor may use here (`Lab.allowed`), with verdicts
    commands: tuple[CommandView, ...] = ()


@attrs.frozen
class InnovationSummary:
    """An innovation as a board lists it: enough to place it and link to it."""

    id: str
    title: str
    unit: str
    unit_kind: str
    stage: str
    active: bool
    launched: bool
    version: int


@attrs.frozen
class LabView:
    """A lab: its stage, the policy's stages in order, and its cohort."""

    id: str
    region: str
    policy: str
    stage: StageView
    version: int
    stages: tuple[StageView, ...]
    innovations: tuple[InnovationSummary, ...]


@attrs.frozen
class ErrorView:
    """A refused command or a failed load, as a host answers it: code, both sentences, data.

    ``unmet`` lists every unmet item when the error is a gate refusal (empty otherwise).
    """

    code: str
    kind: str
    en: str
    id: str
    data: Mapping[str, Any]
    unmet: tuple[UnmetView, ...]


def stage(lab: Lab, stage_id: str) -> StageView:
    """The view of one of the lab's policy's stages."""
    need(lab, Lab, "a labflow.Lab", "views.stage")
    found: Stage = lab.policy.stage(stage_id)
    return StageView(found.id, lab.policy.index(found.id), found.label_en, found.label_id)


def _unmet(item: Unmet) -> UnmetView:
    return UnmetView(item.code, item.message_en, item.message_id, _plain(item.data))


def verdict(found: Verdict) -> VerdictView:
    """The view of a `Verdict` (from `Lab.check`, `check_launch` or `check_lab`)."""
    if not isinstance(found, Verdict):
        raise InvalidCommand(
            f"A verdict view needs a labflow Verdict, not {type(found).__name__}.",
            f"Tampilan putusan memerlukan Verdict labflow, bukan {type(found).__name__}.",
            code="views.not_a_verdict",
        )
    return VerdictView(
        found.subject, found.action, found.target, found.ok, tuple(map(_unmet, found.unmet))
    )


def _event(event: Event) -> EventView:
    return EventView(
        event.seq,
        event.at.isoformat(),
        event.actor,
        event.kind,
        _plain(event.payload),
        event.hash,
    )


def _plain(value: Any) -> Any:
    """``value`` as JSON values: mappings to dicts, sequences to lists, moments to text."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        items = [_plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, frozenset | set) else items
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(getattr(value, "value", value))


def _kind(lab: Lab, inn: Innovation) -> tuple[str, str]:
    unit = lab.units.get(inn.unit)
    if unit is None:
        return inn.unit, "unknown"
    return unit.name, unit.kind.value


def innovation(
    lab: Lab, innovation_id: str, *, history: bool = True, by: str | None = None
) -> InnovationView:
    """The view of one innovation: its stage with labels, its next move's verdict, its history.

    `NotFound` for an unknown id. ``history=False`` leaves the events out (a list page).
    With ``by``, ``commands`` lists what that actor may use here now (`Lab.allowed`): the
    commands its roles permit, each with its verdict and every reason it is blocked.
    """
    need(lab, Lab, "a labflow.Lab", "views.innovation")
    inn = lab.innovation(innovation_id)
    unit_name, unit_kind = _kind(lab, inn)
    return InnovationView(
        inn.id,
        inn.title,
        inn.unit,
        unit_name,
        unit_kind,
        stage(lab, inn.stage),
        inn.active,
        inn.launch is not None,
        len(inn.history),
        verdict(lab.check(inn.id)),
        tuple(map(_event, inn.history)) if history else (),
        _commands(lab, inn.id, by) if by is not None else (),
    )


def _commands(lab: Lab, innovation_id: str, by: str) -> tuple[CommandView, ...]:
    verdicts = lab.allowed(by=by, subject=innovation_id)
    return tuple(
        CommandView(name, v.ok, tuple(map(_unmet, v.unmet)))
        for name, v in verdicts.items()
        if not any(code.startswith("permission.") for code in v.codes)
    )


def lab(subject: Lab) -> LabView:
    """The view of a lab and a summary of every innovation in it, sorted by id."""
    need(subject, Lab, "a labflow.Lab", "views.lab")
    summaries = []
    for inn in sorted(subject.innovations.values(), key=lambda i: i.id):
        _, kind = _kind(subject, inn)
        summaries.append(
            InnovationSummary(
                inn.id,
                inn.title,
                inn.unit,
                kind,
                inn.stage,
                inn.active,
                inn.launch is not None,
                len(inn.history),
            )
        )
    return LabView(
        subject.id,
        subject.region,
        subject.policy.id,
        stage(subject, subject.stage),
        subject.version,
        tuple(stage(subject, s.id) for s in subject.policy.stages),
        tuple(summaries),
    )


def error(exc: LabflowError) -> ErrorView:
    """The view of any labflow error: its code, both sentences, its data, and unmet items."""
    if not isinstance(exc, LabflowError):
        raise InvalidCommand(
            f"An error view needs a labflow error, not {type(exc).__name__}.",
            f"Tampilan galat memerlukan galat labflow, bukan {type(exc).__name__}.",
            code="views.not_an_error",
        )
    unmet: tuple[UnmetView, ...] = ()
    if isinstance(exc, GateRefused):
        unmet = tuple(map(_unmet, exc.verdict.unmet))
    return ErrorView(
        exc.code, type(exc).__name__, exc.message("en"), exc.message("id"), _plain(exc.data), unmet
    )


_VIEWS: Final = (
    StageView,
    UnmetView,
    VerdictView,
    EventView,
    CommandView,
    InnovationView,
    InnovationSummary,
    LabView,
    ErrorView,
    ExhibitionView,
    BoothView,
)


def to_json(view: Any) -> dict[str, Any]:
    """Any view as plain JSON values (``json.dumps`` writes it as it is)."""
    if type(view) not in _VIEWS:
        raise InvalidCommand(
            f"to_json takes a labflow view, not {type(view).__name__}.",
            f"to_json menerima tampilan labflow, bukan {type(view).__name__}.",
            code="views.not_a_view",
        )
    result: dict[str, Any] = _converter().unstructure(view)
    return result


def _converter() -> Any:
    from labflow.serde import make_converter

    return make_converter()


def _referenced(cls: type, found: dict[str, type]) -> None:
    if cls.__name__ in found:
        return
    found[cls.__name__] = cls
    for hint in typing.get_type_hints(cls).values():
        for arg in (hint, *typing.get_args(hint)):
            if isinstance(arg, type) and attrs.has(arg):
                _referenced(arg, found)


def json_schema(view: type[Any]) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a view class's `to_json` output."""
    if view not in _VIEWS:
        raise InvalidCommand(
            f"json_schema takes a labflow view class, not {view!r}.",
            f"json_schema menerima kelas tampilan labflow, bukan {view!r}.",
            code="views.not_a_view",
        )
    found: dict[str, type] = {}
    _referenced(view, found)
    return {
        "$schema": _DRAFT,
        "$ref": f"#/$defs/{view.__name__}",
        "$defs": {name: _record_schema(cls) for name, cls in sorted(found.items())},
    }


def exhibition(subject: Lab, exhibition_id: str) -> ExhibitionView:
    """An exhibition of the lab: its dates, venue, whether it is open, and every booth --
    who holds it (a unit, or an exhibitor from outside government), the lab's innovations
    exhibited at it, what else it shows and the live services offered there."""
    need(subject, Lab, "a labflow.Lab", "views.exhibition")
    return exhibition_view(subject, exhibition_id)

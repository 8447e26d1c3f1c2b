"""What replay's per-command checks read and how they refuse: the lab as it was, `refuse`.

Private. Every command's replay check lives next to its body (`labflow._agreement`,
`labflow._moves`...) and the validating fold (`labflow._replay.Fold`) calls it through
the catalogue; both sides meet here, below them, so that no check imports the fold.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

import attrs

from labflow.errors import HistoryError
from labflow.events import Event
from labflow.model import Actor, Exhibition, Innovation, Unit
from labflow.policy import Policy

if TYPE_CHECKING:
    from labflow._replay import Fold

__all__ = [
    "InnovationCheck",
    "LabStep",
    "View",
    "foreign_kind",
    "gate_record",
    "refuse",
    "unreadable",
]


def refuse(event: Event, code: str, en: str, id_: str, **data: Any) -> NoReturn:
    """Raise the `HistoryError` that names ``event``: commands could not have written it."""
    raise HistoryError(
        str(event.subject), event.seq, en, id_, code=code, data={"kind": event.kind, **data}
    )


def foreign_kind(event: Event, lab: bool) -> NoReturn:
    """Refuse ``event`` whose kind is not one of a lab's (``lab``) or an innovation's events."""
    en, id_ = ("a lab", "laboratorium") if lab else ("an innovation", "inovasi")
    refuse(
        event,
        "history.unknown_kind",
        f"{event.kind!r} is not an event of {en}",
        f"{event.kind!r} bukan peristiwa {id_}",
    )


def unreadable(event: Event, exc: BaseException) -> NoReturn:
    """Refuse ``event`` whose payload the fold could not apply (``exc`` says why)."""
    refuse(
        event,
        "history.unreadable",
        f"its {event.kind} payload cannot be applied ({exc!r})",
        f"muatan {event.kind}-nya tidak dapat diterapkan ({exc!r})",
    )


@attrs.frozen
class View:
    """The lab as it was at one version: what requirements and checks read during replay."""

    id: str
    region: str
    policy: Policy
    stage: str
    units: Mapping[str, Unit]
    actors: Mapping[str, Actor]
    innovations: Mapping[str, Innovation] = MappingProxyType({})
    #: when the lab entered each stage it has reached (for deadlines counted from it)
    entered: Mapping[str, datetime] = MappingProxyType({})
    #: the lab's exhibitions as they stood (`labflow._exhibitions`)
    exhibitions: Mapping[str, Exhibition] = MappingProxyType({})


class InnovationCheck(Protocol):
    """A command's own replay check of an innovation event, beyond what every event gets
    (its actor's permission, an active innovation where the command needs one)."""

    def __call__(
        self, fold: Fold, inn: Innovation, event: Event, view: View, schema: int, /
    ) -> None: ...


class LabStep(Protocol):
    """A lab command's replay step: the lab's view after its event, the event checked when
    ``check`` (a store's kept events are applied without re-judging them)."""

    def __call__(
        self, fold: Fold, event: Event, view: View, check: bool, schema: int, /
    ) -> View: ...


def gate_record(policy: Policy, stage: str, kind: object) -> list[str]:
    """The names of the requirements of ``stage``'s gate that apply to a unit of ``kind``.

    An advance records it (``"gate"``), so a history says what it passed even when a
    host later changes one of its own requirements.
    """
    return [
        s.name for s in policy.gates.get(stage, ()) if s.applies_to is None or kind in s.applies_to
    ]

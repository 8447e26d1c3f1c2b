"""Rebuilding from histories: what `replay_lab` and `replay_innovation` accept.

Private. A host hands labflow histories from anywhere; before the validating fold
(`labflow._replay`) judges their events, they must be lists of `Event`s, and the
registry and clock what they claim to be -- each refused with a `HistoryError` or
labflow's own usage error, never a raw exception.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from types import FunctionType

from labflow._fold import INNOVATION_KINDS, apply_innovation
from labflow._guards import need
from labflow._replay import Folded, fold_lab
from labflow._view import foreign_kind, unreadable
from labflow.errors import HistoryError
from labflow.events import Event
from labflow.model import Innovation
from labflow.requirements import Registry

__all__ = ["fold_histories", "replay_innovation"]


def replay_innovation(history: Sequence[Event]) -> Innovation:
    """Rebuild an innovation from its history alone (verify the history first)."""
    history = _events(history, "an innovation")
    if not history:
        raise HistoryError(
            "an innovation",
            None,
            "an empty history holds no innovation",
            "riwayat kosong tidak memuat inovasi",
            code="history.empty",
        )
    innovation: Innovation | None = None
    for event in history:
        if event.kind not in INNOVATION_KINDS:
            foreign_kind(event, lab=False)
        try:
            innovation = apply_innovation(innovation, event)
        except (KeyError, TypeError, ValueError, AssertionError) as exc:
            unreadable(event, exc)
    assert innovation is not None
    return innovation


def fold_histories(
    history: Sequence[Event],
    innovations: Iterable[Sequence[Event]],
    registry: Registry | None,
    clock: Callable[[], datetime],
    caller: str,
) -> tuple[tuple[Event, ...], Folded]:
    """A lab's own history and its validating fold, its arguments checked first."""
    own = _events(history, "a lab")
    given: object = innovations  # a host's value, typed or not
    if isinstance(given, str | bytes) or not isinstance(given, Iterable):
        raise HistoryError(
            "a lab",
            None,
            f"its innovations' histories must be a list of histories, not {type(given).__name__}",
            f"riwayat inovasinya harus berupa daftar riwayat, bukan {type(given).__name__}",
            code="history.not_events",
        )
    streams = [_events(stream, "an innovation") for stream in given]
    if registry is not None:
        need(registry, Registry, "a labflow.Registry", caller)
    given_clock: object = clock
    if not callable(given_clock):
        need(given_clock, FunctionType, "a clock (a function returning the time)", caller)
    folded = fold_lab(own, streams, registry=registry)
    return own, folded


def _events(history: object, whose: str) -> tuple[Event, ...]:
    """``history`` as a tuple of events; `HistoryError` if it is anything else."""
    if isinstance(history, str | bytes) or not isinstance(history, Sequence):
        got = type(history).__name__
        raise HistoryError(
            whose,
            None,
            f"a history is a list of events, not {got}",
            f"riwayat adalah daftar peristiwa, bukan {got}",
            code="history.not_events",
            data={"got": got},
        )
    events = tuple(history)
    for position, event in enumerate(events, start=1):
        if not isinstance(event, Event):
            got = type(event).__name__
            raise HistoryError(
                whose,
                position,
                f"it is a {got}, not a labflow.Event",
                f"isinya {got}, bukan labflow.Event",
                code="history.not_events",
                data={"got": got},
            )
    return events

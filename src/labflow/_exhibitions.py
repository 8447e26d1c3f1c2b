"""Exhibitions: a lab's exhibition with its booths, outside exhibitors, exhibits and launches.

Private. An exhibition belongs to the lab (the Kudus exhibition is one event for about
30 booths), so its events are lab events: opened, an exhibitor registered, a booth added,
closed. Its state is the fold of those events (`fold_exhibitions`), which the live lab
and the validating replay compute with the same function; every rule a command obeys is
one function here (`exhibition_refusal`, `exhibit_refusal`, `launch_refusal`) that the
command raises as `InvalidCommand` and replay as `HistoryError`, so that a history
replays only if the commands could have written it.

Exhibitors from outside government (community, private sector, academia, vertical
agencies) are registered for one exhibition only: they have no innovation lifecycle,
and what they show is listed on their booth by title.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

import attrs

from labflow._exhibit_rules import exhibit_stage
from labflow._frozen import FrozenMap
from labflow._inputs import ident as _ident
from labflow._inputs import text as _text
from labflow._inputs import texts as _texts
from labflow._preconditions import acting_on, require
from labflow._view import View, refuse
from labflow.errors import InvalidCommand
from labflow.events import Event
from labflow.model import Booth, Exhibition, Exhibitor, Innovation, Unit, UnitKind

if TYPE_CHECKING:
    from labflow._replay import Fold
    from labflow.lab import Lab
    from labflow.policy import Policy

__all__ = [
    "EXHIBITION_KINDS",
    "Refusal",
    "add_booth",
    "apply_exhibition",
    "close_exhibition",
    "exhibit_refusal",
    "exhibit_stage",
    "exhibition_refusal",
    "exhibitions_of",
    "fold_exhibitions",
    "launch_refusal",
    "open_exhibition",
    "register_exhibit",
    "register_exhibitor",
    "replay_exhibit",
    "replay_exhibition",
]

#: The lab event kinds of exhibitions.
EXHIBITION_KINDS: Final = frozenset(
    {
        "lab.exhibition_opened",
        "lab.exhibitor_registered",
        "lab.booth_added",
        "lab.exhibition_closed",
    }
)

#: A refusal: its code, its English and Indonesian messages.
Refusal = tuple[str, str, str]
Exhibitions = Mapping[str, Exhibition]


# --- The fold ------------------------------------------------------------------------------


def apply_exhibition(state: Exhibitions, event: Event) -> Exhibitions:
    """The lab's exhibitions after one of their events (``state`` is left as it was)."""
    p = event.payload
    out = dict(state)
    if event.kind == "lab.exhibition_opened":
        _texts_only((p["id"], p["name"], p["venue"]))
        out[p["id"]] = Exhibition(
            p["id"],
            p["name"],
            p["venue"],
            date.fromisoformat(p["starts"]),
            date.fromisoformat(p["ends"]),
            event.actor,
            event.at,
        )
        return MappingProxyType(out)
    was = state[p["exhibition"]]
    if event.kind == "lab.exhibitor_registered":
        e = p["exhibitor"]
        _texts_only((e["id"], e["name"]))
        exhibitor = Exhibitor(e["id"], e["name"], UnitKind(e["kind"]))
        exhibitors = FrozenMap({**was.exhibitors, exhibitor.id: exhibitor})
        now = _with(was, exhibitors=exhibitors)
    elif event.kind == "lab.booth_added":
        b = p["booth"]
        services, showcases = tuple(b["services"]), tuple(b["showcases"])
        _texts_only((b["id"], b["holder"], *services, *showcases))
        booth = Booth(b["id"], b["holder"], services, showcases)
        now = _with(was, booths=FrozenMap({**was.booths, booth.id: booth}))
    elif event.kind == "lab.exhibition_closed":
        now = _with(was, closed_at=event.at)
    else:
        raise ValueError(f"{event.kind!r} is not an event of an exhibition")
    out[was.id] = now
    return MappingProxyType(out)


def _texts_only(values: Iterable[object]) -> None:
    """A recorded payload's texts, or `TypeError` (replay names the event it came from)."""
    if not all(isinstance(v, str) for v in values):
        raise TypeError("an exhibition's ids, names, services and showcases are texts")


def _with(was: Exhibition, **changes: Any) -> Exhibition:
    fields = {
        "exhibitors": was.exhibitors,
        "booths": was.booths,
        "closed_at": was.closed_at,
        **changes,
    }
    return Exhibition(
        was.id, was.name, was.venue, was.starts, was.ends, was.opened_by, was.opened_at, **fields
    )


def fold_exhibitions(history: Iterable[Event]) -> Exhibitions:
    """The exhibitions a lab's own history holds (every other kind is passed over)."""
    state: Exhibitions = MappingProxyType({})
    for event in history:
        if event.kind in EXHIBITION_KINDS:
            state = apply_exhibition(state, event)
    return state


# A lab's history is a tuple replaced on every lab event: the fold of one tuple never changes.
_FOLDED: dict[int, tuple[tuple[Event, ...], Exhibitions]] = {}


def exhibitions_of(lab: Lab) -> Exhibitions:
    """The lab's exhibitions by id, as its history leaves them (read-only)."""
    history = lab.history
    cached = _FOLDED.get(id(history))
    if cached is not None and cached[0] is history:
        return cached[1]
    state = fold_exhibitions(history)
    if len(_FOLDED) >= 256:
        _FOLDED.pop(next(iter(_FOLDED)))
    _FOLDED[id(history)] = (history, state)  # kept alive here: its id is not reused
    return state


# --- The rules: one function each, for the command and for replay ---------------------------


def exhibition_refusal(
    state: Exhibitions,
    units: Mapping[str, Unit],
    policy: Policy,
    lab_stage: str,
    kind: str,
    p: Mapping[str, Any],
) -> Refusal | None:
    """Why a lab event of an exhibition (``kind``, payload ``p``) may not be recorded."""
    if kind == "lab.exhibition_opened":
        stage = exhibit_stage(policy)
        if stage is None or policy.index(lab_stage) < policy.index(stage):
            where = stage or "-"
            return (
                "exhibition.wrong_stage",
                f"Exhibitions are held from the {where} stage on; the lab is at {lab_stage}.",
                f"Pameran diadakan mulai tahap {where}; laboratorium berada di {lab_stage}.",
            )
        if p["id"] in state:
            return (
                "exhibition.exists",
                f"The exhibition {p['id']!r} is already recorded.",
                f"Pameran {p['id']!r} sudah tercatat.",
            )
        if date.fromisoformat(p["ends"]) < date.fromisoformat(p["starts"]):
            return (
                "exhibition.dates",
                "An exhibition cannot end before it starts.",
                "Pameran tidak dapat berakhir sebelum dimulai.",
            )
        return None
    show = state.get(p["exhibition"])
    if show is None:
        return (
            "exhibition.unknown",
            f"The lab has no exhibition {p['exhibition']!r}.",
            f"Laboratorium tidak memiliki pameran {p['exhibition']!r}.",
        )
    if not show.open:
        return _closed(show)
    if kind == "lab.exhibitor_registered":
        e = p["exhibitor"]
        if e["id"] in show.exhibitors or e["id"] in units:
            return (
                "exhibitor.exists",
                f"{e['id']!r} already takes part in {show.id} (as an exhibitor or a unit).",
                f"{e['id']!r} sudah ikut dalam {show.id} (sebagai peserta atau unit).",
            )
        if UnitKind(e["kind"]) not in policy.exhibitions.outside_kinds:
            allowed = ", ".join(sorted(k.value for k in policy.exhibitions.outside_kinds))
            return (
                "exhibitor.kind",
                f"An exhibitor from outside government is one of {allowed}, not {e['kind']}.",
                f"Peserta pameran dari luar pemerintah adalah salah satu dari {allowed}, "
                f"bukan {e['kind']}.",
            )
        return None
    if kind == "lab.booth_added":
        b = p["booth"]
        if b["id"] in show.booths:
            return (
                "booth.exists",
                f"{show.id} already has a booth {b['id']!r}.",
                f"{show.id} sudah memiliki stan {b['id']!r}.",
            )
        holder = b["holder"]
        if holder not in units and holder not in show.exhibitors:
            return (
                "booth.holder",
                f"{holder!r} is neither a unit of the lab nor an exhibitor of {show.id}.",
                f"{holder!r} bukan unit laboratorium maupun peserta {show.id}.",
            )
        if holder in show.exhibitors and not b["showcases"] and not b["services"]:
            return (
                "booth.empty",
                f"The booth of the exhibitor {holder!r} must show something or offer a service.",
                f"Stan peserta {holder!r} harus menampilkan sesuatu atau memberikan layanan.",
            )
        return None
    return None  # lab.exhibition_closed: an open exhibition closes


def _closed(show: Exhibition) -> Refusal:
    return (
        "exhibition.closed",
        f"The exhibition {show.id} is closed.",
        f"Pameran {show.id} sudah ditutup.",
    )


def exhibit_refusal(state: Exhibitions, inn: Innovation, p: Mapping[str, Any]) -> Refusal | None:
    """Why an innovation's exhibit at a lab exhibition (payload ``p``) may not be recorded."""
    ident = p.get("exhibition")
    if ident is None:
        return None  # an exhibit elsewhere (an expo, a festival the lab does not record)
    show = state.get(ident)
    if show is None:
        return (
            "exhibition.unknown",
            f"The lab has no exhibition {ident!r}.",
            f"Laboratorium tidak memiliki pameran {ident!r}.",
        )
    if not show.open:
        return _closed(show)
    booth = show.booths.get(p["booth"])
    if booth is None:
        return (
            "booth.unknown",
            f"{show.id} has no booth {p['booth']!r}.",
            f"{show.id} tidak memiliki stan {p['booth']!r}.",
        )
    if booth.holder != inn.unit:
        return (
            "booth.other_unit",
            f"The booth {booth.id} is held by {booth.holder}, not by {inn.unit}, "
            f"which owns {inn.id}.",
            f"Stan {booth.id} milik {booth.holder}, bukan {inn.unit}, pemilik {inn.id}.",
        )
    if p["event"] != show.name:
        return (
            "exhibit.event",
            f"An exhibit at {show.id} is at the event {show.name!r}.",
            f"Stan di {show.id} berada di acara {show.name!r}.",
        )
    return None


def launch_refusal(state: Exhibitions, policy: Policy, ident: str | None) -> Refusal | None:
    """Why a launch at the exhibition ``ident`` may not be recorded (``None``: no exhibition)."""
    if ident is None:
        return None
    if not policy.exhibitions.launches:
        return (
            "launch.not_at_exhibition",
            "This policy does not launch innovations at exhibitions.",
            "Kebijakan ini tidak meluncurkan inovasi di pameran.",
        )
    show = state.get(ident)
    if show is None:
        return (
            "exhibition.unknown",
            f"The lab has no exhibition {ident!r}.",
            f"Laboratorium tidak memiliki pameran {ident!r}.",
        )
    return _closed(show) if not show.open else None


def _raise(refusal: Refusal | None, **data: Any) -> None:
    if refusal is not None:
        code, en, id_ = refusal
        raise InvalidCommand(en, id_, code=code, data=data)


# --- The commands' bodies ------------------------------------------------------------------


def _lab_event(lab: Lab, command: str, by: str, kind: str, payload: dict[str, Any]) -> Event:
    _raise(
        exhibition_refusal(exhibitions_of(lab), lab.units, lab.policy, lab.stage, kind, payload),
        **{k: v for k, v in payload.items() if isinstance(v, str)},
    )
    return lab._commit_lab(by, kind, payload)


def _day(value: object, what: str) -> str:
    if type(value) is not date:  # a datetime is a date too, but not a day
        raise InvalidCommand(
            f"The {what} of an exhibition must be a datetime.date.",
            f"Tanggal {'mulai' if what == 'start' else 'selesai'} pameran harus berupa "
            "datetime.date.",
            code="input.not_date",
            data={"field": what},
        )
    return value.isoformat()


def open_exhibition(
    lab: Lab,
    exhibition: str,
    *,
    name: str,
    venue: str,
    starts: date,
    ends: date,
    by: str,
) -> Event:
    lab._authorize("open_exhibition", by, None)
    require(lab, "open_exhibition")
    payload = {
        "id": _ident(exhibition, "exhibition id"),
        "name": _text(name, "exhibition name", empty=False),
        "venue": _text(venue, "venue", empty=False),
        "starts": _day(starts, "start"),
        "ends": _day(ends, "end"),
    }
    return _lab_event(lab, "open_exhibition", by, "lab.exhibition_opened", payload)


def register_exhibitor(lab: Lab, exhibition: str, *, exhibitor: Exhibitor, by: str) -> Event:
    lab._authorize("register_exhibitor", by, None)
    require(lab, "register_exhibitor")
    if not isinstance(exhibitor, Exhibitor):
        raise InvalidCommand(
            "An exhibitor must be a labflow.Exhibitor.",
            "Peserta pameran harus berupa labflow.Exhibitor.",
            code="input.not_exhibitor",
        )
    payload = {
        "exhibition": _ident(exhibition, "exhibition id"),
        "exhibitor": {
            "id": _ident(exhibitor.id, "exhibitor id"),
            "name": _text(exhibitor.name, "exhibitor name", empty=False),
            "kind": exhibitor.kind.value,
        },
    }
    return _lab_event(lab, "register_exhibitor", by, "lab.exhibitor_registered", payload)


def add_booth(
    lab: Lab,
    exhibition: str,
    *,
    booth: str,
    holder: str,
    by: str,
    services: Sequence[str] = (),
    showcases: Sequence[str] = (),
) -> Event:
    lab._authorize("add_booth", by, None)
    require(lab, "add_booth")
    payload = {
        "exhibition": _ident(exhibition, "exhibition id"),
        "booth": {
            "id": _text(booth, "booth", empty=False),
            "holder": _ident(holder, "booth holder"),
            "services": list(_texts(services, "services")),
            "showcases": list(_texts(showcases, "showcases")),
        },
    }
    return _lab_event(lab, "add_booth", by, "lab.booth_added", payload)


def close_exhibition(lab: Lab, exhibition: str, *, by: str) -> Event:
    lab._authorize("close_exhibition", by, None)
    require(lab, "close_exhibition")
    payload = {"exhibition": _ident(exhibition, "exhibition id")}
    return _lab_event(lab, "close_exhibition", by, "lab.exhibition_closed", payload)


def check_exhibit(lab: Lab, inn: Innovation, payload: Mapping[str, Any]) -> None:
    """`InvalidCommand` unless the exhibit ``payload`` of ``inn`` may be recorded."""
    _raise(exhibit_refusal(exhibitions_of(lab), inn, payload), innovation=inn.id)


def check_launch_at(lab: Lab, exhibition: str | None) -> None:
    """`InvalidCommand` unless a launch at ``exhibition`` may be recorded."""
    _raise(launch_refusal(exhibitions_of(lab), lab.policy, exhibition), exhibition=exhibition)


def register_exhibit(
    lab: Lab,
    innovation_id: str,
    *,
    event: str = "",
    by: str,
    booth: str = "",
    exhibition: str | None = None,
) -> Event:
    inn, _ = acting_on(lab, "register_exhibit", innovation_id, by)
    payload: dict[str, Any] = {"event": _text(event, "event"), "booth": _text(booth, "booth")}
    if exhibition is not None:
        show = exhibitions_of(lab).get(_ident(exhibition, "exhibition id"))
        if not event and show is not None:
            payload["event"] = show.name  # the exhibition's own name, unless the host gives it
        payload["exhibition"] = exhibition
        check_exhibit(lab, inn, payload)
    elif not event:
        _text(event, "event", empty=False)  # an exhibit elsewhere names its event
    return lab._commit(inn, by, "innovation.exhibit_registered", payload)


# --- Replay -----------------------------------------------------------------------------------


def replay_exhibit(fold: Fold, inn: Innovation, event: Event, view: View, schema: int) -> None:
    """An exhibit at the exhibition stage, at an open exhibition of the lab if it names one."""
    if inn.stage != exhibit_stage(fold.policy):
        refuse(
            event,
            "history.exhibit_stage",
            f"an exhibit was registered at {inn.stage!r}, not at the exhibition stage",
            f"stan didaftarkan di {inn.stage!r}, bukan di tahap pameran",
        )
    refusal = exhibit_refusal(view.exhibitions, inn, event.payload)
    if refusal is not None:
        refuse(event, "history.exhibition", refusal[1], refusal[2], refusal=refusal[0])


def replay_exhibition(fold: Fold, event: Event, view: View, check: bool, schema: int) -> View:
    """An exhibition's lab event, refused for exactly what its command refuses."""
    if check and isinstance(event.payload, Mapping):
        refusal = exhibition_refusal(
            view.exhibitions, view.units, fold.policy, view.stage, event.kind, event.payload
        )
        if refusal is not None:
            refuse(event, "history.exhibition", refusal[1], refusal[2], refusal=refusal[0])
    return attrs.evolve(view, exhibitions=apply_exhibition(view.exhibitions, event))

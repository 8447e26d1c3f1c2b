"""The lab's roster: its units and actors, and the roles each actor holds.

Private. The founding roster is recorded by `found` (`labflow.Lab.create`) and rebuilt by
`replay_created`; the bodies run the roster's commands on a live lab; the ``replay_*`` steps
re-judge their recorded events in the validating fold (`labflow._replay.Fold`, which
finds them through the catalogue) and return the lab's view after each: units and
actors new to the lab, of kinds and roles the policy knows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

import attrs

from labflow._fold import actor_from, actor_payload, unit_from, unit_payload
from labflow._gates import unit_kind_refused
from labflow._inputs import check_new_actor, check_new_unit, check_roles
from labflow._inputs import ident as _ident
from labflow._inputs import texts as _texts
from labflow._view import View, refuse
from labflow.errors import NotFound
from labflow.events import Event
from labflow.model import Actor, Unit

if TYPE_CHECKING:
    from labflow._replay import Fold
    from labflow.lab import Lab

__all__ = [
    "add_actor",
    "add_unit",
    "found",
    "replay_add_actor",
    "replay_add_unit",
    "replay_created",
    "replay_set_roles",
    "set_roles",
]


def found(lab: Lab, units: list[Unit], actors: list[Actor], *, by: str) -> Event:
    """Record ``lab``'s founding event (``lab.created``), its founding units and actors
    checked as if each were added in turn."""
    for unit in units:
        check_new_unit(lab, unit)
        lab._units[unit.id] = unit
    for actor in actors:
        check_new_actor(lab, actor)
        lab._actors[actor.id] = actor
    lab._units.clear()
    lab._actors.clear()
    payload = {
        "id": lab.id,
        "region": lab.region,
        "policy": lab.policy.to_dict(),
        "units": [unit_payload(u) for u in units],
        "actors": [actor_payload(a) for a in actors],
    }
    return lab._commit_lab(by, "lab.created", payload)


def add_unit(lab: Lab, unit: Unit, *, by: str) -> Event:
    lab._authorize("add_unit", by, None)
    check_new_unit(lab, unit)
    return lab._commit_lab(by, "lab.unit_added", {"unit": unit_payload(unit)})


def add_actor(lab: Lab, actor: Actor, *, by: str) -> Event:
    lab._authorize("add_actor", by, None)
    check_new_actor(lab, actor)
    return lab._commit_lab(by, "lab.actor_added", {"actor": actor_payload(actor)})


def set_roles(lab: Lab, actor_id: str, roles: Iterable[str], *, by: str) -> Event:
    lab._authorize("set_roles", by, None)
    if _ident(actor_id, "actor id") not in lab.actors:
        raise NotFound("actor", str(actor_id), where=f"lab {lab.id!r}")
    new = frozenset(_texts(roles, "roles"))
    check_roles(lab, new)
    return lab._commit_lab(by, "lab.roles_set", {"actor": actor_id, "roles": sorted(new)})


# --- Replay -----------------------------------------------------------------------------------


def replay_created(fold: Fold, event: Event, view: View) -> View:
    """The lab's founding roster (``lab.created``): the first view of the lab."""
    p = event.payload
    units = dict(_new_units(fold, event, {}, map(unit_from, p["units"])))
    actors = _new_actors(fold, event, units, {}, map(actor_from, p["actors"]))
    return attrs.evolve(
        view,
        units=MappingProxyType(units),
        actors=MappingProxyType(actors),
        entered=MappingProxyType({view.stage: event.at}),
    )


def replay_add_unit(fold: Fold, event: Event, view: View, check: bool, schema: int) -> View:
    units = _new_units(fold, event, view.units, [unit_from(event.payload["unit"])])
    return attrs.evolve(view, units=MappingProxyType(units))


def replay_add_actor(fold: Fold, event: Event, view: View, check: bool, schema: int) -> View:
    new = [actor_from(event.payload["actor"])]
    actors = _new_actors(fold, event, view.units, view.actors, new)
    return attrs.evolve(view, actors=MappingProxyType(actors))


def replay_set_roles(fold: Fold, event: Event, view: View, check: bool, schema: int) -> View:
    p = event.payload
    old = view.actors.get(p["actor"])
    if old is None:
        refuse(
            event,
            "history.unknown_actor",
            f"it sets the roles of {p['actor']!r}, who is not in the lab",
            f"menetapkan peran {p['actor']!r}, yang tidak ada di laboratorium",
            actor=p["actor"],
        )
    roles = frozenset(p["roles"])
    _known_roles(fold, event, roles)
    actors = dict(view.actors)
    actors[old.id] = Actor(old.id, old.name, roles, old.unit)
    return attrs.evolve(view, actors=MappingProxyType(actors))


def _new_units(
    fold: Fold, event: Event, units: Mapping[str, Unit], new: Iterable[Unit]
) -> dict[str, Unit]:
    out = dict(units)
    for unit in new:
        if unit.id in out or not isinstance(unit.id, str):
            refuse(
                event,
                "history.duplicate",
                f"the unit {unit.id!r} is already part of the lab",
                f"unit {unit.id!r} sudah terdaftar",
            )
        if unit.kind not in fold.policy.settings.unit_kinds:
            en, id_ = unit_kind_refused(fold.policy, unit)
            refuse(event, "history.unit_kind", en, id_, unit=unit.id)
        out[unit.id] = unit
    return out


def _new_actors(
    fold: Fold,
    event: Event,
    units: Mapping[str, Unit],
    actors: Mapping[str, Actor],
    new: Iterable[Actor],
) -> dict[str, Actor]:
    out = dict(actors)
    for actor in new:
        if actor.id in out or not isinstance(actor.id, str):
            refuse(
                event,
                "history.duplicate",
                f"the actor {actor.id!r} is already part of the lab",
                f"pelaku {actor.id!r} sudah terdaftar",
            )
        if actor.unit is not None and actor.unit not in units:
            refuse(
                event,
                "history.unknown_unit",
                f"the actor {actor.id!r} belongs to {actor.unit!r}, which is not in the lab",
                f"pelaku {actor.id!r} milik {actor.unit!r}, yang tidak ada di laboratorium",
            )
        _known_roles(fold, event, actor.roles)
        out[actor.id] = actor
    return out


def _known_roles(fold: Fold, event: Event, roles: frozenset[str]) -> None:
    unknown = sorted(r for r in roles if r not in fold.policy.roles)
    if unknown:
        refuse(
            event,
            "history.unknown_role",
            f"the roles {unknown} are not roles of the policy",
            f"peran {unknown} tidak dikenal dalam kebijakan",
            roles=unknown,
        )

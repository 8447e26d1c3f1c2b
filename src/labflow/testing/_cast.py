"""The cast of a test lab: who plays which role, and who may do what.

`permitted` restates the policy's rule of roles independently of `Lab`, so that the
invariant checks do not trust the code they check.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from labflow.errors import InvalidCommand
from labflow.lab import Lab
from labflow.model import Actor, Role, Unit
from labflow.policy import DEFAULT_ROLES, Policy

#: The id and region of the labs `labs` and `make_state_machine` open.
LAB_ID: Final = "lab-uji"
REGION: Final = "Kabupaten Contoh"
#: The ids `roster` gives the lab-wide actors.
SECRETARIAT: Final = "sekretariat"
REGIONAL_HEAD: Final = "bupati"
FACILITATOR: Final = "fasilitator"
AUDITOR: Final = "inspektorat"


def head_of(unit: str) -> str:
    """The id `roster` gives the head of ``unit``."""
    return f"kepala-{unit}"


def innovator_of(unit: str) -> str:
    """The id `roster` gives the innovator of ``unit``."""
    return f"inovator-{unit}"


def roster(policy: Policy, units: Sequence[Unit]) -> tuple[Actor, ...]:
    """A sensible cast for a lab on ``policy`` with ``units``.

    A secretariat (``sekretariat``), a regional head (``bupati``), a facilitator
    (``fasilitator``) and an auditor (``inspektorat``); for every unit a head
    (``kepala-<unit>``) and an innovator (``inovator-<unit>``); and for every role
    the policy adds beyond the defaults one actor holding it (``peran-<role>``,
    or ``peran-<role>-<unit>`` per unit for a unit-scoped role).
    """
    given: object = units  # a host's value, typed or not
    if not isinstance(policy, Policy) or isinstance(given, str) or not isinstance(given, Sequence):
        raise InvalidCommand("roster() needs a labflow.Policy and a list of labflow.Unit.")
    if not all(isinstance(u, Unit) for u in units):
        raise InvalidCommand("roster() needs a list of labflow.Unit.")
    cast = [
        Actor(SECRETARIAT, "Sekretariat Laboratorium Inovasi", {Role.SECRETARIAT}),
        Actor(REGIONAL_HEAD, "Bupati", {Role.REGIONAL_HEAD}),
        Actor(FACILITATOR, "Fasilitator LAN", {Role.FACILITATOR}),
        Actor(AUDITOR, "Inspektorat", {Role.AUDITOR}),
    ]
    for unit in units:
        cast.append(Actor(head_of(unit.id), f"Kepala {unit.name}", {Role.UNIT_HEAD}, unit.id))
        cast.append(
            Actor(innovator_of(unit.id), f"Inovator {unit.name}", {Role.INNOVATOR}, unit.id)
        )
    for role in sorted(set(policy.roles) - set(DEFAULT_ROLES)):
        label = policy.roles[role].label_id
        slug = "".join(c if c.isalnum() or c in "-_." else "-" for c in role)
        if policy.roles[role].scope == "unit":
            cast.extend(
                Actor(f"peran-{slug}-{u.id}", f"{label} {u.name}", {role}, u.id) for u in units
            )
        else:
            cast.append(Actor(f"peran-{slug}", label, {role}))
    return tuple(cast)


def permitted(lab: Lab, command: str, actor: object, unit: object = None) -> bool:
    """Whether ``actor`` may perform ``command`` on ``unit``'s behalf under the lab's policy.

    An independent statement of the policy's rule: the actor holds a role the
    policy allows for the command, and a unit-scoped role counts only within
    the actor's own unit (``unit`` is ``None`` for commands on the lab itself).
    """
    if not isinstance(lab, Lab):
        raise InvalidCommand(f"permitted() reads a labflow.Lab, not {type(lab).__name__}.")
    found = lab.actors.get(actor) if isinstance(actor, str) else None
    if found is None or not isinstance(command, str):
        return False
    for role in found.roles & lab.policy.allowed(command):
        definition = lab.policy.roles.get(role)
        if definition is None or definition.scope != "unit" or unit is None:
            return True
        if found.unit == unit:
            return True
    return False

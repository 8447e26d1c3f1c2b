"""Authorisation: whether an actor's roles let them run a command on a unit's innovation.

Private. One question asked by every command (`authorize`, which raises) and by
`Lab.check` / `Lab.allowed` (`permission_unmet`, which reports): the actor must be in
the lab and hold a role the policy allows for the command, within their own unit where
the role is scoped to one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from labflow._catalogue import CommandSpec
from labflow._gate_rules import role_labels
from labflow._gates import permitted
from labflow._inputs import text as _text
from labflow.errors import CommandError, LabflowError, NotFound, PermissionDenied
from labflow.model import Actor
from labflow.requirements import Unmet

if TYPE_CHECKING:
    from labflow._policy_time import ReviewCycle
    from labflow.lab import Lab
    from labflow.policy import ApprovalStep, Policy

__all__ = ["authorize", "permission_unmet", "reviewer_refused", "step_refused", "unmet_of"]


def authorize(lab: Lab, command: str, by: object, unit: str | None) -> Actor:
    # An id the lab knows was checked when its actor was added: one lookup is the check.
    # Anything else gets the free-text rule's own error, or NotFound.
    actor = lab.actors.get(by) if type(by) is str else None
    if actor is None:
        actor_id = _text(by, "actor id", empty=False)
        actor = lab.actors.get(actor_id)
        if actor is None:
            raise NotFound("actor", actor_id, where=f"lab {lab.id!r}")
    actor_id = actor.id
    if lab._dry:  # `check` judged the permission apart, to report it with the rest
        return actor
    if permitted(lab.policy, actor, command, unit):
        return actor
    allowed = lab.policy.allowed(command)
    held = actor.roles & allowed
    if held:
        raise PermissionDenied(
            actor_id,
            command,
            f"their roles {sorted(held)} act only within their own unit, not {unit!r}",
            f"peran mereka {sorted(held)} hanya berlaku di unit sendiri, bukan {unit!r}",
            code="permission.outside_unit",
            data={"roles": sorted(held), "unit": unit},
        )
    needed = sorted(allowed) or ["(none)"]
    raise PermissionDenied(
        actor_id,
        command,
        f"it needs one of the roles {needed}",
        f"diperlukan salah satu peran {needed}",
        code="permission.role",
        data={"roles": sorted(allowed)},
    )


def permission_unmet(
    lab: Lab, spec: CommandSpec, subject: str | None, by: str, arguments: Mapping[str, Any]
) -> list[Unmet]:
    unit: str | None = None
    if spec.opens:
        unit = arguments.get("unit")
    elif spec.level == "innovation" and subject is not None:
        unit = lab.innovation(subject).unit
    try:
        authorize(lab, spec.name, by, unit)
    except CommandError as exc:
        return [unmet_of(exc)]
    return []


def unmet_of(error: LabflowError) -> Unmet:
    """A refusal as one unmet item: its code, its two messages, its data."""
    return Unmet(error.code, error.message_en, error.message_id, dict(error.data))


def step_refused(
    policy: Policy, step: ApprovalStep, actor: Actor, unit: str
) -> tuple[str, str] | None:
    """Why ``actor`` may not approve ``step`` of a plan of ``unit`` (English, Indonesian), if so."""
    number = policy.approval.index(step) + 1
    return _scope_refused(
        policy,
        step.roles,
        step.same_unit,
        actor,
        unit,
        (f"step {number} ({step.label('en')}) is approved", "disetujui"),
        f"langkah {number} ({step.label('id')})",
        anyone=False,
    )


def reviewer_refused(
    policy: Policy, cycle: ReviewCycle, actor: Actor, unit: str
) -> tuple[str, str] | None:
    """Why ``actor`` may not review an agreement of ``unit`` under ``cycle``, if so."""
    return _scope_refused(
        policy,
        cycle.roles,
        cycle.same_unit,
        actor,
        unit,
        ("performance agreements are reviewed", "direviu"),
        "perjanjian kinerja",
        anyone=True,
    )


def _scope_refused(
    policy: Policy,
    roles: Iterable[str],
    same_unit: bool,
    actor: Actor,
    unit: str,
    done: tuple[str, str],
    what_id: str,
    *,
    anyone: bool,
) -> tuple[str, str] | None:
    """Why ``actor`` may not do what a policy gives to ``roles`` (within the owning ``unit``
    when ``same_unit``): ``done`` is what is done in English and the Indonesian verb, the
    subject in Indonesian is ``what_id``. With ``anyone``, empty ``roles`` leave it to
    whoever the command's permission allows."""
    allowed = frozenset(roles)
    en_done, id_verb = done
    if (allowed or not anyone) and actor.roles.isdisjoint(allowed):
        en, id_ = role_labels(policy, sorted(allowed))
        return f"{en_done} by the {en}", f"{what_id} {id_verb} oleh {id_}"
    if same_unit and actor.unit != unit:
        return (
            f"{en_done} within {unit}, the owning unit",
            f"{what_id} {id_verb} di dalam {unit}, unit pemilik",
        )
    return None

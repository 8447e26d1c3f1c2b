"""The action plan: submitting it, approving it step by step, and replay's checks of both.

Private. The bodies run the commands on a live lab (`labflow.Lab.submit_plan`,
`labflow.Lab.approve_plan`); the ``replay_*`` checks re-judge their recorded events in
the validating fold (`labflow._replay.Fold`), which finds both through the catalogue.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from labflow._authority import step_refused
from labflow._fold import plan_payload
from labflow._inputs import text as _text
from labflow._inputs import texts as _texts
from labflow._limits import MAX_INT
from labflow._preconditions import acting_on
from labflow._view import View, refuse
from labflow.errors import InvalidCommand, PermissionDenied
from labflow.events import Event
from labflow.model import ActionPlan, Actor, Innovation, PlanStep

if TYPE_CHECKING:
    from labflow._replay import Fold
    from labflow.lab import Lab

__all__ = ["approve_plan", "replay_approve_plan", "replay_submit_plan", "submit_plan"]


def submit_plan(
    lab: Lab,
    innovation_id: str,
    *,
    steps: Sequence[PlanStep],
    by: str,
    stakeholders: Sequence[str] = (),
    budget: int | None = None,
    documents: Sequence[str] = (),
) -> Event:
    inn, _ = acting_on(lab, "submit_plan", innovation_id, by)
    if not isinstance(steps, list | tuple) or not all(isinstance(s, PlanStep) for s in steps):
        raise InvalidCommand(
            "The steps must be a list of labflow.PlanStep.",
            "Langkah-langkah harus berupa daftar labflow.PlanStep.",
            code="input.not_steps",
        )
    for step in steps:
        _text(step.description, "step description")
        _text(step.responsible, "person responsible")
        if type(step.due) is not date:  # a datetime is a date too, but not a due date
            raise InvalidCommand(
                "A step's due date must be a datetime.date.",
                "Tenggat sebuah langkah harus berupa datetime.date.",
                code="input.not_date",
            )
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int)):
        raise InvalidCommand(
            "The budget must be a whole number of rupiah.",
            "Anggaran harus berupa bilangan bulat rupiah.",
            code="input.budget",
        )
    if budget is not None and not 0 <= budget <= MAX_INT:  # JSON writes it back exactly
        raise InvalidCommand(
            f"The budget must be between 0 and {MAX_INT} rupiah.",
            f"Anggaran harus antara 0 dan {MAX_INT} rupiah.",
            code="input.budget",
        )
    payload = plan_payload(
        steps, _texts(stakeholders, "stakeholders"), budget, _texts(documents, "documents")
    )
    return lab._commit(inn, by, "innovation.plan_submitted", payload)


def approve_plan(lab: Lab, innovation_id: str, *, by: str) -> Event:
    inn, actor = acting_on(lab, "approve_plan", innovation_id, by)
    plan = inn.action_plan
    assert plan is not None  # a precondition
    if plan.submitted_by == actor.id:
        raise PermissionDenied(
            actor.id,
            "approve_plan",
            "they submitted this action plan",
            "mereka sendiri yang mengajukan rencana aksi ini",
            code="permission.own_plan",
        )
    payload: dict[str, Any] = {"roles": sorted(actor.roles)}
    if lab.policy.approval:  # declared steps: this approval is the next one's, if it fits
        step = lab.policy.approval[len(plan.approvals)]
        refused = step_refused(lab.policy, step, actor, inn.unit)
        if refused is not None:
            raise PermissionDenied(
                actor.id,
                "approve_plan",
                *refused,
                code="permission.approval_step",
                data={"step": step.id},
            )
        payload["step"] = step.id
    return lab._commit(inn, actor.id, "innovation.plan_approved", payload)


# --- Replay -----------------------------------------------------------------------------------


def replay_submit_plan(fold: Fold, inn: Innovation, event: Event, view: View, schema: int) -> None:
    """A plan changes only before the launch."""
    if inn.launch is not None:
        refuse(
            event,
            "history.plan_frozen",
            "the action plan changed after the launch",
            "rencana aksi berubah setelah peluncuran",
        )


def replay_approve_plan(fold: Fold, inn: Innovation, event: Event, view: View, schema: int) -> None:
    plan = inn.action_plan
    if plan is None or fold.policy.plan_approved(plan):
        refuse(
            event,
            "history.no_plan",
            "it approves an action plan that was not awaiting approval",
            "menyetujui rencana aksi yang tidak sedang menunggu persetujuan",
        )
    if plan.submitted_by == event.actor:
        refuse(
            event,
            "history.self_approval",
            f"{event.actor} approved their own action plan",
            f"{event.actor} menyetujui rencana aksinya sendiri",
            actor=event.actor,
        )
    actor = view.actors[event.actor]
    if sorted(event.payload["roles"]) != sorted(actor.roles):
        refuse(
            event,
            "history.roles",
            f"it records roles {event.payload['roles']!r} that {event.actor} did not hold",
            f"mencatat peran {event.payload['roles']!r} yang tidak dipegang {event.actor}",
        )
    _approval_step(fold, inn, plan, event, actor)


def _approval_step(
    fold: Fold, inn: Innovation, plan: ActionPlan, event: Event, actor: Actor
) -> None:
    """An approval is the next of the policy's declared steps, by someone that step allows
    (a policy without steps records none: its one approval is judged by the gates)."""
    steps = fold.policy.approval
    named = event.payload.get("step")
    if not steps:
        if named is not None:
            refuse(
                event,
                "history.approval_step",
                f"it approves step {named!r}, but the policy declares no approval steps",
                f"menyetujui langkah {named!r}, padahal kebijakan tidak memuat langkah persetujuan",
            )
        return
    step = steps[len(plan.approvals)]
    if named != step.id:
        refuse(
            event,
            "history.approval_step",
            f"it approves step {named!r}, but the plan awaited step {step.id!r}",
            f"menyetujui langkah {named!r}, padahal rencana menunggu langkah {step.id!r}",
            step=step.id,
        )
    refused = step_refused(fold.policy, step, actor, inn.unit)
    if refused is not None:
        refuse(
            event,
            "history.approval_step",
            f"{event.actor} may not approve it: {refused[0]}",
            f"{event.actor} tidak boleh menyetujuinya: {refused[1]}",
            step=step.id,
        )

"""The performance agreement: drawn up, signed by its two parties, reviewed, amended.

Private. The bodies run the commands on a live lab; the ``replay_*`` checks re-judge
their recorded events in the validating fold (`labflow._replay.Fold`), which finds
both through the catalogue: a signature only by the party it names, once; a redraw
never after the agreement gate; a review by whom the review cycle names; an amendment
only after a review called for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from labflow._authority import reviewer_refused
from labflow._gates import counterparty_refused, past_agreement
from labflow._inputs import ident as _ident
from labflow._inputs import text as _text
from labflow._preconditions import acting_on
from labflow._view import View, refuse
from labflow.errors import InvalidCommand, PermissionDenied
from labflow.events import Event
from labflow.model import Innovation, ReviewOutcome, Role

if TYPE_CHECKING:
    from labflow._replay import Fold
    from labflow.lab import Lab

__all__ = [
    "amend_agreement",
    "draw_up_agreement",
    "replay_amend",
    "replay_draw_up",
    "replay_review",
    "replay_sign",
    "review_agreement",
    "sign_agreement",
]


def draw_up_agreement(
    lab: Lab, innovation_id: str, *, regional_head: str, unit_head: str, by: str, terms: str = ""
) -> Event:
    inn, _ = acting_on(lab, "draw_up_agreement", innovation_id, by)
    head = lab.actors.get(_ident(regional_head, "regional head"))
    if head is None or lab.policy.settings.agreement_counterparty not in head.roles:
        raise InvalidCommand(
            *counterparty_refused(lab.policy, regional_head),
            code="agreement.not_regional_head",
            data={"actor": regional_head},
        )
    chief = lab.actors.get(_ident(unit_head, "unit head"))
    if chief is None or Role.UNIT_HEAD not in chief.roles or chief.unit != inn.unit:
        raise InvalidCommand(
            f"{unit_head!r} is not the head of {inn.unit}, which owns {inn.id}.",
            f"{unit_head!r} bukan kepala {inn.unit}, pemilik {inn.id}.",
            code="agreement.not_unit_head",
            data={"actor": unit_head, "unit": inn.unit},
        )
    if regional_head == unit_head:
        raise InvalidCommand(
            "The two parties of an agreement must be different people.",
            "Kedua pihak dalam perjanjian harus orang yang berbeda.",
            code="agreement.same_party",
        )
    payload = {
        "regional_head": regional_head,
        "unit_head": unit_head,
        "terms": _text(terms, "terms"),
    }
    return lab._commit(inn, by, "innovation.agreement_drawn_up", payload)


def sign_agreement(lab: Lab, innovation_id: str, *, by: str) -> Event:
    inn, actor = acting_on(lab, "sign_agreement", innovation_id, by)
    agreement = inn.agreement
    assert agreement is not None  # a precondition
    if actor.id == agreement.regional_head:
        role = Role.REGIONAL_HEAD
    elif actor.id == agreement.unit_head:
        role = Role.UNIT_HEAD
    else:
        raise PermissionDenied(
            actor.id,
            "sign_agreement",
            "they are not a party to it",
            "mereka bukan pihak dalam perjanjian itu",
            code="permission.not_party",
        )
    if agreement.signed_by(actor.id):
        raise InvalidCommand(
            f"{actor.id} has already signed the agreement of {inn.id}.",
            f"{actor.id} sudah menandatangani perjanjian {inn.id}.",
            code="agreement.already_signed",
            data={"actor": actor.id, "innovation": inn.id},
        )
    return lab._commit(inn, actor.id, "innovation.agreement_signed", {"role": role.value})


def review_agreement(
    lab: Lab,
    innovation_id: str,
    *,
    finding: str,
    outcome: ReviewOutcome | str = ReviewOutcome.CONTINUE,
    by: str,
) -> Event:
    inn, actor = acting_on(lab, "review_agreement", innovation_id, by)
    cycle = lab.policy.review
    refused = None if cycle is None else reviewer_refused(lab.policy, cycle, actor, inn.unit)
    if refused is not None:
        raise PermissionDenied(actor.id, "review_agreement", *refused, code="permission.reviewer")
    try:
        chosen = ReviewOutcome(outcome)
    except ValueError:
        allowed = ", ".join(repr(o.value) for o in ReviewOutcome)
        raise InvalidCommand(
            f"A review's outcome is one of {allowed}, not {str(outcome)[:40]!r}.",
            f"Hasil reviu adalah salah satu dari {allowed}, bukan {str(outcome)[:40]!r}.",
            code="input.outcome",
        ) from None
    payload = {"finding": _text(finding, "finding", empty=False), "outcome": chosen.value}
    return lab._commit(inn, actor.id, "innovation.agreement_reviewed", payload)


def amend_agreement(lab: Lab, innovation_id: str, *, terms: str, by: str) -> Event:
    inn, _ = acting_on(lab, "amend_agreement", innovation_id, by)
    payload = {"terms": _text(terms, "terms", empty=False)}
    return lab._commit(inn, by, "innovation.agreement_amended", payload)


# --- Replay -----------------------------------------------------------------------------------


def replay_draw_up(fold: Fold, inn: Innovation, event: Event, view: View, schema: int) -> None:
    p = event.payload
    agreement = inn.agreement
    binding = agreement is not None and (agreement.complete or agreement.version > 1)
    if binding and past_agreement(view, inn):
        refuse(
            event,
            "history.agreement_binding",
            "a binding agreement was redrawn after the agreement gate",
            "perjanjian yang mengikat disusun ulang setelah gerbang perjanjian",
        )
    head = view.actors.get(p["regional_head"])
    chief = view.actors.get(p["unit_head"])
    if (
        head is None
        or fold.policy.settings.agreement_counterparty not in head.roles
        or chief is None
        or Role.UNIT_HEAD not in chief.roles
        or chief.unit != inn.unit
        or head.id == chief.id
    ):
        refuse(
            event,
            "history.agreement_parties",
            "the agreement names parties who were not the regional head and the head "
            "of the owning unit",
            "perjanjian menyebut pihak yang bukan kepala daerah dan kepala unit pemilik",
        )


def replay_sign(fold: Fold, inn: Innovation, event: Event, view: View, schema: int) -> None:
    agreement = inn.agreement
    role = event.payload["role"]
    if agreement is None:
        refuse(event, "history.no_agreement", "there was no agreement", "belum ada perjanjian")
    named = {
        Role.REGIONAL_HEAD.value: agreement.regional_head,
        Role.UNIT_HEAD.value: agreement.unit_head,
    }
    if named.get(role) != event.actor:
        refuse(
            event,
            "history.signature",
            f"{event.actor} signed as {role!r}, a party the agreement does not name them as",
            f"{event.actor} menandatangani sebagai {role!r}, padahal bukan pihak itu",
            actor=event.actor,
        )
    if agreement.signed_by(event.actor):
        refuse(
            event,
            "history.signature",
            f"{event.actor} signed the agreement twice",
            f"{event.actor} menandatangani perjanjian dua kali",
            actor=event.actor,
        )


def replay_review(fold: Fold, inn: Innovation, event: Event, view: View, schema: int) -> None:
    """A review is of a signed agreement, by someone the policy's review cycle names."""
    agreement = inn.agreement
    if agreement is None or not agreement.complete:
        refuse(
            event,
            "history.agreement_review",
            "it reviews an agreement that was not signed by both parties",
            "mereviu perjanjian yang belum ditandatangani kedua pihak",
        )
    outcome = event.payload["outcome"]
    if outcome not in {o.value for o in ReviewOutcome}:
        refuse(
            event,
            "history.agreement_review",
            f"it records the outcome {outcome!r}, which is none of labflow's",
            f"mencatat hasil {outcome!r}, yang tidak dikenal labflow",
        )
    cycle = fold.policy.review
    refused = (
        None
        if cycle is None
        else reviewer_refused(fold.policy, cycle, view.actors[event.actor], inn.unit)
    )
    if refused is not None:
        refuse(
            event,
            "history.agreement_review",
            f"{event.actor} may not review it: {refused[0]}",
            f"{event.actor} tidak boleh mereviunya: {refused[1]}",
        )


def replay_amend(fold: Fold, inn: Innovation, event: Event, view: View, schema: int) -> None:
    """An amendment follows a review of the signed version that called for it."""
    agreement = inn.agreement
    if agreement is None or not agreement.complete or not agreement.amendment_called:
        refuse(
            event,
            "history.agreement_amendment",
            "it amends an agreement no review of its signed version called to amend",
            "mengubah perjanjian tanpa reviu atas versi yang ditandatangani yang memintanya",
        )

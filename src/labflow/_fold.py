"""State as the fold of history: how each event kind changes an innovation or a lab.

Commands build an event and then apply it with these same functions, so the
state a command leaves and the state `replay` rebuilds can never drift apart.
The payload of each kind is written here too (``*_payload``): it is the event
schema, JSON values only, and it never changes meaning once written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import attrs

from labflow._exhibitions import EXHIBITION_KINDS
from labflow.events import Event
from labflow.model import (
    ActionPlan,
    Actor,
    AgreementReview,
    AgreementVersion,
    Diagnosis,
    Evidence,
    Exhibit,
    Initiator,
    Innovation,
    Launch,
    PerformanceAgreement,
    Permission,
    PlanApproval,
    PlanStep,
    Replication,
    ReviewOutcome,
    Signature,
    Status,
    Unit,
)

if TYPE_CHECKING:
    from labflow.lab import Lab

# --- Payload encoders (records -> JSON values) ---------------------------------------------


def unit_payload(unit: Unit) -> dict[str, Any]:
    return {"id": unit.id, "name": unit.name, "kind": unit.kind.value}


def actor_payload(actor: Actor) -> dict[str, Any]:
    return {"id": actor.id, "name": actor.name, "roles": sorted(actor.roles), "unit": actor.unit}


def diagnosis_payload(diagnosis: Diagnosis) -> dict[str, Any]:
    return {
        "problem": diagnosis.problem,
        "root_causes": list(diagnosis.root_causes),
        "readiness": diagnosis.readiness,
    }


def plan_payload(
    steps: Sequence[PlanStep],
    stakeholders: Sequence[str],
    budget: int | None,
    documents: Sequence[str],
) -> dict[str, Any]:
    return {
        "steps": [
            {"description": s.description, "responsible": s.responsible, "due": s.due.isoformat()}
            for s in steps
        ],
        "stakeholders": list(stakeholders),
        "budget": budget,
        "documents": list(documents),
    }


def replication_payload(replication: Replication) -> dict[str, Any]:
    return {
        "origin_region": replication.origin_region,
        "origin_innovation": replication.origin_innovation,
        "origin_title": replication.origin_title,
        "adaptation": replication.adaptation,
    }


# --- Decoders (JSON values -> records) -----------------------------------------------------


def unit_from(data: Mapping[str, Any]) -> Unit:
    return Unit(data["id"], data["name"], data["kind"])


def actor_from(data: Mapping[str, Any]) -> Actor:
    return Actor(data["id"], data["name"], frozenset(data["roles"]), data["unit"])


# --- Innovations ----------------------------------------------------------------------------

_Apply = Callable[[Innovation, Event], Innovation]
_SAME: Any = object()  # "this field keeps its value" in `_then`


def _then(
    inn: Innovation,
    event: Event,
    *,
    stage: Any = _SAME,
    status: Any = _SAME,
    diagnosis: Any = _SAME,
    action_plan: Any = _SAME,
    agreement: Any = _SAME,
    permission: Any = _SAME,
    launch: Any = _SAME,
    evidence: Any = _SAME,
    exhibit: Any = _SAME,
) -> Innovation:
    """The next record of ``inn``: the fields given changed and ``event`` appended to its history.

    The constructor, called positionally, not `attrs.evolve`: evolve introspects the
    class on every call, and this runs once per applied event.
    """
    return Innovation(
        inn.id,
        inn.title,
        inn.unit,
        inn.innovators,
        inn.problem,
        inn.initiator,
        inn.stage if stage is _SAME else stage,
        inn.status if status is _SAME else status,
        inn.diagnosis if diagnosis is _SAME else diagnosis,
        inn.action_plan if action_plan is _SAME else action_plan,
        inn.agreement if agreement is _SAME else agreement,
        inn.permission if permission is _SAME else permission,
        inn.launch if launch is _SAME else launch,
        inn.evidence if evidence is _SAME else evidence,
        inn.exhibit if exhibit is _SAME else exhibit,
        inn.replication,
        inn.attributes,
        (*inn.history, event),
    )


def _registered(event: Event) -> Innovation:
    p = event.payload
    replication = p.get("replication")
    return Innovation(
        id=event.subject,
        title=p["title"],
        unit=p["unit"],
        innovators=tuple(p["innovators"]),
        problem=p["problem"],
        initiator=Initiator(p["initiator"]),
        stage=p["stage"],
        replication=Replication(**replication) if replication is not None else None,
        attributes=p.get("attributes", {}),
        history=(event,),
    )


def _diagnosis(inn: Innovation, event: Event) -> Innovation:
    p = event.payload
    diagnosis = Diagnosis(p["problem"], tuple(p["root_causes"]), p["readiness"])
    return _then(inn, event, diagnosis=diagnosis)


def _plan_submitted(inn: Innovation, event: Event) -> Innovation:
    p = event.payload
    steps = tuple(
        PlanStep(s["description"], s["responsible"], date.fromisoformat(s["due"]))
        for s in p["steps"]
    )
    plan = ActionPlan(
        steps,
        event.actor,
        event.at,
        tuple(p["stakeholders"]),
        p["budget"],
        tuple(p["documents"]),
    )
    return _then(inn, event, action_plan=plan)


def _plan_approved(inn: Innovation, event: Event) -> Innovation:
    plan = inn.action_plan
    assert plan is not None
    if plan.approved_by is not None:  # a later step of the policy's approval steps
        roles = frozenset(event.payload["roles"])
        step = PlanApproval(len(plan.approvals) + 1, event.actor, event.at, roles)
        further = attrs.evolve(plan, further_approvals=(*plan.further_approvals, step))
        return _then(inn, event, action_plan=further)
    approved = ActionPlan(
        plan.steps,
        plan.submitted_by,
        plan.submitted_at,
        plan.stakeholders,
        plan.budget,
        plan.documents,
        event.actor,
        event.at,
        frozenset(event.payload["roles"]),
    )
    return _then(inn, event, action_plan=approved)


def _agreement_drawn_up(inn: Innovation, event: Event) -> Innovation:
    p = event.payload
    agreement = PerformanceAgreement(
        p["regional_head"], p["unit_head"], event.actor, event.at, p["terms"]
    )
    return _then(inn, event, agreement=agreement)


def _agreement_signed(inn: Innovation, event: Event) -> Innovation:
    drawn = inn.agreement
    assert drawn is not None
    signature = Signature(event.actor, event.payload["role"], event.at)
    signed = attrs.evolve(drawn, signatures=(*drawn.signatures, signature))
    return _then(inn, event, agreement=signed)


def _agreement_reviewed(inn: Innovation, event: Event) -> Innovation:
    agreement = inn.agreement
    assert agreement is not None
    p = event.payload
    review = AgreementReview(
        p["finding"], ReviewOutcome(p["outcome"]), event.actor, event.at, agreement.version
    )
    reviewed = attrs.evolve(agreement, reviews=(*agreement.reviews, review))
    return _then(inn, event, agreement=reviewed)


def _agreement_amended(inn: Innovation, event: Event) -> Innovation:
    old = inn.agreement
    assert old is not None
    kept = AgreementVersion(
        old.version, old.terms, old.drawn_up_by, old.drawn_up_at, old.signatures
    )
    amended = PerformanceAgreement(
        old.regional_head,
        old.unit_head,
        event.actor,
        event.at,
        event.payload["terms"],
        (),
        old.version + 1,
        (*old.earlier, kept),
        old.reviews,
    )
    return _then(inn, event, agreement=amended)


def _permission(inn: Innovation, event: Event) -> Innovation:
    permission = Permission(event.actor, event.at, event.payload["reference"])
    return _then(inn, event, permission=permission)


def _launched(inn: Innovation, event: Event) -> Innovation:
    p = event.payload
    return _then(
        inn, event, launch=Launch(event.at, p["ceremony"], event.actor, p.get("exhibition"))
    )


def _evidence(inn: Innovation, event: Event) -> Innovation:
    p = event.payload
    evidence = Evidence(p["title"], p["reference"], event.actor, event.at)
    return _then(inn, event, evidence=(*inn.evidence, evidence))


def _exhibit(inn: Innovation, event: Event) -> Innovation:
    p = event.payload
    exhibit = Exhibit(p["event"], p["booth"], event.actor, event.at, p.get("exhibition"))
    return _then(inn, event, exhibit=exhibit)


def _monitored(inn: Innovation, event: Event) -> Innovation:
    p = event.payload
    texts = (p["period"], p["findings"], p["follow_up"])
    if not all(isinstance(t, str) for t in texts) or not isinstance(p["indicators"], Mapping):
        raise TypeError("a monev record holds its period, findings, follow-up and indicators")
    return _then(inn, event)


def _moved(inn: Innovation, event: Event) -> Innovation:
    return _then(inn, event, stage=event.payload["to"])


def _withdrawn(inn: Innovation, event: Event) -> Innovation:
    return _then(inn, event, status=Status.WITHDRAWN)


def _reinstated(inn: Innovation, event: Event) -> Innovation:
    return _then(inn, event, status=Status.ACTIVE)


def _attributes_set(inn: Innovation, event: Event) -> Innovation:
    """The attributes given replace the ones of the same name; ``None`` clears one."""
    values = {**inn.attributes, **event.payload["attributes"]}
    kept = {k: v for k, v in values.items() if v is not None}
    return attrs.evolve(inn, attributes=kept, history=(*inn.history, event))


_INNOVATION: dict[str, _Apply] = {
    "innovation.diagnosis_recorded": _diagnosis,
    "innovation.plan_submitted": _plan_submitted,
    "innovation.plan_approved": _plan_approved,
    "innovation.agreement_drawn_up": _agreement_drawn_up,
    "innovation.agreement_signed": _agreement_signed,
    "innovation.permission_granted": _permission,
    "innovation.launched": _launched,
    "innovation.evidence_attached": _evidence,
    "innovation.exhibit_registered": _exhibit,
    "innovation.advanced": _moved,
    "innovation.returned": _moved,
    "innovation.withdrawn": _withdrawn,
    "innovation.reinstated": _reinstated,
    "innovation.agreement_reviewed": _agreement_reviewed,
    "innovation.agreement_amended": _agreement_amended,
    # a monev record is read from the history itself (`labflow._monev_rules.monev_records`)
    "innovation.monitored": _monitored,
    "innovation.attributes_set": _attributes_set,
}
#: The kinds that open an innovation's history.
OPENING_KINDS = frozenset({"innovation.registered", "innovation.replicated"})
INNOVATION_KINDS = OPENING_KINDS | _INNOVATION.keys()


def apply_innovation(innovation: Innovation | None, event: Event) -> Innovation:
    """The innovation after one event (``None`` before its first), with the event recorded.

    ``innovation`` itself is left as it was: records are frozen.
    """
    if innovation is None:
        if event.kind not in OPENING_KINDS:
            raise ValueError(f"an innovation's history cannot start with {event.kind!r}")
        return _registered(event)
    apply = _INNOVATION.get(event.kind)
    if apply is None:
        raise ValueError(f"{event.kind!r} is not an event an innovation can apply")
    return apply(innovation, event)


# --- The lab ------------------------------------------------------------------------------


def apply_lab(lab: Lab, event: Event) -> None:
    """Apply one event of the lab's own history to ``lab`` and record it."""
    p = event.payload
    kind = event.kind
    if kind == "lab.created":
        lab._units.update((u.id, u) for u in map(unit_from, p["units"]))
        lab._actors.update((a.id, a) for a in map(actor_from, p["actors"]))
    elif kind == "lab.unit_added":
        unit = unit_from(p["unit"])
        lab._units[unit.id] = unit
    elif kind == "lab.actor_added":
        actor = actor_from(p["actor"])
        lab._actors[actor.id] = actor
    elif kind == "lab.roles_set":
        was = lab._actors[p["actor"]]
        lab._actors[was.id] = Actor(was.id, was.name, frozenset(p["roles"]), was.unit)
    elif kind == "lab.advanced":
        lab._stage = lab.policy.stage(p["to"]).id  # a forged history may name no stage
    elif kind != "lab.ceremony_held" and kind not in EXHIBITION_KINDS:
        # an exhibition's events are folded from the history (`labflow._exhibitions`)
        raise ValueError(f"{kind!r} is not an event a lab can apply")
    lab._history = (*lab._history, event)

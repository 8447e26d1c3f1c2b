"""What each command does: validate its input, check its preconditions, build its event.

Private. `labflow.Lab`'s command methods are one-line conveniences over these
functions; each one authorises the actor, refuses bad input or an unmet
precondition with labflow's own error, and hands its payload to the lab's
``_commit`` (or ``_commit_lab`` / ``_open``), which records and applies the event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from labflow._attributes import attribute_problems
from labflow._authority import authorize, reviewer_refused, step_refused
from labflow._catalogue import CommandSpec, Precondition, by_name
from labflow._exhibitions import check_exhibit, check_launch_at, exhibit_stage, exhibitions_of
from labflow._fold import (
    actor_payload,
    diagnosis_payload,
    plan_payload,
    replication_payload,
    unit_payload,
)
from labflow._frozen import FrozenList
from labflow._gates import advance_unmet, counterparty_refused, unit_kind
from labflow._inputs import check_new_actor, check_new_unit, check_roles
from labflow._inputs import ident as _ident
from labflow._inputs import initiator as _initiator
from labflow._inputs import text as _text
from labflow._inputs import texts as _texts
from labflow._limits import MAX_INT
from labflow._replay import gate_record
from labflow.errors import ConflictError, GateRefused, InvalidCommand, NotFound, PermissionDenied
from labflow.events import Event
from labflow.model import (
    Actor,
    Diagnosis,
    Initiator,
    Innovation,
    PlanStep,
    Replication,
    ReviewOutcome,
    Role,
    Unit,
)
from labflow.requirements import CohortContext, Unmet, Verdict, run_all

if TYPE_CHECKING:
    from labflow.lab import Lab


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


def advance_lab(lab: Lab, *, by: str, expect: str | None = None) -> Event:
    lab._authorize("advance_lab", by, None)
    if expect is not None:
        seen = lab.policy.stage(_text(expect, "stage", empty=False)).id
        if seen != lab.stage:  # the lab moved since the caller looked: do not move it twice
            raise ConflictError(lab.id, seen, lab.stage)
    now = lab.now()
    target = lab._engine.advance_lab(
        lab.stage,
        lambda spec, to: not run_all((spec,), CohortContext(lab, lab.policy.stage(to), now)),
    )
    if target is None:
        raise GateRefused(lab._check_lab(now))
    # What the decision counted, so that replay can judge it on the same cohort.
    counted = {i.id: len(i.history) for i in lab.innovations.values()}
    payload = {"from": lab.stage, "to": target, "cohort": counted}
    return lab._commit_lab(by, "lab.advanced", payload, now)


def _check_opening(lab: Lab, command: str, innovation_id: str, unit: str, by: str) -> None:
    """What every command that opens an innovation checks first: a new id, an allowed actor,
    a unit of the lab."""
    _ident(innovation_id, "innovation id")
    lab._authorize(command, by, _ident(unit, "unit id"))
    if innovation_id in lab.innovations:
        raise InvalidCommand(
            f"The innovation {innovation_id!r} is already registered.",
            f"Inovasi {innovation_id!r} sudah terdaftar.",
            code="innovation.exists",
            data={"innovation": innovation_id},
        )
    if unit not in lab.units:
        raise NotFound("unit", str(unit), where=f"lab {lab.id!r}")


def register(
    lab: Lab,
    innovation_id: str,
    *,
    title: str,
    unit: str,
    innovators: Sequence[str],
    problem: str,
    initiator: Initiator | str = Initiator.ASN,
    by: str,
    attributes: Mapping[str, Any] | None = None,
) -> Event:
    _check_opening(lab, "register", innovation_id, unit, by)
    payload: dict[str, Any] = {
        "lab": lab.id,
        "title": _text(title, "title"),
        "unit": unit,
        "innovators": list(_texts(innovators, "innovators")),
        "problem": _text(problem, "problem"),
        "initiator": _initiator(initiator, lab.policy).value,
        "stage": lab.policy.stages[0].id,
    }
    values = attribute_values(lab, attributes)
    if values:
        payload["attributes"] = values
    return lab._open(innovation_id, by, "innovation.registered", payload)


def replicate(
    lab: Lab,
    innovation_id: str,
    *,
    origin: str,
    unit: str,
    adaptation: str,
    by: str,
    origin_region: str | None = None,
    title: str | None = None,
    innovators: Sequence[str] = (),
    problem: str | None = None,
    initiator: Initiator | str = Initiator.ASN,
) -> Event:
    _check_opening(lab, "replicate", innovation_id, unit, by)
    _text(origin, "origin", empty=False)
    _text(adaptation, "adaptation")
    if origin_region is None or origin_region == lab.region:
        source = lab.innovation(origin)
        if source.launch is None:
            raise InvalidCommand(
                f"{origin} has not been launched; only launched ones replicate.",
                f"{origin} belum diluncurkan; hanya inovasi yang sudah diluncurkan "
                "yang dapat direplikasi.",
                code="replication.origin_not_launched",
                data={"origin": origin},
            )
        if source.unit == unit:
            raise InvalidCommand(
                f"{origin} already belongs to {unit}; replicate it elsewhere.",
                f"{origin} sudah milik {unit}; replikasikan di unit lain.",
                code="replication.same_unit",
                data={"origin": origin, "unit": unit},
            )
        replication = Replication(lab.region, origin, adaptation, source.title)
        title = source.title if title is None else title
        problem = source.problem if problem is None else problem
    else:
        _text(origin_region, "origin region", empty=False)
        if title is None or problem is None:
            raise InvalidCommand(
                "A replica of another region's innovation needs its title and problem.",
                "Replika inovasi daerah lain memerlukan judul dan masalahnya.",
                code="replication.needs_title",
            )
        replication = Replication(origin_region, origin, adaptation, title)
    payload: dict[str, Any] = {
        "lab": lab.id,
        "title": _text(title, "title"),
        "unit": unit,
        "innovators": list(_texts(innovators, "innovators")),
        "problem": _text(problem, "problem"),
        "initiator": _initiator(initiator, lab.policy).value,
        "stage": lab.policy.stages[0].id,
        "replication": replication_payload(replication),
    }
    return lab._open(innovation_id, by, "innovation.replicated", payload)


def record_diagnosis(lab: Lab, innovation_id: str, diagnosis: Diagnosis, *, by: str) -> Event:
    inn = lab._active(innovation_id)
    lab._authorize("record_diagnosis", by, inn.unit)
    require(lab, "record_diagnosis", inn)
    if not isinstance(diagnosis, Diagnosis):
        raise InvalidCommand(
            "A diagnosis must be a labflow.Diagnosis.",
            "Diagnosis harus berupa labflow.Diagnosis.",
            code="input.not_diagnosis",
        )
    _text(diagnosis.problem, "diagnosis problem")
    _texts(diagnosis.root_causes, "root causes")
    _text(diagnosis.readiness, "readiness")
    return lab._commit(inn, by, "innovation.diagnosis_recorded", diagnosis_payload(diagnosis))


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
    inn = lab._active(innovation_id)
    lab._authorize("submit_plan", by, inn.unit)
    require(lab, "submit_plan", inn)
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
    inn = lab._active(innovation_id)
    actor = lab._authorize("approve_plan", by, inn.unit)
    require(lab, "approve_plan", inn)
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


def draw_up_agreement(
    lab: Lab, innovation_id: str, *, regional_head: str, unit_head: str, by: str, terms: str = ""
) -> Event:
    inn = lab._active(innovation_id)
    lab._authorize("draw_up_agreement", by, inn.unit)
    require(lab, "draw_up_agreement", inn)
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
    inn = lab._active(innovation_id)
    actor = lab._authorize("sign_agreement", by, inn.unit)
    require(lab, "sign_agreement", inn)
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


def grant_permission(lab: Lab, innovation_id: str, *, reference: str, by: str) -> Event:
    inn = lab._active(innovation_id)
    lab._authorize("grant_permission", by, inn.unit)
    require(lab, "grant_permission", inn)
    payload = {"reference": _text(reference, "reference", empty=False)}
    return lab._commit(inn, by, "innovation.permission_granted", payload)


def record_launch(
    lab: Lab, innovation_id: str, *, ceremony: str, by: str, exhibition: str | None = None
) -> Event:
    inn = lab.innovation(innovation_id)
    lab._authorize("record_launch", by, inn.unit)
    _text(ceremony, "ceremony", empty=False)
    payload: dict[str, Any] = {"ceremony": ceremony}
    if exhibition is not None:
        payload["exhibition"] = _ident(exhibition, "exhibition id")
        check_launch_at(lab, exhibition)
    now = lab.now()
    verdict = lab._check_launch(inn, now)
    if not verdict.ok:
        raise GateRefused(verdict)
    return lab._commit(inn, by, "innovation.launched", payload, now)


def attach_evidence(lab: Lab, innovation_id: str, *, title: str, reference: str, by: str) -> Event:
    inn = lab._active(innovation_id)
    lab._authorize("attach_evidence", by, inn.unit)
    require(lab, "attach_evidence", inn)
    payload = {
        "title": _text(title, "title", empty=False),
        "reference": _text(reference, "reference", empty=False),
    }
    return lab._commit(inn, by, "innovation.evidence_attached", payload)


def register_exhibit(
    lab: Lab,
    innovation_id: str,
    *,
    event: str = "",
    by: str,
    booth: str = "",
    exhibition: str | None = None,
) -> Event:
    inn = lab._active(innovation_id)
    lab._authorize("register_exhibit", by, inn.unit)
    require(lab, "register_exhibit", inn)
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


def advance(lab: Lab, innovation_id: str, *, by: str) -> Event:
    # The hot path: the authority and the gate called directly, not through `Lab`'s methods.
    inn = lab.innovation(innovation_id)
    authorize(lab, "advance", by, inn.unit)
    now = lab.now()
    target, found = advance_unmet(lab, lab._engine, inn, None, now)
    if found:
        raise GateRefused(Verdict(inn.id, "advance", target, tuple(found)))
    payload = {"from": inn.stage, "to": target, "gate": gate(lab, target, inn.unit)}
    return lab._commit(inn, by, "innovation.advanced", payload, now)


def return_to(lab: Lab, innovation_id: str, stage: str, *, reason: str, by: str) -> Event:
    inn = lab._active(innovation_id)
    lab._authorize("return", by, inn.unit)
    require(lab, "return", inn)
    target = lab.policy.stage(stage)
    if target.id not in lab._engine.returns[inn.stage]:
        raise InvalidCommand(
            f"{inn.id} is at {inn.stage}; it can only return to an earlier stage.",
            f"{inn.id} berada di {inn.stage}; hanya dapat dikembalikan ke tahap sebelumnya.",
            code="return.not_earlier",
            data={"innovation": inn.id, "stage": inn.stage, "target": target.id},
        )
    payload = {
        "from": inn.stage,
        "to": target.id,
        "reason": _text(reason, "reason", empty=False),
    }
    return lab._commit(inn, by, "innovation.returned", payload)


def withdraw(lab: Lab, innovation_id: str, *, reason: str, by: str) -> Event:
    inn = lab._active(innovation_id)
    lab._authorize("withdraw", by, inn.unit)
    require(lab, "withdraw", inn)
    payload = {"reason": _text(reason, "reason", empty=False)}
    return lab._commit(inn, by, "innovation.withdrawn", payload)


def reinstate(lab: Lab, innovation_id: str, *, reason: str, by: str) -> Event:
    inn = lab.innovation(innovation_id)
    lab._authorize("reinstate", by, inn.unit)
    require(lab, "reinstate", inn)
    payload = {"reason": _text(reason, "reason", empty=False)}
    return lab._commit(inn, by, "innovation.reinstated", payload)


def set_attributes(
    lab: Lab, innovation_id: str, *, attributes: Mapping[str, Any], by: str
) -> Event:
    """Set or change attributes the policy declares; ``None`` clears one."""
    inn = lab.innovation(innovation_id)
    lab._authorize("set_attributes", by, inn.unit)
    require(lab, "set_attributes", inn)
    clean = _checked_attributes(lab, attributes, at_least_one=True)
    return lab._commit(inn, by, "innovation.attributes_set", {"attributes": clean})


def attribute_values(lab: Lab, values: Mapping[str, Any] | None) -> dict[str, Any]:
    """``values`` checked against the policy's declared attributes; `InvalidCommand` if not."""
    if values is None:
        return {}
    clean = _checked_attributes(lab, values)
    return {k: v for k, v in clean.items() if v is not None}


def _checked_attributes(
    lab: Lab, values: Mapping[str, Any], *, at_least_one: bool = False
) -> dict[str, Any]:
    """``values`` of declared attributes, of their types and allowed values, text by the text
    rule (``None`` kept: it clears one); every problem in one `InvalidCommand`."""
    clean, problems = attribute_problems(lab.policy.attributes, values)
    if at_least_one and not problems and not clean:
        problems = [("", "Name at least one attribute to set.", "Sebutkan minimal satu atribut.")]
    if problems:
        raise InvalidCommand(
            " ".join(en for _, en, _ in problems),
            " ".join(id_ for _, _, id_ in problems),
            code="command.attributes",
            data={"attributes": [key for key, _, _ in problems]},
        )
    for key, value in clean.items():
        if isinstance(value, str):
            _text(value, f"attribute {key}")
    return clean


def gate(lab: Lab, stage: str, unit: str) -> list[str]:
    """The requirements of ``stage``'s gate that apply to ``unit``: what an advance passed.

    One read-only list per (stage, unit kind), shared by every advance that records it.
    """
    kind = unit_kind(lab.units.get(unit))
    names = lab._gates.get((stage, kind))
    if names is None:
        names = lab._gates[(stage, kind)] = FrozenList(gate_record(lab.policy, stage, kind))
    return names


def review_agreement(
    lab: Lab,
    innovation_id: str,
    *,
    finding: str,
    outcome: ReviewOutcome | str = ReviewOutcome.CONTINUE,
    by: str,
) -> Event:
    inn = lab._active(innovation_id)
    actor = lab._authorize("review_agreement", by, inn.unit)
    require(lab, "review_agreement", inn)
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
    inn = lab._active(innovation_id)
    lab._authorize("amend_agreement", by, inn.unit)
    require(lab, "amend_agreement", inn)
    payload = {"terms": _text(terms, "terms", empty=False)}
    return lab._commit(inn, by, "innovation.agreement_amended", payload)


# --- Preconditions: the catalogue's, judged on a lab ------------------------------------------


class _Facts:
    """What the catalogue's preconditions read of one subject, each fact worked out when asked."""

    __slots__ = ("innovation", "lab", "stage")

    def __init__(self, lab: Lab, innovation: Innovation | None) -> None:
        self.lab = lab
        self.innovation = innovation
        self.stage = lab.stage if innovation is None else innovation.stage

    def covers(self, step: str) -> bool:
        return step in self.lab.policy.stage(self.stage).covers

    def earlier(self) -> bool:
        return bool(self.lab._engine.returns[self.stage])

    def last(self) -> bool:
        return self.lab._engine.next[self.stage] is None

    def binding(self) -> bool:
        assert self.innovation is not None
        return self.lab._past_agreement(self.innovation)  # the lab's one answer to this

    def ceremony(self) -> bool:
        return self.lab._engine.hold_ceremony(self.stage)

    def plan_approved(self) -> bool:
        assert self.innovation is not None
        return self.lab.policy.plan_approved(self.innovation.action_plan)

    def exhibiting(self) -> bool:
        stage = exhibit_stage(self.lab.policy)
        if stage is None:
            return False
        if self.innovation is not None:
            return self.stage == stage
        return self.lab.policy.index(self.stage) >= self.lab.policy.index(stage)


def _refusal(spec: CommandSpec, pre: Precondition, facts: _Facts, subject: str) -> Unmet:
    data = {"stage": facts.stage}
    if spec.level == "innovation":
        data["innovation"] = subject
    return Unmet(
        pre.code,
        pre.message_en.format(subject=subject, stage=facts.stage),
        pre.message_id.format(subject=subject, stage=facts.stage),
        data,
    )


def preconditions_unmet(lab: Lab, spec: CommandSpec, subject: str | None) -> list[Unmet]:
    """Every precondition of ``spec`` that ``subject`` (the lab when ``None``) does not meet."""
    inn = None if subject is None else lab.innovation(subject)
    facts = _Facts(lab, inn)
    ident = lab.id if inn is None else inn.id
    return [_refusal(spec, p, facts, ident) for p in spec.preconditions if not p.holds(facts)]


def require(lab: Lab, command: str, inn: Innovation | None = None) -> None:
    """`InvalidCommand` for the first precondition of ``command`` that is not met."""
    spec = by_name(command)
    assert spec is not None
    facts = _Facts(lab, inn)
    for pre in spec.preconditions:
        if not pre.holds(facts):
            item = _refusal(spec, pre, facts, lab.id if inn is None else inn.id)
            raise InvalidCommand(
                item.message_en, item.message_id, code=item.code, data=dict(item.data)
            )

"""The built-in gate requirements, each registered in `DEFAULT_REGISTRY` under its name.

Private: policies name them (docs/requirements.md lists each with its parameters); hosts
reach one through the registry (``DEFAULT_REGISTRY.find("gate", name)``). Imported by
`labflow.requirements`, so they are registered whenever requirements can be used.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from labflow._registry import GateContext, LabView, Unmet, requirement, unmet
from labflow.model import Initiator, Innovation, Role

if TYPE_CHECKING:
    from labflow.policy import Deadline, Policy


def _n(count: int, one: str, many: str) -> str:
    """``count`` with the English word that agrees with it (``1 unit``, ``2 units``)."""
    return f"{count} {one if count == 1 else many}"


def _are(count: int) -> str:
    return "is" if count == 1 else "are"


def _listed(items: Sequence[object], conj: str = "and") -> str:
    """``1``, ``1 and 3``, ``1, 2 and 3``: a list as words, never a Python list."""
    words = [str(i) for i in items]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {conj} {words[-1]}"


def role_labels(policy: Policy, roles: Iterable[str]) -> tuple[str, str]:
    """Roles by the policy's labels, in English and Indonesian, joined with "or"/"atau"."""
    defs = [policy.roles.get(str(r)) for r in roles]
    en = [d.label_en if d else str(r) for d, r in zip(defs, roles, strict=True)]
    id_ = [d.label_id if d else str(r) for d, r in zip(defs, roles, strict=True)]
    return " or ".join(en), " atau ".join(id_)


@requirement("idea_registered")
def idea_registered(ctx: GateContext) -> list[Unmet]:
    """The idea is in the inventory: a title, a known owning unit, innovators, a problem."""
    inn = ctx.innovation
    found: list[Unmet] = []
    if not inn.title.strip():
        found.append(unmet("idea.no_title", "The idea has no title.", "Ide belum berjudul."))
    if inn.unit not in ctx.lab.units:
        found.append(
            unmet(
                "idea.unknown_unit",
                f"The owning unit {inn.unit} is not part of the lab.",
                f"Unit pemilik {inn.unit} tidak terdaftar di laboratorium.",
                unit=inn.unit,
            )
        )
    if not inn.innovators:
        found.append(unmet("idea.no_innovators", "No innovator is named.", "Belum ada inovator."))
    if not inn.problem.strip():
        found.append(
            unmet(
                "idea.no_problem",
                "The problem the idea addresses is not stated.",
                "Masalah yang dijawab ide belum dituliskan.",
            )
        )
    return found


@requirement("diagnosis_recorded")
def diagnosis_recorded(ctx: GateContext, *, min_root_causes: int = 1) -> list[Unmet]:
    """A diagnosis is recorded with a problem statement and at least ``min_root_causes`` causes."""
    diagnosis = ctx.innovation.diagnosis
    if diagnosis is None:
        return [
            unmet(
                "diagnosis.missing",
                "No diagnosis is recorded.",
                "Diagnosis belum dicatat.",
            )
        ]
    found: list[Unmet] = []
    if not diagnosis.problem.strip():
        found.append(
            unmet(
                "diagnosis.no_problem",
                "The diagnosis states no problem.",
                "Diagnosis belum menyebutkan masalah.",
            )
        )
    if len(diagnosis.root_causes) < min_root_causes:
        found.append(
            unmet(
                "diagnosis.too_few_causes",
                f"The diagnosis names "
                f"{_n(len(diagnosis.root_causes), 'root cause', 'root causes')}; "
                f"at least {min_root_causes} {_are(min_root_causes)} needed.",
                f"Diagnosis menyebut {len(diagnosis.root_causes)} akar masalah; "
                f"minimal {min_root_causes}.",
                found=len(diagnosis.root_causes),
                required=min_root_causes,
            )
        )
    return found


@requirement("action_plan_submitted")
def action_plan_submitted(ctx: GateContext, *, min_steps: int = 1) -> list[Unmet]:
    """An action plan is submitted: ``min_steps`` steps or more, each with a person responsible."""
    plan = ctx.innovation.action_plan
    if plan is None:
        return [
            unmet(
                "action_plan.missing",
                "No action plan is submitted.",
                "Rencana aksi belum diajukan.",
            )
        ]
    found: list[Unmet] = []
    if len(plan.steps) < min_steps:
        found.append(
            unmet(
                "action_plan.too_few_steps",
                f"The action plan has {_n(len(plan.steps), 'step', 'steps')}; "
                f"at least {min_steps} {_are(min_steps)} needed.",
                f"Rencana aksi memuat {len(plan.steps)} langkah; minimal {min_steps}.",
                found=len(plan.steps),
                required=min_steps,
            )
        )
    unassigned = [i for i, step in enumerate(plan.steps, 1) if not step.responsible.strip()]
    if unassigned:
        found.append(
            unmet(
                "action_plan.step_without_responsible",
                f"{'Step' if len(unassigned) == 1 else 'Steps'} {_listed(unassigned)} of the "
                f"action plan {'has' if len(unassigned) == 1 else 'have'} no person responsible.",
                f"Langkah {_listed(unassigned, 'dan')} rencana aksi belum memiliki "
                "penanggung jawab.",
                steps=unassigned,
            )
        )
    return found


@requirement("action_plan_approved")
def action_plan_approved(
    ctx: GateContext,
    *,
    approver_roles: tuple[str, ...] = ("unit_head",),
    same_unit: bool = True,
    step: str | None = None,
) -> list[Unmet]:
    """The action plan is approved, not by its author, by a holder of ``approver_roles``.

    With ``same_unit`` (the default) the approver must belong to the innovation's own unit.
    A policy that declares approval steps (``[[approval]]``) says who approves in each
    step instead: then every step must be done (or every step up to ``step``), each by a
    holder of that step's roles, in the owning unit if the step says so.
    """
    plan = ctx.innovation.action_plan
    if ctx.lab.policy.approval:
        return _approval_steps_unmet(ctx, step)
    if plan is None or plan.approved_by is None:
        return [
            unmet(
                "action_plan.not_approved",
                "The action plan is not approved.",
                "Rencana aksi belum disetujui.",
            )
        ]
    found: list[Unmet] = []
    if plan.approved_by == plan.submitted_by:
        found.append(
            unmet(
                "action_plan.self_approved",
                "The action plan was approved by its own author.",
                "Rencana aksi disetujui oleh penyusunnya sendiri.",
                actor=plan.approved_by,
            )
        )
    if plan.approver_roles.isdisjoint(approver_roles):
        en, id_ = role_labels(ctx.lab.policy, approver_roles)
        found.append(
            unmet(
                "action_plan.approver_lacks_role",
                f"The action plan's approver held none of the roles it needs ({en}).",
                f"Penyetuju rencana aksi tidak memegang peran yang dibutuhkan ({id_}).",
                actor=plan.approved_by,
                roles=sorted(plan.approver_roles),
                needed=sorted(str(r) for r in approver_roles),
            )
        )
    approver = ctx.lab.actors.get(plan.approved_by)
    if same_unit and (approver is None or approver.unit != ctx.innovation.unit):
        found.append(
            unmet(
                "action_plan.approver_outside_unit",
                "The action plan was approved by someone outside the owning unit.",
                "Rencana aksi disetujui oleh pihak di luar unit pemilik.",
                actor=plan.approved_by,
                unit=ctx.innovation.unit,
            )
        )
    return found


def _approval_steps_unmet(ctx: GateContext, upto: str | None) -> list[Unmet]:
    """What keeps a plan from being approved at every declared step (or up to ``upto``)."""
    policy = ctx.lab.policy
    plan = ctx.innovation.action_plan
    steps = policy.approval
    ids = [s.id for s in steps]
    needed = steps[: ids.index(upto) + 1] if upto in ids else steps
    if plan is None:
        return [
            unmet(
                "action_plan.not_approved",
                "The action plan is not approved.",
                "Rencana aksi belum disetujui.",
            )
        ]
    done = plan.approvals
    found: list[Unmet] = []
    for number, step in enumerate(needed, 1):
        if number > len(done):
            en, id_ = role_labels(policy, sorted(step.roles))
            found.append(
                unmet(
                    "action_plan.step_pending",
                    f"The action plan awaits step {number} of {len(steps)}, "
                    f"{step.label('en')} (by the {en}).",
                    f"Rencana aksi menunggu langkah {number} dari {len(steps)}, "
                    f"{step.label('id')} (oleh {id_}).",
                    step=step.id,
                    number=number,
                )
            )
            break  # later steps wait for this one
        approval = done[number - 1]
        if approval.by == plan.submitted_by:
            found.append(
                unmet(
                    "action_plan.self_approved",
                    f"Step {number} of the action plan was approved by its own author.",
                    f"Langkah {number} rencana aksi disetujui oleh penyusunnya sendiri.",
                    actor=approval.by,
                    step=step.id,
                )
            )
        if approval.roles.isdisjoint(step.roles):
            en, id_ = role_labels(policy, sorted(step.roles))
            found.append(
                unmet(
                    "action_plan.approver_lacks_role",
                    f"Step {number} of the action plan was approved by someone who held none "
                    f"of the roles it needs ({en}).",
                    f"Langkah {number} rencana aksi disetujui oleh pihak yang tidak memegang "
                    f"peran yang dibutuhkan ({id_}).",
                    actor=approval.by,
                    step=step.id,
                    roles=sorted(approval.roles),
                    needed=sorted(step.roles),
                )
            )
        approver = ctx.lab.actors.get(approval.by)
        if step.same_unit and (approver is None or approver.unit != ctx.innovation.unit):
            found.append(
                unmet(
                    "action_plan.approver_outside_unit",
                    f"Step {number} of the action plan was approved by someone outside the "
                    "owning unit.",
                    f"Langkah {number} rencana aksi disetujui oleh pihak di luar unit pemilik.",
                    actor=approval.by,
                    step=step.id,
                    unit=ctx.innovation.unit,
                )
            )
    return found


@requirement("agreement_signed")
def agreement_signed(ctx: GateContext) -> list[Unmet]:
    """A performance agreement is signed by both parties: the owning unit's head and the
    policy's counterparty (``settings.agreement_counterparty``: the regional head unless the
    policy names another role)."""
    agreement = ctx.innovation.agreement
    if agreement is None:
        return [
            unmet(
                "agreement.missing",
                "No performance agreement is drawn up.",
                "Perjanjian kinerja inovasi belum disusun.",
            )
        ]
    found: list[Unmet] = []
    head = ctx.lab.actors.get(agreement.unit_head)
    if head is not None and head.unit == ctx.innovation.unit and agreement.complete:
        return found  # the common case, checked without building anything
    counterparty, counterparty_id = role_labels(
        ctx.lab.policy, (ctx.lab.policy.settings.agreement_counterparty,)
    )
    parties = (
        (agreement.regional_head, Role.REGIONAL_HEAD, f"the {counterparty}", counterparty_id),
        (agreement.unit_head, Role.UNIT_HEAD, "the head of the owning unit", "kepala unit"),
    )
    for party, role, en, id_ in parties:
        if not agreement.signed_by(party):
            found.append(
                unmet(
                    f"agreement.unsigned.{role}",
                    f"The performance agreement is not signed by {en} ({party}).",
                    f"Perjanjian kinerja inovasi belum ditandatangani {id_} ({party}).",
                    party=party,
                )
            )
    if head is None or head.unit != ctx.innovation.unit:
        found.append(
            unmet(
                "agreement.wrong_unit_head",
                f"The agreement names {agreement.unit_head}, who does not head the owning unit.",
                f"Perjanjian menyebut {agreement.unit_head}, bukan kepala unit pemilik.",
                party=agreement.unit_head,
                unit=ctx.innovation.unit,
            )
        )
    return found


@requirement("launch_recorded")
def launch_recorded(ctx: GateContext) -> list[Unmet]:
    """The innovation's launch is recorded."""
    if ctx.innovation.launch is None:
        return [unmet("launch.missing", "No launch is recorded.", "Peluncuran belum dicatat.")]
    return []


@requirement("evidence_attached")
def evidence_attached(ctx: GateContext, *, min: int = 1) -> list[Unmet]:
    """At least ``min`` pieces of supporting evidence (*bukti dukung*) are attached."""
    count = len(ctx.innovation.evidence)
    if count < min:
        return [
            unmet(
                "evidence.too_few",
                f"{_n(count, 'piece of evidence is', 'pieces of evidence are')} attached; "
                f"at least {min} {_are(min)} needed.",
                f"Bukti dukung terlampir {count}; minimal {min}.",
                found=count,
                required=min,
            )
        ]
    return []


@requirement("exhibit_registered")
def exhibit_registered(ctx: GateContext) -> list[Unmet]:
    """The innovation has an exhibit (a booth at the exhibition, expo or festival)."""
    if ctx.innovation.exhibit is None:
        return [
            unmet(
                "exhibit.missing",
                "No exhibit is registered.",
                "Stan pameran belum didaftarkan.",
            )
        ]
    return []


@requirement("replication_recorded")
def replication_recorded(
    ctx: GateContext, *, min_adaptation_words: int | None = None
) -> list[Unmet]:
    """A replicated innovation records its origin and how it was adapted to the local context.

    The adaptation needs ``min_adaptation_words`` words (by default the policy's
    ``settings.min_adaptation_words``). Innovations that are not replications satisfy it.
    """
    replication = ctx.innovation.replication
    if replication is None:
        return []
    if min_adaptation_words is None:
        min_adaptation_words = ctx.lab.policy.settings.min_adaptation_words
    found: list[Unmet] = []
    if not replication.origin_region.strip() or not replication.origin_innovation.strip():
        found.append(
            unmet(
                "replication.no_origin",
                "The replication does not record where it comes from.",
                "Asal replikasi belum dicatat.",
            )
        )
    words = len(replication.adaptation.split())
    if words < min_adaptation_words:
        found.append(
            unmet(
                "replication.no_adaptation",
                f"The local adaptation is described in {_n(words, 'word', 'words')}; "
                f"at least {min_adaptation_words} {_are(min_adaptation_words)} needed.",
                f"Adaptasi lokal diuraikan dalam {words} kata; minimal {min_adaptation_words}.",
                found=words,
                required=min_adaptation_words,
            )
        )
    return found


@requirement("initiator_permission")
def initiator_permission(ctx: GateContext) -> list[Unmet]:
    """An ASN (civil servant) initiator has written permission from the head of their unit."""
    inn = ctx.innovation
    if inn.initiator is not Initiator.ASN:
        return []
    if inn.permission is None:
        return [
            unmet(
                "permission.missing",
                "The civil-servant initiator has no written permission from the unit head.",
                "Inisiator ASN belum memiliki izin tertulis dari kepala unit.",
            )
        ]
    grantor = ctx.lab.actors.get(inn.permission.granted_by)
    if grantor is None or grantor.unit != inn.unit or Role.UNIT_HEAD not in grantor.roles:
        return [
            unmet(
                "permission.wrong_grantor",
                f"The permission was granted by {inn.permission.granted_by}, "
                "who does not head the owning unit.",
                f"Izin diberikan oleh {inn.permission.granted_by}, bukan kepala unit pemilik.",
                actor=inn.permission.granted_by,
            )
        ]
    return []


_MOVES = ("innovation.advanced", "innovation.returned")


def _started(ctx: GateContext, after: str) -> datetime | None:
    """When the event a relative deadline counts from happened (``None``: not yet)."""
    inn = ctx.innovation
    if after == "launch":
        return inn.launch.at if inn.launch is not None else None
    kind, _, stage = after.partition(":")
    if kind == "lab":
        return ctx.lab.entered.get(stage)
    moment = None
    for event in inn.history:  # the last time the innovation entered the stage
        key = "stage" if event.seq == 1 else "to" if event.kind in _MOVES else None
        if key is not None and event.payload.get(key) == stage:
            moment = event.at
    return moment


def _event_words(ctx: GateContext, after: str) -> tuple[str, str]:
    """The event a deadline counts from, in English and Indonesian, by stage labels."""
    if after == "launch":
        return "the launch", "peluncuran"
    kind, _, ident = after.partition(":")
    stage = ctx.lab.policy.stage(ident)
    if kind == "lab":
        return (
            f"the lab entered {stage.label_en}",
            f"laboratorium memasuki tahap {stage.label_id}",
        )
    return f"it entered {stage.label_en}", f"inovasi memasuki tahap {stage.label_id}"


def latest_entry(lab: LabView, innovation: Innovation, deadline: Deadline) -> datetime | None:
    """The last moment ``innovation`` may enter ``deadline``'s stage (``None``: no limit yet)."""
    stage = lab.policy.stage(deadline.stage)
    ctx = GateContext(innovation, lab, stage, datetime.now(UTC))
    start = None if deadline.after is None else _started(ctx, deadline.after)
    return deadline.latest(start)


@requirement("deadline_not_passed")
def deadline_not_passed(ctx: GateContext) -> list[Unmet]:
    """The policy's deadline for entering this stage, if any: not passed, and not too early.

    An absolute deadline is a moment; a relative one counts from an event (the launch,
    the innovation or the lab entering a stage) with a window and a minimum duration
    ("two to three months of implementation after the launch").
    """
    policy = ctx.lab.policy
    deadline = policy.timing.get(ctx.stage.id)
    if deadline is None:
        return []
    stage = ctx.stage
    start = None if deadline.after is None else _started(ctx, deadline.after)
    found: list[Unmet] = []
    latest = deadline.latest(start)
    if latest is not None and ctx.now > latest:
        found.append(
            unmet(
                "deadline.passed",
                f"The deadline for entering {stage.label_en} passed on {policy.show_time(latest)}.",
                f"Batas waktu memasuki tahap {stage.label_id} sudah lewat "
                f"({policy.show_time(latest, 'id')}).",
                deadline=latest.isoformat(),
                now=ctx.now.isoformat(),
            )
        )
    if deadline.after is not None and deadline.has_minimum:
        earliest = deadline.earliest(start)
        en, id_ = _event_words(ctx, deadline.after)
        if earliest is None:
            found.append(
                unmet(
                    "deadline.not_started",
                    f"{stage.label_en} can be entered only some time after {en}, "
                    "which has not happened.",
                    f"Tahap {stage.label_id} baru dapat dimasuki setelah {id_}, "
                    "yang belum terjadi.",
                    after=deadline.after,
                )
            )
        elif ctx.now < earliest:
            found.append(
                unmet(
                    "deadline.too_early",
                    f"{stage.label_en} can be entered from {policy.show_time(earliest)} on, "
                    f"after the minimum time since {en}.",
                    f"Tahap {stage.label_id} baru dapat dimasuki mulai "
                    f"{policy.show_time(earliest, 'id')}, setelah waktu minimal sejak {id_}.",
                    earliest=earliest.isoformat(),
                    now=ctx.now.isoformat(),
                )
            )
    return found


def review_overdue(
    lab: LabView, innovation: Innovation, now: datetime
) -> tuple[int, datetime] | None:
    """The first review of ``innovation``'s performance agreement that is overdue at ``now``
    under the policy's review cycle: its number and when it was due (``None``: none is).

    The cycle runs from its event (the launch, the innovation or the lab entering a stage)
    for an innovation with a signed agreement, until its end; an innovation that has
    entered the cycle's last stage owes nothing more.
    """
    policy = lab.policy
    cycle = policy.review
    agreement = innovation.agreement
    if cycle is None or agreement is None or not (agreement.complete or agreement.earlier):
        return None
    if cycle.until_stage is not None and policy.index(innovation.stage) >= policy.index(
        cycle.until_stage
    ):
        return None
    ctx = GateContext(innovation, lab, policy.stage(innovation.stage), now)
    start = _started(ctx, cycle.after)
    if start is None:
        return None
    done = sum(1 for review in agreement.reviews if review.at >= start)
    due = cycle.due(done + 1, start)
    if due is None or due >= now:
        return None
    return done + 1, due


@requirement("agreement_reviews_current")
def agreement_reviews_current(ctx: GateContext) -> list[Unmet]:
    """No review of the performance agreement is overdue under the policy's review cycle
    (``[agreement.review]``: every N months after an event, until an end)."""
    policy = ctx.lab.policy
    cycle = policy.review
    if cycle is None:
        return []
    if cycle.until_stage is not None and policy.index(ctx.stage.id) > policy.index(
        cycle.until_stage
    ):
        return []
    found = review_overdue(ctx.lab, ctx.innovation, ctx.now)
    if found is None:
        return []
    number, due = found
    en, id_ = _event_words(ctx, cycle.after)
    return [
        unmet(
            "agreement.review_overdue",
            f"Review {number} of the performance agreement was due on {policy.show_time(due)} "
            f"(every {_n(cycle.every_months, 'month', 'months')} after {en}) and is not recorded.",
            f"Reviu ke-{number} perjanjian kinerja jatuh tempo pada "
            f"{policy.show_time(due, 'id')} (setiap {cycle.every_months} bulan sejak {id_}) "
            "dan belum dicatat.",
            number=number,
            due=due.isoformat(),
            now=ctx.now.isoformat(),
        )
    ]


@requirement("unit_head_on_record")
def unit_head_on_record(ctx: GateContext) -> list[Unmet]:
    """The owning unit has exactly one head on record in the lab.

    Regions that link innovation to the promotion of unit heads (Banyumas 2017) need
    every innovation attributable to one named head; a unit with no head, or with
    two, cannot be reported on.
    """
    unit = ctx.innovation.unit
    heads = sorted(
        a.id for a in ctx.lab.actors.values() if a.unit == unit and Role.UNIT_HEAD in a.roles
    )
    if len(heads) == 1:
        return []
    if not heads:
        return [
            unmet(
                "unit_head.missing",
                f"No head of the owning unit {unit} is on record in the lab.",
                f"Belum ada kepala unit pemilik {unit} yang tercatat di laboratorium.",
                unit=unit,
            )
        ]
    return [
        unmet(
            "unit_head.ambiguous",
            f"The owning unit {unit} has {len(heads)} heads on record ({', '.join(heads)}); "
            "an innovation must be linked to one.",
            f"Unit pemilik {unit} memiliki {len(heads)} kepala tercatat ({', '.join(heads)}); "
            "inovasi harus terkait dengan satu kepala unit.",
            unit=unit,
            heads=heads,
        )
    ]

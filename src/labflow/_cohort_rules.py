"""The built-in cohort conditions, each registered in `DEFAULT_REGISTRY` under its name.

Private, as the built-in gate requirements are (`labflow._gate_rules`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from labflow._gate_rules import _n
from labflow._registry import (
    CohortContext,
    GateContext,
    LabView,
    RequirementCall,
    RequirementRef,
    StageRef,
    Unmet,
    cohort_condition,
    gate_unmet,
    unmet,
)
from labflow.model import Innovation, UnitKind


def _reached(lab: LabView, innovation: Innovation, stage: str | None) -> bool:
    return stage is None or lab.policy.index(innovation.stage) >= lab.policy.index(stage)


#: How a cohort condition's ``meeting`` reads in a sentence, for the built-in requirements.
_MEETING: Final[Mapping[str, tuple[str, str]]] = {
    "idea_registered": ("registered in the inventory", "yang terdaftar dalam inventaris"),
    "diagnosis_recorded": ("with a recorded diagnosis", "dengan diagnosis yang tercatat"),
    "action_plan_submitted": ("with a submitted action plan", "dengan rencana aksi yang diajukan"),
    "action_plan_approved": ("with an approved action plan", "dengan rencana aksi yang disetujui"),
    "agreement_signed": (
        "with a signed performance agreement",
        "dengan perjanjian kinerja yang ditandatangani",
    ),
    "launch_recorded": ("that are launched", "yang sudah diluncurkan"),
    "evidence_attached": ("with enough supporting evidence", "dengan bukti dukung yang cukup"),
    "exhibit_registered": ("with an exhibit", "dengan stan pameran"),
    "replication_recorded": (
        "whose replication is recorded",
        "yang replikasinya tercatat",
    ),
    "initiator_permission": ("with the initiator's permission", "dengan izin bagi inisiatornya"),
    "unit_head_on_record": (
        "of a unit with one head on record",
        "dari unit dengan satu kepala tercatat",
    ),
    "deadline_not_passed": ("within the deadline", "dalam batas waktu"),
}


def _meeting_words(meeting: str | RequirementCall) -> tuple[str, str]:
    """What ``meeting`` asks, in English and Indonesian words (a host's rule by its name)."""
    name = meeting.name if isinstance(meeting, RequirementCall) else meeting
    return _MEETING.get(name, (f"that meet {name}", f"yang memenuhi syarat {name}"))


def _qualifying(
    ctx: CohortContext,
    units: Iterable[str],
    *,
    at_or_past: str | None = None,
    meeting: str | RequirementCall | None = None,
) -> dict[str, int]:
    """Per unit of ``units``: its active innovations at or past a stage, meeting a requirement.

    The requirement ``meeting`` runs with its own parameters (a `RequirementCall`) or its
    defaults (a bare name) as if the innovation were entering the lab's target stage.
    """
    lab = ctx.lab
    check = None
    params: Mapping[str, Any] = {}
    if meeting is not None:
        name = meeting.name if isinstance(meeting, RequirementCall) else meeting
        params = meeting.params if isinstance(meeting, RequirementCall) else {}
        definition = lab.policy.registry.find("gate", name)
        check = definition.func if definition else None
    counts = dict.fromkeys(units, 0)
    for innovation in lab.innovations.values():
        if innovation.unit not in counts or not innovation.active:
            continue
        if not _reached(lab, innovation, at_or_past):
            continue
        if check is not None and list(
            check(GateContext(innovation, lab, ctx.stage, ctx.now), **params)
        ):
            continue
        counts[innovation.unit] += 1
    return counts


@cohort_condition("every_unit_has")
def every_unit_has(
    ctx: CohortContext,
    *,
    min: int = 1,
    at_or_past: StageRef | None = None,
    meeting: RequirementRef | RequirementCall | None = None,
    unit_kinds: tuple[UnitKind, ...] | None = None,
) -> list[Unmet]:
    """Every participating unit of ``unit_kinds`` has ``min`` active innovations that qualify.

    ``unit_kinds`` defaults to the kinds the policy counts as government
    (``settings.government_kinds``).

    An innovation qualifies when it is at or past ``at_or_past`` (if given) and meets
    the gate requirement ``meeting`` with its default parameters (if given) -- e.g.
    "one agency, one innovation with an approved action plan".
    """
    kinds = ctx.lab.policy.government_kinds if unit_kinds is None else unit_kinds
    units = (u.id for u in ctx.lab.units.values() if u.kind in kinds)
    counts = _qualifying(ctx, units, at_or_past=at_or_past, meeting=meeting)
    short = sorted(unit for unit, count in counts.items() if count < min)
    if not short:
        return []
    policy = ctx.lab.policy
    what = what_id = ""
    if at_or_past:
        reached = policy.stage(at_or_past)
        what, what_id = f" at or past {reached.label_en}", f" yang mencapai {reached.label_id}"
    if meeting:
        en, id_ = _meeting_words(meeting)
        what, what_id = f"{what} {en}", f"{what_id} {id_}"
    return [
        unmet(
            "cohort.unit_short",
            f"{_n(len(short), 'unit has', 'units have')} fewer than "
            f"{_n(min, 'innovation', 'innovations')}{what}: {', '.join(short)}.",
            f"{len(short)} unit memiliki kurang dari {min} inovasi{what_id}: {', '.join(short)}.",
            units=short,
            required=min,
        )
    ]


@cohort_condition("share_ready")
def share_ready(ctx: CohortContext, *, percent: int) -> list[Unmet]:
    """At least ``percent``% of active innovations would pass the gate of the stage entered.

    Innovations already at or past that stage count as ready.
    """
    lab = ctx.lab
    active = [i for i in lab.innovations.values() if i.active]
    if not active:
        ready = 0
    else:
        ready = sum(
            1
            for i in active
            if _reached(lab, i, ctx.stage.id) or gate_unmet(lab, i, ctx.stage, ctx.now) == ()
        )
    share = 100 * ready / len(active) if active else 0.0
    if share + 1e-9 < percent:
        return [
            unmet(
                "cohort.too_few_ready",
                f"{ready} of {len(active)} active innovations ({share:.0f}%) "
                f"{'is' if ready == 1 else 'are'} ready for "
                f"{ctx.stage.label_en}; {percent}% are needed.",
                f"{ready} dari {len(active)} inovasi aktif ({share:.0f}%) siap memasuki "
                f"{ctx.stage.label_id}; dibutuhkan {percent}%.",
                ready=ready,
                active=len(active),
                required_percent=percent,
            )
        ]
    return []


@cohort_condition("one_official_one_innovation")
def one_official_one_innovation(
    ctx: CohortContext,
    *,
    official_roles: tuple[str, ...] = ("unit_head",),
    meeting: RequirementRef | RequirementCall | None = None,
    unit_kinds: tuple[UnitKind, ...] | None = None,
) -> list[Unmet]:
    """Each unit of ``unit_kinds`` (default: the policy's government kinds) has at least one
    active innovation per public official.

    "One public official, one innovation" (Kudus, December 2019). The officials of a
    unit are the lab's actors of that unit holding any of ``official_roles``; since
    innovators are recorded as names, not actors, the rule is counted per unit: a unit
    with three officials must bring three innovations (that meet ``meeting``, if given).
    """
    lab = ctx.lab
    kinds = lab.policy.government_kinds if unit_kinds is None else unit_kinds
    officials: dict[str, int] = {}
    for actor in lab.actors.values():
        unit = lab.units.get(actor.unit) if actor.unit is not None else None
        if unit is not None and unit.kind in kinds and not actor.roles.isdisjoint(official_roles):
            officials[unit.id] = officials.get(unit.id, 0) + 1
    counts = _qualifying(ctx, officials, meeting=meeting)
    short = {u: (counts[u], n) for u, n in sorted(officials.items()) if counts[u] < n}
    if not short:
        return []
    listing = ", ".join(f"{u} ({have} of {need})" for u, (have, need) in short.items())
    listing_id = ", ".join(f"{u} ({have} dari {need})" for u, (have, need) in short.items())
    return [
        unmet(
            "cohort.officials_short",
            f"{_n(len(short), 'unit has', 'units have')} fewer innovations than public "
            f"officials: {listing}.",
            f"{len(short)} unit memiliki inovasi lebih sedikit daripada pejabatnya: {listing_id}.",
            units=sorted(short),
            innovations={u: have for u, (have, _) in short.items()},
            officials={u: need for u, (_, need) in short.items()},
        )
    ]

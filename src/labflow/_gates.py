"""What stands between a subject and a move: the checks a command runs and replay re-runs.

Private. Each check is a function of a read-only view of the lab (`LabView`: its
policy, stage, units, actors and innovations) and of the time it is asked at, so
that the same code answers for a live `Lab` (which is such a view) and for the
validating fold, which asks as of each recorded event's own moment.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Final

from labflow._engine import Engine
from labflow.events import Event
from labflow.model import Actor, Innovation, Unit, UnitKind
from labflow.policy import Policy
from labflow.requirements import (
    CohortContext,
    GateContext,
    LabView,
    Unmet,
    Verdict,
    action_plan_approved,
    gate_unmet,
    run_all,
    unmet,
)

__all__ = [
    "advance_unmet",
    "counterparty_refused",
    "lab_entered",
    "lab_verdict",
    "launch_verdict",
    "past_agreement",
    "permitted",
    "unit_kind",
    "unit_kind_refused",
]

_STRUCTURAL_LAUNCH: Final = "action_plan_approved"

_WITHDRAWN = (
    "innovation.withdrawn",
    "The innovation is withdrawn; reinstate it first.",
    "Inovasi sudah ditarik; aktifkan kembali terlebih dahulu.",
)


def unit_kind(unit: Unit | None) -> UnitKind | None:
    return unit.kind if unit is not None else None


def lab_entered(history: Iterable[Event]) -> dict[str, datetime]:
    """When a lab entered each stage, from its own history (the last entry of each)."""
    out: dict[str, datetime] = {}
    for event in history:
        if event.kind == "lab.created":
            out[event.payload["policy"]["stages"][0]["id"]] = event.at
        elif event.kind == "lab.advanced":
            out[event.payload["to"]] = event.at
    return out


def counterparty_refused(policy: Policy, actor: str) -> tuple[str, str]:
    """Why ``actor`` cannot be the counterparty of an agreement under ``policy``."""
    role = policy.roles.get(policy.settings.agreement_counterparty)
    en = role.label_en if role else policy.settings.agreement_counterparty
    id_ = role.label_id if role else policy.settings.agreement_counterparty
    return (
        f"{actor!r} is not a {en} of this lab, the party its agreements are signed with.",
        f"{actor!r} bukan {id_} di laboratorium ini, pihak penanda tangan perjanjiannya.",
    )


def unit_kind_refused(policy: Policy, unit: Unit) -> tuple[str, str]:
    """Why ``unit`` cannot join a lab under ``policy`` (its kind is not one the policy allows)."""
    allowed = ", ".join(sorted(k.value for k in policy.settings.unit_kinds))
    return (
        f"The unit {unit.id!r} is of kind {unit.kind.value!r}, which this policy does not "
        f"allow (it allows: {allowed}).",
        f"Unit {unit.id!r} berjenis {unit.kind.value!r}, yang tidak diizinkan kebijakan ini "
        f"(yang diizinkan: {allowed}).",
    )


def permitted(policy: Policy, actor: Actor, command: str, unit: str | None) -> bool:
    """Whether ``actor`` holds a role allowing ``command`` on ``unit`` (``None``: the lab)."""
    allowed = policy.allowed(command)
    if actor.roles.isdisjoint(allowed):
        return False
    if unit is None or actor.unit == unit:
        return True
    for role in actor.roles & allowed:
        definition = policy.roles.get(role)
        if definition is None or definition.scope != "unit":
            return True
    return False


def advance_unmet(
    lab: LabView, engine: Engine, inn: Innovation, to: str | None, now: datetime
) -> tuple[str, list[Unmet]]:
    """The target stage of a move and everything unmet (the hot path of `advance`)."""
    policy = lab.policy
    found: list[Unmet] = []
    nxt = engine.next[inn.stage]
    target = nxt if to is None else policy.stage(to).id
    if not inn.active:
        found.append(unmet(*_WITHDRAWN))
    if target is None:
        found.append(
            unmet(
                "stage.final",
                "The innovation is at the last stage.",
                "Inovasi sudah berada di tahap terakhir.",
                stage=inn.stage,
            )
        )
        return inn.stage, found
    if target != nxt:
        want, at = policy.stage(target), policy.stage(inn.stage)
        found.append(
            unmet(
                "stage.not_next",
                f"{want.label_en} is not the next stage after {at.label_en}; "
                "innovations move one stage at a time.",
                f"{want.label_id} bukan tahap berikutnya setelah {at.label_id}; "
                "inovasi maju satu tahap setiap kali.",
                stage=inn.stage,
                target=target,
            )
        )
    index = policy.index(target)
    if not policy.self_paced and index > policy.index(lab.stage):
        found.append(
            unmet(
                "lab.behind",
                f"The lab is still at {policy.stage(lab.stage).label_en}; innovations cannot "
                "get ahead of it.",
                f"Laboratorium masih di tahap {policy.stage(lab.stage).label_id}; inovasi tidak "
                "boleh mendahuluinya.",
                lab_stage=lab.stage,
                target=target,
            )
        )
    found.extend(gate_unmet(lab, inn, policy.stages[index], now))
    return target, found


def launch_verdict(lab: LabView, inn: Innovation, now: datetime) -> Verdict:
    """What stands between ``inn`` and its launch (see `labflow.Lab.check_launch`)."""
    policy = lab.policy
    found: list[Unmet] = []
    stage = policy.stage(inn.stage)
    if not inn.active:
        found.append(unmet(*_WITHDRAWN))
    if inn.launch is not None:
        found.append(
            unmet(
                "launch.already",
                f"The innovation was already launched at {inn.launch.ceremony}.",
                f"Inovasi sudah diluncurkan pada {inn.launch.ceremony}.",
            )
        )
    if not policy.launches_at(stage.id):
        at = policy.launch_stage
        where_en = f"the {policy.stage(at).label_en} stage" if at else "no stage of this policy"
        where_id = f"tahap {policy.stage(at).label_id}" if at else "tahap mana pun"
        found.append(
            unmet(
                "launch.wrong_stage",
                f"Innovations are launched at {where_en}, not at {stage.label_en}.",
                f"Inovasi diluncurkan pada {where_id}, bukan pada tahap {stage.label_id}."
                if at
                else f"Kebijakan ini tidak meluncurkan inovasi di {where_id}.",
                stage=inn.stage,
            )
        )
    ctx = GateContext(inn, lab, stage, now)
    specs = policy.launch
    # Never launched without an approved plan: the built-in check runs unless the policy
    # states it for every innovation (with its own parameters), not only for some kinds.
    if not any(s.name == _STRUCTURAL_LAUNCH and s.applies_to is None for s in specs):
        found.extend(action_plan_approved(ctx))
    found.extend(run_all(specs, ctx, unit_kind(lab.units.get(inn.unit))))
    return Verdict(inn.id, "launch", inn.stage, tuple(found))


def lab_verdict(lab: LabView, engine: Engine, now: datetime) -> Verdict:
    """What keeps the lab from its next stage (the cohort conditions)."""
    nxt = engine.next[lab.stage]
    if nxt is None:
        final = unmet(
            "stage.final",
            "The lab is at its last stage.",
            "Laboratorium sudah berada di tahap terakhir.",
            stage=lab.stage,
        )
        return Verdict(lab.id, "lab.advance", lab.stage, (final,))
    stage = lab.policy.stage(nxt)
    specs = lab.policy.cohort.get(nxt, ())
    found = run_all(specs, CohortContext(lab, stage, now))
    return Verdict(lab.id, "lab.advance", nxt, found)


def past_agreement(lab: LabView, inn: Innovation) -> bool:
    """Whether ``inn`` has entered a stage whose gate requires a signed agreement of it."""
    policy = lab.policy
    kind = unit_kind(lab.units.get(inn.unit))
    for stage in policy.stages[1 : policy.index(inn.stage) + 1]:
        for spec in policy.gates.get(stage.id, ()):
            applies = spec.applies_to is None or kind in spec.applies_to
            if spec.name == "agreement_signed" and applies:
                return True
    return False

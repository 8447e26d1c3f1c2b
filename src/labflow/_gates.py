"""What stands between a subject and a move: the checks a command runs and replay re-runs.

Private. Each check is a function of a read-only view of the lab (`LabView`: its
policy, stage, units, actors and innovations) and of the time it is asked at, so
that the same code answers for a live `Lab` (which is such a view) and for the
validating fold, which asks as of each recorded event's own moment.

An advance's gate is compiled once per (policy's gate, unit kind) into the checks that
apply, each with its parameters bound (`gate_checks`). The built-in requirements every
bundled policy uses also answer their common case -- met -- by looking at the facts
directly, and call the requirement itself, which lists what is unmet, only when those
facts do not all hold: the answer is the requirement's own either way
(``tests/test_gates.py`` holds them equal).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Final

from labflow._engine import Engine
from labflow._frozen import freeze
from labflow._gate_rules import (
    action_plan_approved,
    action_plan_submitted,
    agreement_signed,
    replication_recorded,
)
from labflow._registry import run_all
from labflow.events import Event
from labflow.model import Actor, Innovation, Unit, UnitKind
from labflow.policy import Policy
from labflow.requirements import (
    CohortContext,
    GateContext,
    LabView,
    Unmet,
    Verdict,
    unmet,
)

__all__ = [
    "advance_unmet",
    "counterparty_refused",
    "gate_checks",
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
    # Every command asks; the answer depends only on the policy (fixed once loaded), the
    # command, the actor's roles and unit, and the unit acted on: kept per policy.
    entry = _PERMITTED.get(id(policy))
    if entry is None or entry[0] is not policy:
        if len(_PERMITTED) >= _MAX_COMPILED:
            _PERMITTED.clear()
        entry = _PERMITTED[id(policy)] = (policy, {})
    answers = entry[1]
    key = (command, actor.roles, actor.unit, unit)
    answer = answers.get(key)
    if answer is None:
        if len(answers) >= _MAX_ANSWERS:
            answers.clear()
        answer = answers[key] = _permitted(policy, actor.roles, actor.unit, command, unit)
    return answer


def _permitted(
    policy: Policy, roles: frozenset[str], home: str | None, command: str, unit: str | None
) -> bool:
    allowed = policy.allowed(command)
    if roles.isdisjoint(allowed):
        return False
    if unit is None or home == unit:
        return True
    for role in roles & allowed:
        definition = policy.roles.get(role)
        if definition is None or definition.scope != "unit":
            return True
    return False


_PermitKey = tuple[str, frozenset[str], str | None, str | None]
#: id of a policy -> (the policy, kept so the id stays its own; its answers to `permitted`).
_PERMITTED: dict[int, tuple[Policy, dict[_PermitKey, bool]]] = {}
_MAX_ANSWERS: Final = 65_536  # actors x units x commands of the labs of one policy


#: One compiled check of a gate: what it finds unmet for a context (empty when met).
Check = Callable[[GateContext], Iterable[Unmet]]


def _shared(items: Iterable[Unmet]) -> tuple[Unmet, ...]:
    """``items`` made safe to hand to every refusal: their data read-only."""
    return tuple(Unmet(u.code, u.message_en, u.message_id, freeze(dict(u.data))) for u in items)


def _met_without_asking(func: Any, params: Mapping[str, Any]) -> Check | None:
    """A check that answers a built-in's met case from the facts, else asks the built-in.

    Where a built-in's answer depends on nothing but the absence of a record (no plan, no
    agreement), its items are built once per compiled gate and shared, read-only, by every
    refusal that gives them.
    """
    if func is action_plan_submitted:
        min_steps = params["min_steps"]
        no_plan: list[tuple[Unmet, ...]] = []  # the built-in's answer without a plan, once

        def plan_submitted(ctx: GateContext) -> Iterable[Unmet]:
            plan = ctx.innovation.action_plan
            if plan is None:
                if not no_plan:
                    no_plan.append(_shared(func(ctx, **params)))
                return no_plan[0]
            if len(plan.steps) >= min_steps:
                for step in plan.steps:
                    if not step.responsible.strip():
                        break
                else:
                    return ()
            return func(ctx, **params)

        return plan_submitted
    if func is action_plan_approved:
        approver_roles, same_unit = params["approver_roles"], params["same_unit"]
        not_approved: list[tuple[Unmet, ...]] = []

        def plan_approved(ctx: GateContext) -> Iterable[Unmet]:
            plan = ctx.innovation.action_plan
            if ctx.lab.policy.approval:  # approval steps: the requirement judges them
                return func(ctx, **params)
            if plan is None or plan.approved_by is None:
                if not not_approved:
                    not_approved.append(_shared(func(ctx, **params)))
                return not_approved[0]
            if plan.approved_by != plan.submitted_by and not plan.approver_roles.isdisjoint(
                approver_roles
            ):
                if not same_unit:
                    return ()
                approver = ctx.lab.actors.get(plan.approved_by)
                if approver is not None and approver.unit == ctx.innovation.unit:
                    return ()
            return func(ctx, **params)

        return plan_approved
    if func is agreement_signed and not params:
        no_agreement: list[tuple[Unmet, ...]] = []

        def signed(ctx: GateContext) -> Iterable[Unmet]:
            agreement = ctx.innovation.agreement
            if agreement is None:
                if not no_agreement:
                    no_agreement.append(_shared(func(ctx)))
                return no_agreement[0]
            head = ctx.lab.actors.get(agreement.unit_head)
            if head is not None and head.unit == ctx.innovation.unit:
                # `agreement.complete`, in one walk over the signatures
                regional, unit_head = agreement.regional_head, agreement.unit_head
                by_regional = by_unit_head = False
                for signature in agreement.signatures:
                    signer = signature.signer
                    if signer == regional:
                        by_regional = True
                    if signer == unit_head:
                        by_unit_head = True
                if by_regional and by_unit_head:
                    return ()
            return func(ctx)

        return signed
    if func is replication_recorded:

        def replication(ctx: GateContext) -> Iterable[Unmet]:
            if ctx.innovation.replication is None:
                return ()  # not a replication: nothing to record
            return func(ctx, **params)

        return replication
    return None


def _bound(func: Any, params: Mapping[str, Any]) -> Check:
    if params:
        return lambda ctx: func(ctx, **params)
    return func  # type: ignore[no-any-return]


def _defaults(func: Any) -> dict[str, Any]:
    parameters = inspect.signature(func).parameters.values()
    return {p.name: p.default for p in parameters if p.kind is p.KEYWORD_ONLY}


def _compile(specs: Iterable[Any], kind: UnitKind | None) -> tuple[Check, ...]:
    checks: list[Check] = []
    for spec in specs:
        if spec.applies_to is not None and kind not in spec.applies_to:
            continue
        fast = _met_without_asking(spec.func, {**_defaults(spec.func), **spec.params})
        checks.append(fast or _bound(spec.func, spec.params))
    return tuple(checks)


#: (id of a gate's specs, unit kind) -> (those specs, kept alive so the id stays theirs; the
#: checks compiled from them). A policy's gates are fixed once it loads.
_COMPILED: dict[tuple[int, UnitKind | None], tuple[object, tuple[Check, ...]]] = {}
_MAX_COMPILED: Final = 4096  # policies loaded and dropped in a long-lived host: start over


def gate_checks(policy: Policy, stage: str, kind: UnitKind | None) -> tuple[Check, ...]:
    """The checks of ``stage``'s gate that apply to innovations of units of ``kind``."""
    specs = policy.gates.get(stage, ())
    key = (id(specs), kind)
    entry = _COMPILED.get(key)
    if entry is None or entry[0] is not specs:
        if len(_COMPILED) >= _MAX_COMPILED:
            _COMPILED.clear()
        entry = _COMPILED[key] = (specs, _compile(specs, kind))
    return entry[1]


def advance_unmet(
    lab: LabView, engine: Engine, inn: Innovation, to: str | None, now: datetime
) -> tuple[str, list[Unmet]]:
    """The target stage of a move and everything unmet (the hot path of `advance`)."""
    policy = lab.policy
    if to is None and inn.active:
        # The common case, answered from the engine's tables: an active innovation moving
        # to its next stage, the lab's own stage rule, and the gate's compiled checks.
        step = engine.forward.get(inn.stage)
        if step is not None and (policy.self_paced or step[1] <= engine.index[lab.stage]):
            target = step[0]
            found: list[Unmet] = []
            unit = lab.units.get(inn.unit)
            checks = gate_checks(policy, target, unit.kind if unit is not None else None)
            if checks:
                ctx = GateContext(inn, lab, step[2], now)
                for check in checks:
                    found.extend(check(ctx))
            return target, found
    return _move_unmet(policy, lab, engine, inn, to, now)


def _move_unmet(
    policy: Policy, lab: LabView, engine: Engine, inn: Innovation, to: str | None, now: datetime
) -> tuple[str, list[Unmet]]:
    """`advance_unmet` for every other case, each rule of the move spelt out."""
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
    stage = policy.stages[index]
    unit = lab.units.get(inn.unit)
    checks = gate_checks(policy, stage.id, unit.kind if unit is not None else None)
    if checks:
        ctx = GateContext(inn, lab, stage, now)
        for check in checks:
            found.extend(check(ctx))
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

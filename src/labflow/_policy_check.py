"""Load-time checks across a policy's sections, and the build that runs them all.

Split from `labflow.policy`: rules that contradict each other (gates no innovation could
pass, approvals judged differently in different places, deadlines nothing uses, a
counterparty who may not sign) are found here, every one listed, before a `Policy` exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, Final

import attrs

from labflow._attributes import (
    parse_attributes,
    parse_national_index,
)
from labflow._exhibit_rules import parse_exhibitions
from labflow._monev_rules import parse_monev
from labflow._policy_build import _SLUG, _Builder
from labflow._policy_records import (
    _LAUNCH_COVER,
    _TOP_KEYS,
    ApprovalStep,
    Policy,
    RequirementSpec,
    RoleDef,
    Settings,
    Stage,
    _plain,
)
from labflow._policy_time import _DEADLINE_CHECK, Deadline, ReviewCycle, _offset
from labflow.requirements import (
    Registry,
    RequirementCall,
    RequirementDef,
)

#: Artefacts that can only be recorded at a stage covering this 5D stage: a gate asking for
#: one before such a stage has been entered could never be passed. (A launch is recorded at
#: the policy's launch stage.)
_RECORDED_AT: Final = {"launch_recorded": "deliver", "exhibit_registered": "display"}


def _launch_stage(b: _Builder, settings: Settings, stages: tuple[Stage, ...]) -> str | None:
    """The stage innovations are launched at: the one named, or the one covering the default."""
    if settings.launch_stage is not None:
        if settings.launch_stage not in {s.id for s in stages}:
            b.problem(
                "$.settings.launch_stage",
                f"{settings.launch_stage!r} is not a stage of this policy",
            )
            return None
        return settings.launch_stage
    cover = _LAUNCH_COVER.get(settings.method, "deliver")
    return next((s.id for s in stages if cover in s.covers), None)


def _unreachable_gates(
    b: _Builder,
    stages: tuple[Stage, ...],
    gates: Mapping[str, tuple[RequirementSpec, ...]],
    launch: tuple[RequirementSpec, ...],
    launch_at: str | None,
) -> None:
    """Refuse gates no innovation could ever pass: asking for what is recorded only later."""
    where = {five_d: i for i, s in enumerate(stages) for five_d in s.covers}
    position = {s.id: i for i, s in enumerate(stages)}  # one lookup per gate, not a scan
    if launch_at is not None:
        where["deliver"] = position.get(launch_at, len(stages))
    else:
        where.pop("deliver", None)
    for stage_id, specs in gates.items():
        entering = position[stage_id]
        for spec in specs:
            recorded = _RECORDED_AT.get(spec.name)
            if recorded is not None and where.get(recorded, len(stages)) >= entering:
                shown = (
                    "the launch stage"
                    if recorded == "deliver"
                    else f"the stage covering {recorded!r}"
                )
                b.problem(
                    f"$.gates.{stage_id}",
                    f"{spec.name!r} can never be met here: it is recorded only at {shown}, "
                    "reached through this gate or a later one",
                )
    for spec in launch:
        if spec.name in _RECORDED_AT:
            b.problem("$.launch", f"{spec.name!r} can never be met before the launch itself")


def _timing(
    b: _Builder,
    stages: tuple[Stage, ...],
    gates: dict[str, tuple[RequirementSpec, ...]],
    raw: Mapping[str, Deadline | datetime],
    launch_at: str | None,
) -> dict[str, Deadline]:
    """Every deadline as a `Deadline`, each used by a gate or a report; the gates of those
    enforced at the gate get ``deadline_not_passed`` (once)."""
    position = {s.id: i for i, s in enumerate(stages)}
    out: dict[str, Deadline] = {}
    for stage, item in raw.items():
        path = f"$.deadlines.{stage}"
        checked = any(spec.name == _DEADLINE_CHECK for spec in gates.get(stage, ()))
        if isinstance(item, datetime):
            if not checked:
                b.problem(
                    path,
                    f"nothing uses this deadline: add 'deadline_not_passed' to gates.{stage} to "
                    "enforce it, or write it as a table with enforce = 'gate' or 'report'",
                )
                continue
            item = Deadline(stage, "gate", by=item)
        after = item.after
        if after == "launch":
            if launch_at is None:
                b.problem(f"{path}.after", "this policy launches nothing: no launch to count from")
                continue
            if position[launch_at] >= position[stage]:
                b.problem(
                    f"{path}.after",
                    f"innovations are launched at {launch_at!r}, not before entering {stage!r}",
                )
                continue
        elif after is not None:
            kind, _, ident = after.partition(":")
            if position[ident] > position[stage] or (
                kind == "stage" and position[ident] == position[stage]
            ):
                b.problem(
                    f"{path}.after",
                    f"{after!r} happens after an innovation enters {stage!r}: it cannot start "
                    "the clock",
                )
                continue
        if item.enforce == "gate" and not checked:
            found = b.registry.find("gate", _DEADLINE_CHECK)
            if found is not None:
                spec = RequirementSpec(_DEADLINE_CHECK, {}, None, func=found.func)
                gates[stage] = (*gates.get(stage, ()), spec)
        out[stage] = item
    for stage, specs in gates.items():
        if stage not in out and any(spec.name == _DEADLINE_CHECK for spec in specs):
            b.problem(
                f"$.gates.{stage}",
                f"'deadline_not_passed' checks a deadline, but deadlines.{stage} is not given",
            )
    return out


_APPROVAL: Final = "action_plan_approved"


def _effective(definition: RequirementDef, params: Mapping[str, Any]) -> tuple[Any, ...]:
    """A requirement's parameters with its defaults filled in, comparable across places."""

    def norm(value: Any) -> Any:
        if isinstance(value, tuple | list | frozenset):
            return tuple(sorted(str(_plain(v)) for v in value))
        return _plain(value)

    return tuple(
        (name, norm(params.get(name, param.default)))
        for name, param in sorted(definition.params.items())
    )


def _shown(effective: tuple[Any, ...]) -> str:
    if not effective:
        return "no parameters"
    return ", ".join(
        f"{k}={list(v) if isinstance(v, tuple) else str(v).lower() if isinstance(v, bool) else v}"
        for k, v in effective
    )


def _approvals_agree(
    b: _Builder,
    gates: Mapping[str, tuple[RequirementSpec, ...]],
    cohort: Mapping[str, tuple[RequirementSpec, ...]],
    launch: tuple[RequirementSpec, ...],
) -> None:
    """Gates, cohort conditions and the launch rule judge an action plan's approval alike;
    a cohort condition's ``meeting`` asks what the gate of its stage asks."""
    found = b.registry.find("gate", _APPROVAL)
    if found is None:
        return
    # Who approves is compared here; how far (``step``) may differ from stage to stage.
    definition = attrs.evolve(found, params={k: v for k, v in found.params.items() if k != "step"})
    uses: list[tuple[str, tuple[Any, ...]]] = []
    for stage, specs in gates.items():
        for i, spec in enumerate(specs):
            if spec.name == _APPROVAL:
                uses.append((f"gates.{stage}[{i}]", _effective(definition, spec.params)))
    for stage, specs in cohort.items():
        for i, spec in enumerate(specs):
            meeting = spec.params.get("meeting")
            name = meeting.name if isinstance(meeting, RequirementCall) else meeting
            params = meeting.params if isinstance(meeting, RequirementCall) else {}
            if name == _APPROVAL:
                uses.append((f"cohort.{stage}[{i}].meeting", _effective(definition, params)))
            elif isinstance(name, str) and (found := b.registry.find("gate", name)):
                own = _effective(found, params)
                for j, gate in enumerate(gates.get(stage, ())):
                    if gate.name == name and _effective(found, gate.params) != own:
                        b.problem(
                            f"$.cohort.{stage}[{i}].meeting",
                            f"{name!r} is counted with {_shown(own)}, but gates.{stage}[{j}] "
                            f"asks for it with {_shown(_effective(found, gate.params))}",
                        )
    stated = [i for i, spec in enumerate(launch) if spec.name == _APPROVAL and not spec.applies_to]
    if stated:
        uses.extend((f"launch[{i}]", _effective(definition, launch[i].params)) for i in stated)
    else:
        uses.append(
            ("launch (built in: every launch needs an approved plan)", _effective(definition, {}))
        )
    if len({effective for _, effective in uses}) > 1:
        listed = "; ".join(f"{where}: {_shown(effective)}" for where, effective in uses)
        b.problem(
            "$",
            f"the action plan's approval is judged differently in different places ({listed}); "
            "give 'action_plan_approved' the same parameters in the gates, the cohort "
            "conditions' 'meeting' and 'launch'",
        )


def _approval_uses(
    gates: Mapping[str, tuple[RequirementSpec, ...]],
    cohort: Mapping[str, tuple[RequirementSpec, ...]],
    launch: tuple[RequirementSpec, ...],
) -> Iterable[tuple[str, str | None, Mapping[str, Any]]]:
    """Every place ``action_plan_approved`` is asked for: its path, its stage, its parameters."""
    for stage, specs in gates.items():
        for i, spec in enumerate(specs):
            if spec.name == _APPROVAL:
                yield f"$.gates.{stage}[{i}]", stage, spec.params
    for stage, specs in cohort.items():
        for i, spec in enumerate(specs):
            meeting = spec.params.get("meeting")
            if isinstance(meeting, RequirementCall) and meeting.name == _APPROVAL:
                yield f"$.cohort.{stage}[{i}].meeting", stage, meeting.params
            elif meeting == _APPROVAL:
                yield f"$.cohort.{stage}[{i}].meeting", stage, {}
    for i, spec in enumerate(launch):
        if spec.name == _APPROVAL:
            yield f"$.launch[{i}]", None, spec.params


def _approval_steps(
    b: _Builder,
    steps: tuple[ApprovalStep, ...],
    permissions: dict[str, frozenset[str]],
    stated: bool,
    gates: Mapping[str, tuple[RequirementSpec, ...]],
    cohort: Mapping[str, tuple[RequirementSpec, ...]],
    launch: tuple[RequirementSpec, ...],
) -> None:
    """The approval steps and the places that ask for an approved plan agree.

    Declared steps say who approves: ``action_plan_approved`` then takes no
    ``approver_roles`` / ``same_unit`` of its own, only which step it waits for
    (``step``, every step when not given). Unless ``permissions.approve_plan`` is
    ``stated``, the steps' roles are the ones allowed to approve; when it is, every
    step needs a role it allows. A cohort condition counts by the step its stage's
    gate asks for, and a launch waits for every step.
    """
    ids = [s.id for s in steps]
    if steps and not stated:
        permissions["approve_plan"] = frozenset().union(*(s.roles for s in steps))
    elif steps:
        allowed = permissions.get("approve_plan", frozenset())
        for i, step in enumerate(steps):
            if step.roles and step.roles.isdisjoint(allowed):
                b.problem(
                    f"$.approval[{i}].roles",
                    f"none of these roles may run approve_plan, so step {step.id!r} could never "
                    "be approved: add one to permissions.approve_plan",
                )
    asked: dict[str, str | None] = {}
    for path, stage, params in _approval_uses(gates, cohort, launch):
        wanted = params.get("step")
        at = f"{path}.{_APPROVAL}" if path.endswith("meeting") else path
        if steps:
            for key in ("approver_roles", "same_unit"):
                if key in params:
                    b.problem(
                        f"{at}.{key}",
                        f"the [[approval]] steps say who approves: drop {key!r} here (name a "
                        "step with 'step' to wait for that step only)",
                    )
        if wanted is None:
            pass
        elif not steps:
            b.problem(f"{at}.step", f"{wanted!r}: this policy declares no [[approval]] steps")
            continue
        elif wanted not in ids:
            b.problem(f"{at}.step", f"{wanted!r} is not an approval step (one of {', '.join(ids)})")
            continue
        if stage is None:
            if wanted is not None and wanted != ids[-1]:
                b.problem(
                    f"{at}.step",
                    f"a launch waits for every approval step; {wanted!r} is not the last "
                    f"({ids[-1]!r})",
                )
        elif path.startswith("$.gates."):
            asked[stage] = wanted
        elif stage in asked and asked[stage] != wanted:
            b.problem(
                path,
                f"counts plans approved up to step {wanted or 'the last'!r}, but the gate of "
                f"{stage!r} waits for step {asked[stage] or 'the last'!r}",
            )


_REVIEW_CHECK: Final = "agreement_reviews_current"


def _review_cycle(
    b: _Builder,
    review: ReviewCycle | None,
    stages: tuple[Stage, ...],
    gates: dict[str, tuple[RequirementSpec, ...]],
    permissions: dict[str, frozenset[str]],
    stated: bool,
    launch_at: str | None,
) -> None:
    """The review cycle counts from an event that comes before its end, who reviews may run
    ``review_agreement``, and an enforced cycle is checked at every gate it spans."""
    position = {s.id: i for i, s in enumerate(stages)}
    path = "$.agreement.review"
    if review is None:
        for stage, specs in gates.items():
            if any(spec.name == _REVIEW_CHECK for spec in specs):
                b.problem(
                    f"$.gates.{stage}",
                    f"{_REVIEW_CHECK!r} checks the agreement's reviews, but no "
                    "[agreement.review] cycle is given",
                )
        return
    if review.after == "launch":
        if launch_at is None:
            b.problem(f"{path}.after", "this policy launches nothing: no launch to count from")
            return
        start = launch_at
    else:
        start = review.after.partition(":")[2]
    if review.until_stage is not None and position[review.until_stage] <= position[start]:
        b.problem(
            f"{path}.until",
            f"{review.until_stage!r} comes before the reviews start ({review.after!r})",
        )
        return
    if review.roles and not stated:
        permissions["review_agreement"] = review.roles
    elif review.roles and review.roles.isdisjoint(permissions.get("review_agreement", ())):
        b.problem(
            f"{path}.roles",
            "none of these roles may run review_agreement, so no review could ever be "
            "recorded: add one to permissions.review_agreement",
        )
    if review.enforce != "gate":
        return
    found = b.registry.find("gate", _REVIEW_CHECK)
    if found is None:
        return
    last = position[review.until_stage] if review.until_stage is not None else len(stages) - 1
    for spanned in stages[position[start] + 1 : last + 1]:
        specs = gates.get(spanned.id, ())
        if not any(spec.name == _REVIEW_CHECK for spec in specs):
            check = RequirementSpec(_REVIEW_CHECK, {}, None, func=found.func)
            gates[spanned.id] = (*specs, check)


def _counterparty(
    b: _Builder,
    settings: Settings,
    roles: Mapping[str, RoleDef],
    permissions: Mapping[str, frozenset[str]],
) -> None:
    """The agreement's counterparty is a role of the policy, and one that may sign."""
    role = settings.agreement_counterparty
    path = "$.settings.agreement_counterparty"
    if role not in roles:
        b.problem(path, f"{role!r} is not a role of this policy")
    elif role == "unit_head":
        b.problem(path, "the owning unit's head is already a party; name the other party's role")
    elif role not in permissions.get("sign_agreement", frozenset()):
        b.problem(
            path,
            f"{role!r} may not sign agreements: add it to permissions.sign_agreement, or no "
            "agreement could ever be signed",
        )


def _build(raw: dict[str, Any], source: str, registry: Registry) -> Policy:
    b = _Builder(source, registry)
    b.unknown_keys(raw, _TOP_KEYS, "$")
    ident = b.string(raw, "id", "$", None)
    if ident and not _SLUG.match(ident):
        b.problem("$.id", f"{ident!r} must be lowercase letters, digits, _ . -")
    name = b.string(raw, "name", "$", ident)
    description = b.string(raw, "description", "$", "")
    extends = raw.get("extends")
    if extends is not None and not isinstance(extends, str):
        b.problem("$.extends", "must be the name of a preset or the path of a policy file")
        extends = None
    self_paced = raw.get("self_paced", False)
    if not isinstance(self_paced, bool):
        b.problem("$.self_paced", "must be true or false")
        self_paced = False
    utc_offset = b.string(raw, "utc_offset", "$", "+07:00")
    offset = _offset(utc_offset)
    if offset is None:
        b.problem("$.utc_offset", f"{utc_offset!r} must look like '+07:00'")
        offset, utc_offset = timezone(timedelta(hours=7)), "+07:00"

    settings = b.settings(raw.get("settings"))
    stages = b.stages(raw.get("stages"), settings.method)
    first = stages[0].id if stages else None
    launch_at = _launch_stage(b, settings, stages)
    roles = b.roles(b.table(raw, "roles"))
    permissions = b.permissions(b.table(raw, "permissions"))
    gates = b.per_stage_specs(b.table(raw, "gates"), "gates", "gate", first)
    cohort = b.per_stage_specs(b.table(raw, "cohort"), "cohort", "cohort", first)
    launch = b.specs(raw.get("launch", []), "$.launch", "gate")
    approval = b.approval(raw.get("approval"))
    review = b.agreement(raw.get("agreement"), offset)
    deadlines = b.deadlines(b.table(raw, "deadlines"), offset)
    attributes = parse_attributes(raw.get("attributes"), b.problem)
    national_index = parse_national_index(
        raw.get("national_index"), [(s.id, s.covers) for s in stages], attributes, b.problem
    )

    _unreachable_gates(b, stages, gates, launch, launch_at)
    _approvals_agree(b, gates, cohort, launch)
    stated = isinstance(raw.get("permissions"), dict) and "approve_plan" in raw["permissions"]
    _approval_steps(b, approval, permissions, stated, gates, cohort, launch)
    reviewers = (
        isinstance(raw.get("permissions"), dict) and "review_agreement" in raw["permissions"]
    )
    _review_cycle(b, review, stages, gates, permissions, reviewers, launch_at)
    _counterparty(b, settings, roles, permissions)
    timing = _timing(b, stages, gates, deadlines, launch_at)
    ids = [s.id for s in stages]
    shows = parse_exhibitions(raw.get("exhibitions"), ids, settings.government_kinds, b.problem)
    named = {s: [x.name for x in specs] for s, specs in gates.items()}
    monev = parse_monev(raw.get("monev"), ids, named, launch_at, b.problem)
    agreed = any(s.name == "agreement_signed" for specs in gates.values() for s in specs)
    if stages and settings.agreement_required and not agreed:
        b.problem(
            "$.gates",
            "no gate requires 'agreement_signed': this policy must say where the performance "
            "agreement (perjanjian kinerja inovasi) must be signed (or set "
            "settings.agreement_required = false)",
        )
    if b.problems:
        raise b.refuse()
    return make_policy(
        id=ident,
        name=name,
        stages=stages,
        description=description,
        extends=extends,
        self_paced=self_paced,
        utc_offset=utc_offset,
        roles=roles,
        permissions=permissions,
        gates=gates,
        cohort=cohort,
        launch=launch,
        timing=timing,
        attributes=attributes,
        national_index=national_index,
        settings=settings,
        approval=approval,
        review=review,
        registry=registry,
        exhibitions=shows,
        monev=monev,
    )


def make_policy(*, timing: Mapping[str, Deadline], **fields: Any) -> Policy:
    """A `Policy` from its parts, the one way both a loaded and a recorded policy are made:
    its absolute deadlines are read off its timing, so the two never disagree."""
    deadlines = {s: d.by for s, d in timing.items() if d.by is not None}
    return Policy(deadlines=deadlines, timing=timing, **fields)

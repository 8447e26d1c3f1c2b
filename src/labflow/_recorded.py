"""A policy rebuilt exactly as a lab recorded it, not re-validated against today's rules.

Private. ``lab.created`` carries the whole policy the lab was opened under; its
integrity is the hash chain's. Replaying it through `labflow.policy_from_dict`
would apply *today's* validation and *today's* registry, so a rule added in a
later labflow, or a host renaming a custom requirement, would make old labs
unloadable. Here the recorded document is read back as it is: its shape is
checked (a forged event must not crash a load), its meaning is not re-judged.

A requirement the registry does not know is either one clear `PolicyError`
naming it (a lab a host will run commands on needs every gate it names) or,
for the validating fold, kept as an *untrusted* spec: host requirements are
trusted as recorded, so replay never needs to run them.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any, Final, Literal

import attrs

from labflow._attributes import parse_attributes, parse_national_index
from labflow._catalogue import DEFAULT_PERMISSIONS
from labflow._exhibit_rules import parse_exhibitions
from labflow._monev_rules import parse_monev
from labflow._policy_check import make_policy
from labflow._policy_records import _LAUNCH_COVER
from labflow.errors import PolicyError, Problem
from labflow.events import Event
from labflow.model import Initiator, UnitKind
from labflow.policy import (
    ApprovalStep,
    Deadline,
    Policy,
    RequirementSpec,
    ReviewCycle,
    RoleDef,
    Settings,
    Stage,
)
from labflow.requirements import (
    DEFAULT_REGISTRY,
    Registry,
    RequirementCall,
    RequirementDef,
    Unmet,
)

__all__ = [
    "BUILTIN_MODULES",
    "builtin",
    "policy_from_record",
    "recorded_policy",
    "trusted",
]

#: Where labflow's own requirements live; anything else is a host's.
BUILTIN_MODULES: Final = frozenset({"labflow._gate_rules", "labflow._cohort_rules"})


def _unresolved(ctx: Any, /, **params: Any) -> Iterable[Unmet]:
    """Stands in for a host requirement this process has not registered; never run."""
    return ()


def builtin(spec: RequirementSpec) -> bool:
    """Whether ``spec`` is one of labflow's own requirements (replay re-checks only those)."""
    func = spec.func
    return func is not None and func is not _unresolved and func.__module__ in BUILTIN_MODULES


def _convert(value: Any, annotation: Any, registry: Registry) -> Any:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if isinstance(value, Mapping) and RequirementCall in (annotation, *args):
        ((name, given),) = value.items()
        definition = registry.find("gate", name)
        if definition is None or not isinstance(given, Mapping):
            raise ValueError(f"{name!r} is not a gate requirement with parameters")
        return RequirementCall(
            name,
            {
                k: _convert(v, definition.params[k].annotation, registry)
                if k in definition.params
                else v
                for k, v in given.items()
            },
        )
    if origin is tuple:
        return tuple(_convert(v, args[0], registry) for v in value)
    if origin is not None and type(None) in args:
        if value is None:
            return None
        return _convert(value, next(a for a in args if a is not type(None)), registry)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return annotation(value)
    return value


def _spec(
    item: Any,
    kind: Literal["gate", "cohort"],
    registry: Registry,
    missing: list[str],
) -> RequirementSpec:
    if isinstance(item, str):
        item = {"name": item}
    name = item["name"]
    if not isinstance(name, str):
        raise TypeError("a requirement's name must be text")
    raw = {k: v for k, v in item.items() if k not in ("name", "applies_to")}
    applies = item.get("applies_to")
    applies_to = None if applies is None else frozenset(UnitKind(k) for k in applies)
    definition: RequirementDef | None = registry.find(kind, name)
    if definition is None:
        missing.append(name)
        return RequirementSpec(name, raw, applies_to, func=_unresolved)
    params = {
        k: _convert(v, definition.params[k].annotation, registry) if k in definition.params else v
        for k, v in raw.items()
    }
    return RequirementSpec(name, params, applies_to, func=definition.func)


def policy_from_record(
    data: Mapping[str, Any],
    *,
    registry: Registry | None = None,
    source: str = "<record>",
    strict: bool = True,
) -> Policy:
    """The policy a ``lab.created`` event recorded, rebuilt as recorded.

    With ``strict`` (a lab that will run commands), a requirement missing from
    ``registry`` is a `PolicyError` naming every missing one; otherwise it is kept
    unresolved. Raises `KeyError`, `TypeError` or `ValueError` on a record whose
    shape is not a policy's (the caller names the event).
    """
    registry = registry or DEFAULT_REGISTRY
    missing: list[str] = []
    stages = tuple(
        Stage(
            str(s["id"]),
            str(s["label_id"]),
            str(s["label_en"]),
            tuple(str(c) for c in s["covers"]),
            str(s.get("description", "")),
        )
        for s in data["stages"]
    )
    ids = [s.id for s in stages]
    if not ids or len(set(ids)) != len(ids):
        raise ValueError("its stages are not distinct ids")
    roles = {
        str(k): RoleDef(
            str(k),
            str(r["label_id"]),
            str(r["label_en"]),
            r.get("scope", "lab"),
            str(r.get("description", "")),
        )
        for k, r in data["roles"].items()
    }
    # A command added to labflow after the lab was recorded keeps its default roles: the
    # recorded policy names every command that existed then, and none of the others.
    permissions = dict(DEFAULT_PERMISSIONS)
    permissions.update({str(c): frozenset(map(str, r)) for c, r in data["permissions"].items()})

    def per_stage(
        table: Mapping[str, Any], kind: Literal["gate", "cohort"]
    ) -> dict[str, tuple[RequirementSpec, ...]]:
        out = {}
        for stage, items in table.items():
            if stage not in ids:
                raise ValueError(f"{stage!r} is not one of its stages")
            out[stage] = tuple(_spec(i, kind, registry, missing) for i in items)
        return out

    gates = per_stage(data.get("gates", {}), "gate")
    cohort = per_stage(data.get("cohort", {}), "cohort")
    launch = tuple(_spec(i, "gate", registry, missing) for i in data.get("launch", ()))
    timing = {
        str(s): _deadline(str(s), d, gates.get(str(s), ()))
        for s, d in data.get("deadlines", {}).items()
    }
    if strict and missing:
        names = sorted(set(missing))
        raise PolicyError(
            source,
            [
                Problem("$.policy", f"{n!r} is not registered in this process's registry")
                for n in names
            ],
            code="policy.requirement_missing",
        )
    self_paced = data.get("self_paced", False)
    if not isinstance(self_paced, bool):
        raise TypeError("self_paced must be true or false")
    shape: list[str] = []

    def report(path: str, message: str) -> None:
        shape.append(f"{path}: {message}")

    attributes = parse_attributes(data.get("attributes"), report)
    national_index = parse_national_index(
        data.get("national_index"), [(s.id, s.covers) for s in stages], attributes, report
    )
    if shape:
        raise ValueError(f"its attributes are not a policy's ({shape[0]})")
    settings = _settings(data.get("settings"))
    launch_at = settings.launch_stage or _launch_cover(stages, settings.method)
    shows = parse_exhibitions(data.get("exhibitions"), ids, settings.government_kinds, report)
    named = {k: [x.name for x in v] for k, v in gates.items()}
    monev = parse_monev(data.get("monev"), ids, named, launch_at, report)
    if shape:
        raise ValueError(f"its exhibitions or monev are not a policy's ({shape[0]})")
    if settings.launch_stage is not None and settings.launch_stage not in ids:
        raise ValueError(f"its launch stage {settings.launch_stage!r} is not one of its stages")
    agreement = data.get("agreement", {})
    if not isinstance(agreement, Mapping):
        raise TypeError("agreement is a table")
    review = None if agreement.get("review") is None else _review(agreement["review"], ids)
    approval = tuple(_approval_step(s, roles) for s in data.get("approval", ()))
    if len({s.id for s in approval}) != len(approval):
        raise ValueError("its approval steps are not distinct ids")
    return make_policy(
        id=str(data["id"]),
        name=str(data.get("name", data["id"])),
        stages=stages,
        description=str(data.get("description", "")),
        extends=data.get("extends"),
        self_paced=self_paced,
        utc_offset=str(data.get("utc_offset", "+07:00")),
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


def _launch_cover(stages: Iterable[Stage], method: str) -> str | None:
    """The stage a recorded policy launches at when its settings do not name one."""
    cover = _LAUNCH_COVER.get(method, "deliver")
    return next((s.id for s in stages if cover in s.covers), None)


def _deadline(stage: str, raw: Any, gate: Iterable[RequirementSpec]) -> Deadline:
    """A recorded deadline: a bare date-time (enforced if the gate checks it, reported
    otherwise, as labs recorded before deadlines said which) or a table."""
    if isinstance(raw, str):
        checked = any(spec.name == "deadline_not_passed" for spec in gate)
        return Deadline(stage, "gate" if checked else "report", by=datetime.fromisoformat(raw))
    if not isinstance(raw, Mapping):
        raise TypeError("a deadline is a date-time or a table")
    enforce = raw["enforce"]
    if enforce not in ("gate", "report"):
        raise ValueError(f"a deadline's enforce is 'gate' or 'report', not {enforce!r}")
    by = raw.get("by")
    after = raw.get("after")
    if after is not None and not isinstance(after, str):
        raise TypeError("a deadline's 'after' names an event")
    counts = {k: raw.get(k, 0) for k in ("within_months", "within_days", "min_months", "min_days")}
    if not all(type(v) is int and 0 <= v <= 3650 for v in counts.values()):
        raise ValueError("a deadline's months and days are whole numbers from 0 to 3650")
    return Deadline(
        stage,
        "gate" if enforce == "gate" else "report",
        datetime.fromisoformat(by) if by is not None else None,
        after,
        **counts,
    )


def _settings(raw: Any) -> Settings:
    """The recorded ``settings`` (absent from labs recorded before there were any)."""
    if raw is None:
        return Settings()
    if not isinstance(raw, Mapping):
        raise TypeError("settings must be a table")
    default = Settings()
    method = raw.get("method", default.method)
    flag = raw.get("agreement_required", default.agreement_required)
    launch = raw.get("launch_stage")
    words = raw.get("min_adaptation_words", default.min_adaptation_words)
    if not isinstance(method, str) or not isinstance(flag, bool):
        raise TypeError("settings.method is text and settings.agreement_required true or false")
    if launch is not None and not isinstance(launch, str):
        raise TypeError("settings.launch_stage is a stage id")
    if isinstance(words, bool) or not isinstance(words, int):
        raise TypeError("settings.min_adaptation_words is a whole number")
    counterparty = raw.get("agreement_counterparty", default.agreement_counterparty)
    if not isinstance(counterparty, str):
        raise TypeError("settings.agreement_counterparty is a role id")
    return Settings(
        agreement_counterparty=counterparty,
        method=method,
        agreement_required=flag,
        launch_stage=launch,
        unit_kinds=frozenset(map(UnitKind, raw.get("unit_kinds", default.unit_kinds))),
        government_kinds=frozenset(
            map(UnitKind, raw.get("government_kinds", default.government_kinds))
        ),
        initiators=frozenset(map(Initiator, raw.get("initiators", default.initiators))),
        min_adaptation_words=words,
    )


def _approval_step(raw: Any, roles: Mapping[str, RoleDef]) -> ApprovalStep:
    """A recorded approval step (absent from labs recorded before there were steps)."""
    if not isinstance(raw, Mapping):
        raise TypeError("an approval step is a table")
    ident, held, same_unit = raw["id"], raw["roles"], raw.get("same_unit", True)
    if not isinstance(ident, str) or not isinstance(same_unit, bool):
        raise TypeError("an approval step's id is text and its same_unit true or false")
    if not isinstance(held, list) or not held or not all(r in roles for r in held):
        raise ValueError(f"approval step {ident!r} names no roles, or roles it does not define")
    labels = (raw.get("label_en", ""), raw.get("label_id", ""))
    if not all(isinstance(label, str) for label in labels):
        raise TypeError("an approval step's labels are text")
    return ApprovalStep(ident, frozenset(held), same_unit, *labels)


def _review(raw: Any, stages: list[str]) -> ReviewCycle:
    """A recorded review cycle (absent from labs recorded before there were any)."""
    if not isinstance(raw, Mapping):
        raise TypeError("a review cycle is a table")
    every, after, enforce = raw["every_months"], raw["after"], raw["enforce"]
    times, until, same_unit = raw.get("times"), raw.get("until"), raw.get("same_unit", False)
    roles = raw.get("roles", [])
    if type(every) is not int or not isinstance(after, str) or not isinstance(same_unit, bool):
        raise TypeError("a review cycle's every_months is a number and its after an event")
    if not 1 <= every <= 120 or enforce not in ("gate", "report"):
        raise ValueError("a review cycle's every_months is 1 to 120, its enforce gate or report")
    if times is not None and type(times) is not int:
        raise TypeError("a review cycle's times is a whole number")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise TypeError("a review cycle's roles are role ids")
    until_stage, moment = None, None
    if isinstance(until, str) and until.startswith("stage:"):
        until_stage = until.partition(":")[2]
        if until_stage not in stages:
            raise ValueError(f"its review cycle ends at {until_stage!r}, not one of its stages")
    elif until is not None:
        moment = datetime.fromisoformat(until)
    for name in (after.partition(":")[2],) if after != "launch" else ():
        if name not in stages:
            raise ValueError(f"its review cycle counts from {after!r}, not one of its stages")
    return ReviewCycle(
        every,
        after,
        "gate" if enforce == "gate" else "report",
        frozenset(roles),
        same_unit,
        times,
        until_stage,
        moment,
    )


def trusted(policy: Policy) -> Policy:
    """The policy with only labflow's own requirements: the ones replay re-evaluates.

    A cohort condition that counts innovations meeting a host requirement
    (``meeting = "host.rule"``) is a host rule too.
    """

    def own(specs: Iterable[RequirementSpec]) -> tuple[RequirementSpec, ...]:
        kept = []
        for spec in specs:
            meeting = spec.params.get("meeting")
            if meeting is not None:
                found = policy.registry.find("gate", getattr(meeting, "name", meeting))
                if found is None or found.func.__module__ != "labflow.requirements":
                    continue
            if builtin(spec):
                kept.append(spec)
        return tuple(kept)

    return attrs.evolve(
        policy,
        gates={k: own(v) for k, v in policy.gates.items()},
        cohort={k: own(v) for k, v in policy.cohort.items()},
        launch=own(policy.launch),
    )


_POLICIES: dict[tuple[str, Registry | None, bool], Policy] = {}


def recorded_policy(created: Event, registry: Registry | None, strict: bool) -> Policy:
    """The policy ``created`` records, rebuilt once per event (its hash names its content)."""
    key = (created.hash, registry, strict)
    policy = _POLICIES.get(key)
    if policy is None:
        payload = created.payload
        policy = policy_from_record(
            payload["policy"],
            registry=registry,
            source=f"lab {payload['id']!r}",
            strict=strict,
        )
        if len(_POLICIES) >= 64:
            _POLICIES.pop(next(iter(_POLICIES)))
        _POLICIES[key] = policy
    return policy

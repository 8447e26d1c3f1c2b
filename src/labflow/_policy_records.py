"""The records a policy is made of: stages, roles, requirement specs, settings, the policy.

Split from `labflow.policy` (which re-exports the public ones) so that the loader and the
load-time checks can build these records without importing each other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timezone
from enum import Enum
from typing import Any, Final, Literal

import attrs

from labflow._attributes import (
    AttributeDef,
    NationalIndex,
)
from labflow._catalogue import DEFAULT_PERMISSIONS
from labflow._exhibit_rules import ExhibitionRules
from labflow._monev_rules import MonevRules
from labflow._policy_time import (
    _MONTHS_EN,
    _MONTHS_ID,
    Deadline,
    ReviewCycle,
    _checks_deadline,
    _offset,
    _plain_deadline,
)
from labflow.errors import NotFound, PolicyError, Problem
from labflow.model import FIVE_D, GOVERNMENT_KINDS, ActionPlan, Initiator, Role, UnitKind
from labflow.requirements import (
    DEFAULT_REGISTRY,
    Registry,
    RequirementCall,
    Unmet,
)


@attrs.frozen
class Stage:
    """One stage of a policy, with its labels and the 5D stages it covers."""

    id: str
    label_id: str
    label_en: str
    covers: tuple[str, ...]
    description: str = ""

    def label(self, lang: str = "en") -> str:
        """The label in ``"en"`` or ``"id"``."""
        return self.label_id if lang == "id" else self.label_en


@attrs.frozen
class RoleDef:
    """A role the policy knows. A ``unit``-scoped role acts only on its own unit's innovations."""

    id: str
    label_id: str
    label_en: str
    scope: Literal["lab", "unit"] = "lab"
    description: str = ""


@attrs.frozen
class RequirementSpec:
    """A requirement as a policy uses it: its name, its parameters, and whom it applies to."""

    name: str
    params: Mapping[str, Any] = attrs.field(factory=dict)
    #: only innovations of these unit kinds must meet it (``None``: all)
    applies_to: frozenset[UnitKind] | None = None
    #: the registered function; resolved from the default registry when not given
    func: Callable[..., Iterable[Unmet]] | None = attrs.field(
        default=None, eq=False, repr=False, kw_only=True
    )

    def __attrs_post_init__(self) -> None:
        name: object = self.name
        if not isinstance(name, str):
            problem = Problem("$.name", f"must be a requirement name, not {type(name).__name__}")
            raise PolicyError("a requirement", [problem])
        if self.func is None:  # built by hand: resolve the name as a policy load would
            found = DEFAULT_REGISTRY.find("gate", self.name) or DEFAULT_REGISTRY.find(
                "cohort", self.name
            )
            if found is None:
                problem = Problem("$.name", f"{self.name!r} is not a registered requirement")
                raise PolicyError(f"requirement {self.name!r}", [problem])
            object.__setattr__(self, "func", found.func)


#: The methods a policy's stages may follow, each with its stages in their only valid order
#: and the ones every policy of the method must run: LAN's 5D (documentation, the "+1",
#: is optional) and the national innovation index's own stages (PP 38/2017).
METHODS: Final[Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "5d": (FIVE_D, FIVE_D[:5]),
    "iid": (("inisiatif", "uji_coba", "penerapan"), ("inisiatif", "uji_coba", "penerapan")),
}
#: Where an innovation is launched unless the policy names a stage: the stage covering this.
_LAUNCH_COVER: Final = {"5d": "deliver", "iid": "uji_coba"}


@attrs.frozen
class Settings:
    """What earlier versions assumed of every region, now each policy's choice.

    The defaults are LAN's 5D as the bundled presets run it; a region sets only what differs
    in the policy's ``[settings]`` table.
    """

    #: whose stages the policy's stages cover (a key of `METHODS`): ``"5d"`` or ``"iid"``
    method: str = "5d"
    #: whether some gate must require a signed performance agreement
    agreement_required: bool = True
    #: the stage innovations are launched at (``None``: the stage covering *deliver*, or for
    #: the ``iid`` method *uji_coba*)
    launch_stage: str | None = None
    #: the kinds of unit a lab under this policy may hold
    unit_kinds: frozenset[UnitKind] = frozenset(UnitKind)
    #: the kinds that belong to the regional government (cohort conditions count these)
    government_kinds: frozenset[UnitKind] = GOVERNMENT_KINDS
    #: who may be recorded as an innovation's initiator
    initiators: frozenset[Initiator] = frozenset(Initiator)
    #: how many words a replication's local adaptation needs (``replication_recorded``)
    min_adaptation_words: int = 5
    #: the role of the party that signs each performance agreement with the owning unit's
    #: head (a village lab signs its pact with the camat)
    agreement_counterparty: str = "regional_head"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "method": self.method,
            "agreement_required": self.agreement_required,
        }
        if self.launch_stage is not None:
            data["launch_stage"] = self.launch_stage
        data["unit_kinds"] = sorted(k.value for k in self.unit_kinds)
        data["government_kinds"] = sorted(k.value for k in self.government_kinds)
        data["initiators"] = sorted(i.value for i in self.initiators)
        data["min_adaptation_words"] = self.min_adaptation_words
        data["agreement_counterparty"] = self.agreement_counterparty
        return data


_R = Role
#: The roles every policy knows; a policy may relabel them or add its own.
DEFAULT_ROLES: Final[Mapping[str, RoleDef]] = {
    r.id: r
    for r in (
        RoleDef(_R.REGIONAL_HEAD.value, "Kepala Daerah (Bupati/Walikota)", "Regional head"),
        RoleDef(_R.UNIT_HEAD.value, "Kepala Perangkat Daerah/Unit", "Head of unit", "unit"),
        RoleDef(_R.INNOVATOR.value, "Inovator", "Innovator", "unit"),
        RoleDef(_R.FACILITATOR.value, "Fasilitator", "Facilitator"),
        RoleDef(_R.SECRETARIAT.value, "Sekretariat Laboratorium Inovasi", "Lab secretariat"),
        RoleDef(_R.AUDITOR.value, "Auditor (Inspektorat)", "Auditor"),
    )
}


@attrs.frozen
class ApprovalStep:
    """One step of an action plan's approval, in the policy's order (``[[approval]]``).

    Whoever approves a step must hold one of its ``roles``; with ``same_unit`` they must
    belong to the innovation's own unit. No step is approved by the plan's author.
    """

    id: str
    roles: frozenset[str]
    same_unit: bool = True
    label_en: str = ""
    label_id: str = ""

    def label(self, lang: str = "en") -> str:
        """The step's label in ``"en"`` or ``"id"`` (its id when it has none)."""
        return (self.label_id if lang == "id" else self.label_en) or self.id

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "roles": sorted(self.roles)}
        data["same_unit"] = self.same_unit
        if self.label_en:
            data["label_en"] = self.label_en
        if self.label_id:
            data["label_id"] = self.label_id
        return data


@attrs.frozen
class Policy:
    """A validated, self-contained policy (any ``extends`` already applied).

    Build one with `load_policy`, `parse_policy` or `policy_from_dict`; they
    validate. `to_dict` gives the policy's document form, which loads back equal.
    """

    id: str
    name: str
    stages: tuple[Stage, ...]
    description: str = ""
    extends: str | None = None
    self_paced: bool = False
    utc_offset: str = "+07:00"
    roles: Mapping[str, RoleDef] = attrs.field(factory=lambda: dict(DEFAULT_ROLES))
    permissions: Mapping[str, frozenset[str]] = attrs.field(
        factory=lambda: dict(DEFAULT_PERMISSIONS)
    )
    gates: Mapping[str, tuple[RequirementSpec, ...]] = attrs.field(factory=dict)
    cohort: Mapping[str, tuple[RequirementSpec, ...]] = attrs.field(factory=dict)
    launch: tuple[RequirementSpec, ...] = ()
    #: the absolute deadlines, by the stage to enter (every kind is in `timing`)
    deadlines: Mapping[str, datetime] = attrs.field(factory=dict)
    #: every deadline, absolute or relative, by the stage to enter
    timing: Mapping[str, Deadline] = attrs.field(factory=dict)
    #: the attributes innovations carry (jenis, bentuk, ...), by id
    attributes: Mapping[str, AttributeDef] = attrs.field(factory=dict)
    #: how the policy reports to the Indeks Inovasi Daerah and KIPP, if it does
    national_index: NationalIndex | None = None
    #: the choices earlier versions made for every region (method, launch stage, kinds, ...)
    settings: Settings = Settings()
    #: the steps of an action plan's approval, in order (empty: one step, judged by the
    #: gates' ``action_plan_approved`` as before there were steps)
    approval: tuple[ApprovalStep, ...] = ()
    #: how often each performance agreement is reviewed (``[agreement.review]``), if at all
    review: ReviewCycle | None = None
    registry: Registry = attrs.field(default=DEFAULT_REGISTRY, eq=False, repr=False)
    #: where exhibitions are held, whether launches happen there, who exhibits from outside
    exhibitions: ExhibitionRules = attrs.field(factory=ExhibitionRules)
    #: the monitoring (monev) obligation after the launch, if the policy has one
    monev: MonevRules | None = None
    _index: dict[str, int] = attrs.field(init=False, eq=False, repr=False)
    _compiled: Any = attrs.field(init=False, default=None, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        stages: object = self.stages  # built by hand too: say what is wrong, never AttributeError
        if not isinstance(stages, tuple) or not all(isinstance(s, Stage) for s in stages):
            problem = Problem("$.stages", "must be a tuple of labflow.Stage")
            raise PolicyError(f"policy {self.id!r}", [problem])
        object.__setattr__(self, "_index", {s.id: i for i, s in enumerate(self.stages)})
        if self.deadlines and not self.timing:  # built by hand with absolute deadlines only
            timing = {
                s: Deadline(
                    s, "gate" if _checks_deadline(self.gates.get(s, ())) else "report", by=d
                )
                for s, d in self.deadlines.items()
            }
            object.__setattr__(self, "timing", timing)

    @property
    def stage_ids(self) -> tuple[str, ...]:
        return tuple(self._index)

    def index(self, stage: str) -> int:
        """The position of stage ``stage`` (0 for the first); `NotFound` if it is not a stage."""
        try:
            return self._index[stage]
        except (KeyError, TypeError):
            raise NotFound("stage", str(stage), where=f"policy {self.id!r}") from None

    def stage(self, stage: str) -> Stage:
        """The `Stage` with id ``stage``; `NotFound` if there is none."""
        return self.stages[self.index(stage)]

    def has_stage(self, stage: str) -> bool:
        return stage in self._index

    def next_stage(self, stage: str) -> Stage | None:
        """The stage after ``stage``, or ``None`` after the last."""
        i = self._index[stage] + 1
        return self.stages[i] if i < len(self.stages) else None

    def stage_covering(self, five_d: str) -> Stage | None:
        """The stage that covers the 5D stage ``five_d`` (``"deliver"``, ...), if any."""
        return next((s for s in self.stages if five_d in s.covers), None)

    @property
    def launch_stage(self) -> str | None:
        """The id of the stage innovations are launched at (``None``: this policy has none)."""
        if self.settings.launch_stage is not None:
            return self.settings.launch_stage
        stage = self.stage_covering(_LAUNCH_COVER.get(self.settings.method, "deliver"))
        return stage.id if stage is not None else None

    def launches_at(self, stage: str) -> bool:
        """Whether innovations are launched (and ceremonies held) at stage ``stage``."""
        return stage == self.launch_stage

    @property
    def government_kinds(self) -> frozenset[UnitKind]:
        """The unit kinds that belong to the regional government under this policy."""
        return self.settings.government_kinds

    @property
    def zone(self) -> timezone:
        """The policy's local time zone (its ``utc_offset``), in which moments are shown;
        UTC for a recorded offset no labflow would write."""
        return _offset(self.utc_offset) or UTC

    def show_time(self, moment: datetime, lang: str = "en") -> str:
        """``moment`` as a reader in the region writes it, in the policy's local time.

        ``30 June 2016, 23:59 (UTC+07:00)``; in Indonesian ``30 Juni 2016 pukul 23.59
        (UTC+07:00)``. Moments are stored in UTC; this is for messages only.
        """
        local = moment.astimezone(self.zone)
        offset = "UTC" + ("+00:00" if self.zone is UTC else self.utc_offset)
        if lang == "id":
            month = _MONTHS_ID[local.month - 1]
            return f"{local.day} {month} {local.year} pukul {local:%H.%M} ({offset})"
        return f"{local.day} {_MONTHS_EN[local.month - 1]} {local.year}, {local:%H:%M} ({offset})"

    @property
    def approval_count(self) -> int:
        """How many approvals an action plan needs: its steps (one when none are declared)."""
        return len(self.approval) or 1

    def plan_approved(self, plan: ActionPlan | None, step: str | None = None) -> bool:
        """Whether ``plan`` has every approval step done (or every step up to ``step``)."""
        if plan is None:
            return False
        needed = self.approval_count
        if step is not None and self.approval:
            needed = 1 + next((i for i, s in enumerate(self.approval) if s.id == step), needed - 1)
        return len(plan.approvals) >= needed

    def allowed(self, command: str) -> frozenset[str]:
        """The roles that may perform ``command``."""
        return self.permissions.get(command, frozenset())

    def to_dict(self) -> dict[str, Any]:
        """The policy as plain data (JSON-ready), in the same shape as its TOML."""
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "description": self.description,
        }
        if self.extends is not None:
            data["extends"] = self.extends
        data["self_paced"] = self.self_paced
        data["utc_offset"] = self.utc_offset
        data["stages"] = [
            {
                "id": s.id,
                "label_id": s.label_id,
                "label_en": s.label_en,
                "covers": list(s.covers),
                "description": s.description,
            }
            for s in self.stages
        ]
        data["roles"] = {
            r.id: {
                "label_id": r.label_id,
                "label_en": r.label_en,
                "scope": r.scope,
                "description": r.description,
            }
            for r in self.roles.values()
        }
        data["permissions"] = {c: sorted(roles) for c, roles in self.permissions.items()}
        data["gates"] = {s: [_spec_to_dict(x) for x in specs] for s, specs in self.gates.items()}
        data["cohort"] = {s: [_spec_to_dict(x) for x in specs] for s, specs in self.cohort.items()}
        data["launch"] = [_spec_to_dict(x) for x in self.launch]
        data["deadlines"] = {
            s: d.by.isoformat()
            if _plain_deadline(d, self.gates.get(s, ())) and d.by
            else d.to_dict()
            for s, d in self.timing.items()
        }
        if self.attributes:
            data["attributes"] = {k: a.to_dict() for k, a in self.attributes.items()}
        if self.national_index is not None:
            data["national_index"] = self.national_index.to_dict(self.stage_ids)
        if self.approval:
            data["approval"] = [step.to_dict() for step in self.approval]
        if self.review is not None:
            data["agreement"] = {"review": self.review.to_dict()}
        if self.settings != Settings():
            data["settings"] = self.settings.to_dict()
        if self.exhibitions != ExhibitionRules():
            data["exhibitions"] = self.exhibitions.to_dict()
        if self.monev is not None:
            data["monev"] = self.monev.to_dict()
        return data


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, RequirementCall):
        return {value.name: {k: _plain(v) for k, v in value.params.items()}}
    if isinstance(value, tuple | list | frozenset):
        return [_plain(v) for v in value]
    return value


def _spec_to_dict(spec: RequirementSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"name": spec.name}
    out.update({k: _plain(v) for k, v in spec.params.items()})
    if spec.applies_to is not None:
        out["applies_to"] = sorted(k.value for k in spec.applies_to)
    return out


_TOP_KEYS = (
    "id",
    "name",
    "description",
    "extends",
    "self_paced",
    "utc_offset",
    "stages",
    "roles",
    "permissions",
    "gates",
    "cohort",
    "launch",
    "deadlines",
    "attributes",
    "national_index",
    "settings",
    "approval",
    "agreement",
    "exhibitions",
    "monev",
)

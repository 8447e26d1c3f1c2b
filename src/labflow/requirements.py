"""Requirements: the gates' explanations, built in and registered by hosts.

A *gate requirement* is a pure function of a `GateContext` (the innovation, its
lab, the stage it would enter, the time of the check) and of keyword-only
parameters read from the policy. It returns what is unmet -- an empty list when
it is satisfied -- so that a refusal always says exactly why. A *cohort
condition* is the same for the lab as a whole (`CohortContext`).

Hosts add their own under a name and then use that name from TOML::

    @labflow.requirement("kebumen.budget_in_apbd")
    def budget_in_apbd(ctx: labflow.GateContext, *, minimum: int = 1) -> list[labflow.Unmet]:
        plan = ctx.innovation.action_plan
        if plan is None or (plan.budget or 0) < minimum:
            return [labflow.unmet("kebumen.budget_in_apbd", "No budget ...", "Belum ada ...")]
        return []

The parameters' annotations are what a policy is validated against: ``str``,
``int``, ``float``, ``bool``, `StageRef` (a stage id of the policy),
`RequirementRef` (a registered gate requirement), an enum such as `UnitKind`,
``tuple[X, ...]`` of those, and ``X | None``.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, Final, Literal, NamedTuple, NewType, Protocol, TypeVar

import attrs

from labflow.errors import RegistrationError
from labflow.model import Initiator, Innovation, Role, UnitKind

if TYPE_CHECKING:
    from labflow.model import Actor, Unit
    from labflow.policy import Deadline, Policy, Stage

__all__ = [
    "DEFAULT_REGISTRY",
    "CohortContext",
    "GateContext",
    "LabView",
    "RegistrationError",
    "Registry",
    "RequirementCall",
    "RequirementDef",
    "RequirementRef",
    "StageRef",
    "Unmet",
    "Verdict",
    "cohort_condition",
    "requirement",
    "unmet",
]

#: A parameter that names a stage of the policy (validated when the policy loads).
StageRef = NewType("StageRef", str)


@attrs.frozen
class RequirementCall:
    """A gate requirement with its own parameters, given where a `RequirementRef` is expected.

    In TOML: ``meeting = { action_plan_approved = { approver_roles = ["facilitator"],
    same_unit = false } }``; a bare name (``meeting = "action_plan_approved"``) runs the
    requirement with its defaults.
    """

    name: str
    params: Mapping[str, Any] = attrs.field(factory=dict, hash=False)

    def __str__(self) -> str:
        def shown(value: Any) -> str:
            if isinstance(value, bool):
                return "true" if value else "false"
            if isinstance(value, tuple | list | frozenset):
                return "[" + ", ".join(shown(v) for v in value) + "]"
            return str(getattr(value, "value", value))

        inner = ", ".join(f"{k}={shown(v)}" for k, v in self.params.items())
        return f"{self.name}({inner})"


#: A parameter that names a registered gate requirement (validated when the policy loads).
RequirementRef = NewType("RequirementRef", str)


@attrs.frozen
class Unmet:
    """One unmet item: a stable code, the same sentence in English and Indonesian, and the data."""

    code: str
    message_en: str
    message_id: str
    data: Mapping[str, Any] = attrs.field(factory=dict)

    def message(self, lang: str = "en") -> str:
        """The message in ``"en"`` or ``"id"`` (Bahasa Indonesia)."""
        return self.message_id if lang == "id" else self.message_en


def unmet(code: str, message_en: str, message_id: str, **data: Any) -> Unmet:
    """Build an `Unmet` item; keyword arguments become its data."""
    return Unmet(code, message_en, message_id, data)


@attrs.frozen
class Verdict:
    """What `check` found: every unmet item of the gate ``subject`` would pass for ``target``."""

    subject: str  #: the innovation's (or, for the lab's own gate, the lab's) id
    action: str  #: ``advance``, ``launch`` or ``lab.advance``
    target: str  #: the stage the move would enter (for ``launch``, the stage it happens in)
    unmet: tuple[Unmet, ...]

    @property
    def ok(self) -> bool:
        """Whether nothing is unmet: the move would be accepted."""
        return not self.unmet

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(u.code for u in self.unmet)

    def explain(self, lang: str = "en", policy: Policy | None = None) -> str:
        """The verdict as sentences, one unmet item a line.

        With the ``policy`` the verdict was reached under, the stage is named by its label.
        """
        target = self.target
        if policy is not None and policy.has_stage(target):
            target = policy.stage(target).label(lang)
        if self.ok:
            if lang == "id":
                return f"{self.subject} memenuhi semua syarat untuk {target}."
            return f"{self.subject} meets every requirement for {target}."
        items = "\n".join(f"  - {u.message(lang)} [{u.code}]" for u in self.unmet)
        if lang == "id":
            return f"{self.subject} belum dapat {self._verb_id()} {target}:\n{items}"
        return f"{self.subject} cannot {self.action.replace('lab.', '')} to {target}:\n{items}"

    def _verb_id(self) -> str:
        return "diluncurkan pada tahap" if self.action == "launch" else "maju ke"


class LabView(Protocol):
    """The read-only view of a lab that requirements read: a `labflow.Lab` is one.

    Replay hands requirements a view of the lab *as it was* when a recorded event
    happened, so a requirement must read the lab through these names only.
    """

    @property
    def id(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def policy(self) -> Policy: ...
    @property
    def stage(self) -> str: ...
    @property
    def units(self) -> Mapping[str, Unit]: ...
    @property
    def actors(self) -> Mapping[str, Actor]: ...
    @property
    def innovations(self) -> Mapping[str, Innovation]: ...
    @property
    def entered(self) -> Mapping[str, datetime]: ...


class GateContext(NamedTuple):
    """What a gate requirement may look at. Requirements must not change any of it.

    A named tuple rather than an attrs class: one is built for every check, on the hot path.
    """

    innovation: Innovation
    lab: LabView
    stage: Stage  #: the stage the innovation would enter (or, for launch, launch in)
    now: datetime


class CohortContext(NamedTuple):
    """What a cohort condition may look at: the lab, the stage it would enter, the time."""

    lab: LabView
    stage: Stage
    now: datetime


class _Requirement(Protocol):
    __name__: str

    def __call__(self, ctx: Any, /, **params: Any) -> Iterable[Unmet]: ...


F = TypeVar("F", bound=Callable[..., Iterable[Unmet]])


@attrs.frozen
class Param:
    """One parameter a requirement accepts, read from its signature."""

    name: str
    annotation: Any
    default: Any  #: `inspect.Parameter.empty` when the policy must give it
    required: bool


@attrs.frozen
class RequirementDef:
    """A registered requirement or cohort condition."""

    name: str
    kind: Literal["gate", "cohort"]
    func: Callable[..., Iterable[Unmet]] = attrs.field(eq=False)
    params: Mapping[str, Param]
    doc: str


_SIMPLE = (str, int, float, bool, StageRef, RequirementRef, RequirementCall)


def _check_annotation(name: str, annotation: Any) -> None:
    origin = typing.get_origin(annotation)
    if annotation in _SIMPLE or (isinstance(annotation, type) and issubclass(annotation, Enum)):
        return
    if origin is tuple:
        args = typing.get_args(annotation)
        if len(args) == 2 and args[1] is Ellipsis:
            _check_annotation(name, args[0])
            return
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            if arg is not type(None):
                _check_annotation(name, arg)
        return
    raise RegistrationError(
        f"The parameter {name!r} has type {annotation!r}, which a policy cannot give; "
        "use str, int, float, bool, StageRef, RequirementRef, an enum, tuple[X, ...] or X | None."
    )


def _params_of(func: Callable[..., Any]) -> dict[str, Param]:
    signature = inspect.signature(func)
    hints = typing.get_type_hints(func)
    positional = [
        p
        for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if len(positional) != 1:
        raise RegistrationError(
            f"{func.__qualname__} must take exactly one positional argument, the context, "
            "and its parameters keyword-only (after a '*')."
        )
    params: dict[str, Param] = {}
    for p in signature.parameters.values():
        if p.kind is not p.KEYWORD_ONLY:
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise RegistrationError(f"{func.__qualname__} may not take *args or **kwargs.")
            continue
        annotation = hints.get(p.name, str)
        _check_annotation(p.name, annotation)
        params[p.name] = Param(p.name, annotation, p.default, p.default is p.empty)
    return params


class Registry:
    """Named gate requirements and cohort conditions that policies may use.

    `DEFAULT_REGISTRY` holds the built-ins and whatever a host registers with
    the `requirement` and `cohort_condition` decorators; make a separate one
    (``Registry(parent=DEFAULT_REGISTRY)``) to keep a host's names apart.
    """

    def __init__(self, *, parent: Registry | None = None) -> None:
        self._parent = parent
        self._defs: dict[tuple[str, str], RequirementDef] = {}

    def _register(self, kind: Literal["gate", "cohort"], name: str | None, func: F) -> F:
        key = name or func.__name__
        if self.find(kind, key) is not None:
            raise RegistrationError(f"A {kind} requirement named {key!r} is already registered.")
        doc = inspect.getdoc(func) or ""
        self._defs[(kind, key)] = RequirementDef(key, kind, func, _params_of(func), doc)
        return func

    def requirement(self, name: str | None = None) -> Callable[[F], F]:
        """Register a gate requirement under ``name`` (default: the function's name)."""
        return lambda func: self._register("gate", name, func)

    def cohort_condition(self, name: str | None = None) -> Callable[[F], F]:
        """Register a cohort condition under ``name`` (default: the function's name)."""
        return lambda func: self._register("cohort", name, func)

    def find(self, kind: Literal["gate", "cohort"], name: str) -> RequirementDef | None:
        """The definition registered under ``name``, here or in a parent, or ``None``."""
        found = self._defs.get((kind, name))
        if found is None and self._parent is not None:
            return self._parent.find(kind, name)
        return found

    def names(self, kind: Literal["gate", "cohort"]) -> list[str]:
        """Every name registered for ``kind``, sorted."""
        own = {n for k, n in self._defs if k == kind}
        inherited = set(self._parent.names(kind)) if self._parent else set()
        return sorted(own | inherited)

    def include(self, other: Registry) -> None:
        """Register here every name ``other`` holds itself (not those of its parents).

        A name already here for the same function is left as it is; a name here for
        another function is a `RegistrationError`, and then nothing is added.
        """
        new = {}
        for key, definition in other._defs.items():
            found = self.find(definition.kind, definition.name)
            if found is None:
                new[key] = definition
            elif found.func is not definition.func:
                raise RegistrationError(
                    f"A {definition.kind} requirement named {definition.name!r} is already "
                    "registered."
                )
        self._defs.update(new)

    def unregister(self, kind: Literal["gate", "cohort"], name: str) -> None:
        """Forget a name registered here (for tests and hot reloading)."""
        self._defs.pop((kind, name), None)


#: The registry policies use unless told otherwise: the built-ins and the host's own.
DEFAULT_REGISTRY = Registry()
#: Register a gate requirement in `DEFAULT_REGISTRY`.
requirement = DEFAULT_REGISTRY.requirement
#: Register a cohort condition in `DEFAULT_REGISTRY`.
cohort_condition = DEFAULT_REGISTRY.cohort_condition


# --- The built-in gate requirements --------------------------------------------------------


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


# --- The built-in cohort conditions --------------------------------------------------------


def _reached(lab: LabView, innovation: Innovation, stage: str | None) -> bool:
    return stage is None or lab.policy.index(innovation.stage) >= lab.policy.index(stage)


def _n(count: int, one: str, many: str) -> str:
    """``count`` with the English word that agrees with it (``1 unit``, ``2 units``)."""
    return f"{count} {one if count == 1 else many}"


def _are(count: int) -> str:
    return "is" if count == 1 else "are"


def _listed(items: Sequence[object], conj: str = "and") -> str:
    """``1``, ``1 and 3``, ``1, 2 and 3``: a list as words, never a Python list."""
    words = [str(i) for i in items]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {conj} {words[-1]}"


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


def gate_unmet(
    lab: LabView, innovation: Innovation, stage: Stage, now: datetime
) -> tuple[Unmet, ...]:
    """Every unmet requirement of ``stage``'s gate for ``innovation``, the gate alone."""
    specs = lab.policy.gates.get(stage.id, ())
    if not specs:
        return ()
    unit = lab.units.get(innovation.unit)
    return run_all(specs, GateContext(innovation, lab, stage, now), unit.kind if unit else None)


def run_all(
    specs: Sequence[Any], ctx: GateContext | CohortContext, unit_kind: UnitKind | None = None
) -> tuple[Unmet, ...]:
    """Evaluate every spec (no short-circuit) and gather what is unmet."""
    found: list[Unmet] = []
    for spec in specs:
        if spec.applies_to is not None and unit_kind not in spec.applies_to:
            continue
        params = spec.params
        found.extend(spec.func(ctx, **params) if params else spec.func(ctx))
    return tuple(found)

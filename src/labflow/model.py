"""The records of the domain: units, actors, the artefacts of each stage, and innovations.

Values (a signature, an action plan, a launch record) are frozen: an artefact
is replaced, never edited. What their converters cannot convert (roles that are
not texts, a unit kind labflow does not know) is an `InvalidCommand`, never a raw
``TypeError``: hosts build these records from their users' input. An
`Innovation` is frozen too: folding an event of its history (`labflow.lab`)
makes the next record, so nothing a host holds changes under it -- and nothing
from the state machine is ever set on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Final, TypeVar

import attrs

from labflow._frozen import FrozenMap, freeze
from labflow.errors import InvalidCommand
from labflow.events import Event

T = TypeVar("T")

__all__ = [
    "FIVE_D",
    "GOVERNMENT_KINDS",
    "ActionPlan",
    "Actor",
    "AgreementReview",
    "AgreementVersion",
    "Booth",
    "Diagnosis",
    "Evidence",
    "Exhibit",
    "Exhibition",
    "Exhibitor",
    "Initiator",
    "Innovation",
    "Launch",
    "Monev",
    "PerformanceAgreement",
    "Permission",
    "PlanApproval",
    "PlanStep",
    "Replication",
    "ReviewOutcome",
    "Role",
    "Signature",
    "Status",
    "Unit",
    "UnitKind",
]

#: The method's stages in their only valid order ("5D", and "+1" documentation from 2018).
FIVE_D: Final = ("drum_up", "diagnose", "design", "deliver", "display", "documentation")


class UnitKind(StrEnum):
    """What kind of body owns an innovation."""

    AGENCY = "agency"  #: OPD / SKPD: dinas, badan, bagian of the Setda
    CLINIC = "clinic"  #: UPT Puskesmas
    HOSPITAL = "hospital"  #: RSUD
    ENTERPRISE = "enterprise"  #: BUMD, a regional enterprise
    DISTRICT = "district"  #: kecamatan
    VILLAGE = "village"  #: desa / kelurahan
    COMMUNITY = "community"  #: non-government: a community group
    PRIVATE = "private"  #: non-government: the private sector
    ACADEMIA = "academia"  #: non-government: a university or school
    VERTICAL = "vertical"  #: a central-government office in the region (BPN, Kemenag, ...)

    @property
    def government(self) -> bool:
        """Whether the regional government owns this unit (and its head can sign agreements)."""
        return self in GOVERNMENT_KINDS


#: The unit kinds that belong to the regional government.
GOVERNMENT_KINDS: Final = frozenset(
    {
        UnitKind.AGENCY,
        UnitKind.CLINIC,
        UnitKind.HOSPITAL,
        UnitKind.ENTERPRISE,
        UnitKind.DISTRICT,
        UnitKind.VILLAGE,
    }
)


class Role(StrEnum):
    """The roles of the baseline policies. Policies may declare more; roles are plain strings."""

    REGIONAL_HEAD = "regional_head"  #: Bupati / Walikota
    UNIT_HEAD = "unit_head"  #: Kepala OPD, Kepala UPT Puskesmas, Direktur RSUD / BUMD, ...
    INNOVATOR = "innovator"  #: a civil servant, a team, or a community member
    FACILITATOR = "facilitator"  #: LAN mentor or desk evaluator; later a university partner
    SECRETARIAT = "secretariat"  #: the local organiser: Bappeda, Balitbang, Bagian Organisasi
    AUDITOR = "auditor"  #: Inspektorat: reads histories, never changes them


class Initiator(StrEnum):
    """Who initiated an innovation (the national innovation index's categories)."""

    ASN = "asn"  #: a civil servant: needs written permission from the unit head
    COMMUNITY = "community"
    REGIONAL_HEAD = "regional_head"
    DPRD = "dprd"  #: the regional parliament
    PERANGKAT_DAERAH = "perangkat_daerah"  #: a regional-government body as such


class ReviewOutcome(StrEnum):
    """What a review of a performance agreement concludes."""

    CONTINUE = "continue"  #: the agreement stands as it is
    AMEND = "amend"  #: its terms are to be amended (``amend_agreement``)


class Status(StrEnum):
    """Whether an innovation takes part in the lab."""

    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


def _items(value: object, kind: type[T], what: str) -> tuple[T, ...]:
    """``value`` as a tuple of ``kind``; `InvalidCommand` for anything else (never TypeError)."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidCommand(f"The {what} must be a list, not {type(value).__name__}.")
    items = tuple(value)
    for item in items:
        if not isinstance(item, kind):
            raise InvalidCommand(
                f"The {what} must be {kind.__name__} values, not {type(item).__name__}."
            )
    return items


def _roles(value: Iterable[str]) -> frozenset[str]:
    return frozenset(_items(value, str, "roles"))


def _strs(value: Iterable[str]) -> tuple[str, ...]:
    return _items(value, str, "texts")


def _steps(value: Iterable[PlanStep]) -> tuple[PlanStep, ...]:
    return _items(value, PlanStep, "plan steps")


def _signatures(value: Iterable[Signature]) -> tuple[Signature, ...]:
    return _items(value, Signature, "signatures")


def _unit_kind(value: str) -> UnitKind:
    try:
        return UnitKind(value)
    except (ValueError, TypeError):
        allowed = ", ".join(k.value for k in UnitKind)
        shown = repr(value)[:60]
        raise InvalidCommand(f"{shown} is not a unit kind (one of {allowed}).") from None


@attrs.frozen
class Unit:
    """A body that owns innovations: an agency, a clinic, a village, a non-government exhibitor."""

    id: str
    name: str
    kind: UnitKind = attrs.field(converter=_unit_kind)


@attrs.frozen
class Actor:
    """A person acting in the lab, with the roles the lab's policy knows them by."""

    id: str
    name: str
    roles: frozenset[str] = attrs.field(converter=_roles)
    unit: str | None = None  #: the unit they belong to (and head, with the ``unit_head`` role)


@attrs.frozen
class Diagnosis:
    """The diagnose stage's output: the problem, its root causes, the unit's readiness."""

    problem: str
    root_causes: tuple[str, ...] = attrs.field(converter=_strs)
    readiness: str = ""


@attrs.frozen
class PlanStep:
    """One step of an action plan, with its person responsible (*penanggung jawab*)."""

    description: str
    responsible: str
    due: date


@attrs.frozen
class PlanApproval:
    """One step of an action plan's approval: which step, by whom, when, holding what roles.

    The steps are the policy's (``[[approval]]``: e.g. the unit head approves, then the
    LAN facilitator reviews); ``step`` is its position, 1 for the first.
    """

    step: int
    by: str
    at: datetime
    #: the roles the approver held when approving
    roles: frozenset[str] = attrs.field(default=frozenset(), converter=_roles)


def _approvals(value: Iterable[PlanApproval]) -> tuple[PlanApproval, ...]:
    return _items(value, PlanApproval, "further approvals")


@attrs.frozen
class ActionPlan:
    """A *rencana aksi*: submitted by one actor, approved by another (or by several, in steps).

    The first step's approval is ``approved_by`` / ``approved_at`` / ``approver_roles`` (a
    policy of one step, like every policy before steps, has only that one); the later steps'
    are `further_approvals`, in order. `approvals` lists them all. Resubmitting a plan makes
    a new `ActionPlan`, so every approval of the old one is gone.
    """

    steps: tuple[PlanStep, ...] = attrs.field(converter=_steps)
    submitted_by: str
    submitted_at: datetime
    stakeholders: tuple[str, ...] = attrs.field(default=(), converter=_strs)
    budget: int | None = None  #: in rupiah
    documents: tuple[str, ...] = attrs.field(default=(), converter=_strs)
    approved_by: str | None = None
    approved_at: datetime | None = None
    #: the roles the approver held when approving
    approver_roles: frozenset[str] = attrs.field(default=frozenset(), converter=_roles)
    #: the approvals of the policy's second and later steps, in order
    further_approvals: tuple[PlanApproval, ...] = attrs.field(default=(), converter=_approvals)

    @property
    def approved(self) -> bool:
        """Whether the first step is done (for a policy of one step: the plan is approved)."""
        return self.approved_by is not None

    @property
    def approvals(self) -> tuple[PlanApproval, ...]:
        """Every step's approval so far, the first step's first."""
        if self.approved_by is None or self.approved_at is None:
            return ()
        first = PlanApproval(1, self.approved_by, self.approved_at, self.approver_roles)
        return (first, *self.further_approvals)


@attrs.frozen
class Signature:
    """A party's signature on a performance agreement."""

    signer: str
    role: str
    at: datetime


@attrs.frozen
class AgreementReview:
    """A review of a performance agreement (the policy's ``[agreement.review]`` cycle)."""

    finding: str
    outcome: ReviewOutcome
    by: str
    at: datetime
    #: the version of the agreement reviewed
    version: int = 1


@attrs.frozen
class AgreementVersion:
    """An earlier version of a performance agreement, superseded by an amendment."""

    version: int
    terms: str
    drawn_up_by: str
    drawn_up_at: datetime
    signatures: tuple[Signature, ...] = attrs.field(default=(), converter=_signatures)


def _reviews(value: Iterable[AgreementReview]) -> tuple[AgreementReview, ...]:
    return _items(value, AgreementReview, "reviews")


def _versions(value: Iterable[AgreementVersion]) -> tuple[AgreementVersion, ...]:
    return _items(value, AgreementVersion, "earlier versions")


@attrs.frozen
class PerformanceAgreement:
    """A *perjanjian kinerja inovasi* between the regional head and the head of the owning unit.

    After a review calls for it, an amendment draws up a new version of the terms
    (``version`` counts them), signed by the same parties again; the newest version is the
    one that binds, and every earlier one is kept in ``earlier`` with its signatures.
    ``reviews`` holds every review, of any version, in order.
    """

    regional_head: str
    unit_head: str
    drawn_up_by: str
    drawn_up_at: datetime
    terms: str = ""
    signatures: tuple[Signature, ...] = attrs.field(default=(), converter=_signatures)
    version: int = 1
    earlier: tuple[AgreementVersion, ...] = attrs.field(default=(), converter=_versions)
    reviews: tuple[AgreementReview, ...] = attrs.field(default=(), converter=_reviews)

    def signed_by(self, actor: str) -> bool:
        """Whether ``actor`` has signed."""
        for signature in self.signatures:  # noqa: SIM110 - a loop beats any() on the hot path
            if signature.signer == actor:
                return True
        return False

    @property
    def complete(self) -> bool:
        """Whether both named parties have signed."""
        return self.signed_by(self.regional_head) and self.signed_by(self.unit_head)

    @property
    def amendment_called(self) -> bool:
        """Whether the latest review of the current version asks for its terms to be amended."""
        mine = [r for r in self.reviews if r.version == self.version]
        return bool(mine) and mine[-1].outcome is ReviewOutcome.AMEND


@attrs.frozen
class Permission:
    """An ASN initiator's written permission from the head of their unit."""

    granted_by: str
    granted_at: datetime
    reference: str  #: the letter's number or a document reference


@attrs.frozen
class Launch:
    """The launch of an innovation (*peluncuran*), usually at a ceremony."""

    at: datetime
    ceremony: str
    launched_by: str
    #: the exhibition it was launched at (`Exhibition.id`), if the policy allows launches there
    exhibition: str | None = None


@attrs.frozen
class Evidence:
    """Supporting evidence (*bukti dukung*): a document or data set showing the innovation works."""

    title: str
    reference: str
    attached_by: str
    attached_at: datetime


@attrs.frozen
class Exhibit:
    """The innovation's entry at the display stage: a booth at an exhibition, expo or festival."""

    event: str
    booth: str
    registered_by: str
    registered_at: datetime
    #: the lab's exhibition it is shown at (`Exhibition.id`; ``booth`` is then a `Booth.id`)
    exhibition: str | None = None


@attrs.frozen
class Replication:
    """Where a replicated innovation comes from and how it was adapted to the local context."""

    origin_region: str
    origin_innovation: str
    adaptation: str
    origin_title: str = ""


@attrs.frozen
class Innovation:
    """One innovation of one unit, and everything the lab has recorded about it.

    A frozen record: its state is the fold of `history`, and each event the lab
    applies makes a new `Innovation` (the lab's commands are the only way to change
    one; hold on to a record and it stays as it was).
    """

    id: str
    title: str
    unit: str
    innovators: tuple[str, ...]
    problem: str
    initiator: Initiator
    stage: str
    status: Status = Status.ACTIVE
    diagnosis: Diagnosis | None = None
    action_plan: ActionPlan | None = None
    agreement: PerformanceAgreement | None = None
    permission: Permission | None = None
    launch: Launch | None = None
    evidence: tuple[Evidence, ...] = ()
    exhibit: Exhibit | None = None
    replication: Replication | None = None
    #: the attributes the policy declares (``Policy.attributes``): jenis, bentuk, ...
    attributes: Mapping[str, Any] = attrs.field(factory=FrozenMap, converter=freeze)
    history: tuple[Event, ...] = attrs.field(default=(), repr=False)

    @property
    def version(self) -> int:
        """How many events the history holds; what a writer expects when it appends."""
        return len(self.history)

    @property
    def active(self) -> bool:
        return self.status is Status.ACTIVE


# --- Exhibitions and monitoring (appended) ----------------------------------------------------


@attrs.frozen
class Exhibitor:
    """A body outside the regional government that takes part in one exhibition only.

    Community groups, the private sector, academia and vertical agencies show their work
    beside the agencies (Kudus, December 2017) without a lab lifecycle: no stages, no
    launch, no agreement.
    """

    id: str
    name: str
    kind: UnitKind = attrs.field(converter=_unit_kind)


@attrs.frozen
class Booth:
    """A booth (*gerai*, *stan*) at an exhibition, held by a unit of the lab or an exhibitor.

    The lab's innovations shown at it are those whose `Exhibit` names it; ``showcases`` are
    what it shows besides (an exhibitor's innovations, by title); ``services`` the live
    services offered there (*pelayanan SIM online*).
    """

    id: str
    holder: str  #: a `Unit.id` of the lab or an `Exhibitor.id` of the exhibition
    services: tuple[str, ...] = attrs.field(default=(), converter=_strs)
    showcases: tuple[str, ...] = attrs.field(default=(), converter=_strs)


@attrs.frozen
class Exhibition:
    """A lab's exhibition (*pameran*, *festival*): when, where, its exhibitors and booths."""

    id: str
    name: str
    venue: str
    starts: date
    ends: date
    opened_by: str
    opened_at: datetime
    exhibitors: Mapping[str, Exhibitor] = attrs.field(factory=FrozenMap, converter=freeze)
    booths: Mapping[str, Booth] = attrs.field(factory=FrozenMap, converter=freeze)
    closed_at: datetime | None = None

    @property
    def open(self) -> bool:
        """Whether booths, exhibits and launches may still be recorded at it."""
        return self.closed_at is None


@attrs.frozen
class Monev:
    """A monitoring-and-evaluation record (*monev*) of a launched innovation for one period."""

    period: str  #: the period it covers, as the region names it (``2018-Q1``, ``Juli 2018``)
    indicators: Mapping[str, float] = attrs.field(converter=freeze)
    findings: str
    follow_up: str
    recorded_by: str
    recorded_at: datetime

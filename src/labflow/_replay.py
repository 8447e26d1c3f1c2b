"""The validating fold: a history is checked event by event, not trusted.

Private. State is the fold of history, and a history may come from anywhere -- a
JSON document, a database row someone edited, a writer that re-hashed the chain.
So the fold re-checks, for every event, labflow's own rules as they stood at that
event's moment:

- the event's kind belongs to its stream; seq, ``prev`` and hash chain; times never
  go backwards within a stream; the payload's schema version is one labflow wrote;
- a move goes from the current stage to the next one in the policy's order
  (advance) or to an earlier one (return); the lab moves one stage at a time too;
- the actor was in the lab's roster *at that moment* and held a role the policy
  allows for the command (unit-scoped roles only on their own unit's innovations);
- a signature only by the party it names, once; no approval by the plan's author;
  no launch without an approved plan, only at a stage covering deliver, only once;
  no passing a gate -- the agreement gate included -- with a built-in requirement
  unmet, evaluated as of the event's own time against the lab as it then was;
- an innovation never ahead of its lab (unless self-paced), judged against the lab
  version its event records it saw (``lab_v``); a lab move's cohort conditions
  re-evaluated on the innovations at the versions the event records it counted.

What it still trusts is said in ``docs/history.md``: host-registered requirements
(the advance event records the gate it passed), *which* innovations a lab move
counted (their versions are checked), and the events of version 1 (before
``lab_v`` was recorded), whose lab version is inferred from their times.

The same fold serves `labflow.replay_lab`, the document loaders and the stores'
commits, so an event that replay would refuse is never kept.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final, NoReturn

import attrs

from labflow._attributes import attribute_problems
from labflow._authority import reviewer_refused, step_refused
from labflow._catalogue import KIND_COMMAND
from labflow._engine import Engine, engine_for
from labflow._exhibitions import (
    EXHIBITION_KINDS,
    apply_exhibition,
    exhibit_refusal,
    exhibit_stage,
    exhibition_refusal,
    launch_refusal,
)
from labflow._fold import INNOVATION_KINDS, OPENING_KINDS, actor_from, apply_innovation, unit_from
from labflow._gates import (
    advance_unmet,
    lab_verdict,
    launch_verdict,
    past_agreement,
    permitted,
    unit_kind_refused,
)
from labflow._monev_rules import MONEV_KIND, MONEV_REQUIREMENT, monev_refusal, monev_up_to_date
from labflow._recorded import builtin, policy_from_record
from labflow.errors import HistoryError, LabflowError, PolicyError
from labflow.events import GENESIS, Event, verify
from labflow.model import ActionPlan, Actor, Exhibition, Innovation, ReviewOutcome, Role, Unit
from labflow.policy import Policy, RequirementSpec
from labflow.requirements import GateContext, Registry

__all__ = [
    "LAB_KINDS",
    "SCHEMA",
    "Fold",
    "Folded",
    "fold_lab",
    "gate_record",
    "start_fold",
]

#: The payload schema version labflow writes (``"v"`` in every payload).
SCHEMA: Final = 2

#: The command each innovation event kind is the result of (its permission).
_INNOVATION_COMMAND: Final = {k: c for k, c in KIND_COMMAND.items() if k.startswith("innovation.")}
#: The command each lab event kind is the result of (``lab.created`` needs none).
_LAB_COMMAND: Final[Mapping[str, str | None]] = {
    "lab.created": None,
    **{k: c for k, c in KIND_COMMAND.items() if k.startswith("lab.")},
}
LAB_KINDS: Final = frozenset(_LAB_COMMAND)
#: Kinds that may only happen to an active innovation.
_NEEDS_ACTIVE: Final = frozenset(
    {
        "innovation.diagnosis_recorded",
        "innovation.plan_submitted",
        "innovation.plan_approved",
        "innovation.agreement_drawn_up",
        "innovation.agreement_signed",
        "innovation.permission_granted",
        "innovation.launched",
        "innovation.evidence_attached",
        "innovation.exhibit_registered",
        "innovation.advanced",
        "innovation.returned",
        "innovation.withdrawn",
        "innovation.agreement_reviewed",
        "innovation.agreement_amended",
        "innovation.monitored",
        "innovation.attributes_set",
    }
)
#: What a fold step may raise on a payload it cannot read.
_UNREADABLE = (KeyError, TypeError, ValueError, AttributeError, AssertionError, IndexError)


def _refuse(event: Event, code: str, en: str, id_: str, **data: Any) -> NoReturn:
    raise HistoryError(
        str(event.subject), event.seq, en, id_, code=code, data={"kind": event.kind, **data}
    )


@attrs.frozen
class View:
    """The lab as it was at one version: what requirements and checks read during replay."""

    id: str
    region: str
    policy: Policy
    stage: str
    units: Mapping[str, Unit]
    actors: Mapping[str, Actor]
    innovations: Mapping[str, Innovation] = MappingProxyType({})
    #: when the lab entered each stage it has reached (for deadlines counted from it)
    entered: Mapping[str, datetime] = MappingProxyType({})
    #: the lab's exhibitions as they stood (`labflow._exhibitions`)
    exhibitions: Mapping[str, Exhibition] = MappingProxyType({})


@attrs.frozen
class Folded:
    """The outcome of a validating fold: the final lab view, innovations and histories."""

    policy: Policy
    view: View
    innovations: Mapping[str, Innovation]


def gate_record(policy: Policy, stage: str, kind: object) -> list[str]:
    """The names of the requirements of ``stage``'s gate that apply to a unit of ``kind``.

    An advance records it (``"gate"``), so a history says what it passed even when a
    host later changes one of its own requirements.
    """
    return [
        s.name for s in policy.gates.get(stage, ()) if s.applies_to is None or kind in s.applies_to
    ]


def _trusted(policy: Policy) -> Policy:
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


class _Stream:
    """One innovation's history, folded as far as the lab's order needs it.

    ``events`` are the events still to fold, the first of them being event ``base + 1``:
    a fold carried forward (`Fold.resume`) starts a stream at its head with only its new
    events. ``head`` is the hash of the last event folded.
    """

    __slots__ = ("base", "check_from", "events", "head", "inn", "lab_v", "last_at", "pos", "schema")

    def __init__(self, events: Sequence[Event], check_from: int) -> None:
        self.events = events
        self.base = 0
        self.check_from = check_from
        self.pos = 0
        self.head = GENESIS
        self.inn: Innovation | None = None
        self.lab_v = 0
        self.last_at: datetime | None = None
        self.schema = 1

    @property
    def end(self) -> int:
        return self.base + len(self.events)


class Fold:
    """A validating fold that can be carried forward: the lab at its last version, and the
    innovation streams it folded, each at its head.

    `fold_lab` folds whole histories with it once. A store keeps one between commits and
    resumes it (`resume`) with a commit's new events only: the same checks in the same order as a
    fold from the start, at the cost of what changed. A fold that raised is spent (its
    state is half-way); whoever keeps one drops it then.
    """

    def __init__(self, created: Event, *, registry: Registry | None, strict_policy: bool) -> None:
        payload = created.payload
        try:
            self.lab_id = str(payload["id"])
            self.region = str(payload["region"])
            self.policy = _recorded_policy(created, registry, strict_policy)
        except PolicyError:
            raise
        except (*_UNREADABLE, LabflowError) as exc:
            _refuse(
                created,
                "history.unreadable",
                f"its policy cannot be read ({exc})",
                f"kebijakannya tidak dapat dibaca ({exc})",
            )
        self.trusted = _trusted(self.policy)
        self.engine: Engine = engine_for(self.policy)
        # views[k]: the lab after its k-th event (views[0] is never read).
        empty: Mapping[str, Any] = MappingProxyType({})
        start = View(self.lab_id, self.region, self.trusted, self.policy.stages[0].id, empty, empty)
        self.views: list[View] = [start]
        self.times: list[datetime] = []
        #: the lab's last event's hash: with ``version``, where a resumed fold must start
        self.head = GENESIS
        #: every stream folded so far, each at its head once a run is over
        self.streams: dict[str, _Stream] = {}
        #: (innovation, time, actor) of every launch a ceremony of the lab lists
        self.held: set[tuple[Any, datetime, str]] = set()
        # What one run judges: the lab events it checks, the launches that need a ceremony.
        self.lab_check_from = 0
        self.ceremonies: list[Event] = []
        #: launches whose actor may launch only at a ceremony: each must be listed by one
        self.ceremonial: list[Event] = []

    @property
    def version(self) -> int:
        """How many of the lab's own events were folded."""
        return len(self.views) - 1

    def end(self, subject: str) -> tuple[int, str] | None:
        """A folded innovation stream's ``(version, head)``; ``None`` if not folded."""
        stream = self.streams.get(subject)
        return None if stream is None else (stream.pos, stream.head)

    def innovation(self, subject: str) -> Innovation | None:
        """A folded innovation as its stream's head leaves it."""
        stream = self.streams.get(subject)
        return None if stream is None else stream.inn

    # --- one run: lab events first, then the streams, then what spans them ----------------

    def run(
        self, lab_events: Sequence[Event], streams: Mapping[str, _Stream], lab_check_from: int
    ) -> None:
        self.lab_check_from = lab_check_from
        self.ceremonies = []
        self.ceremonial = []
        self.streams.update(streams)
        for event in lab_events:
            self.lab_event(event)
        for subject in streams:
            self.fold_stream(subject, None, self.version)
        self.after(streams)
        for stream in streams.values():  # at their heads: keep no events
            stream.base, stream.events = stream.pos, ()

    def resume(
        self,
        lab_events: Sequence[Event],
        new: Mapping[str, Sequence[Event]],
        stored: Mapping[str, Sequence[Event]] = MappingProxyType({}),
    ) -> None:
        """Fold a commit's new events on top of this fold, judging only them.

        ``lab_events`` continue the lab's history; ``new`` maps an innovation to its new
        events, and ``stored`` maps an innovation this fold has not folded to its stored
        events (kept, applied without judging them). Every other stream named must be in
        `streams`, at its head. A commit that moves the lab (``lab.advanced``) re-judges
        the cohort at earlier versions, so it is folded from the start, not resumed.
        """
        runs: dict[str, _Stream] = {}
        for subject in sorted(set(new) | set(stored)):
            events = new.get(subject, ())
            if subject in stored:
                kept = stored[subject]
                stream = _Stream([*kept, *events], len(kept))
            elif subject in self.streams:
                stream = self.streams[subject]
                stream.events, stream.check_from = events, stream.pos
            else:
                stream = _Stream(events, 0)
            if stream.end:
                runs[subject] = stream
        self.run(lab_events, runs, self.version)

    def lab_event(self, event: Event) -> None:
        seq = len(self.views)
        view = self.views[-1]
        if event.kind not in LAB_KINDS:
            _refuse(
                event,
                "history.unknown_kind",
                f"{event.kind!r} is not an event of a lab",
                f"{event.kind!r} bukan peristiwa laboratorium",
            )
        if (event.kind == "lab.created") != (seq == 1):
            _refuse(
                event,
                "history.no_creation",
                "a lab's history starts with its lab.created event, and only there",
                "riwayat laboratorium diawali peristiwa lab.created, dan hanya di situ",
            )
        if self.times and event.at < self.times[-1]:
            self.backwards(event)
        check = seq > self.lab_check_from
        try:
            new = self.lab_apply(event, view, check)
        except HistoryError:
            raise
        except _UNREADABLE as exc:
            _refuse(
                event,
                "history.unreadable",
                f"its {event.kind} payload cannot be applied ({exc!r})",
                f"muatan {event.kind}-nya tidak dapat diterapkan ({exc!r})",
            )
        if check and event.kind == "lab.ceremony_held":
            self.ceremonies.append(event)
        self.views.append(new)
        self.times.append(event.at)
        self.head = event.hash

    def lab_apply(self, event: Event, view: View, check: bool) -> View:
        p = event.payload
        kind = event.kind
        schema = self.schema_of(event)
        if check and kind != "lab.created":
            command = _LAB_COMMAND[kind]
            assert command is not None
            self.authorised(event, view, command, None)
        if kind == "lab.created":
            units = dict(self.new_units(event, {}, map(unit_from, p["units"])))
            actors = self.new_actors(event, units, {}, map(actor_from, p["actors"]))
            return attrs.evolve(
                view,
                units=MappingProxyType(units),
                actors=MappingProxyType(actors),
                entered=MappingProxyType({view.stage: event.at}),
            )
        if kind == "lab.unit_added":
            units = self.new_units(event, view.units, [unit_from(p["unit"])])
            return attrs.evolve(view, units=MappingProxyType(units))
        if kind == "lab.actor_added":
            actors = self.new_actors(event, view.units, view.actors, [actor_from(p["actor"])])
            return attrs.evolve(view, actors=MappingProxyType(actors))
        if kind == "lab.roles_set":
            old = view.actors.get(p["actor"])
            if old is None:
                _refuse(
                    event,
                    "history.unknown_actor",
                    f"it sets the roles of {p['actor']!r}, who is not in the lab",
                    f"menetapkan peran {p['actor']!r}, yang tidak ada di laboratorium",
                    actor=p["actor"],
                )
            roles = frozenset(p["roles"])
            self.known_roles(event, roles)
            actors = dict(view.actors)
            actors[old.id] = Actor(old.id, old.name, roles, old.unit)
            return attrs.evolve(view, actors=MappingProxyType(actors))
        if kind == "lab.advanced":
            nxt = self.engine.next[view.stage]
            if p["from"] != view.stage or nxt is None or p["to"] != nxt:
                _refuse(
                    event,
                    "history.stage_order",
                    f"the lab moves from {view.stage!r} only to {nxt!r}, "
                    f"not from {p['from']!r} to {p['to']!r}",
                    f"laboratorium dari {view.stage!r} hanya dapat maju ke {nxt!r}, "
                    f"bukan dari {p['from']!r} ke {p['to']!r}",
                    stage=view.stage,
                )
            if check and schema >= 2:
                self.cohort_held(event, view, p["cohort"])
            entered = MappingProxyType({**view.entered, nxt: event.at})
            return attrs.evolve(view, stage=nxt, entered=entered)
        if kind in EXHIBITION_KINDS:
            return self.exhibition_event(event, view, check)
        # lab.ceremony_held
        if check and not self.policy.launches_at(view.stage):
            _refuse(
                event,
                "history.ceremony_stage",
                f"a launch ceremony is held at the launch stage, not at {view.stage!r}",
                f"upacara peluncuran diadakan di tahap peluncuran, bukan di {view.stage!r}",
            )
        if not isinstance(p["launched"], list) or not isinstance(p["ceremony"], str):
            raise TypeError("a ceremony lists the innovations it launched")
        self.held.update((subject, event.at, event.actor) for subject in p["launched"])
        return view

    def exhibition_event(self, event: Event, view: View, check: bool) -> View:
        """An exhibition's lab event, refused for exactly what its command refuses."""
        if check and isinstance(event.payload, Mapping):
            refusal = exhibition_refusal(
                view.exhibitions, view.units, self.policy, view.stage, event.kind, event.payload
            )
            if refusal is not None:
                _refuse(event, "history.exhibition", refusal[1], refusal[2], refusal=refusal[0])
        return attrs.evolve(view, exhibitions=apply_exhibition(view.exhibitions, event))

    def new_units(
        self, event: Event, units: Mapping[str, Unit], new: Iterable[Unit]
    ) -> dict[str, Unit]:
        out = dict(units)
        for unit in new:
            if unit.id in out or not isinstance(unit.id, str):
                _refuse(
                    event,
                    "history.duplicate",
                    f"the unit {unit.id!r} is already part of the lab",
                    f"unit {unit.id!r} sudah terdaftar",
                )
            if unit.kind not in self.policy.settings.unit_kinds:
                en, id_ = unit_kind_refused(self.policy, unit)
                _refuse(event, "history.unit_kind", en, id_, unit=unit.id)
            out[unit.id] = unit
        return out

    def new_actors(
        self,
        event: Event,
        units: Mapping[str, Unit],
        actors: Mapping[str, Actor],
        new: Iterable[Actor],
    ) -> dict[str, Actor]:
        out = dict(actors)
        for actor in new:
            if actor.id in out or not isinstance(actor.id, str):
                _refuse(
                    event,
                    "history.duplicate",
                    f"the actor {actor.id!r} is already part of the lab",
                    f"pelaku {actor.id!r} sudah terdaftar",
                )
            if actor.unit is not None and actor.unit not in units:
                _refuse(
                    event,
                    "history.unknown_unit",
                    f"the actor {actor.id!r} belongs to {actor.unit!r}, which is not in the lab",
                    f"pelaku {actor.id!r} milik {actor.unit!r}, yang tidak ada di laboratorium",
                )
            self.known_roles(event, actor.roles)
            out[actor.id] = actor
        return out

    def known_roles(self, event: Event, roles: frozenset[str]) -> None:
        unknown = sorted(r for r in roles if r not in self.policy.roles)
        if unknown:
            _refuse(
                event,
                "history.unknown_role",
                f"the roles {unknown} are not roles of the policy",
                f"peran {unknown} tidak dikenal dalam kebijakan",
                roles=unknown,
            )

    def cohort_held(self, event: Event, view: View, counted: Any) -> None:
        """The cohort conditions held on the innovations at the versions the move counted."""
        if not isinstance(counted, dict):
            raise TypeError("lab.advanced records the cohort it counted")
        seq = len(self.views)
        cohort: dict[str, Innovation] = {}
        for subject, version in counted.items():
            stream = self.streams.get(subject)
            if stream is None or not isinstance(version, int) or version > stream.end:
                _refuse(
                    event,
                    "history.cohort",
                    f"it counted {subject!r} at version {version!r}, which that history "
                    "never reached",
                    f"menghitung {subject!r} pada versi {version!r}, yang tidak pernah dicapai",
                    innovation=subject,
                )
            self.fold_stream(subject, version, seq - 1)
            if stream.pos != version or stream.inn is None:
                _refuse(
                    event,
                    "history.cohort",
                    f"it counted {subject!r} at version {version}, but an earlier lab event "
                    f"already saw it at version {stream.pos}",
                    f"menghitung {subject!r} pada versi {version}, padahal peristiwa "
                    f"sebelumnya sudah melihat versi {stream.pos}",
                    innovation=subject,
                )
            cohort[subject] = stream.inn
        seen = attrs.evolve(view, innovations=MappingProxyType(cohort))
        verdict = lab_verdict(seen, self.engine, event.at)
        if not verdict.ok:
            _refuse(
                event,
                "history.cohort",
                f"the lab left {view.stage!r} although its cohort conditions were unmet "
                f"({', '.join(verdict.codes)})",
                f"laboratorium meninggalkan {view.stage!r} padahal syarat kohort belum "
                f"terpenuhi ({', '.join(verdict.codes)})",
                codes=list(verdict.codes),
            )

    # --- innovation streams --------------------------------------------------------------

    def fold_stream(self, subject: str, upto: int | None, max_lab_v: int) -> None:
        """Fold ``subject``'s events up to version ``upto`` (all if ``None``)."""
        stream = self.streams[subject]
        end = stream.end if upto is None else upto
        while stream.pos < end:
            event = stream.events[stream.pos - stream.base]
            self.innovation_event(stream, event, max_lab_v)
            stream.pos += 1
            stream.head = event.hash

    def innovation_event(self, stream: _Stream, event: Event, max_lab_v: int) -> None:
        if event.kind not in INNOVATION_KINDS:
            _refuse(
                event,
                "history.unknown_kind",
                f"{event.kind!r} is not an event of an innovation",
                f"{event.kind!r} bukan peristiwa inovasi",
            )
        if (event.kind in OPENING_KINDS) != (stream.inn is None):
            _refuse(
                event,
                "history.opening",
                "an innovation's history opens with its registration, and only there",
                "riwayat inovasi diawali pendaftarannya, dan hanya di situ",
            )
        if stream.last_at is not None and event.at < stream.last_at:
            self.backwards(event)
        schema = self.schema_of(event)
        if schema < stream.schema:
            _refuse(
                event,
                "history.version",
                f"its payload is of version {schema}, older than the event before it",
                f"muatannya versi {schema}, lebih lama dari peristiwa sebelumnya",
            )
        p = event.payload
        if schema >= 2:
            lab_v = p.get("lab_v")
            if not isinstance(lab_v, int) or isinstance(lab_v, bool) or lab_v < 1:
                _refuse(
                    event,
                    "history.unreadable",
                    f"its payload cannot be applied: it records no lab version it saw ({lab_v!r})",
                    f"muatannya tidak dapat diterapkan: tidak mencatat versi laboratorium "
                    f"({lab_v!r})",
                )
        else:
            # Version 1 did not record it: the last lab event at or before its time.
            lab_v = max(1, bisect.bisect_right(self.times, event.at))
            lab_v = max(lab_v, stream.lab_v)
        if lab_v > max_lab_v or lab_v < stream.lab_v:
            _refuse(
                event,
                "history.lab_order",
                f"it relied on lab version {lab_v}, out of order with the lab's history",
                f"bergantung pada versi laboratorium {lab_v}, tidak sesuai urutan riwayatnya",
                lab_version=lab_v,
            )
        view = self.views[lab_v]
        try:
            if stream.pos >= stream.check_from:
                self.innovation_checks(stream.inn, event, view, schema)
            stream.inn = apply_innovation(stream.inn, event)
        except HistoryError:
            raise
        except (*_UNREADABLE, LabflowError) as exc:
            _refuse(
                event,
                "history.unreadable",
                f"its {event.kind} payload cannot be applied ({exc!r})",
                f"muatan {event.kind}-nya tidak dapat diterapkan ({exc!r})",
            )
        stream.schema = schema
        stream.lab_v = lab_v
        stream.last_at = event.at

    def innovation_checks(
        self, inn: Innovation | None, event: Event, view: View, schema: int
    ) -> None:
        kind = event.kind
        p = event.payload
        policy = self.policy
        if inn is None:  # an opening event
            unit = p["unit"]
            if p["lab"] != self.lab_id or p["stage"] != policy.stages[0].id:
                _refuse(
                    event,
                    "history.opening",
                    "an innovation opens in its own lab, at the policy's first stage",
                    "inovasi dibuka di laboratoriumnya sendiri, pada tahap pertama kebijakan",
                )
            if unit not in view.units:
                _refuse(
                    event,
                    "history.unknown_unit",
                    f"its unit {unit!r} was not in the lab",
                    f"unitnya {unit!r} tidak ada di laboratorium",
                    unit=unit,
                )
            self.authorised(event, view, _INNOVATION_COMMAND[kind], unit)
            return
        if kind == "innovation.launched":
            actor = self.actor_of(event, view)
            if not permitted(policy, actor, "record_launch", inn.unit):
                # Only as part of a ceremony its actor may hold (checked once all is folded).
                if not permitted(policy, actor, "launch_cohort", None):
                    self.not_permitted(event, "record_launch")
                self.ceremonial.append(event)
        else:
            self.authorised(event, view, _INNOVATION_COMMAND[kind], inn.unit)
        if kind in _NEEDS_ACTIVE and not inn.active:
            _refuse(
                event,
                "history.withdrawn",
                f"{inn.id} was withdrawn",
                f"{inn.id} sudah ditarik",
            )
        if kind == "innovation.advanced":
            self.advanced(inn, event, view, schema)
        elif kind == "innovation.returned":
            if p["from"] != inn.stage or p["to"] not in self.engine.returns[inn.stage]:
                self.bad_move(event, inn, "return")
        elif kind == "innovation.reinstated":
            if inn.active:
                _refuse(event, "history.not_withdrawn", "it was not withdrawn", "belum ditarik")
        elif kind == "innovation.plan_submitted":
            if inn.launch is not None:
                _refuse(
                    event,
                    "history.plan_frozen",
                    "the action plan changed after the launch",
                    "rencana aksi berubah setelah peluncuran",
                )
        elif kind == "innovation.attributes_set":
            self.attributes_valid(event)
        elif kind == "innovation.plan_approved":
            self.approved(inn, event, view)
        elif kind == "innovation.agreement_drawn_up":
            self.drawn_up(inn, event, view)
        elif kind == "innovation.agreement_signed":
            self.signed(inn, event)
        elif kind == "innovation.agreement_reviewed":
            self.reviewed(inn, event, view)
        elif kind == "innovation.agreement_amended":
            self.amended(inn, event)
        elif kind == "innovation.launched":
            refusal = launch_refusal(view.exhibitions, policy, p.get("exhibition"))
            if refusal is not None:
                _refuse(event, "history.exhibition", refusal[1], refusal[2], refusal=refusal[0])
            verdict = launch_verdict(view, inn, event.at)
            if not verdict.ok:
                _refuse(
                    event,
                    "history.gate",
                    f"it was launched with {', '.join(verdict.codes)} unmet",
                    f"diluncurkan padahal {', '.join(verdict.codes)} belum terpenuhi",
                    codes=list(verdict.codes),
                )
        elif kind == "innovation.exhibit_registered" and inn.stage != exhibit_stage(policy):
            _refuse(
                event,
                "history.exhibit_stage",
                f"an exhibit was registered at {inn.stage!r}, not at the exhibition stage",
                f"stan didaftarkan di {inn.stage!r}, bukan di tahap pameran",
            )
        elif kind == "innovation.exhibit_registered":
            refusal = exhibit_refusal(view.exhibitions, inn, p)
            if refusal is not None:
                _refuse(event, "history.exhibition", refusal[1], refusal[2], refusal=refusal[0])
        elif kind == MONEV_KIND:
            refusal = monev_refusal(policy, inn, p)
            if refusal is not None:
                _refuse(event, "history.monev", refusal[1], refusal[2], refusal=refusal[0])

    def attributes_valid(self, event: Event) -> None:
        """Set attributes are ones the policy declares, of their type and allowed values."""
        values = event.payload["attributes"]
        clean, problems = attribute_problems(self.policy.attributes, values)
        if problems or not clean:
            found = [key for key, _, _ in problems]
            named = ", ".join(found)
            _refuse(
                event,
                "history.attributes",
                f"it sets attributes the policy does not allow ({named or 'none'})",
                f"menetapkan atribut yang tidak diizinkan kebijakan ({named or 'tidak ada'})",
                attributes=found,
            )

    def advanced(self, inn: Innovation, event: Event, view: View, schema: int) -> None:
        p = event.payload
        if p["from"] != inn.stage or p["to"] != self.engine.next[inn.stage]:
            self.bad_move(event, inn, "advance")
        target, found = advance_unmet(view, self.engine, inn, None, event.at)
        if any(s.name == MONEV_REQUIREMENT for s in self.policy.gates.get(target, ())):
            # a requirement of labflow's own outside the trusted set: judged here too
            found = [
                *found,
                *monev_up_to_date(GateContext(inn, view, self.policy.stage(target), event.at)),
            ]
        if found:
            codes = [u.code for u in found]
            _refuse(
                event,
                "history.gate",
                f"it entered {target!r} with {', '.join(codes)} unmet",
                f"memasuki {target!r} padahal {', '.join(codes)} belum terpenuhi",
                codes=codes,
            )
        if schema >= 2:
            unit = view.units.get(inn.unit)
            expected = gate_record(self.policy, target, unit.kind if unit else None)
            if p["gate"] != expected:
                _refuse(
                    event,
                    "history.gate_record",
                    f"it records the gate {p['gate']!r}, but the policy's gate was {expected!r}",
                    f"mencatat gerbang {p['gate']!r}, padahal gerbang kebijakan {expected!r}",
                )

    def approved(self, inn: Innovation, event: Event, view: View) -> None:
        plan = inn.action_plan
        if plan is None or self.policy.plan_approved(plan):
            _refuse(
                event,
                "history.no_plan",
                "it approves an action plan that was not awaiting approval",
                "menyetujui rencana aksi yang tidak sedang menunggu persetujuan",
            )
        if plan.submitted_by == event.actor:
            _refuse(
                event,
                "history.self_approval",
                f"{event.actor} approved their own action plan",
                f"{event.actor} menyetujui rencana aksinya sendiri",
                actor=event.actor,
            )
        actor = view.actors[event.actor]
        if sorted(event.payload["roles"]) != sorted(actor.roles):
            _refuse(
                event,
                "history.roles",
                f"it records roles {event.payload['roles']!r} that {event.actor} did not hold",
                f"mencatat peran {event.payload['roles']!r} yang tidak dipegang {event.actor}",
            )
        self.approval_step(inn, plan, event, actor)

    def approval_step(self, inn: Innovation, plan: ActionPlan, event: Event, actor: Actor) -> None:
        """An approval is the next of the policy's declared steps, by someone that step allows
        (a policy without steps records none: its one approval is judged by the gates)."""
        steps = self.policy.approval
        named = event.payload.get("step")
        if not steps:
            if named is not None:
                _refuse(
                    event,
                    "history.approval_step",
                    f"it approves step {named!r}, but the policy declares no approval steps",
                    f"menyetujui langkah {named!r}, padahal kebijakan tidak memuat langkah "
                    "persetujuan",
                )
            return
        step = steps[len(plan.approvals)]
        if named != step.id:
            _refuse(
                event,
                "history.approval_step",
                f"it approves step {named!r}, but the plan awaited step {step.id!r}",
                f"menyetujui langkah {named!r}, padahal rencana menunggu langkah {step.id!r}",
                step=step.id,
            )
        refused = step_refused(self.policy, step, actor, inn.unit)
        if refused is not None:
            _refuse(
                event,
                "history.approval_step",
                f"{event.actor} may not approve it: {refused[0]}",
                f"{event.actor} tidak boleh menyetujuinya: {refused[1]}",
                step=step.id,
            )

    def drawn_up(self, inn: Innovation, event: Event, view: View) -> None:
        p = event.payload
        agreement = inn.agreement
        binding = agreement is not None and (agreement.complete or agreement.version > 1)
        if binding and past_agreement(view, inn):
            _refuse(
                event,
                "history.agreement_binding",
                "a binding agreement was redrawn after the agreement gate",
                "perjanjian yang mengikat disusun ulang setelah gerbang perjanjian",
            )
        head = view.actors.get(p["regional_head"])
        chief = view.actors.get(p["unit_head"])
        if (
            head is None
            or self.policy.settings.agreement_counterparty not in head.roles
            or chief is None
            or Role.UNIT_HEAD not in chief.roles
            or chief.unit != inn.unit
            or head.id == chief.id
        ):
            _refuse(
                event,
                "history.agreement_parties",
                "the agreement names parties who were not the regional head and the head "
                "of the owning unit",
                "perjanjian menyebut pihak yang bukan kepala daerah dan kepala unit pemilik",
            )

    def signed(self, inn: Innovation, event: Event) -> None:
        agreement = inn.agreement
        role = event.payload["role"]
        if agreement is None:
            _refuse(event, "history.no_agreement", "there was no agreement", "belum ada perjanjian")
        named = {
            Role.REGIONAL_HEAD.value: agreement.regional_head,
            Role.UNIT_HEAD.value: agreement.unit_head,
        }
        if named.get(role) != event.actor:
            _refuse(
                event,
                "history.signature",
                f"{event.actor} signed as {role!r}, a party the agreement does not name them as",
                f"{event.actor} menandatangani sebagai {role!r}, padahal bukan pihak itu",
                actor=event.actor,
            )
        if agreement.signed_by(event.actor):
            _refuse(
                event,
                "history.signature",
                f"{event.actor} signed the agreement twice",
                f"{event.actor} menandatangani perjanjian dua kali",
                actor=event.actor,
            )

    def reviewed(self, inn: Innovation, event: Event, view: View) -> None:
        """A review is of a signed agreement, by someone the policy's review cycle names."""
        agreement = inn.agreement
        if agreement is None or not agreement.complete:
            _refuse(
                event,
                "history.agreement_review",
                "it reviews an agreement that was not signed by both parties",
                "mereviu perjanjian yang belum ditandatangani kedua pihak",
            )
        outcome = event.payload["outcome"]
        if outcome not in {o.value for o in ReviewOutcome}:
            _refuse(
                event,
                "history.agreement_review",
                f"it records the outcome {outcome!r}, which is none of labflow's",
                f"mencatat hasil {outcome!r}, yang tidak dikenal labflow",
            )
        cycle = self.policy.review
        refused = (
            None
            if cycle is None
            else reviewer_refused(self.policy, cycle, view.actors[event.actor], inn.unit)
        )
        if refused is not None:
            _refuse(
                event,
                "history.agreement_review",
                f"{event.actor} may not review it: {refused[0]}",
                f"{event.actor} tidak boleh mereviunya: {refused[1]}",
            )

    def amended(self, inn: Innovation, event: Event) -> None:
        """An amendment follows a review of the signed version that called for it."""
        agreement = inn.agreement
        if agreement is None or not agreement.complete or not agreement.amendment_called:
            _refuse(
                event,
                "history.agreement_amendment",
                "it amends an agreement no review of its signed version called to amend",
                "mengubah perjanjian tanpa reviu atas versi yang ditandatangani yang memintanya",
            )

    # --- shared checks -------------------------------------------------------------------

    def schema_of(self, event: Event) -> int:
        v = event.payload.get("v", 1)
        if v not in (1, SCHEMA) or isinstance(v, bool):
            _refuse(
                event,
                "history.version",
                f"its payload is of version {v!r}, which this labflow does not know",
                f"muatannya versi {v!r}, yang tidak dikenal labflow ini",
            )
        return int(v)

    def actor_of(self, event: Event, view: View) -> Actor:
        actor = view.actors.get(event.actor)
        if actor is None:
            _refuse(
                event,
                "history.unknown_actor",
                f"{event.actor!r} was not in the lab",
                f"{event.actor!r} tidak ada di laboratorium",
                actor=event.actor,
            )
        return actor

    def authorised(self, event: Event, view: View, command: str, unit: str | None) -> None:
        if not permitted(self.policy, self.actor_of(event, view), command, unit):
            self.not_permitted(event, command)

    def not_permitted(self, event: Event, command: str) -> NoReturn:
        _refuse(
            event,
            "history.not_permitted",
            f"{event.actor} held no role allowing {command} at that moment",
            f"{event.actor} tidak memegang peran yang mengizinkan {command} saat itu",
            actor=event.actor,
            command=command,
        )

    def bad_move(self, event: Event, inn: Innovation, how: str) -> NoReturn:
        p = event.payload
        _refuse(
            event,
            "history.stage_order",
            f"it moves ({how}) from {p['from']!r} to {p['to']!r}, but the innovation was at "
            f"{inn.stage!r}",
            f"berpindah ({how}) dari {p['from']!r} ke {p['to']!r}, padahal inovasi berada di "
            f"{inn.stage!r}",
            stage=inn.stage,
        )

    def backwards(self, event: Event) -> NoReturn:
        _refuse(
            event,
            "history.time",
            "its time is earlier than the event before it",
            "waktunya lebih awal dari peristiwa sebelumnya",
        )

    def after(self, streams: Mapping[str, _Stream]) -> None:
        """What spans histories and can be judged only when a run's streams are folded."""
        for pending in self.ceremonial:
            if (pending.subject, pending.at, pending.actor) not in self.held:
                self.not_permitted(pending, "record_launch")
        for event in self.ceremonies:
            for subject in event.payload["launched"]:
                stream = self.streams.get(subject)
                launch = stream.inn.launch if stream is not None and stream.inn else None
                if launch is None or launch.at != event.at or launch.launched_by != event.actor:
                    _refuse(
                        event,
                        "history.ceremony",
                        f"it lists {subject!r} as launched, but no launch of it was recorded "
                        "at the ceremony",
                        f"mencantumkan {subject!r} sebagai diluncurkan, padahal peluncurannya "
                        "tidak tercatat pada upacara itu",
                        innovation=subject,
                    )
        for stream in streams.values():
            opens = stream.base == 0 and stream.check_from == 0 and stream.events
            first = stream.events[0] if opens else None
            if first is None or first.kind != "innovation.replicated":
                continue
            origin = first.payload["replication"]
            if origin["origin_region"] != self.region:
                continue
            source = self.streams.get(origin["origin_innovation"])
            inn = source.inn if source is not None else None
            if (
                inn is None
                or inn.launch is None
                or inn.launch.at > first.at
                or inn.unit == first.payload["unit"]
            ):
                _refuse(
                    first,
                    "history.replication",
                    f"it replicates {origin['origin_innovation']!r}, which was not a launched "
                    "innovation of another unit of this lab at the time",
                    f"mereplikasi {origin['origin_innovation']!r}, yang saat itu bukan inovasi "
                    "unit lain di laboratorium ini yang sudah diluncurkan",
                )


_POLICIES: dict[tuple[str, Registry | None, bool], Policy] = {}


def _recorded_policy(created: Event, registry: Registry | None, strict: bool) -> Policy:
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


def fold_lab(
    history: Sequence[Event],
    innovations: Iterable[Sequence[Event]] = (),
    *,
    registry: Registry | None = None,
    strict_policy: bool = True,
    check_from: Mapping[str | None, int] | None = None,
) -> Folded:
    """Fold a lab's history and its innovations' histories, checking every event.

    ``check_from`` maps a stream (``None``: the lab's own) to how many of its
    first events were already checked (a store's kept events): those are applied,
    their chain still verified, without re-judging them. Raises `HistoryError`
    naming the first event that commands could not have produced, and
    `PolicyError` (with ``strict_policy``) when a recorded custom requirement is
    not registered.
    """
    fold = start_fold(
        history,
        innovations,
        registry=registry,
        strict_policy=strict_policy,
        check_from=check_from,
    )
    folded = {k: st.inn for k, st in fold.streams.items() if st.inn is not None}
    return Folded(fold.policy, fold.views[-1], folded)


def start_fold(
    history: Sequence[Event],
    innovations: Iterable[Sequence[Event]] = (),
    *,
    registry: Registry | None = None,
    strict_policy: bool = True,
    check_from: Mapping[str | None, int] | None = None,
) -> Fold:
    """`fold_lab`, giving the `Fold` to carry forward (`Fold.resume`)."""
    if not history:
        raise HistoryError(
            "a lab",
            None,
            "a lab's history must start with its lab.created event",
            "riwayat laboratorium harus diawali peristiwa lab.created",
            code="history.no_creation",
        )
    streams: dict[str, Sequence[Event]] = {}
    for events in (history, *innovations):
        if not events:
            raise HistoryError(
                "an innovation",
                None,
                "an empty history holds no innovation",
                "riwayat kosong tidak memuat inovasi",
                code="history.empty",
            )
        outcome = verify(events)
        for event in events if outcome.ok else ():
            if not isinstance(event.payload, Mapping) or not isinstance(event.kind, str):
                raise HistoryError(
                    str(event.subject),
                    event.seq,
                    "its kind is not text or its payload is not an object",
                    "jenisnya bukan teks atau muatannya bukan objek",
                    code="history.unreadable",
                )
        if not outcome.ok:
            raise HistoryError(
                outcome.subject,
                outcome.seq,
                outcome.reason or "it does not verify",
                code="history.chain",
            )
        if events is history:
            continue
        subject = str(events[0].subject)
        if subject in streams or subject == str(history[0].subject):
            raise HistoryError(
                subject,
                None,
                "two histories have the same subject",
                "dua riwayat memiliki subjek yang sama",
                code="history.duplicate",
            )
        streams[subject] = events
    if history[0].kind != "lab.created":
        raise HistoryError(
            str(history[0].subject),
            1,
            "a lab's history must start with its lab.created event",
            "riwayat laboratorium harus diawali peristiwa lab.created",
            code="history.no_creation",
            data={"kind": history[0].kind},
        )
    check_from = check_from or {}
    fold = Fold(history[0], registry=registry, strict_policy=strict_policy)
    runs = {s: _Stream(h, check_from.get(s, 0)) for s, h in streams.items()}
    fold.run(history, runs, check_from.get(None, 0))
    return fold

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

This module is the fold's framework: streams, their order against the lab's versions,
what every event gets (chain, time, schema, roster, permission, an active innovation),
and what spans histories (ceremonies, replications). Each command's own check lives
next to its body (`labflow._moves`, `labflow._agreement`, ...), and the fold finds it
through the command's catalogue entry (`CommandSpec.replay`).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final, NoReturn, cast

import attrs

from labflow._catalogue import ACTIVE, CATALOGUE
from labflow._engine import Engine, engine_for
from labflow._fold import INNOVATION_KINDS, OPENING_KINDS, apply_innovation
from labflow._gates import permitted
from labflow._record import SCHEMA
from labflow._recorded import recorded_policy, trusted
from labflow._roster import replay_created
from labflow._view import (
    InnovationCheck,
    LabStep,
    View,
    foreign_kind,
    gate_record,
    refuse,
    unreadable,
)
from labflow.errors import HistoryError, LabflowError, PolicyError
from labflow.events import GENESIS, Event, verify
from labflow.model import Actor, Innovation
from labflow.policy import Policy
from labflow.requirements import Registry

__all__ = [
    "LAB_KINDS",
    "SCHEMA",
    "Fold",
    "Folded",
    "View",
    "fold_lab",
    "gate_record",
    "start_fold",
]

#: The command each innovation event kind is the result of (its permission).
_INNOVATION_COMMAND: Final = {c.kind: c.name for c in CATALOGUE if c.level == "innovation"}
#: The command each lab event kind is the result of (``lab.created`` needs none).
_LAB_COMMAND: Final = {c.kind: c.name for c in CATALOGUE if c.level == "lab"}
LAB_KINDS: Final = frozenset({"lab.created", *_LAB_COMMAND})
#: Kinds that may only happen to an active innovation: their command's precondition.
_NEEDS_ACTIVE: Final = frozenset(c.kind for c in CATALOGUE if ACTIVE in c.preconditions)
#: Each innovation command's own replay check (none for those that need none).
_INNOVATION_CHECKS: Final[Mapping[str, InnovationCheck]] = {
    c.kind: cast(InnovationCheck, check)
    for c in CATALOGUE
    if c.level == "innovation" and (check := c.replay_check()) is not None
}
#: Each lab command's replay step: the lab's view after its event.
_LAB_STEPS: Final[Mapping[str, LabStep]] = {
    c.kind: cast(LabStep, c.replay_check()) for c in CATALOGUE if c.level == "lab"
}
#: What a fold step may raise on a payload it cannot read.
_UNREADABLE = (KeyError, TypeError, ValueError, AttributeError, AssertionError, IndexError)


@attrs.frozen
class Folded:
    """The outcome of a validating fold: the final lab view, innovations and histories."""

    policy: Policy
    view: View
    innovations: Mapping[str, Innovation]


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
            self.policy = recorded_policy(created, registry, strict_policy)
        except PolicyError:
            raise
        except (*_UNREADABLE, LabflowError) as exc:
            refuse(
                created,
                "history.unreadable",
                f"its policy cannot be read ({exc})",
                f"kebijakannya tidak dapat dibaca ({exc})",
            )
        self.trusted = trusted(self.policy)
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
            foreign_kind(event, lab=True)
        if (event.kind == "lab.created") != (seq == 1):
            refuse(
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
            unreadable(event, exc)
        if check and event.kind == "lab.ceremony_held":
            self.ceremonies.append(event)
        self.views.append(new)
        self.times.append(event.at)
        self.head = event.hash

    def lab_apply(self, event: Event, view: View, check: bool) -> View:
        """The lab's view after ``event``: its command's step, found through the catalogue,
        after its actor's permission (``lab.created`` founds the roster)."""
        kind = event.kind
        schema = self.schema_of(event)
        if kind == "lab.created":
            return replay_created(self, event, view)
        if check:
            self.authorised(event, view, _LAB_COMMAND[kind], None)
        return _LAB_STEPS[kind](self, event, view, check, schema)

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
            foreign_kind(event, lab=False)
        if (event.kind in OPENING_KINDS) != (stream.inn is None):
            refuse(
                event,
                "history.opening",
                "an innovation's history opens with its registration, and only there",
                "riwayat inovasi diawali pendaftarannya, dan hanya di situ",
            )
        if stream.last_at is not None and event.at < stream.last_at:
            self.backwards(event)
        schema = self.schema_of(event)
        if schema < stream.schema:
            refuse(
                event,
                "history.version",
                f"its payload is of version {schema}, older than the event before it",
                f"muatannya versi {schema}, lebih lama dari peristiwa sebelumnya",
            )
        p = event.payload
        if schema >= 2:
            lab_v = p.get("lab_v")
            if not isinstance(lab_v, int) or isinstance(lab_v, bool) or lab_v < 1:
                refuse(
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
            refuse(
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
            unreadable(event, exc)
        stream.schema = schema
        stream.lab_v = lab_v
        stream.last_at = event.at

    def innovation_checks(
        self, inn: Innovation | None, event: Event, view: View, schema: int
    ) -> None:
        """What every innovation event gets -- an opening in its lab at the first stage, its
        actor's permission, an active innovation where the command needs one -- and then
        its command's own check, found through the catalogue."""
        kind = event.kind
        p = event.payload
        policy = self.policy
        if inn is None:  # an opening event
            unit = p["unit"]
            if p["lab"] != self.lab_id or p["stage"] != policy.stages[0].id:
                refuse(
                    event,
                    "history.opening",
                    "an innovation opens in its own lab, at the policy's first stage",
                    "inovasi dibuka di laboratoriumnya sendiri, pada tahap pertama kebijakan",
                )
            if unit not in view.units:
                refuse(
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
            refuse(
                event,
                "history.withdrawn",
                f"{inn.id} was withdrawn",
                f"{inn.id} sudah ditarik",
            )
        check = _INNOVATION_CHECKS.get(kind)
        if check is not None:
            check(self, inn, event, view, schema)

    # --- shared checks -------------------------------------------------------------------

    def schema_of(self, event: Event) -> int:
        v = event.payload.get("v", 1)
        if v not in (1, SCHEMA) or isinstance(v, bool):
            refuse(
                event,
                "history.version",
                f"its payload is of version {v!r}, which this labflow does not know",
                f"muatannya versi {v!r}, yang tidak dikenal labflow ini",
            )
        return int(v)

    def actor_of(self, event: Event, view: View) -> Actor:
        actor = view.actors.get(event.actor)
        if actor is None:
            refuse(
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
        refuse(
            event,
            "history.not_permitted",
            f"{event.actor} held no role allowing {command} at that moment",
            f"{event.actor} tidak memegang peran yang mengizinkan {command} saat itu",
            actor=event.actor,
            command=command,
        )

    def backwards(self, event: Event) -> NoReturn:
        refuse(
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
                    refuse(
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
                refuse(
                    first,
                    "history.replication",
                    f"it replicates {origin['origin_innovation']!r}, which was not a launched "
                    "innovation of another unit of this lab at the time",
                    f"mereplikasi {origin['origin_innovation']!r}, yang saat itu bukan inovasi "
                    "unit lain di laboratorium ini yang sudah diluncurkan",
                )


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
